// Verifies the secondary's ID token (`secondary_token`) before the link action sends any
// Management API request: RS256 against the tenant's JWKS, iss = https://DOMAIN/,
// aud = the client id (when the instance uses client credentials), exp/nbf/iat, sub.
//
// The JWKS is fetched on first use and cached per instance; one fetch is in flight for
// all waiters. A token naming an unknown kid refetches once, unless the last fetch is
// more recent than `min_refetch` (key rotation is rare; a stream of forged kids must
// not turn into a stream of JWKS requests). A set older than `max_age` is refetched.
// Runs on one executor (the instance's io thread); not thread-safe.
#pragma once

#include <jwt/jwt.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace a0::auth0 {

/// The issuer an Auth0 tenant puts into its tokens for the configured `domain`
/// (host[:port]): https://DOMAIN/ with the domain in canonical form (auth0::canonical_domain:
/// no :443, no trailing dot). Throws std::invalid_argument for a domain that is not valid.
std::string issuer_for_domain(std::string_view domain);

/// The `aud` a secondary_token must carry: Auth0 links only an ID token whose aud is the
/// calling token's azp. That is `client_id` with client credentials, else the azp claim
/// of the fixed Management `token`; empty when that token has none (opaque).
std::string id_token_audience(std::string_view client_id, std::string_view token);

class id_token_verifier {
 public:
  using fetch_fn = std::function<boost::asio::awaitable<boost::json::object>()>;
  using steady = std::chrono::steady_clock;
  struct policy {
    std::chrono::seconds max_age{3600};
    std::chrono::seconds min_refetch{60};
    std::chrono::seconds leeway{30};
  };

  /// `fetch` GETs the JWKS (throws a0::auth0::api_exception on failure). `audience`: the client
  /// id an ID token must be issued to; empty refuses every token (never "unchecked").
  /// `now` is injectable for tests.
  id_token_verifier(fetch_fn fetch, std::string issuer, std::string audience, policy p,
                    std::function<steady::time_point()> now = &steady::now);
  id_token_verifier(fetch_fn fetch, std::string issuer, std::string audience)
      : id_token_verifier(std::move(fetch), std::move(issuer), std::move(audience), policy{}) {}

  /// The verified `sub`. Throws api_exception (client_errc::invalid_argument, a message
  /// "secondary_token: ...") for a token that is not good, and an api_exception of the
  /// client's own when the JWKS cannot be had.
  boost::asio::awaitable<std::string> verify(const jwt::decoded& token);

  std::uint64_t fetches() const noexcept;  ///< JWKS fetches started (tests)

 private:
  struct state;
  std::shared_ptr<state> s_;  // shared with a fetch in flight, which outlives no one's wait
};

}  // namespace a0::auth0
