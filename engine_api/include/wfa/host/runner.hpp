// wfa/host/runner.hpp -- runs a checked flow over rows of inputs.
//
// One plugin instance per connection, created before the first row and destroyed after
// the last. Up to `concurrency` rows run at once; the steps of a row run in order, each
// starting when the previous one completed. Every row prints one JSON line on `out`,
// in completion order, with each step's status and its outputs or error:
//   {"row":0,"status":"ok","steps":{"get":{"status":"ok","outputs":{...}}},"outputs":{...}}
//   {"row":1,"status":"failed","steps":{"get":{"status":"failed","error":
//       {"code":"not_found","message":"...","http_status":404,"retryable":false}}}}
// "outputs" at the top level are the flow's declared outputs (rows that succeeded).
// `step_outputs = false` leaves the steps' outputs out (the flow's outputs stay). A
// failed step ends its row (later steps do not run). Secrets are redacted from every
// line. run_control::interrupt() (a CLI calls it on SIGINT/SIGTERM) cancels the
// operations in flight (wfa cancel), lets them report, and prints the rows that were read
// but never started as "cancelled" (rows a source had not yet given are not read any more).
// Signals, terminals and progress bars are the caller's: the runner reports its progress
// and its diagnostic lines through callbacks.
//
// Rows come from a vector or are pulled from a source on a reader thread, at most
// `read_ahead` ahead of the rows running: memory does not grow with the number of rows.
// A row that fails with rate_limited, retryable and details.retry_after_s = N is run
// again (the failed step) after N seconds, while the row's waits add up to at most
// `max_retry_wait`; meanwhile it holds no concurrency slot.
#pragma once

#include <wfa/host/validate.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wfa::host {

namespace detail {
struct run_control_access;
}

/// Interrupts a run from another thread (a CLI's signal thread). Thread-safe; an
/// interrupt() before the run started interrupts it as soon as it starts.
class run_control {
 public:
  run_control() = default;
  run_control(const run_control&) = delete;
  run_control& operator=(const run_control&) = delete;

  /// Cancels the operations in flight (wfa cancel), lets them report and reports the
  /// rows read but not started as cancelled. Any thread, not from a signal handler
  /// (it takes a lock). Only the first call counts.
  void interrupt();
  bool interrupted() const;

 private:
  friend struct detail::run_control_access;
  mutable std::mutex mu_;
  bool requested_ = false;
  std::function<void()> on_interrupt_;  ///< set while a run is attached
};

/// What the runner reports to its progress callback.
struct run_progress {
  std::size_t done = 0;                           ///< rows reported so far
  std::size_t failures = 0;                       ///< of those, failed or cancelled
  double elapsed_s = 0;                           ///< since the run started
  std::size_t ok = 0, failed = 0, cancelled = 0;  ///< done = ok + failed + cancelled
  std::size_t skipped = 0;                        ///< rows the source marked skip (not in done)
};

/// One row from a source: its inputs, or why it cannot run.
struct input_row {
  boost::json::object inputs;  ///< checked with checked_flow::check_row by the source
  std::string error;           ///< not empty: the row is reported failed (invalid_input) with it
  /// The source's own tag for the row (a journal's row key), given back to on_row_end.
  std::string tag;
  /// The row is already done (a journal says so): it keeps its number but is not run and
  /// prints no line; it counts as skipped.
  bool skip = false;
};

/// A row that ended ok or failed (never a cancelled one: it did not end), as on_row_end
/// sees it. Views valid during the call.
struct row_end {
  std::size_t row = 0;
  std::string_view tag;   ///< input_row::tag
  bool ok = false;        ///< status "ok"
  std::string_view line;  ///< the result line, redacted, without a newline
};

/// The next row, or nullopt after the last one. Called from one reader thread, one call at
/// a time; it may block (a pipe). It may be called after run_flow() returned when the
/// run was interrupted while it blocked: it must own what it reads from.
using row_source = std::function<std::optional<input_row>()>;

struct run_options {
  std::vector<boost::json::object> rows;  ///< checked with checked_flow::check_row; used without `source`
  row_source source;                      ///< when set, rows are pulled from it instead
  std::size_t read_ahead = 0;             ///< rows read but not started, at most; 0: 2 x concurrency + 16
  unsigned concurrency = 1;               ///< rows at once (>= 1)
  /// A row's waits for a rate limit's retry_after_s add up to at most this; 0: no retry.
  std::chrono::seconds max_retry_wait{300};
  int32_t log_level = WFA_LOG_WARN;  ///< plugin log lines at or above it are diagnostics
  bool step_outputs = true;          ///< print each step's outputs in its row line
  run_control* control = nullptr;    ///< when set, its interrupt() stops the run; outlives it
  /// Called on the run thread when the first rows start, every `progress_interval` and
  /// once when the last row is reported.
  std::function<void(const run_progress&)> on_progress;
  std::chrono::milliseconds progress_interval{200};
  /// Diagnostic lines (plugin log lines, rate-limit retries, the interruption), redacted,
  /// without a newline; one call at a time, from the run thread or a plugin thread.
  /// Unset: each is written as a line on `err`.
  std::function<void(std::string_view)> on_diagnostic;
  /// Called on the run thread for each row that ended ok or failed, before its line is
  /// written to `out` (a journal records it first, so a line on `out` is always recorded).
  /// An exception from it interrupts the run (as run_control::interrupt) and is rethrown
  /// by run_flow once the rows in flight have reported.
  std::function<void(const row_end&)> on_row_end;
  /// The host's rate budget, handed to every instance of the run as wfa_host.acquire (ABI
  /// 1.1; e.g. rate_limiter::acquire_fn, wfa/host/rate_limit.hpp); unset: none.
  rate_acquire acquire;
};

struct run_summary {
  std::size_t ok = 0, failed = 0, cancelled = 0;
  std::size_t skipped = 0;   ///< rows the source marked skip
  bool interrupted = false;  ///< run_control::interrupt() stopped it
  /// 0 all rows ok; 1 some failed or were cancelled, also by an interruption (the rows
  /// it cancelled or never started are reported as cancelled and count as failures).
  int exit_code() const noexcept { return (failed || cancelled || interrupted) ? 1 : 0; }
};

/// Runs every row. Throws create_error (message redacted) when a connection's instance
/// cannot be created; then no row has run.
run_summary run_flow(const checked_flow& f, const run_options& opts, std::ostream& out, std::ostream& err);

}  // namespace wfa::host
