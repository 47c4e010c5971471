// A minimal test host for libauth0_actions.so: dlopen + wfa.h only (so the tests do not
// depend on the engine's host library). It counts callbacks per op to prove
// exactly-once, records the callback thread, and captures the plugin's log lines.
#pragma once

#include <wfa/wfa.h>

#include <boost/json/object.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace a0::test {

/// An owned copy of a wfa_result plus facts about its delivery.
struct captured {
  int32_t code = -1;
  std::string outputs, message, details;
  int32_t http_status = 0;
  bool retryable = false;
  std::thread::id thread;
  int calls = 0;  ///< how many times done fired for this op (must be 1)

  boost::json::object json() const;  ///< outputs parsed (throws when not an object)
  boost::json::object details_obj() const;
};

class plugin_host {
 public:
  explicit plugin_host(const char* path = nullptr);  ///< default: the built plugin
  ~plugin_host();
  const wfa_plugin& plugin() const { return *plugin_; }
  wfa_host* host() { return &host_; }

  /// The host's rate budget (wfa_host.acquire, ABI 1.1) for instances created from now
  /// on: asked from plugin threads. Unset (default): acquire is NULL.
  using acquire_fn = std::function<uint32_t(std::string_view bucket, uint32_t cost)>;
  void set_acquire(acquire_fn f);
  /// The struct_size the plugin sees in wfa_host (a 1.0 host: offsetof(wfa_host, acquire)).
  void set_host_struct_size(uint32_t size) { host_.struct_size = size; }

  /// Log lines so far (level, text), in arrival order.
  std::vector<std::pair<int32_t, std::string>> logs() const;
  std::string all_logs() const;

 private:
  static void on_log(void* ctx, int32_t level, wfa_str message);
  static uint32_t on_acquire(void* ctx, wfa_str bucket, uint32_t cost);
  acquire_fn acquire_;
  void* handle_ = nullptr;
  const wfa_plugin* plugin_ = nullptr;
  wfa_host host_{};
  mutable std::mutex mu_;
  std::vector<std::pair<int32_t, std::string>> logs_;
};

/// One instance; destroys it on scope exit.
class plugin_instance {
 public:
  plugin_instance(plugin_host& h, const std::string& config_json);
  ~plugin_instance();
  wfa_instance* get() const { return inst_; }
  const std::string& create_error() const { return error_; }
  int32_t create_code() const { return code_; }

  /// Starts an execute; the returned slot is filled by the callback.
  struct pending {
    std::shared_ptr<struct slot> s;
    wfa_op op = 0;
    captured wait(std::chrono::milliseconds limit = std::chrono::seconds(30)) const;
    bool done() const;
  };
  pending start(const std::string& action, const std::string& options, const std::string& inputs,
                uint32_t timeout_ms = 0);
  captured run(const std::string& action, const std::string& options, const std::string& inputs,
               uint32_t timeout_ms = 0);
  captured run(const std::string& action, const boost::json::object& options, const boost::json::object& inputs,
               uint32_t timeout_ms = 0);
  pending start_options(const std::string& action, const std::string& field, const std::string& page_token = "");
  void cancel(wfa_op op) { host_.plugin().cancel(inst_, op); }
  /// Destroys now (idempotent); later calls are not allowed.
  void destroy();

 private:
  pending new_pending();

  plugin_host& host_;
  wfa_instance* inst_ = nullptr;
  std::mutex slots_mu_;                              ///< start() may be called from several threads
  std::vector<std::shared_ptr<struct slot>> slots_;  ///< outlive every callback (destroy first)
  std::string error_;
  int32_t code_ = 0;
};

struct slot {
  std::mutex mu;
  std::condition_variable cv;
  captured result;
  std::atomic<int> calls{0};
  std::thread::id started_on;
};

}  // namespace a0::test
