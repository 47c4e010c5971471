// Unit tests of plugin/jwt (pure RS256 verification against a JWKS) and of the action's
// id_token_verifier (JWKS cache: single flight, refetch on an unknown kid at most once per
// interval, max age). Tokens and key sets come from the emulator's key module
// (tests/emulator/src/id_tokens.*), an implementation of the signing side independent of
// the verifier under test.
#include "auth0/id_token_verifier.hpp"
#include "id_tokens.hpp"
#include "util.hpp"

#include <auth0/management_client.hpp>
#include <jwt/jwt.hpp>
#include <wfa/wfa.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <doctest/doctest.h>

#include <chrono>
#include <exception>
#include <optional>

namespace json = boost::json;
namespace asio = boost::asio;
using a0::jwt::error;

namespace {

constexpr const char* k_iss = "https://tenant.example/";

// One key per process is enough and RSA key generation is slow-ish.
const emu::id_token_keys& keys() {
  static const emu::id_token_keys k;
  return k;
}
const emu::id_token_keys& other_keys() {
  static const emu::id_token_keys k;
  return k;
}

long long now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

json::object claims(long long exp_in = 3600) {
  return json::object{
      {"iss", k_iss}, {"sub", "auth0|abc"}, {"aud", "client-1"}, {"iat", now_s()}, {"exp", now_s() + exp_in}};
}

std::string mint(const json::object& c, const std::string& alg = "RS256", std::optional<std::string> kid = {},
                 const emu::id_token_keys& k = keys()) {
  emu::id_token_keys::header_options h;
  h.alg = alg;
  h.kid = std::move(kid);
  return k.mint(c, h);
}

a0::jwt::expectations expect(std::optional<std::string> aud = std::string("client-1")) {
  a0::jwt::expectations e;
  e.issuer = k_iss;
  e.audience = std::move(aud);
  e.now = std::chrono::system_clock::now();
  return e;
}

a0::jwt::key_set set_of(const emu::id_token_keys& k = keys()) { return a0::jwt::key_set::from_json(k.jwks()); }

// The kind and message of the error verifying `token` throws (decode included).
std::pair<std::optional<error::kind>, std::string> refusal(const std::string& token,
                                                           const a0::jwt::expectations& e = expect()) {
  try {
    (void)a0::jwt::verify(a0::jwt::decode(token), set_of(), e);
  } catch (const error& x) {
    return {x.which(), x.what()};
  }
  return {std::nullopt, ""};
}

std::string b64(std::string_view s) { return emu::base64url_encode(s); }

}  // namespace

TEST_CASE("jwt: base64url is strict (no padding, no +/, canonical trailing bits)") {
  CHECK(a0::jwt::base64url_decode("aGk") == std::optional<std::string>("hi"));
  CHECK(a0::jwt::base64url_decode("") == std::optional<std::string>(""));
  CHECK(a0::jwt::base64url_decode("-_-_") == std::optional<std::string>("\xfb\xff\xbf"));
  // "aGl" and "aGm" carry "hi" too, with non-zero bits after the last byte.
  for (auto bad : {"aGk=", "a+b/", "a", "aGk!", "aG k", "aGl", "aGm", "YR"}) {
    CAPTURE(bad);
    CHECK_FALSE(a0::jwt::base64url_decode(bad));
  }
}

TEST_CASE("jwt: a good RS256 token verifies and yields its sub") {
  const auto d = a0::jwt::decode(mint(claims()));
  CHECK(d.kid == keys().kid());
  CHECK(a0::jwt::verify(d, set_of(), expect()) == "auth0|abc");
  // aud may be an array holding the client id; no audience expected = not checked.
  auto c = claims();
  c["aud"] = json::array{"other", "client-1"};
  CHECK(a0::jwt::verify(a0::jwt::decode(mint(c)), set_of(), expect()) == "auth0|abc");
  c["aud"] = "other";
  CHECK(a0::jwt::verify(a0::jwt::decode(mint(c)), set_of(), expect(std::nullopt)) == "auth0|abc");
  // Within the leeway (30 s) an expiry just passed is still accepted (clock skew).
  CHECK(refusal(mint(claims(-5))).first == std::nullopt);
}

