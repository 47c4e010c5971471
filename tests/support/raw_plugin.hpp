// Test support for the raw ABI tests: the test plugin dlopen()ed directly (no host
// library), a collector for done callbacks, and a host log sink.
#pragma once

#include <wfa/wfa.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace abi_test {

inline wfa_str str(std::string_view s) { return wfa_str{s.data(), s.size()}; }
inline std::string text(wfa_str s) { return s.size ? std::string(s.data, s.size) : std::string(); }

// wfa_plugin_entry of libwfa_test_plugin.so, loaded once per process with
// RTLD_NOW | RTLD_LOCAL; never unloaded.
wfa_plugin_entry_fn entry();
// entry(WFA_ABI_MAJOR, WFA_ABI_MINOR): the descriptor (REQUIREs that it is not NULL).
const wfa_plugin& plugin();

// create() with config; REQUIREs success.
wfa_instance* create(std::string_view config = "{}", const wfa_host* host = nullptr);

// What one done callback saw, copied out of the borrowed wfa_result.
struct completion {
  int calls = 0;
  uint32_t struct_size = 0;
  int32_t code = -1;
  std::string outputs, message, details;
  int32_t http_status = -1;
  uint32_t retryable = 99;
  std::thread::id thread;
  bool after_close = false;  // fired after close() was called
};

// Collects done callbacks by a caller-chosen key. user(key) is the `user` pointer to
// hand to execute() / list_options(); done is the callback.
class collector {
 public:
  void* user(int key);
  static void done(void* user, const wfa_result* r);

  // Waits (up to a generous bound, to fail instead of hanging) for n distinct keys.
  bool wait(std::size_t n, std::chrono::seconds limit = std::chrono::seconds(120));
  std::size_t size() const;
  completion get(int key) const;
  std::map<int, completion> all() const;
  // Marks every later callback as late (after_close), e.g. right after destroy().
  void close() { closed_.store(true); }

 private:
  struct slot {
    collector* owner;
    int key;
  };
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<int, slot> slots_;  // node-based: slot addresses are stable
  std::map<int, completion> done_;
  std::atomic<bool> closed_{false};
};

// execute() with the given JSON texts; the op handle.
wfa_op execute(wfa_instance* inst, std::string_view action, std::string_view options, std::string_view inputs,
               collector& c, int key, uint32_t timeout_ms = 0);

// A host log sink: records every line at or above min_level; log_enabled says which.
class log_sink {
 public:
  explicit log_sink(int32_t min_level = WFA_LOG_TRACE) : min_level_(min_level) {}
  const wfa_host* host() const { return &host_; }
  std::vector<std::pair<int32_t, std::string>> lines() const;
  int enabled_calls() const { return enabled_calls_.load(); }
  // How many lines came from thread t.
  std::size_t lines_from(std::thread::id t) const;

 private:
  static void log(void* ctx, int32_t level, wfa_str message);
  static uint32_t enabled(void* ctx, int32_t level);

  int32_t min_level_;
  std::atomic<int> enabled_calls_{0};
  mutable std::mutex mu_;
  std::vector<std::pair<int32_t, std::string>> lines_;
  std::vector<std::thread::id> threads_;  // of each line
  wfa_host host_{sizeof(wfa_host), this, &log_sink::log, &log_sink::enabled, nullptr};
};

}  // namespace abi_test
