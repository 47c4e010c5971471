// The Auth0 Management API client shared by every execution of one plugin instance.
// HTTPS only (peer + host-name verification, SNI), a keep-alive connection pool, a
// single-flight token cache, and retries that honour Auth0's rate-limit headers.
//
// Every call is an Asio coroutine that throws api_exception on failure and honours
// the awaiting coroutine's cancellation slot (cancellation -> client_errc::cancelled).
// An awaitable thread forwards only terminal cancellation by default: a spawned
// operation that is cancelled with `total` must first
// co_await this_coro::reset_cancellation_state(enable_total_cancellation()).
// Calls run on an internal strand of the given executor (any number of io threads);
// string_view arguments must stay valid until the call completes; log_fn is invoked
// from the io threads. Destroy the client before its io_context.
#pragma once

#include "auth0/client_error.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace a0::auth0 {

/// The largest response body the client reads (a user, an identities list): a user that
/// would be larger after a PATCH could never be read back (see the PATCH size check).
inline constexpr std::size_t max_response_bytes = 8 * 1024 * 1024;

/// WFA-11: the deepest JSON the host parses (the ABI's limit; plugin/abi checks that the
/// two agree).
inline constexpr std::size_t host_json_depth = 64;

/// WFA-11: the deepest user the client reads. The actions' outputs wrap a user's fields
/// at most 3 levels deeper (outputs.profiles[i].profileData), and must stay within the
/// host's limit: a deeper user is refused when it is read, before any write.
inline constexpr std::size_t max_user_depth = host_json_depth - 3;

/// The connection config (manifest "connection" schema).
struct client_config {
  std::string domain;  ///< the tenant's canonical host[:port], no scheme: token endpoint, audience, API calls
  /// The custom domain users sign in through (host[:port]); only the expected `iss` of a
  /// secondary_token (https://CUSTOM/). Empty = the domain.
  std::string custom_domain;
  std::string client_id, client_secret;
  std::string token;                         ///< a ready Management API token (instead of client credentials)
  std::string audience;                      ///< default https://DOMAIN/api/v2/; must be an https://HOST/api/v2/ URL
  std::string ca_file;                       ///< extra trust anchor (PEM), added to the system store
  std::chrono::milliseconds timeout{10000};  ///< per request attempt (sending..response)
  /// A new connection: resolve + TCP connect + TLS handshake together.
  std::chrono::milliseconds connect_timeout{10000};
  int max_retries = 3;  ///< for GET/PATCH/DELETE and token requests
  /// Pool size. Connections are opened on demand, so a generous cap costs nothing at low
  /// concurrency and does not throttle a runner at 64 rows in flight.
  int max_connections = 128;
  std::chrono::milliseconds max_backoff{10000};
  /// A budget below the tenant's limit: at most this many Management API requests a second
  /// from this client (burst: one second's worth), leaving the rest to logins and the
  /// Dashboard. 0 = none (the rate-limit headers alone pace the client).
  double max_requests_per_second = 0;  ///< cap of one wait: Retry-After, reset, pacing

  /// Parses and validates a config JSON object; throws std::invalid_argument whose
  /// message names the field (never echoes a secret value).
  static client_config from_json(const boost::json::object& config);
};

/// One page of GET /api/v2/connections.
struct connections_page {
  boost::json::array connections;
  std::optional<std::string> next;  ///< checkpoint token; empty on the last page
};

/// How much a log line matters (plugin/abi maps it to the host's levels).
enum class log_level : std::int32_t { trace, debug, info, warn, error };

/// Log sink; messages never contain secrets.
using log_fn = std::function<void(log_level level, std::string_view message)>;

/// A rate budget kept outside the client (the host's, wfa_host.acquire: shared by every
/// instance of a process, or by many processes). Asked once before each request sent to
/// the Management API or the token endpoint, retries included, with the bucket of that
/// API on this tenant (budget_bucket) and a cost of 1. Answers at once, from any thread:
/// 0 = send now (the cost is taken), else how long to wait before asking again. Must not
/// throw. Unset: no such budget.
using budget_fn = std::function<std::chrono::milliseconds(std::string_view bucket, std::uint32_t cost)>;

/// The bucket names the client asks a budget_fn for: one per tenant and API, stable,
/// without a secret: "auth0:DOMAIN:management" (every Management API request) and
/// "auth0:DOMAIN:authentication" (the token request), DOMAIN as in the config.
std::string budget_bucket(std::string_view domain, bool authentication);

