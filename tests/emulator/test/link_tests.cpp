// POST /users/{id}/identities (link) and DELETE .../identities/{provider}/{user_id} (unlink).
#include "helpers.hpp"
#include "util.hpp"

using namespace emutest;

namespace {
const std::string k_link = "/api/v2/users/auth0%7Cprimary1/identities";

std::string b64url(const std::string& s) {
  static constexpr char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned v = 0;
  int bits = -6;
  for (unsigned char c : s) {
    v = (v << 8) + c;
    bits += 8;
    while (bits >= 0) {
      out.push_back(t[(v >> bits) & 0x3F]);
      bits -= 6;
    }
  }
  if (bits > -6) out.push_back(t[((v << 8) >> (bits + 8)) & 0x3F]);
  return out;
}
}  // namespace

TEST_CASE("link: 201 with identities, primary first, profileData on both, secondary gone with its metadata") {
  harness h;
  auto r = h.call("POST", k_link, R"({"provider":"auth0","user_id":"secondary1"})");
  REQUIRE(r.status == 201);
  CHECK(r.header("content-type") == "application/json; charset=utf-8");
  auto ids = r.json().as_array();
  REQUIRE(ids.size() == 2);
  CHECK(ids[0].at("user_id").as_string() == "primary1");
  CHECK(ids[0].at("profileData").at("email").as_string() == "one@example.com");
  CHECK(ids[0].at("profileData").at("given_name").as_string() == "One");
  CHECK(ids[1].at("user_id").as_string() == "secondary1");
  CHECK(ids[1].at("provider").as_string() == "auth0");
  CHECK(ids[1].at("connection").as_string() == "Username-Password-Authentication");
  CHECK(ids[1].at("isSocial").as_bool() == false);
  CHECK(ids[1].at("profileData").at("username").as_string() == "onedb");
  CHECK(ids[1].at("profileData").at("email_verified").as_bool() == true);
  // A database user's name (defaults to the email) is not in profileData, as recorded.
  CHECK_FALSE(ids[1].at("profileData").as_object().contains("name"));

  check_error(h.get("/api/v2/users/auth0%7Csecondary1"), 404, "The user does not exist.", "inexistent_user");
  auto p = obj(h.get("/api/v2/users/auth0%7Cprimary1"));
  CHECK(p.at("identities").as_array().size() == 2);
  CHECK_FALSE(p.at("identities").at(0).as_object().contains("profileData"));
  CHECK(p.at("identities").at(1).as_object().contains("profileData"));
  CHECK(p.at("user_metadata").at("color").as_string() == "red");  // primary's metadata untouched
  CHECK_FALSE(p.at("app_metadata").as_object().contains("plan"));
  auto state = h.emu.dump();
  for (auto& u : state.at("users").as_array()) CHECK(u.at("user_id").as_string() != "auth0|secondary1");

  // Linking again: the identity is already there.
  check_error(h.call("POST", k_link, R"({"provider":"auth0","user_id":"secondary1"})"), 409,
              "Specified identity already exists.", "identity_conflict");
}

TEST_CASE("link: full prefixed user_id, connection_id, numeric user_id, multi-pipe ids") {
  harness h;
  auto r = h.call("POST", k_link,
                  R"({"provider":"auth0","user_id":"auth0|secondary1","connection_id":"con_AAAAAAAAAAAAAAA1"})");
  CHECK(r.status == 201);
  r = h.call("POST", k_link, R"({"provider":"github","user_id":4242})");
  REQUIRE(r.status == 201);
  CHECK(r.json().as_array().back().at("user_id").as_int64() == 4242);
  r = h.call("POST", k_link, R"({"provider":"samlp","user_id":"NeoLink|40813347"})");
  REQUIRE(r.status == 201);
  CHECK(r.json().as_array().back().at("user_id").as_string() == "NeoLink|40813347");
  CHECK(r.json().as_array().back().at("profileData").at("name").as_string() == "Saml User");
  CHECK(h.get("/api/v2/users/samlp%7CNeoLink%7C40813347").status == 404);

  // Unlink the multi-pipe identity: the id after the provider is percent-encoded in the path.
  r = h.call("DELETE", "/api/v2/users/auth0%7Cprimary1/identities/samlp/NeoLink%7C40813347");
  REQUIRE(r.status == 200);
  CHECK(r.json().as_array().size() == 3);
  auto back = obj(h.get("/api/v2/users/samlp%7CNeoLink%7C40813347"));
  CHECK(back.at("identities").at(0).at("user_id").as_string() == "NeoLink|40813347");
  CHECK(back.at("name").as_string() == "Saml User");
}

