// The row runner. All bookkeeping happens on the one thread that calls run_flow(),
// inside an io_context: plugin callbacks (plugin threads) only post their copied
// result to it. So the row state needs no locks; only stderr is shared (plugin log
// lines arrive on plugin threads) and has its own mutex.
#include <wfa/host/runner.hpp>
#include <wfa/host/secret_outputs.hpp>

#include "progress.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>

namespace asio = boost::asio;
namespace json = boost::json;

namespace wfa::host {
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

// stderr shared by plugin log lines (any thread) and the progress bar (run thread).
class diagnostics {
 public:
  diagnostics(std::ostream& err, const redactor& secrets, bool bar) : err_(err), secrets_(secrets), bar_(bar) {}

  void line(const std::string& text) {
    std::lock_guard lock(mu_);
    if (bar_) err_ << "\r\033[K";
    err_ << secrets_.redact(text) << '\n';
    err_.flush();
    if (bar_ && !last_bar_.empty()) err_ << last_bar_ << std::flush;
  }
  void bar(const std::string& text) {
    if (!bar_) return;
    std::lock_guard lock(mu_);
    last_bar_ = text;
    err_ << "\r\033[K" << text << std::flush;
  }
  void clear_bar() {
    if (!bar_) return;
    std::lock_guard lock(mu_);
    err_ << "\r\033[K" << last_bar_ << '\n' << std::flush;
    last_bar_.clear();
  }

 private:
  std::ostream& err_;
  const redactor& secrets_;
  bool bar_;
  std::mutex mu_;
  std::string last_bar_;
};

class runner {
 public:
  runner(const checked_flow& f, const run_options& o, std::ostream& out, std::ostream& err)
      : f_(f), opts_(o), out_(out), diag_(err, f.secrets, o.progress), work_(ioc_.get_executor()),
        signals_(ioc_), ticker_(ioc_) {
    // Per step: its outputs schema when it marks secrets (else nothing to mask).
    for (std::size_t i = 0; i < f_.definition.steps.size(); ++i) {
      const auto* outs = f_.manifest(i).if_contains("outputs");
      secret_schemas_.push_back(outs && has_secret_marks(*outs) ? outs : nullptr);
    }
  }

  run_summary run() {
    create_instances();
    rows_.resize(opts_.rows.size());
    start_ = std::chrono::steady_clock::now();
    if (opts_.handle_signals) {
      signals_.add(SIGINT);
      signals_.add(SIGTERM);
      wait_signal();
    }
    if (opts_.progress) tick();
    fill();
    ioc_.run();
    if (opts_.progress) {
      draw();
      diag_.clear_bar();
    }
    // Instances are destroyed here (WFA-9) before the io_context: their last
    // completions may still post into it.
    instances_.clear();
    return summary_;
  }

