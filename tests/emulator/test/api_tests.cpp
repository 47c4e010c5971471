// /oauth/token, bearer/scope checks and the user endpoints, over real HTTPS.
#include "helpers.hpp"

#include <chrono>
#include <thread>

using namespace emutest;

namespace {
std::string form_token_body(const std::string& id, const std::string& secret, const std::string& aud) {
  return "grant_type=client_credentials&client_id=" + id + "&client_secret=" + secret + "&audience=" + aud;
}
json::object payload_of(const std::string& jwt) {
  const auto a = jwt.find('.'), b = jwt.find('.', a + 1);
  std::string p = jwt.substr(a + 1, b - a - 1);
  // base64url -> base64 for a tiny decoder
  std::string out;
  int val = 0, bits = -8;
  for (char c : p) {
    int d = c >= 'A' && c <= 'Z'   ? c - 'A'
            : c >= 'a' && c <= 'z' ? c - 'a' + 26
            : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '-'             ? 62
                                   : 63;
    val = (val << 6) + d;
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((val >> bits) & 0xFF));
      bits -= 8;
    }
  }
  return json::parse(out).as_object();
}
}  // namespace

TEST_CASE("token: client credentials as form and as JSON, for the audiences of this API") {
  harness h;
  const auto host_aud = "https://" + h.emu.domain() + "/api/v2/";
  auto r = h.http.request("POST", "/oauth/token", form_token_body("full-client", "full-secret", host_aud),
                          {{"content-type", "application/x-www-form-urlencoded"}});
  REQUIRE(r.status == 200);
  auto o = obj(r);
  CHECK(o.at("token_type").as_string() == "Bearer");
  CHECK(o.at("expires_in").to_number<long>() == 86400);
  CHECK(std::string(o.at("scope").as_string()).find("read:users") != std::string::npos);
  auto claims = payload_of(std::string(o.at("access_token").as_string()));
  CHECK(claims.at("aud").as_string() == host_aud);
  CHECK(claims.at("sub").as_string() == "full-client@clients");
  CHECK(claims.at("exp").to_number<long long>() - claims.at("iat").to_number<long long>() == 86400);

  for (std::string aud : {"https://localhost:" + std::to_string(h.emu.port()) + "/api/v2/",
                          std::string("https://test-tenant.auth0.local/api/v2/")}) {
    json::object body{{"grant_type", "client_credentials"},
                      {"client_id", "full-client"},
                      {"client_secret", "full-secret"},
                      {"audience", aud}};
    CHECK(h.http.request("POST", "/oauth/token", json::serialize(body)).status == 200);
  }
  // The seed's own audience for a client.
  json::object custom{{"grant_type", "client_credentials"},
                      {"client_id", "aud-client"},
                      {"client_secret", "aud-secret"},
                      {"audience", "https://custom.example/api/v2/"}};
  CHECK(h.http.request("POST", "/oauth/token", json::serialize(custom)).status == 200);
}

TEST_CASE("token: OAuth error shapes and statuses") {
  harness h;
  const auto aud = "https://" + h.emu.domain() + "/api/v2/";
  auto post = [&](const std::string& body) {
    return h.http.request("POST", "/oauth/token", body, {{"content-type", "application/x-www-form-urlencoded"}});
  };
  auto check = [](const http_result& r, unsigned status, const std::string& error) {
    INFO(r.body);
    CHECK(r.status == status);
    auto o = r.json().as_object();
    CHECK(o.at("error").as_string() == error);
    CHECK(o.at("error_description").is_string());
    CHECK_FALSE(o.contains("statusCode"));
  };
  check(post(form_token_body("full-client", "wrong", aud)), 401, "invalid_client");
  check(post(form_token_body("nobody", "full-secret", aud)), 401, "invalid_client");
  check(post(form_token_body("full-client", "full-secret", "https://elsewhere.example/api/v2/")), 403, "access_denied");
  check(post("grant_type=client_credentials&client_id=full-client&client_secret=full-secret"), 403, "access_denied");
  check(post("grant_type=password&client_id=full-client&client_secret=full-secret&audience=" + aud), 400,
        "unsupported_grant_type");
  check(post("client_id=full-client"), 400, "invalid_request");
}

