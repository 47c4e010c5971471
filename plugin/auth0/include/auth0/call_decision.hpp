// What the client does after one attempt of a call: retry after a wait, refresh the token
// and retry, fail with an error, or succeed. A pure function of the call, the attempt so
// far and what the attempt brought (transport failure class, status, the server's wait
// headers, whether a write may have reached the server), in the sans-I/O shape of
// http::rate_pacer and http::retry_policy: tested from a table, carried out by the
// client's perform() coroutine (tokens, pacing tickets, the exchange, the waits).
#pragma once

#include "auth0/client_error.hpp"
#include "auth0/errors.hpp"
#include "http/tls_pool.hpp"

#include <chrono>
#include <optional>
#include <string_view>

namespace a0::auth0 {

/// What does not change between the attempts of one call.
struct call_traits {
  endpoint_kind kind = endpoint_kind::management;
  bool write = false;        ///< not a GET: a 2xx answer means something was applied
  bool idempotent = true;    ///< may be resent after it may have reached the server
  bool refreshable = false;  ///< a 401 may be cured by a new token (a fetched bearer was sent)
  int max_retries = 3;
  std::chrono::milliseconds max_backoff{10000};  ///< cap of one wait
};

/// Where the call stands before the attempt's outcome is weighed.
struct attempt_state {
  int retries = 0;                   ///< retries already made
  bool refreshed_after_401 = false;  ///< the one refresh a 401 gets is spent
};

/// What one attempt brought.
struct attempt_result {
  http::failure transport = http::failure::none;  ///< none: an answer with `status`
  boost::system::error_code ec;                   ///< the transport's error, if any
  bool maybe_sent = false;                        ///< request bytes may have reached the server
  int status = 0;                                 ///< the answer's status (too_large: its status line)
  std::string_view retry_after;                   ///< the answer's Retry-After header
  std::string_view ratelimit_reset;               ///< the answer's x-ratelimit-reset header
  std::chrono::system_clock::time_point now{};    ///< for HTTP-dates and epoch seconds
  double unit_random = 0.5;                       ///< the backoff's jitter draw, in [0, 1)
};

/// Which facts the error of a failed call is built from.
enum class error_source {
  answer,     ///< the answer's status and body (auth0::error_from_status)
  transport,  ///< the transport failure's description
  cancelled,  ///< the caller's cancellation
  shut_down,  ///< the client was shut down
  refused,    ///< the pool refused to send a request holding control bytes
  too_large,  ///< an answer over max_response_bytes
};

struct step {
  enum class kind { succeed, retry, refresh_token, fail };
  kind next = kind::fail;
  std::chrono::milliseconds wait{0};  ///< retry: the wait before the next attempt
  // fail:
  error_source source = error_source::answer;
  /// The code, except for an answer (error_source::answer: the status and body decide it).
  std::optional<client_errc> code;
  bool retryable = false;
  bool ambiguous = false;
  /// The wait a 429 asked for (Retry-After, else x-ratelimit-reset), uncapped; the error
  /// carries it as retry_after_s.
  std::optional<std::chrono::milliseconds> server_wait;
  bool over_max_backoff = false;  ///< failed at once: the server asks for more than max_backoff
};

step decide(const call_traits& call, const attempt_state& state, const attempt_result& got);

}  // namespace a0::auth0