TEST_CASE("jwt: a bad signature is refused") {
  const auto good = mint(claims());
  // Same header and payload, the signature of another payload.
  auto c = claims();
  c["sub"] = "auth0|admin";
  const auto other = mint(c);
  const auto forged = other.substr(0, other.rfind('.')) + good.substr(good.rfind('.'));
  auto [kind, msg] = refusal(forged);
  CHECK(kind == error::kind::signature);
  CHECK(msg == "has a signature that does not verify against the tenant's JWKS");
  // Signed by another key under this key's kid.
  CHECK(refusal(mint(claims(), "RS256", keys().kid(), other_keys())).first == error::kind::signature);
  // A truncated signature (three bytes short, canonically encoded).
  const auto dot = good.rfind('.');
  auto sig = *a0::jwt::base64url_decode(good.substr(dot + 1));
  sig.resize(sig.size() - 3);
  CHECK(refusal(good.substr(0, dot + 1) + b64(sig)).first == error::kind::signature);
}

TEST_CASE("jwt: only RS256: none and HS256 (even keyed with the public key) are refused by decode") {
  auto [k1, m1] = refusal(mint(claims(), "none"));
  CHECK(k1 == error::kind::algorithm);
  CHECK(m1 == "alg 'none' is not accepted (RS256 only)");
  auto [k2, m2] = refusal(mint(claims(), "HS256"));
  CHECK(k2 == error::kind::algorithm);
  CHECK(m2 == "alg 'HS256' is not accepted (RS256 only)");
  const auto body = b64(json::serialize(claims()));
  CHECK(refusal(b64(R"({"kid":"k"})") + "." + body + ".c2ln").second == "has no 'alg' header (RS256 is required)");
  CHECK(refusal(b64(R"({"alg":"rs256","kid":"k"})") + "." + body + ".c2ln").second ==
        "alg 'rs256' is not accepted (RS256 only)");
  CHECK(refusal(b64(R"({"alg":"RS256<script>","kid":"k"})") + "." + body + ".c2ln").second ==
        "alg is not RS256 (RS256 only)");
}

TEST_CASE("jwt: claims: wrong iss, wrong aud, expired, not yet valid, issued in the future, no sub") {
  auto with = [](const char* k, json::value v) {
    auto c = claims();
    if (v.is_null())
      c.erase(k);
    else
      c[k] = std::move(v);
    return mint(c);
  };
  CHECK(refusal(with("iss", "https://evil.example/")).second ==
        "was not issued by this tenant (iss must be 'https://tenant.example/')");
  CHECK(refusal(with("iss", "https://tenant.example")).first == error::kind::claims);  // exact match
  CHECK(refusal(with("iss", nullptr)).first == error::kind::claims);
  CHECK(refusal(with("aud", "other")).second == "is not for this application (aud must be the client id 'client-1')");
  CHECK(refusal(with("aud", nullptr)).first == error::kind::claims);
  CHECK(refusal(mint(claims(-3600))).second == "has expired (exp is in the past)");
  CHECK(refusal(with("exp", nullptr)).second == "has no 'exp' claim");
  CHECK(refusal(with("exp", "tomorrow")).second == "has a non-numeric 'exp' claim");
  CHECK(refusal(with("nbf", now_s() + 600)).second == "is not valid yet (nbf is in the future)");
  CHECK(refusal(with("nbf", now_s() - 600)).first == std::nullopt);
  CHECK(refusal(with("iat", now_s() + 600)).second == "was issued in the future (iat)");
  CHECK(refusal(with("sub", "")).second == "has no 'sub' claim");
  CHECK(refusal(with("sub", 7)).second == "has no 'sub' claim");
  CHECK(refusal(with("sub", nullptr)).second == "has no 'sub' claim");
}

TEST_CASE("jwt: an unknown kid is its own kind (the caller may refetch the JWKS)") {
  auto [kind, msg] = refusal(mint(claims(), "RS256", std::string("rotated-away")));
  CHECK(kind == error::kind::unknown_key);
  CHECK(msg == "is signed with a key ('rotated-away') the tenant's JWKS does not hold");
  CHECK(refusal(b64(R"({"alg":"RS256"})") + "." + b64(json::serialize(claims())) + ".c2ln").second ==
        "has no 'kid' header");
}

