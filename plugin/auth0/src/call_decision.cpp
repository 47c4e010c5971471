#include "auth0/call_decision.hpp"

#include "http/retry_policy.hpp"

#include <boost/asio/ssl/error.hpp>

#include <algorithm>

namespace a0::auth0 {

using std::chrono::milliseconds;

namespace {

step fail(error_source source, std::optional<client_errc> code, bool retryable = false, bool ambiguous = false) {
  step s;
  s.next = step::kind::fail;
  s.source = source;
  s.code = code;
  s.retryable = retryable;
  s.ambiguous = ambiguous;
  return s;
}

step next_step(step::kind k) {
  step s;
  s.next = k;
  return s;
}

step retry_after(milliseconds wait) {
  step s;
  s.next = step::kind::retry;
  s.wait = wait;
  return s;
}

milliseconds backoff(const call_traits& call, const attempt_state& state, const attempt_result& got) {
  return http::backoff_delay(state.retries, got.unit_random, milliseconds{250}, call.max_backoff);
}

step after_transport_failure(const call_traits& call, const attempt_state& state, const attempt_result& got) {
  switch (got.transport) {
    case http::failure::cancelled:  // a write cut off after it may have been sent is ambiguous
      return fail(error_source::cancelled, client_errc::cancelled, false, got.maybe_sent && !call.idempotent);
    case http::failure::closed: return fail(error_source::shut_down, client_errc::cancelled);
    case http::failure::refused: return fail(error_source::refused, client_errc::unsafe_request);
    case http::failure::too_large: {
      // The server processed the request: never resent. A 2xx to a write was applied.
      const bool ok = got.status >= 200 && got.status <= 299;
      return fail(error_source::too_large, client_errc::response_too_large, false, ok && call.write);
    }
    default: break;
  }
  const bool timed_out = got.transport == http::failure::timeout || got.transport == http::failure::connect_timeout;
  const auto code = timed_out ? client_errc::timed_out : client_errc::connection_failed;
  if (got.transport == http::failure::tls && got.ec.category() == boost::asio::error::get_ssl_category())
    return fail(error_source::transport, client_errc::connection_failed);  // a bad certificate does not heal
  if (!call.idempotent && got.maybe_sent) return fail(error_source::transport, code, true, true);
  if (state.retries < call.max_retries) return retry_after(backoff(call, state, got));
  return fail(error_source::transport, code, true);
}

}  // namespace

step decide(const call_traits& call, const attempt_state& state, const attempt_result& got) {
  if (got.transport != http::failure::none) return after_transport_failure(call, state, got);
  const int status = got.status;
  if (status >= 200 && status <= 299) return next_step(step::kind::succeed);

  if (status == 401 && call.refreshable && !state.refreshed_after_401)
    return next_step(step::kind::refresh_token);  // expired or revoked token: one refresh, one retry

  // What the server asks for, uncapped: a custom rate-limit policy may ask for minutes or hours.
  std::optional<milliseconds> asked;
  if (http::is_retryable_status(status)) {
    asked = http::server_wait_hint(got.retry_after, got.ratelimit_reset, got.now, milliseconds::max());
    // The server may have applied a write before failing; only a 429 says it did not.
    if (!call.idempotent && status != 429) return fail(error_source::answer, std::nullopt, false, true);
    // Longer than this client waits: fail now (nothing was applied), and say when, so
    // that a runner can schedule the retry instead of spending the retries in vain.
    if (status == 429 && asked && *asked > call.max_backoff) {
      auto s = fail(error_source::answer, std::nullopt);
      s.server_wait = asked;
      s.over_max_backoff = true;
      return s;
    }
    if (state.retries < call.max_retries)
      return retry_after(std::min(asked ? *asked : backoff(call, state, got), call.max_backoff));
  }
  auto s = fail(error_source::answer, std::nullopt);
  if (status == 429) s.server_wait = asked;
  return s;
}

}  // namespace a0::auth0
