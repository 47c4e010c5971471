// A child process with captured stdout and stderr, for driving flowrun in tests.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace wfa::test {

struct process_result {
  int exit_code = -1;  ///< exit status, or 128 + signal when killed by one
  std::string out, err;
};

/// How to start a child.
struct spawn_options {
  std::map<std::string, std::string> env;  ///< added to (and overriding) our environment
  std::vector<std::string> unset;          ///< variables removed from it
  std::string cwd;                         ///< working directory; empty: ours
  bool stderr_tty = false;                 ///< stderr is a pseudo-terminal (we read its master side)
};

class subprocess {
 public:
  /// Starts `argv[0]` with the arguments; `env` is added to (and overrides) the
  /// current environment; `unset` names variables removed from it.
  subprocess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
             const std::vector<std::string>& unset = {});
  subprocess(const std::vector<std::string>& argv, const spawn_options& options);
  ~subprocess();
  subprocess(const subprocess&) = delete;
  subprocess& operator=(const subprocess&) = delete;

  /// Reads output until `ready(out_so_far)` is true or the limit passes; returns whether
  /// it became true.
  bool wait_for(const std::function<bool(const std::string&)>& ready, std::chrono::milliseconds limit);
  void signal(int sig);
  pid_t pid() const noexcept { return pid_; }
  /// Reads everything until both pipes close, then reaps the child.
  process_result finish();
  /// The same, but kills the child (SIGKILL: exit code 137) when it has not closed its
  /// output within `limit`, so that a hang fails a test instead of stalling it.
  process_result finish(std::chrono::milliseconds limit);

 private:
  bool pump(int timeout_ms);  ///< one poll round; false when both pipes are closed
  pid_t pid_ = -1;
  int out_fd_ = -1, err_fd_ = -1;
  process_result result_;
};

/// Runs to completion.
process_result run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
                   const std::vector<std::string>& unset = {});
process_result run(const std::vector<std::string>& argv, const spawn_options& options);
/// Runs to completion, or kills it after `limit`.
process_result run_within(const std::vector<std::string>& argv, std::chrono::milliseconds limit);

}  // namespace wfa::test
