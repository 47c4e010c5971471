#include "http/retry_policy.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>

namespace a0::http {

namespace {

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<int> parse_fixed_int(std::string_view s) noexcept {
  int v = 0;
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

milliseconds until(std::chrono::system_clock::time_point at, std::chrono::system_clock::time_point now) {
  if (at <= now) return milliseconds{0};
  return std::chrono::ceil<milliseconds>(at - now);
}

// IMF-fixdate only ("Sun, 06 Nov 1994 08:49:37 GMT"): RFC 9110 requires senders to use it.
std::optional<std::chrono::system_clock::time_point> parse_imf_fixdate(std::string_view s) {
  if (s.size() != 29 || s[3] != ',' || s.substr(25) != " GMT") return std::nullopt;
  static constexpr std::array<const char*, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto day = parse_fixed_int(s.substr(5, 2));
  const auto mon_name = s.substr(8, 3);
  const auto year = parse_fixed_int(s.substr(12, 4));
  const auto hh = parse_fixed_int(s.substr(17, 2));
  const auto mm = parse_fixed_int(s.substr(20, 2));
  const auto ss = parse_fixed_int(s.substr(23, 2));
  if (!day || !year || !hh || !mm || !ss || s[16] != ' ' || s[19] != ':' || s[22] != ':') return std::nullopt;
  unsigned mon = 0;
  for (unsigned i = 0; i < months.size(); ++i)
    if (mon_name == months[i]) mon = i + 1;
  if (mon == 0 || *hh > 23 || *mm > 59 || *ss > 60) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{*year}, std::chrono::month{mon},
                                        std::chrono::day{static_cast<unsigned>(*day)}};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days{ymd} + std::chrono::hours{*hh} + std::chrono::minutes{*mm} + std::chrono::seconds{*ss};
}

}  // namespace

milliseconds backoff_delay(int attempt, double unit_random, milliseconds base, milliseconds cap,
                           double jitter) noexcept {
  attempt = std::clamp(attempt, 0, 30);  // 2^30 * base already exceeds any sane cap
  const double nominal = static_cast<double>(base.count()) * std::ldexp(1.0, attempt);
  const double factor = 1.0 + jitter * (2.0 * std::clamp(unit_random, 0.0, 1.0) - 1.0);
  const double ms = std::min(nominal * factor, static_cast<double>(cap.count()));
  return milliseconds{static_cast<milliseconds::rep>(std::max(ms, 0.0))};
}

std::optional<long long> parse_header_int(std::string_view value) noexcept {
  value = trim(value);
  long long v = 0;
  if (value.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc{} || p != value.data() + value.size() || v < 0) return std::nullopt;
  return v;
}

std::optional<milliseconds> parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now) {
  value = trim(value);
  if (value.empty()) return std::nullopt;
  if (std::isdigit(static_cast<unsigned char>(value.front()))) {
    const auto secs = parse_header_int(value);
    if (!secs) return std::nullopt;
    return milliseconds{std::min<long long>(*secs, 86400LL * 365) * 1000};
  }
  const auto at = parse_imf_fixdate(value);
  if (!at) return std::nullopt;
  return until(*at, now);
}

std::optional<milliseconds> parse_ratelimit_reset(std::string_view value, std::chrono::system_clock::time_point now) {
  const auto epoch = parse_header_int(value);
  if (!epoch) return std::nullopt;
  // Saturate before converting: the clock counts nanoseconds, so seconds{epoch} into a
  // time_point overflows from 9223372037 s on (a hostile or broken header). Beyond a
  // year from now the wait is a year, as for Retry-After; the caller caps it anyway.
  constexpr long long max_wait_s = 86400LL * 365;
  const long long now_s = std::chrono::floor<std::chrono::seconds>(now.time_since_epoch()).count();
  if (*epoch > now_s && *epoch - now_s > max_wait_s) return milliseconds{max_wait_s * 1000};
  const std::chrono::system_clock::time_point at{std::chrono::seconds{*epoch}};
  return until(at, now);
}

std::optional<milliseconds> server_wait_hint(std::string_view retry_after, std::string_view ratelimit_reset,
                                             std::chrono::system_clock::time_point now, milliseconds cap) {
  auto hint = parse_retry_after(retry_after, now);
  if (!hint) hint = parse_ratelimit_reset(ratelimit_reset, now);
  if (!hint) return std::nullopt;
  return std::min(*hint, cap);
}

}  // namespace a0::http
