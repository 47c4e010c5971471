// Retry policy: backoff with jitter, Retry-After (seconds and HTTP-date), x-ratelimit-reset.
#include "http/retry_policy.hpp"

#include <doctest/doctest.h>

using namespace a0::http;
using std::chrono::milliseconds;
using std::chrono::seconds;
using sys_clock = std::chrono::system_clock;

TEST_CASE("backoff doubles per attempt and stays within +-20% jitter") {
  CHECK(backoff_delay(0, 0.5) == milliseconds{250});
  CHECK(backoff_delay(1, 0.5) == milliseconds{500});
  CHECK(backoff_delay(3, 0.5) == milliseconds{2000});
  CHECK(backoff_delay(0, 0.0) == milliseconds{200});       // -20%
  CHECK(backoff_delay(0, 0.999999) == milliseconds{299});  // just under +20%
  CHECK(backoff_delay(2, 0.0) == milliseconds{800});
}

TEST_CASE("backoff is capped at max_backoff, also for huge attempt numbers") {
  CHECK(backoff_delay(10, 0.5, milliseconds{250}, milliseconds{3000}) == milliseconds{3000});
  CHECK(backoff_delay(1000, 0.9, milliseconds{250}, milliseconds{10000}) == milliseconds{10000});
  CHECK(backoff_delay(-5, 0.5) == milliseconds{250});
}

TEST_CASE("retryable statuses are 408, 429 and 5xx only") {
  CHECK(is_retryable_status(408));
  CHECK(is_retryable_status(429));
  CHECK(is_retryable_status(500));
  CHECK(is_retryable_status(503));
  CHECK(is_retryable_status(599));
  CHECK_FALSE(is_retryable_status(400));
  CHECK_FALSE(is_retryable_status(401));
  CHECK_FALSE(is_retryable_status(404));
  CHECK_FALSE(is_retryable_status(409));
  CHECK_FALSE(is_retryable_status(200));
  CHECK_FALSE(is_retryable_status(600));
}

TEST_CASE("Retry-After as delta-seconds") {
  const auto now = sys_clock::now();
  CHECK(parse_retry_after("2", now) == milliseconds{2000});
  CHECK(parse_retry_after(" 0 ", now) == milliseconds{0});
  CHECK_FALSE(parse_retry_after("", now).has_value());
  CHECK_FALSE(parse_retry_after("-1", now).has_value());
  CHECK_FALSE(parse_retry_after("2s", now).has_value());
  CHECK_FALSE(parse_retry_after("soon", now).has_value());
}

TEST_CASE("Retry-After as an HTTP-date (IMF-fixdate)") {
  // 2015-10-21T07:28:00Z = 1445412480
  const sys_clock::time_point now{seconds{1445412480 - 5}};
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now) == milliseconds{5000});
  // A date in the past means "now".
  const sys_clock::time_point later{seconds{1445412480 + 60}};
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", later) == milliseconds{0});
  CHECK_FALSE(parse_retry_after("Wed, 21 Foo 2015 07:28:00 GMT", now).has_value());
  CHECK_FALSE(parse_retry_after("Wed, 31 Feb 2015 07:28:00 GMT", now).has_value());
  CHECK_FALSE(parse_retry_after("Wed, 21 Oct 2015 07:28:00 UTC", now).has_value());
}

TEST_CASE("x-ratelimit-reset is epoch seconds, turned into a wait from now") {
  const sys_clock::time_point now{seconds{1675452600}};
  CHECK(parse_ratelimit_reset("1675452603", now) == milliseconds{3000});
  CHECK(parse_ratelimit_reset("1675452000", now) == milliseconds{0});
  CHECK_FALSE(parse_ratelimit_reset("tomorrow", now).has_value());
  CHECK_FALSE(parse_ratelimit_reset("", now).has_value());
}

TEST_CASE("x-ratelimit-reset far in the future saturates at a year instead of overflowing") {
  // 9223372037 s is the first value whose nanoseconds overflow int64 (UBSan stopped the
  // sanitized build here; the release build waited 0 ms).
  const sys_clock::time_point now{seconds{1675452600}};
  const milliseconds year{86400LL * 365 * 1000};
  CHECK(parse_ratelimit_reset("9223372037", now) == year);
  CHECK(parse_ratelimit_reset("9223372036854775807", now) == year);
  CHECK(parse_ratelimit_reset("9223372036", now) == year);
  CHECK(server_wait_hint("", "9223372037", now, milliseconds{10000}) == milliseconds{10000});
  CHECK(server_wait_hint("", "18446744073709551615", now, milliseconds{10000}) == std::nullopt);  // not an int64
}

TEST_CASE("server hint prefers Retry-After, falls back to x-ratelimit-reset, is capped") {
  const sys_clock::time_point now{seconds{1675452600}};
  CHECK(server_wait_hint("1", "1675452605", now, milliseconds{10000}) == milliseconds{1000});
  CHECK(server_wait_hint("", "1675452605", now, milliseconds{10000}) == milliseconds{5000});
  CHECK(server_wait_hint("junk", "1675452605", now, milliseconds{10000}) == milliseconds{5000});
  CHECK(server_wait_hint("120", "", now, milliseconds{10000}) == milliseconds{10000});
  CHECK(server_wait_hint("", "1675459999", now, milliseconds{2500}) == milliseconds{2500});
  CHECK_FALSE(server_wait_hint("", "", now, milliseconds{10000}).has_value());
}

TEST_CASE("x-ratelimit-remaining parsing") {
  CHECK(parse_header_int("0") == 0);
  CHECK(parse_header_int(" 49 ") == 49);
  CHECK_FALSE(parse_header_int("-1").has_value());
  CHECK_FALSE(parse_header_int("").has_value());
  CHECK_FALSE(parse_header_int("4x").has_value());
}
