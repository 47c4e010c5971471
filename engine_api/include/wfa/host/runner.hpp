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
// line. SIGINT/SIGTERM cancel the operations in flight (wfa cancel), let them report,
// and print the rows that never started as "cancelled".
#pragma once

#include <wfa/host/validate.hpp>

#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <vector>

namespace wfa::host {

struct run_options {
  std::vector<boost::json::object> rows;  ///< checked with checked_flow::check_row
  unsigned concurrency = 1;               ///< rows at once (>= 1)
  bool progress = false;                  ///< progress bar on `err` (use when a terminal)
  int32_t log_level = WFA_LOG_WARN;       ///< plugin log lines at or above it go to `err`
  bool handle_signals = true;             ///< SIGINT/SIGTERM cancel the run
  bool step_outputs = true;               ///< print each step's outputs in its row line
};

struct run_summary {
  std::size_t ok = 0, failed = 0, cancelled = 0;
  bool interrupted = false;  ///< a signal arrived
  /// 0 all rows ok; 1 some failed or were cancelled, also by an interruption (the rows
  /// it cancelled or never started are reported as cancelled and count as failures).
  int exit_code() const noexcept { return (failed || cancelled || interrupted) ? 1 : 0; }
};

/// Runs every row. Throws create_error (message redacted) when a connection's instance
/// cannot be created; then no row has run.
run_summary run_flow(const checked_flow& f, const run_options& opts, std::ostream& out, std::ostream& err);

}  // namespace wfa::host
