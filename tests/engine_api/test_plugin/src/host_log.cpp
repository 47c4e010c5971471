#include "host_log.hpp"

#include "outcome.hpp"

#include <cstddef>

namespace wfa_test {

namespace {

// True when a host struct of `size` bytes holds the field at [offset, offset + field_size).
constexpr bool covers(uint32_t size, std::size_t offset, std::size_t field_size) { return size >= offset + field_size; }

}  // namespace

host_log::host_log(const wfa_host* host, std::string secret) : secret_(std::move(secret)) {
  if (!host) return;
  if (covers(host->struct_size, offsetof(wfa_host, ctx), sizeof host->ctx)) ctx_ = host->ctx;
  if (covers(host->struct_size, offsetof(wfa_host, log), sizeof host->log)) log_ = host->log;
  if (covers(host->struct_size, offsetof(wfa_host, log_enabled), sizeof host->log_enabled))
    log_enabled_ = host->log_enabled;
}

bool host_log::enabled(int32_t level) const noexcept {
  if (!log_) return false;
  return !log_enabled_ || log_enabled_(ctx_, level) != 0;
}

void host_log::write(int32_t level, const std::string& line) const noexcept {
  try {
    std::string text = redact("wfa-test: " + line, secret_);
    log_(ctx_, level, wfa_str{text.data(), text.size()});
  } catch (...) {
    // Out of memory while formatting a log line: drop the line, never throw into the host.
  }
}

}  // namespace wfa_test
