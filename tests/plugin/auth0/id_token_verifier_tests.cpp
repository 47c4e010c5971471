// Unit tests of auth0's id_token_verifier: the tenant's issuer and the expected audience,
// and the JWKS cache around the pure verification of plugin/jwt (single flight, refetch on
// an unknown kid at most once per interval, max age). Tokens come from
// tests/support/jwt_signer.
#include "auth0/id_token_verifier.hpp"
#include "test_tokens.hpp"

#include <auth0/management_client.hpp>
#include <jwt/jwt.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <doctest/doctest.h>

#include <chrono>
#include <exception>
#include <optional>

namespace json = boost::json;
namespace asio = boost::asio;
using namespace a0::test::tokens;

TEST_CASE("id_token_verifier: the audience is the client id, else the fixed token's azp, else none") {
  using a0::auth0::id_token_audience;
  auto c = claims();
  c["azp"] = "m2m-app";
  const auto jwt_token = mint(c);
  CHECK(id_token_audience("client-1", "") == "client-1");
  CHECK(id_token_audience("", jwt_token) == "m2m-app");
  CHECK(id_token_audience("", "mgmt-token-1") == "");  // opaque
  CHECK(id_token_audience("", mint(claims())) == "");  // a JWT without azp
  c["azp"] = 7;
  CHECK(id_token_audience("", mint(c)) == "");
}

// --- id_token_verifier: the cache around the pure verification ------------------------

namespace {

struct fake_jwks {
  json::object doc = keys().jwks();
  int calls = 0;
  std::optional<a0::auth0::api_error> fail;
  a0::auth0::id_token_verifier::fetch_fn fn() {
    return [this]() -> asio::awaitable<json::object> {
      ++calls;
      // Suspend like a real request, so that concurrent verifications overlap.
      asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(5));
      co_await t.async_wait(asio::use_awaitable);
      if (fail) throw a0::auth0::api_exception(*fail);
      co_return doc;
    };
  }
};

struct fake_clock {
  std::chrono::steady_clock::time_point t = std::chrono::steady_clock::now();
  std::function<std::chrono::steady_clock::time_point()> fn() {
    return [this] { return t; };
  }
};

struct outcome {
  std::string sub;
  std::exception_ptr error;
  std::string message() const {
    try {
      if (error) std::rethrow_exception(error);
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  }
};

std::vector<outcome> run_all(a0::auth0::id_token_verifier& v, const std::vector<std::string>& tokens) {
  asio::io_context io;
  std::vector<outcome> out(tokens.size());
  std::vector<a0::jwt::decoded> decoded;
  for (const auto& t : tokens) decoded.push_back(a0::jwt::decode(t));
  for (std::size_t i = 0; i < tokens.size(); ++i)
    asio::co_spawn(io, v.verify(decoded[i]), [&out, i](std::exception_ptr e, std::string sub) {
      out[i].error = e;
      out[i].sub = std::move(sub);
    });
  io.run();
  return out;
}

outcome run_one(a0::auth0::id_token_verifier& v, const std::string& token) { return run_all(v, {token}).front(); }

a0::auth0::id_token_verifier::policy test_policy() {
  a0::auth0::id_token_verifier::policy p;
  p.max_age = std::chrono::hours(1);
  p.min_refetch = std::chrono::seconds(60);
  return p;
}

}  // namespace

TEST_CASE("id_token_verifier: issuer of the configured domain") {
  CHECK(a0::auth0::issuer_for_domain("example.eu.auth0.com") == "https://example.eu.auth0.com/");
  CHECK(a0::auth0::issuer_for_domain("example.eu.auth0.com:443") == "https://example.eu.auth0.com/");
  CHECK(a0::auth0::issuer_for_domain("127.0.0.1:8443") == "https://127.0.0.1:8443/");
  CHECK(a0::auth0::issuer_for_domain("example.eu.auth0.com.") == "https://example.eu.auth0.com/");
}

TEST_CASE("id_token_verifier: fetches the JWKS once, shared by concurrent verifications, then cached") {
  fake_jwks jwks;
  fake_clock clock;
  a0::auth0::id_token_verifier v(jwks.fn(), k_iss, "client-1", test_policy(), clock.fn());
  auto out = run_all(v, {mint(claims()), mint(claims()), mint(claims())});
  for (const auto& o : out) CHECK_MESSAGE(o.sub == "auth0|abc", o.message());
  CHECK(jwks.calls == 1);
  CHECK(run_one(v, mint(claims())).sub == "auth0|abc");
  CHECK(jwks.calls == 1);
  // Older than max_age: fetched again.
  clock.t += std::chrono::hours(2);
  CHECK(run_one(v, mint(claims())).sub == "auth0|abc");
  CHECK(jwks.calls == 2);
  CHECK(v.fetches() == 2);
}

