// The row runner. All bookkeeping happens on the one thread that calls run_flow(),
// inside an io_context: plugin callbacks (plugin threads) only post their copied
// result to it. So the row state needs no locks; only the diagnostic lines are shared
// (plugin log lines arrive on plugin threads) and have their own mutex. Signals and the
// progress bar are the caller's (flowrun): run_control and the callbacks of run_options.
#include <wfa/host/runner.hpp>
#include <wfa/host/secret_outputs.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <thread>
#include <unordered_map>

namespace asio = boost::asio;
namespace json = boost::json;

namespace wfa::host {

namespace detail {
// Attaches a run to a run_control for the run's duration (see runner::run()).
struct run_control_access {
  static void attach(run_control& c, std::function<void()> on_interrupt) {
    std::lock_guard lock(c.mu_);
    c.on_interrupt_ = std::move(on_interrupt);
    if (c.requested_) c.on_interrupt_();
  }
  static void detach(run_control& c) {
    std::lock_guard lock(c.mu_);
    c.on_interrupt_ = nullptr;
  }
};
}  // namespace detail

void run_control::interrupt() {
  std::lock_guard lock(mu_);
  if (requested_) return;
  requested_ = true;
  if (on_interrupt_) on_interrupt_();
}

bool run_control::interrupted() const {
  std::lock_guard lock(mu_);
  return requested_;
}

namespace {

const char* level_name(int32_t level) {
  switch (level) {
    case WFA_LOG_TRACE: return "trace";
    case WFA_LOG_DEBUG: return "debug";
    case WFA_LOG_INFO: return "info";
    case WFA_LOG_WARN: return "warn";
    default: return "error";
  }
}

// WFA-11: the plugin's outputs and details are parsed with the depth limit it keeps to
// (Boost.JSON's default, 32, turned a successful deep write into a failed row).
json::parse_options wfa_json_options() {
  json::parse_options o;
  o.max_depth = WFA_JSON_MAX_DEPTH;
  return o;
}

json::object error_json(int32_t code, const std::string& message, int32_t http_status, bool retryable,
                        const std::string& details = {}) {
  json::object e;
  e["code"] = code_name(code);
  e["message"] = message;
  e["http_status"] = http_status;
  e["retryable"] = retryable;
  if (!details.empty()) {
    boost::system::error_code ec;
    json::value d = json::parse(details, ec, {}, wfa_json_options());
    if (!ec) e["details"] = std::move(d);
  }
  return e;
}

// Diagnostic lines from plugin log lines (any thread) and the run thread, redacted, one
// at a time: to the caller's on_diagnostic, else as lines on `err`.
class diagnostics {
 public:
  diagnostics(std::ostream& err, const redactor& secrets, std::function<void(std::string_view)> sink)
      : err_(err), secrets_(secrets), sink_(std::move(sink)) {}

  void line(const std::string& text) {
    std::string shown = secrets_.redact(text);
    std::lock_guard lock(mu_);
    if (sink_) return sink_(shown);
    err_ << shown << '\n';
    err_.flush();
  }

 private:
  std::ostream& err_;
  const redactor& secrets_;
  std::function<void(std::string_view)> sink_;
  std::mutex mu_;
};

// The rows between the reader thread (which pulls them from the source) and the run
// thread. Shared, so that a reader still blocked in the source when the run ends (an
// interrupted run reading a pipe) finds it alive; `stop` tells it to post nothing more.
struct row_feed {
  std::mutex mu;
  std::condition_variable space;
  std::deque<input_row> queue;
  std::size_t cap = 1;
  bool ended = false;         // the source gave its last row
  bool stop = false;          // the run is over: read no more, post nothing
  bool wake_pending = false;  // a fill() is posted and has not run yet
};

class runner {
 public:
  runner(const checked_flow& f, const run_options& o, std::ostream& out, std::ostream& err)
      : f_(f), opts_(o), out_(out), diag_(err, f.secrets, o.on_diagnostic), work_(ioc_.get_executor()), ticker_(ioc_) {
    // Per step: its outputs schema when it marks secrets (else nothing to mask).
    for (std::size_t i = 0; i < f_.definition.steps.size(); ++i) {
      const auto* outs = f_.manifest(i).if_contains("outputs");
      secret_schemas_.push_back(outs && has_secret_marks(*outs) ? outs : nullptr);
    }
  }

