// wfa/host/session.hpp -- a checked flow kept open to run rows one at a time, on demand.
//
// flow_session is what libwfa_runner.so (wfa/runner.h) is built on: the instances of the
// flow's connections are created once, rows are started whenever the caller has one (a
// queue's job) and each completes with the result line run_flow() prints for the same
// row number: both run a row with the same code (expressions, the WFA-10 check before
// each execute, secret outputs, the rate-limit retry, redaction). There is no
// concurrency limit: the caller decides how many rows it starts.
//
// Threads: the session owns one thread that runs its rows (plugin completions are posted
// to it); done and log callbacks run there (plugin log lines on plugin threads), never
// inside run(). run(), check() and cancel() may be called from any thread; close() from
// any thread but a callback of the session.
#pragma once

#include <wfa/host/validate.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wfa::host {

/// A row of inputs as text (a line of an inputs file): a JSON object, merged over `base`,
/// checked against the flow's declared inputs. nullopt with `error` set (redacted) when
/// it is not one or does not check.
std::optional<boost::json::object> read_row(const checked_flow& f, std::string_view text,
                                            const boost::json::object& base, std::string& error);

struct session_options {
  int32_t log_level = WFA_LOG_WARN;  ///< plugin log lines at or above it are passed on
  /// A row's waits for a rate limit's retry_after_s add up to at most this; 0: no retry.
  std::chrono::seconds max_retry_wait{300};
  bool step_outputs = true;  ///< each step's outputs in the row's line
  rate_acquire acquire;      ///< handed to every instance (wfa_host::acquire); empty: none
  /// Plugin log lines ("[level] CONNECTION: line") and the runner's own lines (rate-limit
  /// retries, level WFA_LOG_WARN), redacted; one call at a time. Unset: lines on stderr.
  std::function<void(int32_t level, std::string_view line)> on_log;
};

/// How a row ended (views valid during the done call).
struct row_report {
  enum class status_kind { ok, failed, cancelled };
  status_kind status = status_kind::failed;
  std::string_view line;       ///< the result line, redacted, without a newline
  int32_t code = WFA_OK;       ///< failed/cancelled: the code of the step (or check) that ended it
  bool retryable = false;      ///< failed: that step's error says a later try may succeed
  uint32_t retry_after_s = 0;  ///< rate_limited with details.retry_after_s, after the retries
};

class flow_session {
 public:
  using row_id = uint64_t;
  using done_fn = std::function<void(const row_report&)>;

  /// Creates the flow's instances and starts the session's thread. Throws create_error
  /// (message redacted) when an instance cannot be created.
  flow_session(std::shared_ptr<const checked_flow> flow, session_options opts);
  /// close()
  ~flow_session();
  flow_session(const flow_session&) = delete;
  flow_session& operator=(const flow_session&) = delete;

  /// Starts a row: `inputs_json` as read_row() reads it (over no base), `row` the number its
  /// line carries. done runs exactly once on the session's thread, never inside this call;
  /// inputs that do not read are a failed row (invalid_input) reported through it. Returns
  /// the row's id (never 0), or 0 without calling done once close() has begun. Throws only
  /// std::bad_alloc (then done is never called).
  row_id run(std::string_view inputs_json, std::size_t row, done_fn done);
  /// Why run() would refuse these inputs (read_row's error); empty when they read.
  std::string check(std::string_view inputs_json) const;
  /// Asks a row to stop (see row_engine::cancel); done still runs once. Unknown or finished
  /// ids are ignored. Any thread.
  void cancel(row_id id);
  /// Cancels every row, waits until every done has returned, destroys the instances
  /// (WFA-9) and stops the thread. Idempotent; not from a callback of the session.
  void close();

  const checked_flow& flow() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace wfa::host
