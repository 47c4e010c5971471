// auth0::decide, the client's pure decision after each attempt of a call, from a table:
// one row per case (the call, the attempt so far, what happened -> the next step).
#include "auth0/call_decision.hpp"

#include <boost/asio/ssl/error.hpp>
#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

using namespace a0;
using namespace a0::auth0;
using std::chrono::milliseconds;
using kind = step::kind;
using http::failure;

namespace {

constexpr auto no_code = std::optional<client_errc>{};

struct row {
  const char* name;
  // the call
  endpoint_kind endpoint = endpoint_kind::management;
  bool write = false;
  bool idempotent = true;
  bool refreshable = true;
  int max_retries = 3;
  milliseconds max_backoff{10000};
  // the attempt so far
  int retries = 0;
  bool refreshed_after_401 = false;
  // what happened
  failure transport = failure::none;
  bool bad_certificate = false;  // a TLS failure in the SSL category (not a reset mid-handshake)
  bool maybe_sent = false;
  int status = 0;
  const char* retry_after = "";
  const char* ratelimit_reset = "";
  // the expected step
  kind next = kind::fail;
  milliseconds wait{0};
  error_source source = error_source::answer;
  std::optional<client_errc> code = no_code;
  bool retryable = false;
  bool ambiguous = false;
  std::optional<milliseconds> server_wait = std::nullopt;
  bool over_max_backoff = false;
};

// Epoch seconds of `now` + 5 s, for x-ratelimit-reset.
const auto k_now = std::chrono::system_clock::time_point{std::chrono::seconds{1'700'000'000}};

const std::vector<row>& table() {
  using E = client_errc;
  using S = error_source;
  static const std::vector<row> rows = {
      // answers
      {.name = "200: succeed", .status = 200, .next = kind::succeed},
      {.name = "204: succeed", .status = 204, .next = kind::succeed},
      {.name = "201 to the link POST: succeed",
       .endpoint = endpoint_kind::link,
       .write = true,
       .idempotent = false,
       .status = 201,
       .next = kind::succeed},
      {.name = "404: fail from the answer, at once", .status = 404, .next = kind::fail},
      {.name = "400: fail from the answer", .status = 400, .next = kind::fail},
      {.name = "302: fail from the answer", .status = 302, .next = kind::fail},
      // 401 and the token
      {.name = "401 with a fetched token: refresh and retry", .status = 401, .next = kind::refresh_token},
      {.name = "401 after the one refresh: fail", .refreshed_after_401 = true, .status = 401, .next = kind::fail},
      {.name = "401 with a fixed token: fail", .refreshable = false, .status = 401, .next = kind::fail},
      {.name = "401 from the token endpoint: fail",
       .endpoint = endpoint_kind::token,
       .refreshable = false,
       .status = 401,
       .next = kind::fail},
      // retryable statuses
      {.name = "503, first try: backoff 250 ms", .status = 503, .next = kind::retry, .wait = milliseconds{250}},
      {.name = "503, third try: backoff 1 s",
       .retries = 2,
       .status = 503,
       .next = kind::retry,
       .wait = milliseconds{1000}},
      {.name = "503, retries spent: fail", .retries = 3, .status = 503, .next = kind::fail},
      {.name = "503 with max_retries 0: fail", .max_retries = 0, .status = 503, .next = kind::fail},
      {.name = "408: retried", .status = 408, .next = kind::retry, .wait = milliseconds{250}},
      {.name = "503 with Retry-After 2: wait 2 s",
       .status = 503,
       .retry_after = "2",
       .next = kind::retry,
       .wait = milliseconds{2000}},
      {.name = "backoff capped at max_backoff",
       .max_backoff = milliseconds{300},
       .retries = 2,
       .status = 500,
       .next = kind::retry,
       .wait = milliseconds{300}},
      {.name = "429 with Retry-After 3: wait 3 s",
       .status = 429,
       .retry_after = "3",
       .next = kind::retry,
       .wait = milliseconds{3000}},
      {.name = "429 with x-ratelimit-reset in 5 s: wait 5 s",
       .status = 429,
       .ratelimit_reset = "1700000005",
       .next = kind::retry,
       .wait = milliseconds{5000}},
      {.name = "429, Retry-After first, then x-ratelimit-reset",
       .status = 429,
       .retry_after = "1",
       .ratelimit_reset = "1700000005",
       .next = kind::retry,
       .wait = milliseconds{1000}},
      {.name = "429 without a hint: backoff", .status = 429, .next = kind::retry, .wait = milliseconds{250}},
      {.name = "429 asking for 60 s, max_backoff 10 s: fail at once with the wait",
       .status = 429,
       .retry_after = "60",
       .next = kind::fail,
       .server_wait = milliseconds{60000},
       .over_max_backoff = true},
      {.name = "429 asking for exactly max_backoff: wait it",
       .status = 429,
       .retry_after = "10",
       .next = kind::retry,
       .wait = milliseconds{10000}},
      {.name = "429, retries spent: fail, with the server's wait",
       .retries = 3,
       .status = 429,
       .retry_after = "2",
       .next = kind::fail,
       .server_wait = milliseconds{2000}},
      {.name = "429, retries spent, no hint: fail without a wait", .retries = 3, .status = 429, .next = kind::fail},
      {.name = "503 with retries spent carries no server wait",
       .retries = 3,
       .status = 503,
       .retry_after = "2",
       .next = kind::fail},
      // the link POST and the unlink DELETE: never resent once they may have been applied
      {.name = "link POST 503: ambiguous, not retried",
       .endpoint = endpoint_kind::link,
       .write = true,
       .idempotent = false,
       .status = 503,
       .next = kind::fail,
       .ambiguous = true},
      {.name = "unlink DELETE 500: ambiguous",
       .write = true,
       .idempotent = false,
       .status = 500,
       .next = kind::fail,
       .ambiguous = true},
      {.name = "link POST 408: ambiguous",
       .endpoint = endpoint_kind::link,
       .write = true,
       .idempotent = false,
       .status = 408,
       .next = kind::fail,
       .ambiguous = true},
      {.name = "link POST 429: retried (the server says it did nothing)",
       .endpoint = endpoint_kind::link,
       .write = true,
       .idempotent = false,
       .status = 429,
       .retry_after = "1",
       .next = kind::retry,
       .wait = milliseconds{1000}},
      {.name = "link POST 409: fail, not ambiguous",
       .endpoint = endpoint_kind::link,
       .write = true,
       .idempotent = false,
       .status = 409,
       .next = kind::fail},
      {.name = "PATCH 503: retried (whole top-level values: idempotent)",
       .write = true,
       .status = 503,
       .next = kind::retry,
       .wait = milliseconds{250}},
      // transport failures
      {.name = "connect failed: retried",
       .transport = failure::connect,
       .next = kind::retry,
       .wait = milliseconds{250}},
      {.name = "connect failed, retries spent: connection_failed, retryable",
       .retries = 3,
       .transport = failure::connect,
       .next = kind::fail,
       .source = S::transport,
       .code = E::connection_failed,
       .retryable = true},
      {.name = "reset mid-exchange of a GET: retried",
       .transport = failure::io,
       .maybe_sent = true,
       .next = kind::retry,
       .wait = milliseconds{250}},
      {.name = "request timeout, retries spent: timed_out",
       .retries = 3,
       .transport = failure::timeout,
       .maybe_sent = true,
       .next = kind::fail,
       .source = S::transport,
       .code = E::timed_out,
       .retryable = true},
      {.name = "connect timeout, retries spent: timed_out",
       .retries = 3,
       .transport = failure::connect_timeout,
       .next = kind::fail,
       .source = S::transport,
       .code = E::timed_out,
       .retryable = true},
      {.name = "link POST reset after sending: ambiguous, retryable",
       .endpoint = endpoint_kind::link,
       .write = true,
       .idempotent = false,
       .transport = failure::io,
       .maybe_sent = true,
       .next = kind::fail,
       .source = S::transport,
       .code = E::connection_failed,
       .retryable = true,
       .ambiguous = true},
      {.name = "link POST timeout after sending: ambiguous",
       .endpoint = endpoint_kind::link,
       .write = true,
       .idempotent = false,
       .transport = failure::timeout,
       .maybe_sent = true,
       .next = kind::fail,
       .source = S::transport,
       .code = E::timed_out,
       .retryable = true,
       .ambiguous = true},
      {.name = "link POST connect timeout (nothing sent): retried",
       .endpoint = endpoint_kind::link,
       .write = true,
       .idempotent = false,
       .transport = failure::connect_timeout,
       .next = kind::retry,
       .wait = milliseconds{250}},
      {.name = "TLS certificate refused: fail at once, not retryable",
       .transport = failure::tls,
       .bad_certificate = true,
       .next = kind::fail,
       .source = S::transport,
       .code = E::connection_failed},
      {.name = "TLS handshake cut (not a certificate error): retried",
       .transport = failure::tls,
       .next = kind::retry,
       .wait = milliseconds{250}},
      {.name = "cancelled GET",
       .transport = failure::cancelled,
       .maybe_sent = true,
       .next = kind::fail,
       .source = S::cancelled,
       .code = E::cancelled},
      {.name = "cancelled link POST after sending: ambiguous",
       .endpoint = endpoint_kind::link,
       .write = true,
       .idempotent = false,
       .transport = failure::cancelled,
       .maybe_sent = true,
       .next = kind::fail,
       .source = S::cancelled,
       .code = E::cancelled,
       .ambiguous = true},
      {.name = "cancelled link POST before sending: not ambiguous",
       .endpoint = endpoint_kind::link,
       .write = true,
       .idempotent = false,
       .transport = failure::cancelled,
       .next = kind::fail,
       .source = S::cancelled,
       .code = E::cancelled},
      {.name = "pool shut down",
       .transport = failure::closed,
       .next = kind::fail,
       .source = S::shut_down,
       .code = E::cancelled},
      {.name = "control bytes refused by the pool",
       .transport = failure::refused,
       .next = kind::fail,
       .source = S::refused,
       .code = E::unsafe_request},
      {.name = "200 to a GET over the body limit: not ambiguous",
       .transport = failure::too_large,
       .maybe_sent = true,
       .status = 200,
       .next = kind::fail,
       .source = S::too_large,
       .code = E::response_too_large},
      {.name = "200 to a PATCH over the body limit: applied (ambiguous), never resent",
       .write = true,
       .transport = failure::too_large,
       .maybe_sent = true,
       .status = 200,
       .next = kind::fail,
       .source = S::too_large,
       .code = E::response_too_large,
       .ambiguous = true},
      {.name = "503 over the body limit: not retried",
       .transport = failure::too_large,
       .maybe_sent = true,
       .status = 503,
       .next = kind::fail,
       .source = S::too_large,
       .code = E::response_too_large},
  };
  return rows;
}

}  // namespace

TEST_CASE("auth0::decide: the table of attempts and next steps") {
  for (const auto& r : table()) {
    const std::string name = r.name;
    CAPTURE(name);
    call_traits call;
    call.kind = r.endpoint;
    call.write = r.write;
    call.idempotent = r.idempotent;
    call.refreshable = r.refreshable;
    call.max_retries = r.max_retries;
    call.max_backoff = r.max_backoff;
    attempt_state state{r.retries, r.refreshed_after_401};
    attempt_result got;
    got.transport = r.transport;
    if (r.transport == failure::tls)
      got.ec = r.bad_certificate ? boost::system::error_code(1, boost::asio::error::get_ssl_category())  // OpenSSL's
                                 : boost::system::error_code(boost::asio::error::connection_reset);
    if (r.transport == failure::connect) got.ec = boost::asio::error::connection_refused;
    got.maybe_sent = r.maybe_sent;
    got.status = r.status;
    got.retry_after = r.retry_after;
    got.ratelimit_reset = r.ratelimit_reset;
    got.now = k_now;
    got.unit_random = 0.5;  // no jitter: 250 ms * 2^retries
    const auto s = decide(call, state, got);
    CHECK(s.next == r.next);
    if (r.next == kind::retry) CHECK(s.wait == r.wait);
    if (r.next != kind::fail) continue;
    CHECK(s.source == r.source);
    CHECK(s.code == r.code);
    CHECK(s.retryable == r.retryable);
    CHECK(s.ambiguous == r.ambiguous);
    CHECK(s.server_wait == r.server_wait);
    CHECK(s.over_max_backoff == r.over_max_backoff);
  }
}

TEST_CASE("auth0::decide: a 429's uncapped wait is kept, a year ahead included") {
  call_traits call;
  attempt_result got;
  got.status = 429;
  got.retry_after = "86400";
  got.now = k_now;
  const auto s = decide(call, attempt_state{}, got);
  CHECK(s.next == kind::fail);
  CHECK(s.server_wait == milliseconds{86400000});
  CHECK(s.over_max_backoff);
}
