// When to retry an HTTP exchange and how long to wait: exponential backoff with jitter,
// and the server's own hints (Retry-After, x-ratelimit-reset). Pure functions, so the
// policy is unit-tested without a clock or a network.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace a0::http {

using std::chrono::milliseconds;

/// 408, 429 and 5xx: the server did not (or may not have) done the work and says so.
constexpr bool is_retryable_status(int status) noexcept {
  return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

/// base * 2^attempt scaled by a jitter factor in [1 - jitter, 1 + jitter], capped at cap.
/// `unit_random` is a uniform draw in [0, 1) supplied by the caller (testable).
milliseconds backoff_delay(int attempt, double unit_random, milliseconds base = milliseconds{250},
                           milliseconds cap = milliseconds{10000}, double jitter = 0.2) noexcept;

/// Retry-After: delta-seconds or an HTTP-date (IMF-fixdate, e.g.
/// "Wed, 21 Oct 2015 07:28:00 GMT"). A date in the past yields 0. nullopt if unparseable.
std::optional<milliseconds> parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now);

/// x-ratelimit-reset: UNIX epoch seconds at which the bucket refills -> wait from `now`
/// (0 when already past). nullopt if unparseable.
std::optional<milliseconds> parse_ratelimit_reset(std::string_view value, std::chrono::system_clock::time_point now);

/// Non-negative decimal integer header (x-ratelimit-remaining); nullopt otherwise.
std::optional<long long> parse_header_int(std::string_view value) noexcept;

/// The server's wait hint: Retry-After first, then x-ratelimit-reset, capped at cap.
std::optional<milliseconds> server_wait_hint(std::string_view retry_after, std::string_view ratelimit_reset,
                                             std::chrono::system_clock::time_point now, milliseconds cap);

}  // namespace a0::http