  ~runner() {
    // Only when run() did not get to its end (an exception): it stops them itself.
    if (reader_.joinable()) stop_reader();
    detach_control();
  }

  run_summary run() {
    create_instances();
    start_ = std::chrono::steady_clock::now();
    // An interrupt() from another thread (or one made before now) is posted to this
    // thread, which does the cancelling: the caller's thread stays free.
    if (opts_.control)
      detail::run_control_access::attach(*opts_.control, [this] { asio::post(ioc_, [this] { interrupt(); }); });
    start_reader();
    // The first rows start once the read-ahead is full, the source ended or 200 ms
    // passed: a file's first rows are all there (the order rows start in does not
    // depend on the reader thread's scheduling), a slow pipe does not hold the run.
    {
      std::unique_lock lock(feed_->mu);
      feed_->space.wait_for(lock, std::chrono::milliseconds(200),
                            [&] { return feed_->ended || feed_->queue.size() >= feed_->cap; });
    }
    if (opts_.on_progress) tick();
    fill();
    ioc_.run();
    if (opts_.on_progress) report_progress();
    stop_reader();
    detach_control();
    // Instances are destroyed here (WFA-9) before the io_context: their last
    // completions may still post into it.
    instances_.clear();
    if (row_end_error_) std::rethrow_exception(row_end_error_);
    return summary_;
  }

 private:
  struct row_state {
    json::object inputs;
    std::string tag;         // input_row::tag, for on_row_end
    json::object steps_out;  // step id -> outputs
    json::object results;    // step id -> {"status", "outputs" | "error"}
    std::size_t step = 0;
    bool in_flight = false;
    instance* inst = nullptr;
    wfa_op op = 0;
    std::vector<std::string> secrets;           // x-secret outputs of its steps: redacted from its line
    std::chrono::seconds waited{0};             // rate-limit waits so far
    std::unique_ptr<asio::steady_timer> retry;  // set while it waits to retry
  };

  void create_instances() {
    for (std::size_t i = 0; i < f_.definition.steps.size(); ++i) {
      const std::string& conn = f_.definition.steps[i].connection;
      if (instances_.count(conn)) continue;
      const flow_connection* c = f_.definition.find_connection(conn);
      const library& lib = f_.libraries.at(c->plugin);
      auto cfg = f_.configs.find(conn);
      std::string config = json::serialize(cfg == f_.configs.end() ? json::object() : cfg->second);
      auto sink = [this, conn](int32_t level, std::string_view message) {
        // workaround(gcc12): appended piecewise, -Wrestrict misfires on "lit" + std::string chains.
        std::string text = "[";
        text.append(level_name(level)).append("] ").append(conn).append(": ").append(message);
        diag_.line(text);
      };
      try {
        instances_.emplace(conn, std::make_unique<instance>(lib, config, sink, opts_.log_level, opts_.acquire));
      } catch (const create_error& e) {
        throw create_error(e.code(), f_.secrets.redact("connection " + conn + ": " + e.what()));
      }
    }
  }

  // The rows come through the feed from a reader thread, so that a source blocking on a
  // pipe never stalls the completions, the retries or an interruption.
  void start_reader() {
    feed_ = std::make_shared<row_feed>();
    const std::size_t width = std::max<std::size_t>(1, opts_.concurrency);
    feed_->cap = opts_.read_ahead ? opts_.read_ahead : 2 * width + 16;
    row_source source = opts_.source;
    if (!source) {
      // The vector outlives the run: nothing reads it after run_flow() returns, because
      // its reader never blocks and is joined.
      source = [rows = &opts_.rows, next = std::size_t(0)]() mutable -> std::optional<input_row> {
        if (next >= rows->size()) return std::nullopt;
        return input_row{(*rows)[next++], {}, {}, false};
      };
    }
    reader_ = std::thread([feed = feed_, source = std::move(source), this]() mutable {
      for (;;) {
        std::optional<input_row> row;
        {
          std::unique_lock lock(feed->mu);
          feed->space.wait(lock, [&] { return feed->stop || feed->queue.size() < feed->cap; });
          if (feed->stop) return;
        }
        row = source();
        std::lock_guard lock(feed->mu);
        if (feed->stop) return;
        if (row)
          feed->queue.push_back(std::move(*row));
        else
          feed->ended = true;
        feed->space.notify_all();  // the run's first wait, see run()
        // `this` is alive while stop is false: the run sets it, under this lock, before it ends.
        if (!feed->wake_pending) {
          feed->wake_pending = true;
          asio::post(ioc_, [this] { fill(); });
        }
        if (!row) return;
      }
    });
  }