TEST_CASE("token: lifetime from seed, --token-lifetime and the control API, expired token message") {
  harness h;
  auto tok = h.token("short-client");
  CHECK(payload_of(tok).at("exp").to_number<long long>() - payload_of(tok).at("iat").to_number<long long>() == 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  auto r = h.call("GET", "/api/v2/users/auth0%7Cprimary1", {}, tok);
  check_error(r, 401, "Expired token received for JSON Web Token validation");

  h.emu.set_token_lifetime(7);
  auto t2 = h.token();
  CHECK(payload_of(t2).at("exp").to_number<long long>() - payload_of(t2).at("iat").to_number<long long>() == 7);
  h.emu.set_token_lifetime(std::nullopt);
  auto t3 = h.token();
  CHECK(payload_of(t3).at("exp").to_number<long long>() - payload_of(t3).at("iat").to_number<long long>() == 86400);

  harness cli({"--token-lifetime", "42"});
  auto t4 = cli.token();
  CHECK(payload_of(t4).at("exp").to_number<long long>() - payload_of(t4).at("iat").to_number<long long>() == 42);
}

TEST_CASE("bearer: missing, malformed, forged tokens, scopes") {
  harness h;
  auto r = h.call("GET", "/api/v2/users/auth0%7Cprimary1", {}, "");
  check_error(r, 401, "Missing authentication");
  r = h.call("GET", "/api/v2/users/auth0%7Cprimary1", {}, "not-a-jwt");
  check_error(r, 401, "Invalid token");
  CHECK(obj(r).at("attributes").at("error").as_string() == "Invalid token");
  // Payload changed (scope escalation) but the signature kept: refused.
  auto tok = h.token("read-client");
  const auto a = tok.find('.'), b = tok.find('.', a + 1);
  auto forged = tok.substr(0, a + 1) + "eyJzY29wZSI6InVwZGF0ZTp1c2VycyJ9" + tok.substr(b);
  check_error(h.call("GET", "/api/v2/users/auth0%7Cprimary1", {}, forged), 401, "Invalid token");

  CHECK(h.call("GET", "/api/v2/users/auth0%7Cprimary1", {}, tok).status == 200);
  check_error(
      h.call("PATCH", "/api/v2/users/auth0%7Cprimary1", R"({"name":"x"})", tok), 403,
      "Insufficient scope, expected any of: update:users,update:users_app_metadata,update:current_user_metadata",
      "insufficient_scope");
  check_error(h.call("GET", "/api/v2/connections", {}, tok), 403,
              "Insufficient scope, expected any of: read:connections", "insufficient_scope");
  check_error(h.call("POST", "/api/v2/users/auth0%7Cprimary1/identities", R"({"provider":"auth0","user_id":"x"})", tok),
              403, "Insufficient scope, expected any of: update:users,update:current_user_identities",
              "insufficient_scope");
  check_error(h.call("DELETE", "/api/v2/users/auth0%7Cprimary1", {}, tok), 403,
              "Insufficient scope, expected any of: delete:users", "insufficient_scope");
  auto none = h.token("appmeta-client");
  check_error(h.call("GET", "/api/v2/connections", {}, none), 403,
              "Insufficient scope, expected any of: read:connections", "insufficient_scope");
}

TEST_CASE("GET user: full object, 404 shape, percent-decoded multi-pipe ids, numeric identity ids") {
  harness h;
  auto r = h.get("/api/v2/users/auth0%7Cprimary1");
  REQUIRE(r.status == 200);
  CHECK(r.header("content-type") == "application/json; charset=utf-8");
  auto u = obj(r);
  CHECK(u.at("user_id").as_string() == "auth0|primary1");
  CHECK(u.at("user_metadata").at("color").as_string() == "red");
  CHECK(u.at("identities").as_array().size() == 1);
  CHECK(u.at("identities").at(0).at("provider").as_string() == "auth0");
  CHECK_FALSE(u.at("identities").at(0).as_object().contains("profileData"));

  r = h.get("/api/v2/users/auth0%7Cnobody");
  check_error(r, 404, "The user does not exist.", "inexistent_user");
  CHECK(r.body ==
        R"({"statusCode":404,"error":"Not Found","message":"The user does not exist.","errorCode":"inexistent_user"})");

  r = h.get("/api/v2/users/samlp%7CNeoLink%7C40813347");
  REQUIRE(r.status == 200);
  CHECK(obj(r).at("identities").at(0).at("user_id").as_string() == "NeoLink|40813347");
  // Unencoded pipes are accepted too.
  CHECK(h.get("/api/v2/users/samlp|NeoLink|40813347").status == 200);
  r = h.get("/api/v2/users/github%7C4242");
  REQUIRE(r.status == 200);
  CHECK(obj(r).at("identities").at(0).at("user_id").as_int64() == 4242);
}

TEST_CASE("GET user: fields/include_fields, unknown field 400, IdP tokens only with read:user_idp_tokens") {
  harness h;
  auto u = obj(h.get("/api/v2/users/auth0%7Cprimary1?fields=user_id,email&include_fields=true"));
  CHECK(u.size() == 2);
  CHECK(u.contains("user_id"));
  CHECK(u.contains("email"));
  u = obj(h.get("/api/v2/users/auth0%7Cprimary1?fields=user_metadata,identities&include_fields=false"));
  CHECK_FALSE(u.contains("user_metadata"));
  CHECK_FALSE(u.contains("identities"));
  CHECK(u.contains("email"));
  u = obj(h.get("/api/v2/users/auth0%7Cprimary1?fields=email"));  // include_fields defaults to true
  CHECK(u.size() == 1);

  auto r = h.get("/api/v2/users/auth0%7Cprimary1?fields=id");
  CHECK(r.status == 400);
  CHECK(obj(r).at("errorCode").as_string() == "invalid_query_string");
  CHECK(std::string(obj(r).at("message").as_string()).rfind("Query validation error: ", 0) == 0);
  CHECK(h.get("/api/v2/users/auth0%7Cprimary1?include_fields=maybe").status == 400);

  auto g = obj(h.get("/api/v2/users/google-oauth2%7C111"));
  CHECK_FALSE(g.at("identities").at(0).as_object().contains("access_token"));
  auto idp = h.token("idp-client");
  g = obj(h.call("GET", "/api/v2/users/google-oauth2%7C111", {}, idp));
  CHECK(g.at("identities").at(0).at("access_token").as_string() == "idp-at");
  CHECK(g.at("identities").at(0).at("refresh_token").as_string() == "idp-rt");
}

TEST_CASE("PATCH user: top-level metadata merge, null deletes, {} wipes, root attributes") {
  harness h;
  auto r = h.call(
      "PATCH", "/api/v2/users/auth0%7Cprimary1",
      R"({"user_metadata":{"color":null,"nested":{"c":3},"added":[1,2]},"app_metadata":{"tier":"gold"},"name":"Neo"})");
  REQUIRE(r.status == 200);
  auto u = obj(r);
  CHECK(u.at("user_metadata") == json::parse(R"({"keep":1,"nested":{"c":3},"added":[1,2]})"));
  CHECK(u.at("app_metadata") == json::parse(R"({"roles":["Admin"],"tier":"gold"})"));
  CHECK(u.at("name").as_string() == "Neo");
  CHECK(u.at("updated_at").as_string() != "");
  // What GET shows afterwards is the same (immediately consistent).
  CHECK(obj(h.get("/api/v2/users/auth0%7Cprimary1")).at("user_metadata") == u.at("user_metadata"));

  r = h.call("PATCH", "/api/v2/users/auth0%7Cprimary1", R"({"user_metadata":{}})");
  REQUIRE(r.status == 200);
  CHECK_FALSE(obj(r).contains("user_metadata"));
  CHECK(obj(r).contains("app_metadata"));
  // Form-encoded bodies are accepted too (root attributes).
  r = h.http.request(
      "PATCH", "/api/v2/users/auth0%7Cprimary1", "nickname=formed",
      {{"Authorization", "Bearer " + h.bearer()}, {"content-type", "application/x-www-form-urlencoded"}});
  CHECK(obj(r).at("nickname").as_string() == "formed");
  // Root attribute null unsets it; password sets last_password_reset and is never stored.
  r = h.call("PATCH", "/api/v2/users/auth0%7Cprimary1",
             R"({"given_name":null,"password":"pw","connection":"Username-Password-Authentication"})");
  CHECK_FALSE(obj(r).contains("given_name"));
  CHECK(obj(r).contains("last_password_reset"));
  CHECK_FALSE(obj(r).contains("password"));
  CHECK_FALSE(obj(r).contains("connection"));
}

TEST_CASE("PATCH user: refused bodies change nothing") {
  harness h;
  const auto before = obj(h.get("/api/v2/users/auth0%7Cprimary1"));
  auto bad = [&](const std::string& body, const std::string& needle) {
    auto r = h.call("PATCH", "/api/v2/users/auth0%7Cprimary1", body);
    INFO(body << " -> " << r.body);
    CHECK(r.status == 400);
    CHECK(obj(r).at("errorCode").as_string() == "invalid_body");
    CHECK(std::string(obj(r).at("message").as_string()).find(needle) != std::string::npos);
  };
  bad(R"({"user_metadata":{"a.b":1},"name":"changed"})", "a.b");
  bad(R"({"user_metadata":{"$set":1}})", "$set");
  bad(R"({"user_metadata":{"ok":{"deep.key":1}}})", "deep.key");
  bad(R"({"app_metadata":{"email":"x"}})", "email");
  bad(R"({"app_metadata":{"user_id":"x"}})", "user_id");
  bad(R"({"user_metadata":null})", "user_metadata");
  bad(R"({"user_metadata":[1]})", "user_metadata");
  bad(R"({"identities":[]})", "identities");
  bad("[1,2]", "body");
  CHECK(obj(h.get("/api/v2/users/auth0%7Cprimary1")) == before);
  check_error(h.call("PATCH", "/api/v2/users/auth0%7Cnobody", R"({"name":"x"})"), 404, "The user does not exist.",
              "inexistent_user");
  // update:users_app_metadata may change app_metadata only.
  auto t = h.token("appmeta-client");
  auto r = h.call("PATCH", "/api/v2/users/auth0%7Cprimary1", R"({"name":"x"})", t);
  CHECK(r.status == 403);
}

TEST_CASE("POST user then DELETE: ids, defaults, 204 even when absent, then 404") {
  harness h;
  auto r = h.call("POST", "/api/v2/users",
                  R"({"connection":"Username-Password-Authentication","email":"new@example.com","password":"pw",
                      "user_metadata":{"a":1},"email_verified":true,"verify_email":false})");
  REQUIRE(r.status == 201);
  auto u = obj(r);
  const std::string id(u.at("user_id").as_string());
  CHECK(id.rfind("auth0|", 0) == 0);
  CHECK(id.size() == 6 + 24);
  CHECK(u.at("identities").at(0).at("user_id").as_string() == id.substr(6));
  CHECK(u.at("identities").at(0).at("isSocial").as_bool() == false);
  CHECK(u.at("name").as_string() == "new@example.com");
  CHECK(u.at("nickname").as_string() == "new");
  CHECK_FALSE(u.contains("password"));
  CHECK_FALSE(u.contains("verify_email"));
  CHECK(u.at("created_at") == u.at("updated_at"));
  CHECK(
      h.call("POST", "/api/v2/users", R"({"connection":"Username-Password-Authentication","email":"new@example.com"})")
          .status == 409);
  check_error(h.call("POST", "/api/v2/users", R"({"connection":"Nope","email":"x@example.com"})"), 400,
              "The connection does not exist.", "inexistent_connection");
  CHECK(h.call("POST", "/api/v2/users", R"({"email":"x@example.com"})").status == 400);

  const auto path = "/api/v2/users/auth0%7C" + id.substr(6);
  CHECK(h.get(path).status == 200);
  r = h.call("DELETE", path);
  CHECK(r.status == 204);
  CHECK(r.body.empty());
  check_error(h.get(path), 404, "The user does not exist.", "inexistent_user");
  CHECK(h.call("DELETE", path).status == 204);
}

TEST_CASE("unknown routes answer Auth0-style 404") {
  harness h;
  CHECK(h.get("/api/v2/roles").status == 404);
  CHECK(h.get("/nothing").status == 404);
}