class management_client {
 public:
  /// `budget`: asked before every request besides the client's own pacing (both must say go).
  management_client(boost::asio::any_io_executor ex, client_config cfg, log_fn log = {}, budget_fn budget = {});
  ~management_client();
  management_client(const management_client&) = delete;
  management_client& operator=(const management_client&) = delete;

  const client_config& config() const noexcept;

  /// GET /api/v2/users/{id}; fields empty = all. Retried on 408/429/5xx/transport.
  boost::asio::awaitable<boost::json::object> get_user(std::string_view user_id, std::vector<std::string> fields = {},
                                                       bool include_fields = true);

  /// PATCH /api/v2/users/{id}; returns the updated user. Retried like GET (PATCH with
  /// whole top-level values is idempotent).
  boost::asio::awaitable<boost::json::object> patch_user(std::string_view user_id, boost::json::object body);

  /// POST /api/v2/users/{id}/identities; returns the identities array (201).
  /// Never retried after the request may have reached the server: an ambiguous
  /// failure throws with api_error::ambiguous = true. 429 before any processing
  /// (the server said so) is retried after the advertised wait.
  boost::asio::awaitable<boost::json::array> link(std::string_view primary_user_id, boost::json::object body);

  /// DELETE /api/v2/users/{id}/identities/{provider}/{user_id}; returns the remaining
  /// identities. Retried like the link POST: on 429 and failures before sending only;
  /// a reset, timeout or 5xx after sending throws with api_error::ambiguous = true.
  boost::asio::awaitable<boost::json::array> unlink(std::string_view primary_user_id, std::string_view provider,
                                                    std::string_view secondary_user_id);

  /// GET /.well-known/jwks.json (no Authorization header): the tenant's signing keys.
  /// Retried like GET.
  boost::asio::awaitable<boost::json::object> get_jwks();

  /// GET /api/v2/connections?strategy=...&from=...&take=... (checkpoint paging).
  boost::asio::awaitable<connections_page> list_connections(std::vector<std::string> strategies,
                                                            std::optional<std::string> from, int take = 50);

  /// Counters for tests and benchmarks.
  struct stats {
    std::uint64_t requests = 0, retries = 0, token_requests = 0, tls_handshakes = 0;
    std::uint64_t paced = 0;  ///< requests held back by rate-limit pacing at least once
  };
  stats statistics() const;

  /// Closes pooled connections and fails waiters; called before the executor stops.
  void shutdown();

  // Issue 13 (Discover): the users export job, users by email, and the export's download.

  /// POST /api/v2/jobs/users-exports (body: format, fields, optional connection_id);
  /// returns the job ({id, status, ...}). Retried like GET: a second job after an
  /// ambiguous failure only reads the tenant once more.
  boost::asio::awaitable<boost::json::object> create_users_export(boost::json::object body);

  /// GET /api/v2/jobs/{id}: status, percentage_done, time_left_seconds, location. A read:
  /// paced and retried like GET /users.
  boost::asio::awaitable<boost::json::object> get_job(std::string_view job_id);

  /// GET /api/v2/users-by-email?email=E (Auth0 matches the email case-sensitively);
  /// fields empty = all. A read: paced and retried like GET /users.
  boost::asio::awaitable<boost::json::array> users_by_email(std::string_view email,
                                                            std::vector<std::string> fields = {},
                                                            bool include_fields = true);

  /// Streams the body of an absolute https URL on any host (a job's pre-signed
  /// `location`) to `sink`, chunk by chunk; returns the bytes received. Never sends the
  /// Management token; TLS verified against the system store plus ca_file; a URL that is
  /// not https is refused; connect_timeout_ms for the connection, timeout_ms as the
  /// longest pause between two reads (not the whole transfer); max_bytes 0 = no cap (the
  /// 8 MB API answer limit does not apply). Runs on the caller's executor, outside the
  /// pacing (the storage host is not the Management API). Throws api_exception: 403/404
  /// (expired link, file gone) retryable, transport failures retryable; what `sink`
  /// throws leaves unchanged. The URL's query (its credential) is never in a message.
  boost::asio::awaitable<std::uint64_t> download(std::string url, std::function<void(std::string_view)> sink,
                                                 std::uint64_t max_bytes = 0);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace a0::auth0
