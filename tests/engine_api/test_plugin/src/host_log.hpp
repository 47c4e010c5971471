// The plugin's side of the host log callback (wfa_host.log / log_enabled).
#pragma once

#include <wfa/wfa.h>

#include <string>
#include <string_view>

namespace wfa_test {

// Copies what it needs from the host's struct at construction, reading only the fields
// the host's struct_size covers (WFA-2), and redacts the connection's secret from every
// line (WFA-8). Callable from any thread.
class host_log {
 public:
  host_log(const wfa_host* host, std::string secret);

  // False when there is no log function or the host turns the level down.
  bool enabled(int32_t level) const noexcept;

  // Formats only when the level is enabled: make() returns the line.
  template <class Make>
  void operator()(int32_t level, Make&& make) const {
    if (enabled(level)) write(level, make());
  }

 private:
  void write(int32_t level, const std::string& line) const noexcept;

  void* ctx_ = nullptr;
  void (*log_)(void*, int32_t, wfa_str) = nullptr;
  uint32_t (*log_enabled_)(void*, int32_t) = nullptr;
  std::string secret_;
};

}  // namespace wfa_test
