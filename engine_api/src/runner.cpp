// The row runner. All bookkeeping happens on the one thread that calls run_flow(),
// inside an io_context: plugin callbacks (plugin threads) only post their copied
// result to it. So the row state needs no locks; only the diagnostic lines are shared
// (plugin log lines arrive on plugin threads) and have their own mutex. What a row does
// (its steps, retries, result line) is row_engine's, shared with flow_session; this file
// feeds it rows, keeps the concurrency slots and writes the lines. Signals and the
// progress bar are the caller's (flowrun): run_control and the callbacks of run_options.
#include "row_engine.hpp"

#include <wfa/host/runner.hpp>

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

using detail::diagnostics;
using detail::row_ending;
using detail::row_engine;

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
      : f_(f),
        opts_(o),
        out_(out),
        diag_(err, f.secrets, diagnostic_sink(o.on_diagnostic)),
        work_(ioc_.get_executor()),
        ticker_(ioc_) {}

  ~runner() {
    // Only when run() did not get to its end (an exception): it stops them itself.
    if (reader_.joinable()) stop_reader();
    detach_control();
  }

  run_summary run() {
    instances_ = detail::make_instances(f_, opts_.log_level, diag_, {});
    engine_.emplace(f_, ioc_, instances_, row_engine::settings{opts_.step_outputs, opts_.max_retry_wait}, diag_,
                    row_engine::hooks{[this](uint64_t) { retry_wait_began(); },
                                      [this](uint64_t key) { retry_due(static_cast<std::size_t>(key)); },
                                      [this](uint64_t, row_ending end) { row_ended(std::move(end)); }});
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
    engine_.reset();
    instances_.clear();
    if (row_end_error_) std::rethrow_exception(row_end_error_);
    return summary_;
  }

 private:
  // Plugin log lines and the runner's own lines both go to on_diagnostic (no level).
  static diagnostics::sink_fn diagnostic_sink(const std::function<void(std::string_view)>& f) {
    if (!f) return {};
    return [f](int32_t, std::string_view line) { f(line); };
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
    engine_->stop();
    // Rows whose retry time came and that wait for a slot: reported cancelled.
    while (!resume_.empty()) {
      std::size_t i = resume_.front();
      resume_.pop_front();
      ++active_;
      engine_->resume(i);
    }
    maybe_finish();
  }

  void tick() {
    report_progress();
    ticker_.expires_after(opts_.progress_interval);
    // A tick that expired just before maybe_finish() cancelled it is already queued
    // with success: it must not arm the timer again, or the io_context never runs out
    // of work and the run never returns (the on_progress test hung about once in ten).
    ticker_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec && !finishing_) tick();
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
        engine_->resume(i);
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
      report(i, in.tag, false, engine_->invalid_line(i, in.error));
      count("failed");
      return;
    }
    ++active_;
    engine_->start(i, i, std::move(in.inputs), std::move(in.tag));
  }

  // A row waits for its retry: other rows use its slot meanwhile.
  void retry_wait_began() {
    --active_;
    ++waiting_;
    post_fill();
  }

  void retry_due(std::size_t i) {
    --waiting_;
    if (summary_.interrupted) {  // cancelled by interrupt(): the engine reports it cancelled
      ++active_;
      return engine_->resume(i);
    }
    resume_.push_back(i);
    fill();
  }

  void row_ended(row_ending end) {
    if (end.status == "cancelled")
      write(end.line);
    else
      report(end.number, end.tag, end.status == "ok", end.line);
    count(end.status);
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

  void print(json::object line) { write(engine_->render(std::move(line))); }
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
  const run_options& opts_;
  std::ostream& out_;
  diagnostics diag_;
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::steady_timer ticker_;
  std::shared_ptr<row_feed> feed_;
  std::thread reader_;
  // After ioc_: destroyed first, so that their final completions find it alive.
  detail::instance_map instances_;
  std::optional<row_engine> engine_;                 // after instances_: destroyed before them
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