TEST_CASE("id_token_verifier: an unknown kid refetches once, not more often than min_refetch") {
  fake_jwks jwks;
  fake_clock clock;
  a0::auth0::id_token_verifier v(jwks.fn(), k_iss, "client-1", test_policy(), clock.fn());
  REQUIRE(run_one(v, mint(claims())).sub == "auth0|abc");
  REQUIRE(jwks.calls == 1);
  // The tenant rotated its key: a token of the new key, right after our fetch -> no refetch.
  const auto rotated = mint(claims(), "RS256", {}, other_keys());
  auto o = run_one(v, rotated);
  CHECK(o.message() ==
        "secondary_token: is signed with a key ('" + other_keys().kid() + "') the tenant's JWKS does not hold");
  CHECK(jwks.calls == 1);
  // After the interval: one refetch, which has the new key.
  jwks.doc = other_keys().jwks();
  clock.t += std::chrono::seconds(61);
  o = run_one(v, rotated);
  CHECK_MESSAGE(o.sub == "auth0|abc", o.message());
  CHECK(jwks.calls == 2);
  // A stream of unknown kids does not become a stream of JWKS requests.
  for (int i = 0; i < 5; ++i) CHECK(run_one(v, mint(claims(), "RS256", std::string("forged-kid"), other_keys())).error);
  CHECK(jwks.calls == 2);
  // Later again, an unknown kid costs exactly one more fetch, and is still refused.
  clock.t += std::chrono::seconds(61);
  o = run_one(v, mint(claims(), "RS256", std::string("forged-kid"), other_keys()));
  CHECK(o.message() == "secondary_token: is signed with a key ('forged-kid') the tenant's JWKS does not hold");
  CHECK(jwks.calls == 3);
}

TEST_CASE("id_token_verifier: without an audience every token is refused, before the JWKS is fetched") {
  fake_jwks jwks;
  fake_clock clock;
  a0::auth0::id_token_verifier v(jwks.fn(), k_iss, "", test_policy(), clock.fn());
  auto c = claims();
  c["aud"] = "any-app-of-the-tenant";
  const auto o = run_one(v, mint(c));
  CHECK(o.message().starts_with(
      "secondary_token: cannot be checked with this connection: its token carries no azp claim"));
  try {  // the user's input: client_errc::invalid_argument (INVALID_INPUT at the ABI)
    std::rethrow_exception(o.error);
  } catch (const a0::auth0::api_exception& e) {
    CHECK(e.error().code == a0::auth0::client_errc::invalid_argument);
    CHECK_FALSE(e.error().retryable);
  }
  CHECK(jwks.calls == 0);
}

TEST_CASE("id_token_verifier: refusals are input errors without the token, JWKS failures are API errors") {
  fake_jwks jwks;
  fake_clock clock;
  a0::auth0::id_token_verifier v(jwks.fn(), k_iss, "client-1", test_policy(), clock.fn());
  const auto expired = mint(claims(-3600));
  auto o = run_one(v, expired);
  CHECK(o.message() == "secondary_token: has expired (exp is in the past)");
  try {  // the user's input: client_errc::invalid_argument (INVALID_INPUT at the ABI)
    std::rethrow_exception(o.error);
  } catch (const a0::auth0::api_exception& e) {
    CHECK(e.error().code == a0::auth0::client_errc::invalid_argument);
    CHECK_FALSE(e.error().retryable);
  }
  CHECK(o.message().find(expired.substr(0, 20)) == std::string::npos);
  auto c = claims();
  c["aud"] = "someone-else";
  CHECK(run_one(v, mint(c)).message() ==
        "secondary_token: is not for this application (aud must be the client id 'client-1')");

  fake_jwks down;
  down.fail =
      a0::auth0::api_error{a0::auth0::client_errc::server_error, 503, "", "503 Service Unavailable", true, false, {}};
  a0::auth0::id_token_verifier v2(down.fn(), k_iss, "client-1", test_policy(), clock.fn());
  o = run_one(v2, mint(claims()));
  try {
    std::rethrow_exception(o.error);
  } catch (const a0::auth0::api_exception& e) {
    CHECK(e.error().code == a0::auth0::client_errc::server_error);
    CHECK(e.error().retryable);
    CHECK(std::string(e.what()) == "fetching the tenant's JWKS: 503 Service Unavailable");
  }
  down.fail.reset();  // not cached: the next verification fetches again
  CHECK(run_one(v2, mint(claims())).sub == "auth0|abc");
  CHECK(down.calls == 2);

  fake_jwks broken;
  broken.doc = json::object{{"keys", "none"}};
  a0::auth0::id_token_verifier v3(broken.fn(), k_iss, "client-1", test_policy(), clock.fn());
  o = run_one(v3, mint(claims()));
  try {
    std::rethrow_exception(o.error);
  } catch (const a0::auth0::api_exception& e) {
    CHECK(e.error().code == a0::auth0::client_errc::bad_response);
    CHECK(std::string(e.what()) == "the tenant's JWKS is not usable: the JWKS has no 'keys' array");
  }
}