TEST_CASE("link: connection_id of another connection does not find the secondary") {
  harness h;
  check_error(
      h.call("POST", k_link, R"({"provider":"auth0","user_id":"secondary1","connection_id":"con_AAAAAAAAAAAAAAA2"})"),
      400, "Provided secondary account not found.", "invalid_body");
  CHECK(h.call("POST", k_link, R"({"provider":"auth0","user_id":"other-db","connection_id":"con_AAAAAAAAAAAAAAA2"})")
            .status == 201);
  check_error(
      h.call("POST", k_link, R"({"provider":"auth0","user_id":"plain","connection_id":"con_ZZZZZZZZZZZZZZZZ"})"), 400,
      "The provider/connection is not configured.", "invalid_body");
}

TEST_CASE("link: body validation errors are invalid_body 400s") {
  harness h;
  auto bad = [&](const std::string& body, const std::string& needle) {
    auto r = h.call("POST", k_link, body);
    INFO(body << " -> " << r.body);
    CHECK(r.status == 400);
    CHECK(obj(r).at("errorCode").as_string() == "invalid_body");
    CHECK(std::string(obj(r).at("message").as_string()).find(needle) != std::string::npos);
  };
  bad("{}", "Too few properties");
  bad("", "Too few properties");
  bad(R"({"provider":"auth0","user_id":"secondary1","extra":1})", "Additional properties not allowed: extra");
  bad(R"({"provider":"auth0","user_id":"secondary1","connection_id":"con_short"})", "^con_[A-Za-z0-9]{16}$");
  bad(R"({"provider":"auth0","user_id":"secondary1","connection_id":"con_AAAAAAAAAAAAAA-1"})", "^con_[A-Za-z0-9]{16}$");
  bad(R"({"provider":"myspace","user_id":"secondary1"})", "No enum match for: \"myspace\"");
  bad(R"({"user_id":"secondary1"})", "Missing required property: provider");
  bad(R"({"provider":"auth0"})", "Missing required property: user_id");
  bad(R"({"provider":"auth0","user_id":""})", "user_id");
  bad(R"({"link_with":"a.b.c","provider":"auth0"})", "link_with");
  check_error(h.call("POST", k_link, R"({"provider":"auth0","user_id":"primary1"})"), 400,
              "Main identity and the new one are the same.", "invalid_body");
  check_error(h.call("POST", k_link, R"({"provider":"auth0","user_id":"auth0|primary1"})"), 400,
              "Main identity and the new one are the same.", "invalid_body");
  check_error(h.call("POST", k_link, R"({"provider":"auth0","user_id":"ghost"})"), 400,
              "Provided secondary account not found.", "invalid_body");
  check_error(h.call("POST", "/api/v2/users/auth0%7Cghost/identities", R"({"provider":"auth0","user_id":"plain"})"),
              404, "The user does not exist.", "inexistent_user");
  // Nothing changed by any of the refusals.
  CHECK(obj(h.get("/api/v2/users/auth0%7Cprimary1")).at("identities").as_array().size() == 1);
}