TEST_CASE("jwt: malformed tokens: segments, base64url, JSON") {
  const auto h = b64(R"({"alg":"RS256","kid":"k"})");
  const auto p = b64(json::serialize(claims()));
  const std::pair<std::string, std::string> cases[] = {
      {"not-a-jwt", "is not a JWT (expected header.payload.signature)"},
      {h + "." + p, "is not a JWT (expected header.payload.signature)"},
      {h + "." + p + ".c2ln.c2ln", "is not a JWT (expected header.payload.signature)"},
      {"!!!." + p + ".c2ln", "is not a JWT (its header is not base64url)"},
      {h + ".e30=.c2ln", "is not a JWT (its payload is not base64url)"},
      {b64("{not json") + "." + p + ".c2ln", "is not a JWT (its header is not a JSON object)"},
      {h + "." + b64("[1,2]") + ".c2ln", "is not a JWT (its payload is not a JSON object)"},
      {h + "." + p + ".", "is not a JWT (its signature is not base64url)"},
      {h + "." + p + ".c2ln+", "is not a JWT (its signature is not base64url)"},
      {b64(R"({"alg":"RS256","kid":"k","crit":["exp"]})") + "." + p + ".c2ln",
       "has a 'crit' header this verifier does not support"},
      {std::string(70000, 'a'), "is too long for an ID token"},
  };
  for (const auto& [token, message] : cases) {
    CAPTURE(token.substr(0, 80));
    try {
      (void)a0::jwt::decode(token);
      FAIL("accepted");
    } catch (const error& e) {
      CHECK(e.which() == error::kind::malformed);
      CHECK(std::string(e.what()) == message);
    }
  }
}

