// The Management API client's errors: its own codes (client_errc, a std::error_code
// category as Boost.Beast and Boost.Redis have), and the facts a caller needs besides the
// code (upstream status, retryable, ambiguous, the server's wait), carried by one
// exception type, api_exception. The client knows nothing of the ABI: plugin/abi maps
// these codes to the ABI's status codes.
#pragma once

#include <boost/system/error_code.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>

namespace a0::auth0 {

/// Why a client call failed. 0 is never used (a default std::error_code is "no error").
enum class client_errc {
  invalid_argument = 1,  ///< a call's argument was refused before any request (empty id, bad page size)
  bad_request,           ///< 400: the server refused the request as malformed
  unauthorized,          ///< 401, or the token endpoint refused the credentials
  forbidden,             ///< 403, or the token endpoint refused the grant
  not_found,             ///< 404
  conflict,              ///< 409, or a link of an identity that is linked already
  rate_limited,          ///< 429
  timed_out,             ///< 408, connect_timeout_ms or timeout_ms passed
  server_error,          ///< 5xx
  connection_failed,     ///< no answer: resolve, connect, TLS or the connection failed
  response_too_large,    ///< a 2xx whose body is over max_response_bytes
  too_deep,              ///< a read answer nests deeper than the outputs can carry
  bad_response,          ///< an answer the client cannot use (not JSON, wrong shape, unexpected status)
  unsafe_request,        ///< a request that would carry CR, LF or another control byte in a header
  cancelled,             ///< the caller cancelled, or the client was shut down
  internal,              ///< an unexpected failure inside the client
  download_too_large,    ///< a streamed download (a users export) over the caller's max_bytes
};

const std::error_category& client_category() noexcept;
std::error_code make_error_code(client_errc e) noexcept;

}  // namespace a0::auth0

template <>
struct std::is_error_code_enum<a0::auth0::client_errc> : std::true_type {};

namespace a0::auth0 {

/// A failed call: the client's code and the facts about it.
struct api_error {
  std::error_code code;    ///< client_errc (the actions may carry codes of their own category)
  int http_status = 0;     ///< upstream status, 0 when none (transport failure)
  std::string error_code;  ///< Auth0 "errorCode" or OAuth "error", when present
  std::string message;     ///< human text; never a secret
  bool retryable = false;  ///< the same call may succeed later
  /// The request may have been applied although no success was seen (timeout or reset
  /// after the request was written, or a 5xx): the caller must re-read before retrying.
  bool ambiguous = false;
  /// A 429 whose server-advertised wait (Retry-After, else x-ratelimit-reset) is known:
  /// whole seconds, rounded up. Set when the client gave up on it, notably at once when
  /// the wait is longer than max_backoff (the ABI puts it into details_json).
  std::optional<std::int64_t> retry_after_s;
};

/// The one exception type the client throws for a failed call.
class api_exception : public std::runtime_error {
 public:
  explicit api_exception(api_error e) : std::runtime_error(e.message), error_(std::move(e)) {}
  const api_error& error() const noexcept { return error_; }

 private:
  api_error error_;
};

/// Shorthand for an error with no upstream status.
api_error make_error(client_errc code, std::string message, bool retryable = false, bool ambiguous = false);

/// The one translation of Asio's cancellation (operation_aborted: a wait or an exchange
/// was cancelled) into an error: client_errc::cancelled, "cancelled". `ambiguous`: a
/// write may have been sent before it was cut off. nullopt for any other code.
std::optional<api_error> cancellation(const boost::system::error_code& ec, bool ambiguous = false);

}  // namespace a0::auth0