  void stop_reader() {
    bool ended;
    {
      std::lock_guard lock(feed_->mu);
      feed_->stop = true;
      ended = feed_->ended;
      feed_->space.notify_all();
    }
    // A reader blocked in its source (an interrupted run on a pipe) cannot be woken: it
    // keeps the feed and its source alive and exits when the source returns, or with
    // the process.
    if (ended || !opts_.source)
      reader_.join();
    else
      reader_.detach();
  }

  std::optional<input_row> next_row() {
    std::lock_guard lock(feed_->mu);
    if (feed_->queue.empty()) return std::nullopt;
    input_row r = std::move(feed_->queue.front());
    feed_->queue.pop_front();
    feed_->space.notify_one();
    return r;
  }

  bool all_read() {
    std::lock_guard lock(feed_->mu);
    return feed_->ended && feed_->queue.empty();
  }

  void detach_control() {
    if (opts_.control) detail::run_control_access::detach(*opts_.control);
  }

  void interrupt() {
    if (summary_.interrupted) return;
    summary_.interrupted = true;
    diag_.line("flowrun: interrupted, cancelling the operations in flight");
    for (auto& [i, r] : rows_) {
      if (r.in_flight) r.inst->cancel(r.op);
      if (r.retry) r.retry->cancel();
    }
    // Rows whose retry time came and that wait for a slot: reported cancelled.
    while (!resume_.empty()) {
      std::size_t i = resume_.front();
      resume_.pop_front();
      ++active_;
      run_step(i);
    }
    maybe_finish();
  }

