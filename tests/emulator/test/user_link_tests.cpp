// Users and link/unlink rules beyond the basics: 409 in both body forms, form bodies,
// link_with without a usable sub, fields, PATCH order and 403 text, unlink's restored
// user, POST users 409.
#include "helpers.hpp"

#include "util.hpp"

using namespace emutest;

namespace {
const std::string k_link = "/api/v2/users/auth0%7Cprimary1/identities";

http_result post_form(harness& h, const std::string& target, const std::string& body) {
  return h.http.request(
      "POST", target, body,
      {{"Authorization", "Bearer " + h.bearer()}, {"content-type", "application/x-www-form-urlencoded"}});
}

const std::string k_fields_help =
    "' on property fields (Comma-separated list of fields to include or exclude (based on value provided for "
    "include_fields) in the result. Leave empty to retrieve all fields.).";
}  // namespace

TEST_CASE("link: an already-linked secondary gives 409 with the bare and with the full user_id") {
  harness h;
  REQUIRE(h.call("POST", k_link, R"({"provider":"auth0","user_id":"secondary1"})").status == 201);
  for (std::string body :
       {R"({"provider":"auth0","user_id":"secondary1"})", R"({"provider":"auth0","user_id":"auth0|secondary1"})",
        R"({"provider":"auth0","user_id":"auth0|secondary1","connection_id":"con_AAAAAAAAAAAAAAA1"})"}) {
    INFO(body);
    check_error(h.call("POST", k_link, body), 409, "Specified identity already exists.", "identity_conflict");
  }
  // The same for a multi-pipe id in its full form.
  REQUIRE(h.call("POST", k_link, R"({"provider":"samlp","user_id":"samlp|NeoLink|40813347"})").status == 201);
  for (std::string body : {R"({"provider":"samlp","user_id":"samlp|NeoLink|40813347"})",
                           R"({"provider":"samlp","user_id":"NeoLink|40813347"})"}) {
    INFO(body);
    check_error(h.call("POST", k_link, body), 409, "Specified identity already exists.", "identity_conflict");
  }
  // An id that was never linked nor exists is still "not found".
  check_error(h.call("POST", k_link, R"({"provider":"auth0","user_id":"auth0|ghost"})"), 400,
              "Provided secondary account not found.", "invalid_body");
}

TEST_CASE("link: a form-encoded body works like the JSON one") {
  harness h;
  auto r = post_form(h, k_link, "provider=auth0&user_id=secondary1");
  REQUIRE(r.status == 201);
  auto ids = r.json().as_array();
  REQUIRE(ids.size() == 2);
  CHECK(ids[1].at("user_id").as_string() == "secondary1");
  CHECK(ids[1].at("provider").as_string() == "auth0");
  r = post_form(h, k_link, "provider=auth0&user_id=auth0%7Cplain&connection_id=con_AAAAAAAAAAAAAAA1");
  REQUIRE(r.status == 201);
  CHECK(r.json().as_array().back().at("user_id").as_string() == "plain");
  check_error(post_form(h, k_link, "provider=auth0&user_id=secondary1"), 409, "Specified identity already exists.",
              "identity_conflict");
  check_error(post_form(h, k_link, "provider=auth0&user_id=other-db&color=red"), 400,
              "Payload validation error: 'Additional properties not allowed: color'.", "invalid_body");
  check_error(post_form(h, k_link, ""), 400, "Payload validation error: 'Too few properties defined (0), minimum 1'.",
              "invalid_body");
}

TEST_CASE("link: link_with whose JWT has no usable sub is a 400 that says so") {
  harness h;
  // Properly signed tokens (the signature is checked first), each with a sub that names no user id.
  for (const json::value& sub : {json::value(nullptr), json::value("no-pipe"), json::value("|leading"),
                                 json::value("trailing|"), json::value(42)}) {
    INFO(json::serialize(sub));
    const std::string jwt = h.emu.id_token(json::object{{"user_id", "google-oauth2|111"}, {"sub", sub}});
    check_error(h.call("POST", k_link, json::serialize(json::object{{"link_with", jwt}})), 400,
                "JWT (link_with) must contain a valid sub.", "invalid_body");
  }
  CHECK(obj(h.get("/api/v2/users/auth0%7Cprimary1")).at("identities").as_array().size() == 1);
}

