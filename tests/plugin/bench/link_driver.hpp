// The benchmark's host side: loads libauth0_actions.so through wfa.h only and keeps a
// fixed number of operations in flight (closed loop). It keeps nothing per operation
// but a latency sample, so the process's memory is the plugin's, not the host's
// (tests/support/plugin_host.* records every log line and result, which would
// dominate a 10,000-link peak-memory figure).
#pragma once

#include <wfa/wfa.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace a0::bench {

/// dlopen + wfa_plugin_entry; a host whose log sink only counts warnings and errors
/// (and keeps the first one for the report).
class loaded_plugin {
 public:
  explicit loaded_plugin(const std::string& path);
  ~loaded_plugin();
  loaded_plugin(const loaded_plugin&) = delete;
  loaded_plugin& operator=(const loaded_plugin&) = delete;

  const wfa_plugin& api() const { return *plugin_; }
  const wfa_host* host() const { return &host_; }
  std::size_t warnings() const { return warnings_.load(); }
  std::string first_warning() const;

 private:
  static void on_log(void* ctx, int32_t level, wfa_str message);
  static uint32_t on_log_enabled(void* ctx, int32_t level);
  void* handle_ = nullptr;
  const wfa_plugin* plugin_ = nullptr;
  wfa_host host_{};
  std::atomic<std::size_t> warnings_{0};
  mutable std::mutex mu_;
  std::string first_warning_;
};

/// One plugin instance (one tenant config); destroyed on scope exit.
class plugin_instance {
 public:
  plugin_instance(const loaded_plugin& p, const std::string& config_json);
  ~plugin_instance();
  plugin_instance(const plugin_instance&) = delete;
  plugin_instance& operator=(const plugin_instance&) = delete;
  wfa_instance* get() const { return inst_; }

 private:
  const loaded_plugin& plugin_;
  wfa_instance* inst_ = nullptr;
};

struct batch_result {
  std::size_t ok = 0, failed = 0;
  std::map<int32_t, std::size_t> codes;  ///< failures by WFA code
  std::string first_error;               ///< message of the first failure
  double seconds = 0;                    ///< first start .. last completion
  std::vector<double> latency_ms;        ///< per completed op, in completion order
  std::vector<double> finished_at_s;     ///< completion times since the start
};

struct batch_spec {
  std::string action;
  std::string options;                                           ///< JSON object, the same for every op
  std::function<std::string(std::size_t)> inputs;                ///< inputs JSON of op i
  std::size_t count = 0;                                         ///< ops to run (upper bound with stop_at)
  std::size_t concurrency = 1;                                   ///< ops in flight
  std::optional<std::chrono::steady_clock::time_point> stop_at;  ///< start no op after this
};

/// Runs spec.count operations keeping spec.concurrency in flight: the next one starts
/// (from the calling thread) as soon as one completes. Blocks until all are done.
batch_result run_closed_loop(const loaded_plugin& p, wfa_instance* inst, const batch_spec& spec);

}  // namespace a0::bench