TEST_CASE("link: link_with is checked as Auth0 does: RS256, signature, issuer, aud = the caller's azp, a valid sub") {
  harness h;
  // The tenant's public keys: no bearer needed, one RS256 signing key.
  auto jwks = h.call("GET", "/.well-known/jwks.json", {}, "");
  REQUIRE(jwks.status == 200);
  const auto key = jwks.json().at("keys").at(0).as_object();
  CHECK(key.at("kty") == "RSA");
  CHECK(key.at("alg") == "RS256");
  CHECK(key.at("use") == "sig");
  CHECK(key.at("e") == "AQAB");
  CHECK(key.at("n").as_string().size() == 342);  // 2048 bits, base64url
  const std::string kid(key.at("kid").as_string());
  CHECK_FALSE(kid.empty());

  auto mint = [&](json::object req) {
    if (!req.contains("user_id")) req["user_id"] = "google-oauth2|111";
    return h.emu.id_token(req);
  };
  auto link_with = [&](const std::string& tok) {
    return h.call("POST", k_link, json::serialize(json::object{{"link_with", tok}}));
  };
  // A minted token: RS256 with the JWKS kid, iss https://<Host>/, aud the first seed client.
  const auto good = mint({});
  std::string header, payload;
  REQUIRE(emu::base64url_decode(good.substr(0, good.find('.')), header));
  REQUIRE(emu::base64url_decode(good.substr(good.find('.') + 1, good.rfind('.') - good.find('.') - 1), payload));
  CHECK(json::parse(header).at("kid") == kid.c_str());
  const auto claims = json::parse(payload).as_object();
  CHECK(claims.at("iss") == ("https://" + h.emu.domain() + "/").c_str());
  CHECK(claims.at("aud") == "full-client");
  CHECK(claims.at("sub") == "google-oauth2|111");
  CHECK(claims.at("email") == "g@example.com");
  CHECK(claims.at("exp").to_number<long long>() - claims.at("iat").to_number<long long>() == 3600);

  const std::string invalid = "Invalid token (link_with).";
  check_error(link_with("garbage"), 400, invalid, "invalid_body");
  // Unsigned, and forged: the payload of a signed token rewritten to name another user.
  check_error(link_with(b64url(R"({"alg":"RS256"})") + "." + b64url(R"({"sub":"google-oauth2|111"})") + ".sig"), 400,
              invalid, "invalid_body");
  auto forged_claims = claims;
  forged_claims["sub"] = "github|4242";
  check_error(link_with(good.substr(0, good.find('.') + 1) + b64url(json::serialize(forged_claims)) +
                        good.substr(good.rfind('.'))),
              400, invalid, "invalid_body");
  check_error(link_with(mint({{"kid", "not-the-tenants"}})), 400, invalid, "invalid_body");
  check_error(link_with(mint({{"exp_in_s", -60}})), 400, invalid, "invalid_body");
  check_error(link_with(mint({{"alg", "HS256"}})), 400, "JWT (link_with) alg must be RS256.", "invalid_body");
  check_error(link_with(mint({{"alg", "none"}})), 400, "JWT (link_with) alg must be RS256.", "invalid_body");
  check_error(link_with(mint({{"iss", "https://elsewhere.example/"}})), 400,
              "JWT (link_with) issuer must match the tenant's.", "invalid_body");
  check_error(link_with(mint({{"aud", nullptr}})), 400, "JWT (link_with) has an invalid aud.", "invalid_body");
  check_error(link_with(mint({{"aud", "idp-client"}})), 400, "JWT (link_with) aud must match the caller's azp.",
              "invalid_body");
  check_error(link_with(mint({{"sub", "nopipe"}})), 400, "JWT (link_with) must contain a valid sub.", "invalid_body");
  check_error(link_with(mint({{"sub", nullptr}})), 400, "JWT (link_with) must contain a valid sub.", "invalid_body");
  CHECK(obj(h.get("/api/v2/users/auth0%7Cprimary1")).at("identities").as_array().size() == 1);  // nothing changed

  auto r = link_with(good);
  REQUIRE(r.status == 201);
  CHECK(r.json().as_array().back().at("provider").as_string() == "google-oauth2");
  CHECK(r.json().as_array().back().at("user_id").as_string() == "111");
  // The seed's own domain is this tenant's issuer too.
  r = link_with(mint({{"user_id", "github|4242"}, {"iss", "https://test-tenant.auth0.local/"}}));
  CHECK(r.status == 201);
  // The control endpoint: only stored users, only RS256/HS256/none.
  CHECK_THROWS(mint({{"user_id", "auth0|ghost"}}));
  CHECK_THROWS(mint({{"user_id", "auth0|plain"}, {"alg", "ES256"}}));
}