  void tick() {
    report_progress();
    ticker_.expires_after(opts_.progress_interval);
    ticker_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) tick();
    });
  }

  void report_progress() {
    run_progress p;
    p.done = done_;
    p.failures = summary_.failed + summary_.cancelled;
    p.ok = summary_.ok;
    p.failed = summary_.failed;
    p.cancelled = summary_.cancelled;
    p.skipped = summary_.skipped;
    p.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    opts_.on_progress(p);
  }

  // Starts rows until `concurrency` are active: first those whose retry time came, then
  // new ones. Called from the io_context, never from inside a finishing row: a long run
  // of rows failing before their first execute would otherwise recurse once per row.
  void fill() {
    {
      std::lock_guard lock(feed_->mu);
      feed_->wake_pending = false;
    }
    const std::size_t width = std::max<std::size_t>(1, opts_.concurrency);
    while (!summary_.interrupted && active_ < width) {
      if (!resume_.empty()) {
        std::size_t i = resume_.front();
        resume_.pop_front();
        ++active_;
        run_step(i);
        continue;
      }
      auto row = next_row();
      if (!row) break;
      if (row->skip) {  // done by an earlier run: keeps its number, takes no slot
        ++next_row_;
        ++summary_.skipped;
        continue;
      }
      start_row(next_row_++, std::move(*row));
    }
    maybe_finish();
  }

  void start_row(std::size_t i, input_row in) {
    if (!in.error.empty()) {  // reported at once; it takes no slot
      report(i, in.tag, false,
             render(json::object{{"row", i},
                                 {"status", "failed"},
                                 {"steps", json::object()},
                                 {"error", error_json(WFA_INVALID_INPUT, in.error, 0, false)}}));
      count("failed");
      return;
    }
    row_state& r = rows_[i];
    ++active_;
    r.inputs = std::move(in.inputs);
    r.tag = std::move(in.tag);
    run_step(i);
  }

  void run_step(std::size_t i) {
    row_state& r = rows_.at(i);
    const flow_step& s = f_.definition.steps[r.step];
    if (summary_.interrupted) {
      r.results[s.id] = json::object{{"status", "cancelled"},
                                     {"error", error_json(WFA_CANCELLED, "the run was interrupted", 0, false)}};
      return finish_row(i, "cancelled");
    }
    eval_context ctx;
    ctx.inputs = &r.inputs;
    ctx.steps = &r.steps_out;
    json::object options, inputs;
    std::vector<std::string> problems;
    try {
      if (auto v = evaluate(json::value(s.options), ctx)) options = std::move(v->get_object());
      if (auto v = evaluate(json::value(s.inputs), ctx)) inputs = std::move(v->get_object());
      problems = f_.check_step(r.step, options, inputs);
    } catch (const expression_error& e) {
      problems.push_back(e.what());
    }
    if (!problems.empty()) {
      std::string msg;
      for (const auto& p : problems) msg += (msg.empty() ? "" : "; ") + p;
      r.results[s.id] = json::object{{"status", "failed"}, {"error", error_json(WFA_INVALID_INPUT, msg, 0, false)}};
      return finish_row(i, "failed");
    }
    r.inst = instances_.at(s.connection).get();
    r.in_flight = true;
    auto done = [this, i](op_result res) {
      asio::post(ioc_, [this, i, res = std::move(res)]() mutable { on_step_done(i, std::move(res)); });
    };
    r.op = r.inst->execute(s.action, json::serialize(options), json::serialize(inputs), std::move(done),
                           std::to_string(i), s.id);
  }

  // details.retry_after_s of a retryable rate_limited error: whole seconds, or nullopt.
  static std::optional<std::int64_t> retry_after(const op_result& res) {
    if (res.code != WFA_RATE_LIMITED || !res.retryable || res.details_json.empty()) return std::nullopt;
    boost::system::error_code ec;
    json::value d = json::parse(res.details_json, ec);
    const json::value* n = (!ec && d.is_object()) ? d.get_object().if_contains("retry_after_s") : nullptr;
    if (!n || !n->is_number()) return std::nullopt;
    auto s = n->to_number<std::int64_t>(ec);
    if (ec || s < 0) return std::nullopt;
    return s;
  }

  // Waits and runs the failed step again, when the server's time fits in the row's budget.
  bool schedule_retry(std::size_t i, const op_result& res) {
    auto after = retry_after(res);
    if (!after || summary_.interrupted) return false;
    row_state& r = rows_.at(i);
    if (*after > (opts_.max_retry_wait - r.waited).count()) return false;
    const std::chrono::seconds wait(*after);
    r.waited += wait;
    diag_.line("flowrun: row " + std::to_string(i) + ": step " + f_.definition.steps[r.step].id +
               ": rate limited, retrying in " + std::to_string(*after) + " s");
    r.retry = std::make_unique<asio::steady_timer>(ioc_, wait);
    --active_;  // other rows use its slot meanwhile
    ++waiting_;
    post_fill();
    r.retry->async_wait([this, i](const boost::system::error_code&) {
      --waiting_;
      if (summary_.interrupted) {  // cancelled by interrupt(): run_step() reports it cancelled
        ++active_;
        return run_step(i);
      }
      resume_.push_back(i);
      fill();
    });
    return true;
  }

  void on_step_done(std::size_t i, op_result res) {
    row_state& r = rows_.at(i);
    r.in_flight = false;
    const flow_step& s = f_.definition.steps[r.step];
    if (res.code == WFA_OK) {
      boost::system::error_code ec;
      json::value outputs = json::parse(res.outputs_json, ec, {}, wfa_json_options());
      if (ec || !outputs.is_object()) {
        r.results[s.id] =
            json::object{{"status", "failed"},
                         {"error", error_json(WFA_INTERNAL, "the plugin's outputs are not a JSON object", 0, false)}};
        return finish_row(i, "failed");
      }
      json::object step{{"status", "ok"}};
      if (const json::value* secret = secret_schemas_[r.step]) {
        auto shown = mask_secret_outputs(*secret, outputs, r.secrets);
        if (opts_.step_outputs) step["outputs"] = std::move(shown);
      } else if (opts_.step_outputs) {
        step["outputs"] = outputs;
      }
      r.results[s.id] = std::move(step);
      r.steps_out[s.id] = std::move(outputs);
      if (++r.step < f_.definition.steps.size()) return run_step(i);
      return finish_row(i, "ok");
    }
    if (schedule_retry(i, res)) return;
    const bool cancelled = res.code == WFA_CANCELLED;
    r.results[s.id] =
        json::object{{"status", cancelled ? "cancelled" : "failed"},
                     {"error", error_json(res.code, res.message, res.http_status, res.retryable, res.details_json)}};
    finish_row(i, cancelled ? "cancelled" : "failed");
  }

  void finish_row(std::size_t i, const char* status) {
    row_state& r = rows_.at(i);
    json::object line;
    line["row"] = i;
    line["status"] = status;
    line["steps"] = std::move(r.results);
    if (std::string_view(status) == "ok") {
      eval_context ctx;
      ctx.inputs = &r.inputs;
      ctx.steps = &r.steps_out;
      try {
        auto v = evaluate(json::value(f_.definition.outputs), ctx);
        line["outputs"] = v ? std::move(*v) : json::value(json::object());
      } catch (const expression_error& e) {
        line["status"] = "failed";
        status = "failed";
        line["error"] = error_json(WFA_INVALID_INPUT, std::string("flow outputs: ") + e.what(), 0, false);
      }
    }
    std::string text = render(std::move(line), r.secrets);
    if (std::string_view(status) == "cancelled")
      write(text);
    else
      report(i, r.tag, std::string_view(status) == "ok", text);
    rows_.erase(i);
    count(status);
    --active_;
    post_fill();
    maybe_finish();
  }

  // A slot became free: fill() runs next, once (never from inside a finishing row).
  void post_fill() {
    if (summary_.interrupted || fill_posted_) return;
    fill_posted_ = true;
    asio::post(ioc_, [this] {
      fill_posted_ = false;
      fill();
    });
  }

  void count(std::string_view status) {
    ++done_;
    if (status == "ok")
      ++summary_.ok;
    else if (status == "failed")
      ++summary_.failed;
    else
      ++summary_.cancelled;
  }

  void print(json::object line) { write(render(std::move(line))); }
  // A finished row: on_row_end first (a journal records it), then its line. An exception
  // from on_row_end stops the run (run() rethrows it); the row's line is still written.
  void report(std::size_t i, std::string_view tag, bool ok, const std::string& text) {
    if (opts_.on_row_end && !row_end_error_) {
      try {
        opts_.on_row_end(row_end{i, tag, ok, text});
      } catch (...) {
        row_end_error_ = std::current_exception();
        asio::post(ioc_, [this] { interrupt(); });
      }
    }
    write(text);
  }
  void write(const std::string& text) {
    out_ << text << '\n';
    out_.flush();
  }
  std::string render(json::object line, const std::vector<std::string>& row_secrets = {}) {
    json::value v(std::move(line));
    if (row_secrets.empty()) {
      f_.secrets.redact(v);
    } else {
      redactor all = f_.secrets;  // one pass, longest secret first across both sets
      all.add(row_secrets);
      all.redact(v);
    }
    return json::serialize(v);
  }

  // Ends the run when nothing is in flight or waiting and no row can start any more.
  void maybe_finish() {
    if (active_ > 0 || waiting_ > 0 || !resume_.empty()) return;
    if (!summary_.interrupted && !all_read()) return;
    if (finishing_) return;
    finishing_ = true;
    // Rows read but never started (interrupted): reported as cancelled.
    while (auto row = next_row()) {
      json::object line{{"row", next_row_++}, {"status", "cancelled"}, {"steps", json::object()}};
      print(std::move(line));
      count("cancelled");
    }
    ticker_.cancel();
    work_.reset();
  }

  const checked_flow& f_;
  std::vector<const json::value*> secret_schemas_;  // by step; see the constructor
  const run_options& opts_;
  std::ostream& out_;
  diagnostics diag_;
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::steady_timer ticker_;
  std::shared_ptr<row_feed> feed_;
  std::thread reader_;
  // After ioc_: destroyed first, so that their final completions find it alive.
  std::map<std::string, std::unique_ptr<instance>> instances_;
  std::unordered_map<std::size_t, row_state> rows_;  // rows started and not finished
  std::deque<std::size_t> resume_;                   // rows whose retry time came
  std::size_t next_row_ = 0, active_ = 0, waiting_ = 0, done_ = 0;
  bool finishing_ = false;
  bool fill_posted_ = false;
  std::exception_ptr row_end_error_;  // from on_row_end; rethrown by run()
  run_summary summary_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

run_summary run_flow(const checked_flow& f, const run_options& opts, std::ostream& out, std::ostream& err) {
  runner r(f, opts, out, err);
  return r.run();
}

}  // namespace wfa::host