TEST_CASE("GET user: fields takes every OAS root attribute and any attribute the user has") {
  harness h({}, a0::test::emulator::default_seed());  // the demo seed: its Google user has a locale
  const auto tok = h.emu.token();
  const std::string jane = "/api/v2/users/google-oauth2%7C115015401343387192604";
  auto get = [&](const std::string& t) { return h.call("GET", t, {}, tok); };
  auto r = get(jane + "?fields=locale");
  REQUIRE(r.status == 200);
  CHECK(r.json() == json::parse(R"({"locale":"en"})"));
  auto u = obj(get(jane + "?fields=locale,user_id&include_fields=false"));
  CHECK_FALSE(u.contains("locale"));
  CHECK_FALSE(u.contains("user_id"));
  CHECK(u.contains("email"));
  // Every root attribute the OAS user schema lists is a valid name, present or not.
  r = get(jane +
          "?fields=user_id,email,email_verified,username,phone_number,phone_verified,created_at,updated_at,"
          "identities,app_metadata,user_metadata,picture,name,nickname,given_name,family_name,multifactor,"
          "multifactor_last_modified,last_ip,last_login,last_password_reset,logins_count,blocked,blocked_for,"
          "guardian_authenticators,passkeys");
  CHECK(r.status == 200);
  CHECK_FALSE(obj(r).contains("locale"));
  // A name neither the schema nor the user has.
  check_error(get(jane + "?fields=user_id,favourite_colour"), 400,
              "Query validation error: 'String does not match pattern: favourite_colour" + k_fields_help,
              "invalid_query_string");
  // locale is the Google user's own attribute: the database user has none.
  check_error(get("/api/v2/users/auth0%7C5f7c8ec7c33c6c004bbafe82?fields=locale"), 400,
              "Query validation error: 'String does not match pattern: locale" + k_fields_help, "invalid_query_string");
  // The query is validated before the lookup.
  CHECK(get("/api/v2/users/auth0%7Cnobody?fields=favourite_colour").status == 400);
  check_error(get("/api/v2/users/auth0%7Cnobody?fields=email"), 404, "The user does not exist.", "inexistent_user");
}

TEST_CASE("PATCH user: the body is validated before the user is looked up") {
  harness h;
  check_error(h.call("PATCH", "/api/v2/users/auth0%7Cnobody", R"({"user_metadata":{"a.b":1}})"), 400,
              "Payload validation error: 'Invalid field name: \"a.b\" (must not contain \".\" or \"$\")' on property "
              "user_metadata.",
              "invalid_body");
  check_error(h.call("PATCH", "/api/v2/users/auth0%7Cnobody", R"({"identities":[]})"), 400,
              "Payload validation error: 'Additional properties not allowed: identities'.", "invalid_body");
  check_error(h.call("PATCH", "/api/v2/users/auth0%7Cnobody", R"({"name":"x"})"), 404, "The user does not exist.",
              "inexistent_user");
}

TEST_CASE("PATCH user: update:users_app_metadata alone may not change other fields, Auth0's 403 text") {
  harness h;
  const auto t = h.token("appmeta-client");
  check_error(h.call("PATCH", "/api/v2/users/auth0%7Cprimary1", R"({"name":"x","app_metadata":{"a":1}})", t), 403,
              "Some fields cannot be read with the permissions granted by the bearer token scopes.",
              "insufficient_scope");
  CHECK(obj(h.get("/api/v2/users/auth0%7Cprimary1")).at("name").as_string() == "one@example.com");
  auto r = h.call("PATCH", "/api/v2/users/auth0%7Cprimary1", R"({"app_metadata":{"a":1}})", t);
  REQUIRE(r.status == 200);
  CHECK(obj(r).at("app_metadata").at("a").to_number<int>() == 1);
}