TEST_CASE("link: a secondary with its own linked identities brings them all, in order") {
  harness h;
  auto r = h.call("POST", k_link, R"({"provider":"auth0","user_id":"hub"})");
  REQUIRE(r.status == 201);
  auto ids = r.json().as_array();
  REQUIRE(ids.size() == 3);
  CHECK(ids[1].at("user_id").as_string() == "hub");
  CHECK(ids[1].at("profileData").at("email").as_string() == "hub@example.com");
  CHECK(ids[2].at("user_id").as_string() == "222");
  CHECK(ids[2].at("profileData").at("email").as_string() == "hub-g@example.com");
}

TEST_CASE("unlink: 200 remaining identities, the secondary comes back without metadata") {
  harness h;
  REQUIRE(h.call("POST", k_link, R"({"provider":"auth0","user_id":"secondary1"})").status == 201);
  auto r = h.call("DELETE", "/api/v2/users/auth0%7Cprimary1/identities/auth0/secondary1");
  REQUIRE(r.status == 200);
  auto ids = r.json().as_array();
  REQUIRE(ids.size() == 1);
  CHECK(ids[0].at("user_id").as_string() == "primary1");
  CHECK(ids[0].as_object().contains("profileData"));  // as recorded
  auto s = obj(h.get("/api/v2/users/auth0%7Csecondary1"));
  CHECK(s.at("email").as_string() == "one@example.com");
  CHECK(s.at("username").as_string() == "onedb");
  CHECK_FALSE(s.contains("user_metadata"));
  CHECK_FALSE(s.contains("app_metadata"));
  REQUIRE(s.at("identities").as_array().size() == 1);
  CHECK_FALSE(s.at("identities").at(0).as_object().contains("profileData"));

  check_error(h.call("DELETE", "/api/v2/users/auth0%7Cprimary1/identities/auth0/primary1"), 400,
              "Main identity cannot be removed.", "invalid_body");
  // Not linked: a no-op 200 with the current identities (choice, see README).
  r = h.call("DELETE", "/api/v2/users/auth0%7Cprimary1/identities/auth0/secondary1");
  CHECK(r.status == 200);
  CHECK(r.json().as_array().size() == 1);
  r = h.call("DELETE", "/api/v2/users/auth0%7Cprimary1/identities/myspace/x");
  CHECK(r.status == 400);
  CHECK(obj(r).at("errorCode").as_string() == "invalid_uri");
  check_error(h.call("DELETE", "/api/v2/users/auth0%7Cghost/identities/auth0/x"), 404, "The user does not exist.",
              "inexistent_user");
}

TEST_CASE("link: IdP tokens in the answer only with read:user_idp_tokens") {
  const std::string body = R"({"provider":"google-oauth2","user_id":"111"})";
  {
    harness h;
    auto r = h.call("POST", k_link, body);
    REQUIRE(r.status == 201);
    CHECK_FALSE(r.json().as_array().back().as_object().contains("access_token"));
  }
  harness h;
  auto r = h.call("POST", k_link, body, h.token("idp-client"));
  REQUIRE(r.status == 201);
  CHECK(r.json().as_array().back().at("access_token").as_string() == "idp-at");
}