 private:
  struct row_state {
    json::object steps_out;  // step id -> outputs
    json::object results;    // step id -> {"status", "outputs" | "error"}
    std::size_t step = 0;
    bool started = false, finished = false, in_flight = false;
    instance* inst = nullptr;
    wfa_op op = 0;
    std::vector<std::string> secrets;  // x-secret outputs of its steps: redacted from its line
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
        // Appended piecewise: GCC 12 -Wrestrict misfires on "lit" + std::string chains.
        std::string text = "[";
        text.append(level_name(level)).append("] ").append(conn).append(": ").append(message);
        diag_.line(text);
      };
      try {
        instances_.emplace(conn, std::make_unique<instance>(lib, config, sink, opts_.log_level));
      } catch (const create_error& e) {
        throw create_error(e.code(), f_.secrets.redact("connection " + conn + ": " + e.what()));
      }
    }
  }

  void wait_signal() {
    signals_.async_wait([this](const boost::system::error_code& ec, int) {
      if (ec) return;
      if (summary_.interrupted) {
        // A second signal: the plugin did not finish cancelling; give up at once.
        // Exit 1 like any run with rows that did not succeed (0/1/2 are the only codes).
        diag_.line("flowrun: interrupted again, exiting without waiting");
        std::_Exit(1);
      }
      summary_.interrupted = true;
      diag_.line("flowrun: interrupted, cancelling the operations in flight");
      for (auto& r : rows_)
        if (r.in_flight) r.inst->cancel(r.op);
      wait_signal();
      maybe_finish();
    });
  }

  void tick() {
    draw();
    ticker_.expires_after(std::chrono::milliseconds(200));
    ticker_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) tick();
    });
  }

  void draw() {
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    diag_.bar(detail::render_progress(done_, rows_.size(), summary_.failed + summary_.cancelled, elapsed));
  }

  // Starts rows until `concurrency` are active. Called from the io_context, never from
  // inside a finishing row: a long run of rows failing before their first execute would
  // otherwise recurse once per row.
  void fill() {
    const std::size_t width = std::max<std::size_t>(1, opts_.concurrency);
    while (!summary_.interrupted && next_row_ < rows_.size() && active_ < width) start_row(next_row_++);
    maybe_finish();
  }

  void start_row(std::size_t i) {
    rows_[i].started = true;
    ++active_;
    run_step(i);
  }

  void run_step(std::size_t i) {
    row_state& r = rows_[i];
    const flow_step& s = f_.definition.steps[r.step];
    if (summary_.interrupted) {
      r.results[s.id] = json::object{{"status", "cancelled"},
                                     {"error", error_json(WFA_CANCELLED, "the run was interrupted", 0, false)}};
      return finish_row(i, "cancelled");
    }
    eval_context ctx;
    ctx.inputs = &opts_.rows[i];
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

  void on_step_done(std::size_t i, op_result res) {
    row_state& r = rows_[i];
    r.in_flight = false;
    const flow_step& s = f_.definition.steps[r.step];
    if (res.code == WFA_OK) {
      boost::system::error_code ec;
      json::value outputs = json::parse(res.outputs_json, ec, {}, wfa_json_options());
      if (ec || !outputs.is_object()) {
        r.results[s.id] = json::object{
            {"status", "failed"},
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
    const bool cancelled = res.code == WFA_CANCELLED;
    r.results[s.id] = json::object{
        {"status", cancelled ? "cancelled" : "failed"},
        {"error", error_json(res.code, res.message, res.http_status, res.retryable, res.details_json)}};
    finish_row(i, cancelled ? "cancelled" : "failed");
  }

  void finish_row(std::size_t i, const char* status) {
    row_state& r = rows_[i];
    json::object line;
    line["row"] = i;
    line["status"] = status;
    line["steps"] = std::move(r.results);
    if (std::string_view(status) == "ok") {
      eval_context ctx;
      ctx.inputs = &opts_.rows[i];
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
    r.steps_out = {};
    r.finished = true;
    print(std::move(line), r.secrets);
    r.secrets = {};
    count(status);
    if (r.started) --active_;
    if (!summary_.interrupted && next_row_ < rows_.size() && !fill_posted_) {
      fill_posted_ = true;
      asio::post(ioc_, [this] {
        fill_posted_ = false;
        fill();
      });
    }
    maybe_finish();
  }

  void count(std::string_view status) {
    ++done_;
    if (status == "ok") ++summary_.ok;
    else if (status == "failed") ++summary_.failed;
    else ++summary_.cancelled;
  }

  void print(json::object line, const std::vector<std::string>& row_secrets = {}) {
    json::value v(std::move(line));
    if (row_secrets.empty()) {
      f_.secrets.redact(v);
    } else {
      redactor all = f_.secrets;  // one pass, longest secret first across both sets
      all.add(row_secrets);
      all.redact(v);
    }
    out_ << json::serialize(v) << '\n';
    out_.flush();
  }

  // Ends the run when nothing is in flight and no row can start any more.
  void maybe_finish() {
    if (active_ > 0) return;
    if (!summary_.interrupted && next_row_ < rows_.size()) return;
    if (finishing_) return;
    finishing_ = true;
    // Rows that never started (interrupted): reported as cancelled.
    for (std::size_t i = 0; i < rows_.size(); ++i) {
      if (rows_[i].finished) continue;
      json::object line{{"row", i}, {"status", "cancelled"}, {"steps", json::object()}};
      rows_[i].finished = true;
      print(std::move(line));
      count("cancelled");
    }
    next_row_ = rows_.size();
    boost::system::error_code ignored;
    signals_.cancel(ignored);
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
  asio::signal_set signals_;
  asio::steady_timer ticker_;
  // After ioc_: destroyed first, so that their final completions find it alive.
  std::map<std::string, std::unique_ptr<instance>> instances_;
  std::vector<row_state> rows_;
  std::size_t next_row_ = 0, active_ = 0, done_ = 0;
  bool finishing_ = false;
  bool fill_posted_ = false;
  run_summary summary_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

run_summary run_flow(const checked_flow& f, const run_options& opts, std::ostream& out, std::ostream& err) {
  runner r(f, opts, out, err);
  return r.run();
}

}  // namespace wfa::host