TEST_CASE("jwt: JWKS parsing keeps RS256 signing keys and refuses broken ones") {
  const auto jwks = keys().jwks();
  CHECK(set_of().size() == 1);
  CHECK(set_of().contains(keys().kid()));
  auto doc = jwks;
  auto& list = doc["keys"].as_array();
  list.push_back(json::object{{"kid", "ec"}, {"kty", "EC"}, {"crv", "P-256"}, {"x", "AA"}, {"y", "AA"}});
  json::object enc = list[0].as_object();
  enc["kid"] = "enc";
  enc["use"] = "enc";
  list.push_back(enc);
  json::object ps = list[0].as_object();
  ps["kid"] = "ps";
  ps["alg"] = "PS256";
  list.push_back(ps);
  auto set = a0::jwt::key_set::from_json(doc);
  CHECK(set.size() == 1);  // EC, encryption and PS256 keys are skipped
  CHECK_FALSE(set.contains("enc"));
  auto fails = [](const json::value& v) {
    try {
      (void)a0::jwt::key_set::from_json(v);
    } catch (const error& e) {
      CHECK(e.which() == error::kind::malformed);
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(fails(json::object{}) == "the JWKS has no 'keys' array");
  CHECK(fails(json::array{}) == "the JWKS has no 'keys' array");
  const auto rsa = [](std::string n, std::string e) {
    return json::object{{"keys", json::array{json::object{{"kid", "k"}, {"kty", "RSA"}, {"n", n}, {"e", e}}}}};
  };
  CHECK(fails(rsa("!!", "AQAB")) == "JWKS key 'k': n or e is not base64url");
  CHECK(fails(rsa(b64(std::string(128, '\xff')), "AQAB")) ==
        "JWKS key 'k': an RSA modulus of 1024 bits is not accepted (2048..8192)");
  CHECK(fails(rsa(jwks.at("keys").at(0).at("n").as_string().c_str(), "AA")) ==
        "JWKS key 'k': the RSA exponent is not valid");
  CHECK(
      fails(json::object{{"keys", json::array{json::object{{"kid", "bad\n<kid>"}, {"kty", "RSA"}, {"e", "AQAB"}}}}}) ==
      "JWKS key 'bad??kid?' has no n or e");  // a kid is shown filtered

  // A broken key beside a good one: skipped, the good one still verifies.
  auto mixed = jwks;
  mixed["keys"].as_array().insert(mixed["keys"].as_array().begin(),
                                  json::object{{"kid", "broken"}, {"kty", "RSA"}, {"n", "!!"}, {"e", "AQAB"}});
  const auto kept = a0::jwt::key_set::from_json(mixed);
  CHECK(kept.size() == 1);
  CHECK_FALSE(kept.contains("broken"));
  CHECK(a0::jwt::verify(a0::jwt::decode(mint(claims())), kept, expect()) == "auth0|abc");
}

TEST_CASE("jwt: a token's kid is echoed filtered and cut short") {
  const auto m = refusal(mint(claims(), "RS256", std::string("evil\x1b[31m\"kid") + std::string(100, 'x'))).second;
  CHECK(m == "is signed with a key ('evil??31m?kid" + std::string(51, 'x') + "...') the tenant's JWKS does not hold");
}

TEST_CASE("jwt: a typ other than JWT (an access token's at+jwt) is refused, JWT in any case or none is accepted") {
  const auto good = mint(claims());
  const auto d1 = good.find('.');
  const auto with_header = [&](const json::object& h) { return b64(json::serialize(h)) + good.substr(d1); };
  const auto header = [&](const json::value& typ) {
    json::object h{{"alg", "RS256"}, {"kid", keys().kid()}};
    if (!typ.is_null()) h["typ"] = typ;
    return h;
  };
  for (const char* typ : {"at+jwt", "JOSE", "", "application/at+jwt"}) {
    INFO(typ);
    CHECK(refusal(with_header(header(json::string(typ)))) ==
          std::pair{std::optional(error::kind::malformed),
                    std::string("is not an ID token (its typ header is not JWT)")});
  }
  CHECK(refusal(with_header(header(42))).first == error::kind::malformed);
  // The header is signed: a rewritten one decodes, then fails the signature, not the typ.
  for (const json::value& typ : {json::value(nullptr), json::value("JWT"), json::value("jwt")})
    CHECK(refusal(with_header(header(typ))).first == error::kind::signature);
  CHECK(refusal(good).first == std::nullopt);
}

TEST_CASE("jwt: unverified_payload reads a compact JWS's claims, nothing from an opaque token") {
  auto c = claims();
  c["azp"] = "m2m-app";
  const auto p = a0::jwt::unverified_payload(mint(c, "none"));
  REQUIRE(p);
  CHECK(p->at("azp") == "m2m-app");
  CHECK_FALSE(a0::jwt::unverified_payload("mgmt-token-1"));
  CHECK_FALSE(a0::jwt::unverified_payload("a.b"));
  CHECK_FALSE(a0::jwt::unverified_payload("a.!!.c"));
  CHECK_FALSE(a0::jwt::unverified_payload("a." + b64("[1]") + ".c"));
}

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
  CHECK_THROWS_AS(std::rethrow_exception(o.error), std::invalid_argument);
  CHECK(jwks.calls == 0);
}

TEST_CASE("id_token_verifier: refusals are input errors without the token, JWKS failures are API errors") {
  fake_jwks jwks;
  fake_clock clock;
  a0::auth0::id_token_verifier v(jwks.fn(), k_iss, "client-1", test_policy(), clock.fn());
  const auto expired = mint(claims(-3600));
  auto o = run_one(v, expired);
  CHECK(o.message() == "secondary_token: has expired (exp is in the past)");
  CHECK_THROWS_AS(std::rethrow_exception(o.error), std::invalid_argument);
  CHECK(o.message().find(expired.substr(0, 20)) == std::string::npos);
  auto c = claims();
  c["aud"] = "someone-else";
  CHECK(run_one(v, mint(c)).message() ==
        "secondary_token: is not for this application (aud must be the client id 'client-1')");

  fake_jwks down;
  down.fail = a0::auth0::api_error{WFA_UNAVAILABLE, 503, "", "503 Service Unavailable", true, false, {}};
  a0::auth0::id_token_verifier v2(down.fn(), k_iss, "client-1", test_policy(), clock.fn());
  o = run_one(v2, mint(claims()));
  try {
    std::rethrow_exception(o.error);
  } catch (const a0::auth0::api_exception& e) {
    CHECK(e.error().code == WFA_UNAVAILABLE);
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
    CHECK(e.error().code == WFA_INTERNAL);
    CHECK(std::string(e.what()) == "the tenant's JWKS is not usable: the JWKS has no 'keys' array");
  }
}
