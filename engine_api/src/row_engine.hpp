// The per-row machinery shared by the batch runner (run_flow, runner.cpp) and the flow
// session (session.cpp, behind libwfa_runner.so): a row's steps in order, each one's
// options and inputs evaluated and checked (WFA-10), executed, its secret outputs masked,
// the rate-limit retry after details.retry_after_s, the flow outputs, and the redacted
// result line. One engine serves rows keyed by the caller; everything runs on the one
// thread that runs the io_context (plugin completions are posted to it), so the row state
// needs no lock. Slots (concurrency) are the caller's: the hooks say when a row starts
// waiting for a retry, when its wait is over, and when it ended.
#pragma once

#include <wfa/host/validate.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace wfa::host::detail {

/// Diagnostic lines from plugin log lines (any thread) and the run thread, redacted, one
/// at a time: to the sink, else as lines on `err`.
class diagnostics {
 public:
  using sink_fn = std::function<void(int32_t level, std::string_view line)>;
  diagnostics(std::ostream& err, const redactor& secrets, sink_fn sink)
      : err_(err), secrets_(secrets), sink_(std::move(sink)) {}
  void line(const std::string& text, int32_t level = WFA_LOG_WARN);

 private:
  std::ostream& err_;
  const redactor& secrets_;
  sink_fn sink_;
  std::mutex mu_;
};

/// Connection name -> its instance.
using instance_map = std::map<std::string, std::unique_ptr<instance>>;

/// One instance per connection the steps use, plugin log lines at or above `log_level`
/// going to `diag` as "[level] CONNECTION: line". Throws create_error, message redacted.
instance_map make_instances(const checked_flow& f, int32_t log_level, diagnostics& diag, const rate_acquire& acquire);

/// A row as it ended.
struct row_ending {
  std::size_t number = 0;   ///< the "row" of its line
  std::string_view status;  ///< "ok", "failed" or "cancelled"
  std::string line;         ///< the result line, redacted, without a newline
  std::string tag;          ///< given to start()
  int32_t code = WFA_OK;    ///< failed/cancelled: the code of the step (or check) that ended it
  bool retryable = false;
  uint32_t retry_after_s = 0;  ///< rate_limited with details.retry_after_s
};

class row_engine {
 public:
  struct settings {
    bool step_outputs = true;
    /// A row's waits for retry_after_s add up to at most this; 0: no retry.
    std::chrono::seconds max_retry_wait{300};
    /// The message of a row stopped by stop() before its next step.
    std::string stop_message = "the run was interrupted";
  };
  struct hooks {
    std::function<void(uint64_t key)> waiting;  ///< a retry wait began: the row holds no slot
    /// Its wait is over (or was cancelled): call resume(key) once a slot is free (at once
    /// when stopped()).
    std::function<void(uint64_t key)> due;
    /// The row ended (its state is gone already). Exactly once per start().
    std::function<void(uint64_t key, row_ending)> ended;
  };

  row_engine(const checked_flow& f, boost::asio::io_context& ioc, const instance_map& instances, settings s,
             diagnostics& diag, hooks h);
  ~row_engine();

  /// Starts a row (its first step). `key` is the caller's, unique among the rows running.
  void start(uint64_t key, std::size_t number, boost::json::object inputs, std::string tag = {});
  /// Runs again the step whose retry was due (see hooks::due).
  void resume(uint64_t key);
  /// Cancels one row: the step in flight (plugin cancel) or its retry wait; a row between
  /// two steps ends cancelled before the next one. Unknown keys are ignored.
  void cancel(uint64_t key);
  /// Cancels every row; rows started or resumed from now on end cancelled (stop_message).
  void stop();
  bool stopped() const noexcept { return stopped_; }

  /// The line of a row that could not run (its inputs did not parse or check).
  std::string invalid_line(std::size_t number, const std::string& error) const;
  /// Serialises a line with the flow's secrets (and the row's) redacted.
  std::string render(boost::json::object line, const std::vector<std::string>& row_secrets = {}) const;

 private:
  struct row_state {
    std::size_t number = 0;
    boost::json::object inputs;
    std::string tag;
    boost::json::object steps_out;  // step id -> outputs
    boost::json::object results;    // step id -> {"status", "outputs" | "error"}
    std::size_t step = 0;
    bool in_flight = false;
    bool cancelled = false;  // cancel(key): ends before its next step or retry
    instance* inst = nullptr;
    wfa_op op = 0;
    std::vector<std::string> secrets;                  // x-secret outputs of its steps: redacted from its line
    std::chrono::seconds waited{0};                    // rate-limit waits so far
    std::unique_ptr<boost::asio::steady_timer> retry;  // set while it waits to retry
    int32_t code = WFA_OK;                             // how it ended, for row_ending
    bool retryable = false;
    uint32_t retry_after_s = 0;
  };
  void run_step(uint64_t key);
  bool schedule_retry(uint64_t key, const op_result& res);
  void on_step_done(uint64_t key, op_result res);
  void fail_step(row_state& r, const std::string& step, const char* status, int32_t code, const std::string& message,
                 const op_result* res);
  void finish_row(uint64_t key, const char* status);

  const checked_flow& f_;
  boost::asio::io_context& ioc_;
  const instance_map& instances_;
  settings settings_;
  diagnostics& diag_;
  hooks hooks_;
  std::vector<const boost::json::value*> secret_schemas_;  // by step: outputs schema when it marks secrets
  std::unordered_map<uint64_t, row_state> rows_;           // rows started and not ended
  bool stopped_ = false;
};

}  // namespace wfa::host::detail
