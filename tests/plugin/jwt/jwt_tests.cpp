// Unit tests of plugin/jwt (pure RS256 verification against a JWKS). Tokens and key sets
// come from tests/support/jwt_signer, an implementation of the signing side independent of
// the verifier under test.
#include "test_tokens.hpp"

#include <jwt/jwt.hpp>

#include <boost/json/serialize.hpp>
#include <doctest/doctest.h>

#include <chrono>
#include <optional>

namespace json = boost::json;
using a0::jwt::error;
using namespace a0::test::tokens;

namespace {

a0::jwt::expectations expect(std::optional<std::string> aud = std::string("client-1")) {
  a0::jwt::expectations e;
  e.issuer = k_iss;
  e.audience = std::move(aud);
  e.now = std::chrono::system_clock::now();
  return e;
}

a0::jwt::key_set set_of(const a0::test::jwt_signer& k = keys()) { return a0::jwt::key_set::from_json(k.jwks()); }

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

std::string b64(std::string_view s) { return a0::test::base64url(s); }

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