TEST_CASE("unlink: the restored database user has its profile back, name = email, no metadata") {
  harness h;
  REQUIRE(h.call("POST", k_link, R"({"provider":"auth0","user_id":"secondary1"})").status == 201);
  REQUIRE(h.call("DELETE", k_link + "/auth0/secondary1").status == 200);
  auto s = obj(h.get("/api/v2/users/auth0%7Csecondary1"));
  CHECK(s.at("user_id").as_string() == "auth0|secondary1");
  CHECK(s.at("email").as_string() == "one@example.com");
  CHECK(s.at("name").as_string() == "one@example.com");  // a database user's default name
  CHECK(s.at("nickname").as_string() == "one-db");
  CHECK(s.at("username").as_string() == "onedb");
  CHECK(s.at("email_verified").as_bool());
  CHECK_FALSE(s.contains("user_metadata"));
  CHECK_FALSE(s.contains("app_metadata"));
  CHECK(s.at("created_at") == s.at("updated_at"));
  CHECK(s.at("identities").at(0).at("connection").as_string() == "Username-Password-Authentication");
  // A non-database user's name was in its profileData and comes back as it was.
  REQUIRE(h.call("POST", k_link, R"({"provider":"google-oauth2","user_id":"111"})").status == 201);
  REQUIRE(h.call("DELETE", k_link + "/google-oauth2/111").status == 200);
  CHECK(obj(h.get("/api/v2/users/google-oauth2%7C111")).at("name").as_string() == "Gee Oh");
}

TEST_CASE("POST user: 409 body when the user already exists") {
  harness h;
  const auto email_taken = R"({"connection":"Username-Password-Authentication","email":"one@example.com"})";
  check_error(h.call("POST", "/api/v2/users", email_taken), 409, "The user already exists.", "auth0_idp_error");
  const auto id_taken =
      R"({"connection":"Username-Password-Authentication","email":"fresh@example.com","user_id":"plain"})";
  check_error(h.call("POST", "/api/v2/users", id_taken), 409, "The user already exists.", "auth0_idp_error");
  CHECK(h.call("POST", "/api/v2/users", R"({"connection":"Other-Database","email":"one@example.com"})").status == 201);
}

TEST_CASE("scopes: the *:current_user* scopes act on the token's own user only") {
  harness h;
  // A client-credentials token's sub is "<client_id>@clients": a user with that id is the
  // token's own user, the stand-in for a user's access token.
  auto seed = read_json(test_seed());
  seed.as_object()["clients"].as_array().push_back(json::object{
      {"client_id", "auth0|self"},
      {"client_secret", "self-secret"},
      {"scopes", json::array{"read:current_user", "update:current_user_metadata", "update:current_user_identities"}}});
  seed.as_object()["clients"].as_array().push_back(json::object{
      {"client_id", "create-client"}, {"client_secret", "create-secret"}, {"scopes", json::array{"create:users"}}});
  seed.as_object()["users"].as_array().push_back(json::parse(
      R"({"user_id":"auth0|self@clients","email":"self@example.com","name":"self@example.com","user_metadata":{"a":1}})"));
  h.emu.seed(seed);
  const auto tok = h.emu.token("auth0|self", "self-secret");
  const std::string own = "/api/v2/users/auth0%7Cself%40clients", other = "/api/v2/users/auth0%7Cprimary1";
  const std::string mismatch = "User to be acted on does not match subject in bearer token.";

  CHECK(h.call("GET", own, {}, tok).status == 200);
  check_error(h.call("GET", other, {}, tok), 403, mismatch);
  auto r = h.call("PATCH", own, R"({"user_metadata":{"b":2}})", tok);
  REQUIRE(r.status == 200);
  CHECK(obj(r).at("user_metadata") == json::parse(R"({"a":1,"b":2})"));
  check_error(h.call("PATCH", own, R"({"name":"x"})", tok), 403,
              "Some fields cannot be read with the permissions granted by the bearer token scopes.",
              "insufficient_scope");
  check_error(h.call("PATCH", other, R"({"user_metadata":{"b":2}})", tok), 403, mismatch);
  check_error(h.call("POST", other + "/identities", R"({"provider":"auth0","user_id":"secondary1"})", tok), 403,
              mismatch);
  r = h.call("POST", own + "/identities", R"({"provider":"auth0","user_id":"secondary1"})", tok);
  REQUIRE(r.status == 201);
  check_error(h.call("DELETE", other + "/identities/auth0/secondary1", {}, tok), 403, mismatch);
  CHECK(h.call("DELETE", own + "/identities/auth0/secondary1", {}, tok).status == 200);
  // Without any of the accepted scopes: the scope message lists them.
  check_error(h.call("GET", other, {}, h.token("create-client")), 403,
              "Insufficient scope, expected any of: read:users,read:current_user", "insufficient_scope");
}
