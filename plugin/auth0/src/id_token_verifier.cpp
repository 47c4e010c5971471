#include "auth0/id_token_verifier.hpp"

#include <auth0/endpoints.hpp>
#include <auth0/management_client.hpp>
#include <http/single_flight.hpp>

#include <boost/asio/this_coro.hpp>

#include <stdexcept>

namespace a0::auth0 {

namespace asio = boost::asio;

std::string issuer_for_domain(std::string_view domain) { return "https://" + auth0::canonical_domain(domain) + "/"; }

std::string id_token_audience(std::string_view client_id, std::string_view token) {
  if (!client_id.empty()) return std::string(client_id);
  const auto claims = jwt::unverified_payload(token);
  const auto* azp = claims ? claims->if_contains("azp") : nullptr;
  return azp && azp->is_string() ? std::string(azp->get_string()) : std::string();
}

namespace {

// A token that is not good is the user's input: client_errc::invalid_argument (the
// verifier sits below the actions, so it cannot throw their input_error).
[[noreturn]] void refuse(std::string_view why) {
  api_error e;
  e.code = client_errc::invalid_argument;
  e.message = "secondary_token: " + std::string(why);
  throw api_exception(std::move(e));
}

std::exception_ptr jwks_failure(a0::auth0::api_error e, std::string_view what) {
  e.message = std::string(what) + e.message;
  return std::make_exception_ptr(a0::auth0::api_exception(std::move(e)));
}

}  // namespace

struct id_token_verifier::state : std::enable_shared_from_this<state> {
  fetch_fn fetch;
  std::string issuer, audience;
  policy pol;
  std::function<steady::time_point()> now;
  std::shared_ptr<const jwt::key_set> keys;
  steady::time_point fetched_at{};
  // One JWKS fetch shared by every verification that needs keys while it runs.
  http::single_flight<std::shared_ptr<const jwt::key_set>> jwks_fetch;
  std::uint64_t fetches = 0;

  jwt::expectations expect() const {
    jwt::expectations e;
    e.issuer = issuer;
    e.audience = audience;
    e.now = std::chrono::system_clock::now();
    e.leeway = pol.leeway;
    return e;
  }

  // Joins the fetch in flight or starts one (detached: one waiter's cancellation does
  // not fail the others).
  asio::awaitable<std::shared_ptr<const jwt::key_set>> fetched() {
    if (!jwks_fetch.in_flight()) ++fetches;
    // workaround(gcc12): named, not temporaries in the co_await expression (GCC destroys those twice).
    const auto ex = co_await asio::this_coro::executor;
    auto start = [self = shared_from_this()] { return load(self); };
    co_return co_await jwks_fetch.join(ex, std::move(start));
  }

  static asio::awaitable<std::shared_ptr<const jwt::key_set>> load(std::shared_ptr<state> self) {
    boost::json::object doc;
    try {
      doc = co_await self->fetch();
    } catch (const a0::auth0::api_exception& e) {
      std::rethrow_exception(jwks_failure(e.error(), "fetching the tenant's JWKS: "));
    }
    std::shared_ptr<const jwt::key_set> keys;
    try {
      keys = std::make_shared<const jwt::key_set>(jwt::key_set::from_json(doc));
    } catch (const jwt::error& e) {
      api_error err;
      err.code = client_errc::bad_response;  // the tenant answered something unusable
      std::rethrow_exception(jwks_failure(std::move(err), std::string("the tenant's JWKS is not usable: ") + e.what()));
    }
    self->keys = keys;
    self->fetched_at = self->now();
    co_return keys;
  }
};

id_token_verifier::id_token_verifier(fetch_fn fetch, std::string issuer, std::string audience, policy p,
                                     std::function<steady::time_point()> now)
    : s_(std::make_shared<state>()) {
  s_->fetch = std::move(fetch);
  s_->issuer = std::move(issuer);
  s_->audience = std::move(audience);
  s_->pol = p;
  s_->now = std::move(now);
}

std::uint64_t id_token_verifier::fetches() const noexcept { return s_->fetches; }

asio::awaitable<std::string> id_token_verifier::verify(const jwt::decoded& token) {
  auto s = s_;
  // Without an audience any ID token the tenant issued, for any application, would pass:
  // refused outright, before the JWKS is fetched.
  if (s->audience.empty())
    refuse(
        "cannot be checked with this connection: its token carries no azp claim (the application an ID token "
        "must be issued to); configure client_id and client_secret instead");
  auto keys = s->keys;
  if (!keys || s->now() - s->fetched_at >= s->pol.max_age) keys = co_await s->fetched();
  std::string unknown_key;
  try {
    co_return jwt::verify(token, *keys, s->expect());
  } catch (const jwt::error& e) {
    if (e.which() != jwt::error::kind::unknown_key) refuse(e.what());
    unknown_key = e.what();
  }
  // Key rotation: refetch once, unless the set is fresh (then the kid is simply unknown)
  // or a fetch is already under way (its set is fresh: use it).
  if (!s->jwks_fetch.in_flight() && s->now() - s->fetched_at < s->pol.min_refetch) refuse(unknown_key);
  keys = co_await s->fetched();
  try {
    co_return jwt::verify(token, *keys, s->expect());
  } catch (const jwt::error& e) {
    refuse(e.what());
  }
}

}  // namespace a0::auth0
