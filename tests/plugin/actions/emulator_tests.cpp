// The actions through the C ABI against the auth0-emulator (demo seed: a Google primary
// and a database secondary with the same verified email), with its fault injection.
#include "demo_tenant.hpp"
#include "emulator_fixture.hpp"
#include "plugin_host.hpp"
#include "util.hpp"

#include <jwt/jwt.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_to.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

using namespace a0::test;
using namespace a0::test::demo;
namespace json = boost::json;

namespace {

void check_no_secret(const std::string& text) {
  for (auto s : {emulator::demo_client_secret, "demo-google-idp-access-token", "Bearer "})
    CHECK_MESSAGE(text.find(s) == std::string::npos, "secret leaked: ", s);
}

}  // namespace

TEST_CASE("emulator: link with merge keeps both users' metadata, primary wins") {
  emulator emu;
  plugin_host host;
  plugin_instance inst(host, config(emu));
  auto r = inst.run("auth0.link-account", R"({"merge_metadata":true,"require_verified_email":true})", k_inputs);
  REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
  auto out = r.json();
  CHECK(out.at("metadata_patched") == true);
  CHECK(out.at("profiles").as_array().size() == 2);
  auto p = user(emu, k_primary);
  CHECK(p.at("user_metadata").at("color") == "red");    // primary wins
  CHECK(p.at("user_metadata").at("hobby") == "chess");  // secondary-only key copied
  CHECK(p.at("app_metadata").at("beta_tester") == true);
  CHECK(json::serialize(p.at("app_metadata").at("roles")) == R"(["Admin"])");  // arrays: primary
  CHECK(user(emu, k_secondary).empty());
  auto methods = api_methods(emu);
  REQUIRE(methods.size() == 4);
  CHECK(methods[2] == "PATCH");
  CHECK(methods[3] == "POST");
  check_no_secret(r.outputs + host.all_logs());
}

TEST_CASE("emulator: link without merge sends only the link request") {
  emulator emu;
  plugin_host host;
  plugin_instance inst(host, config(emu));
  auto r = inst.run("auth0.link-account", R"({"merge_metadata":false})", k_inputs);
  REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
  CHECK(api_methods(emu) == std::vector<std::string>{"POST"});
  CHECK_FALSE(user(emu, k_primary).at("user_metadata").as_object().contains("hobby"));
}

TEST_CASE("emulator: bad input sends no request at all") {
  emulator emu;
  plugin_host host;
  plugin_instance inst(host, config(emu));
  for (auto inputs :
       {R"({"primary_user_id":"google-oauth2|1","secondary_user_id":"google-oauth2|1"})",
        R"({"primary_user_id":"nopipe","secondary_user_id":"auth0|x"})",
        R"({"primary_user_id":"google-oauth2|1","secondary_user_id":"x"})",
        R"({"primary_user_id":"google-oauth2|1","secondary_user_id":"auth0|x","secondary_connection_id":"con_1"})"})
    CHECK(inst.run("auth0.link-account", R"({"merge_metadata":true})", inputs).code == WFA_INVALID_INPUT);
  CHECK(emu.request_log().empty());
}

TEST_CASE("emulator: 429 then success, 503 then success") {
  emulator emu;
  plugin_host host;
  plugin_instance inst(host, config(emu));
  emu.add_fault({{"method", "GET"},
                 {"path", "/api/v2/users/*"},
                 {"action", "rate_limit"},
                 {"times", 1},
                 {"reset_in_s", 0},
                 {"retry_after_s", 0}});
  emu.add_fault(
      {{"method", "PATCH"}, {"path", "/api/v2/users/*"}, {"action", "status"}, {"status", 503}, {"times", 1}});
  auto r = inst.run("auth0.link-account", R"({"merge_metadata":true})", k_inputs);
  REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
  CHECK(user(emu, k_primary).at("user_metadata").at("hobby") == "chess");
}

TEST_CASE("emulator: reset after the PATCH or after the link still ends linked with the merge") {
  for (auto method : {"PATCH", "POST"}) {
    CAPTURE(method);
    emulator emu;
    plugin_host host;
    plugin_instance inst(host, config(emu));
    emu.add_fault({{"method", method}, {"path", "/api/v2/users/*"}, {"action", "reset_after"}, {"times", 1}});
    auto r = inst.run("auth0.link-account", R"({"merge_metadata":true})", k_inputs);
    if (r.code != WFA_OK) {  // the same step re-run repairs
      CHECK(r.retryable);
      r = inst.run("auth0.link-account", R"({"merge_metadata":true})", k_inputs);
    }
    REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
    auto p = user(emu, k_primary);
    CHECK(p.at("identities").as_array().size() == 2);
    CHECK(p.at("user_metadata").at("hobby") == "chess");
  }
}

TEST_CASE("emulator: a failed link after the PATCH reports it, never linked without the merge") {
  emulator emu;
  plugin_host host;
  plugin_instance inst(host, config(emu));
  emu.add_fault(
      {{"method", "PATCH"}, {"path", "/api/v2/users/*"}, {"action", "status"}, {"status", 500}, {"times", 10}});
  auto r = inst.run("auth0.link-account", R"({"merge_metadata":true})", k_inputs);
  CHECK(r.code == WFA_UNAVAILABLE);
  CHECK(user(emu, k_primary).at("identities").as_array().size() == 1);  // not linked
  emu.clear_faults();
  emu.add_fault({{"method", "POST"}, {"path", "/api/v2/users/*"}, {"action", "status"}, {"status", 403}, {"times", 1}});
  r = inst.run("auth0.link-account", R"({"merge_metadata":true})", k_inputs);
  CHECK(r.code == WFA_FORBIDDEN);
  CHECK(r.message.rfind("metadata patched, not linked", 0) == 0);
  CHECK(r.details_obj().at("metadata_patched") == true);
  r = inst.run("auth0.link-account", R"({"merge_metadata":true})", k_inputs);
  REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
  CHECK(r.json().at("metadata_patched") == false);
}

TEST_CASE("emulator: token expiry mid-run is survived") {
  emulator emu;
  emu.set_token_lifetime(1);
  plugin_host host;
  plugin_instance inst(host, config(emu));
  REQUIRE(inst.run("auth0.get-user", "{}", std::string(R"({"user_id":")") + k_primary + "\"}").code == WFA_OK);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  auto r = inst.run("auth0.link-account", R"({"merge_metadata":true})", k_inputs);
  REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
}

TEST_CASE("emulator: an untrusted CA is refused before any request") {
  emulator emu;
  plugin_host host;
  plugin_instance inst(host, R"({"domain":")" + emu.domain() + R"(","client_id":")" + emulator::demo_client_id +
                                 R"(","client_secret":")" + emulator::demo_client_secret + R"(","max_retries":0})");
  auto r = inst.run("auth0.get-user", "{}", std::string(R"({"user_id":")") + k_primary + "\"}");
  CHECK(r.code == WFA_UNAVAILABLE);
  CHECK(emu.request_log().empty());
  check_no_secret(r.message + host.all_logs());
}

TEST_CASE("emulator: a certificate for another host name is refused before any token is sent") {
  emulator emu;
  // "127.1" reaches the emulator (inet_aton's short form of 127.0.0.1) but is a host name
  // its certificate (DNS:localhost, IP:127.0.0.1) does not hold; the CA is trusted.
  const auto port = emu.domain().substr(emu.domain().rfind(':') + 1);
  plugin_host host;
  plugin_instance inst(host, R"({"domain":"127.1:)" + port + R"(","client_id":")" + emulator::demo_client_id +
                                 R"(","client_secret":")" + emulator::demo_client_secret + R"(","ca_file":")" +
                                 emu.ca_file() + R"(","max_retries":0})");
  auto r = inst.run("auth0.link-account", R"({"merge_metadata":true})", k_inputs);
  CHECK(r.code == WFA_UNAVAILABLE);
  CHECK(emu.request_log().empty());
  check_no_secret(r.message + host.all_logs());
  // The same instance settings with the right name work: only the name was wrong.
  plugin_instance good(host, config(emu, R"(,"max_retries":0)"));
  CHECK(good.run("auth0.get-user", "{}", std::string(R"({"user_id":")") + k_primary + R"("})").code == WFA_OK);
}

TEST_CASE("emulator: list_options pages the database connections") {
  emulator emu;
  plugin_host host;
  plugin_instance inst(host, config(emu));
  std::vector<std::string> ids;
  std::string token;
  for (int page = 0; page < 10; ++page) {
    auto r = inst.start_options("auth0.link-account", "/inputs/secondary_connection_id", token).wait();
    REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
    auto out = r.json();
    for (const auto& i : out.at("items").as_array()) ids.push_back(json::value_to<std::string>(i.at("value")));
    if (out.at("next_page_token").is_null()) break;
    token = json::value_to<std::string>(out.at("next_page_token"));
  }
  CHECK(ids == std::vector<std::string>{"con_DemoDatabase0001", "con_DemoDatabase0002", "con_DemoDatabase0003"});
}

TEST_CASE("emulator: refused credentials and missing scopes map to UNAUTHORIZED and FORBIDDEN") {
  emulator emu;
  plugin_host host;
  const std::string get = std::string(R"({"user_id":")") + k_primary + "\"}";
  {
    plugin_instance bad_token(host, R"({"domain":")" + emu.domain() +
                                        R"(","token":"not-a-valid-token-SECRET","ca_file":")" + emu.ca_file() + "\"}");
    auto r = bad_token.run("auth0.get-user", "{}", get);
    CHECK(r.code == WFA_UNAUTHORIZED);
    CHECK(r.http_status == 401);
    CHECK(r.message.find("not-a-valid-token-SECRET") == std::string::npos);
  }
  {
    plugin_instance wrong_secret(host, R"({"domain":")" + emu.domain() + R"(","client_id":")" +
                                           emulator::demo_client_id +
                                           R"(","client_secret":"wrong-SECRET","ca_file":")" + emu.ca_file() + "\"}");
    auto r = wrong_secret.run("auth0.get-user", "{}", get);
    CHECK(r.code == WFA_UNAUTHORIZED);
    CHECK(r.message.find("wrong-SECRET") == std::string::npos);
  }
  {
    plugin_instance readonly(
        host,
        R"({"domain":")" + emu.domain() +
            R"(","client_id":"demo-readonly-client","client_secret":"demo-readonly-secret-not-a-real-secret","ca_file":")" +
            emu.ca_file() + "\"}");
    CHECK(readonly.run("auth0.get-user", "{}", get).code == WFA_OK);
    auto r = readonly.run("auth0.link-account", R"({"merge_metadata":false})", k_inputs);
    CHECK(r.code == WFA_FORBIDDEN);
    CHECK(r.http_status == 403);
    CHECK_FALSE(r.retryable);
  }
  const auto logs = host.all_logs();
  CHECK(logs.find("SECRET") == std::string::npos);
  CHECK(logs.find("demo-readonly-secret") == std::string::npos);
}

// --- secondary_token (link_with) --------------------------------------------------------

namespace {

bool only_jwks_gets(emulator& e) {
  for (const auto& r : e.request_log())
    if (r.at("method") != "GET" || r.at("path") != "/.well-known/jwks.json" || r.at("token") != false) return false;
  return true;
}

std::string token_inputs(const std::string& token) {
  return std::string(R"({"primary_user_id":")") + k_primary + R"(","secondary_token":")" + token + "\"}";
}

json::object& seed_user(json::object& seed, const std::string& id) {
  for (auto& u : seed.at("users").as_array())
    if (u.at("user_id") == id.c_str()) return u.as_object();
  throw std::runtime_error("no user " + id);
}

}  // namespace

TEST_CASE("emulator: secondary_token is verified, then links the token's user with its metadata merged") {
  emulator emu;
  plugin_host host;
  plugin_instance inst(host, config(emu));
  const auto token = emu.id_token({{"user_id", k_secondary}});
  emu.clear_log();
  auto r =
      inst.run("auth0.link-account", R"({"merge_metadata":true,"require_verified_email":true})", token_inputs(token));
  REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
  const auto out = r.json();
  CHECK(out.at("metadata_patched") == true);
  REQUIRE(out.at("profiles").as_array().size() == 2);
  CHECK(out.at("profiles").as_array()[1].at("user_id") == "5f7c8ec7c33c6c004bbafe82");
  auto p = user(emu, k_primary);
  CHECK(p.at("user_metadata").at("hobby") == "chess");  // from the token's user
  CHECK(p.at("app_metadata").at("beta_tester") == true);
  CHECK(user(emu, k_secondary).empty());
  // The JWKS (no bearer) first, then the Management token, GET both, PATCH, and the
  // link POST with link_with.
  const auto log = emu.request_log();
  REQUIRE(log.size() == 6);
  CHECK(log[0].at("method") == "GET");
  CHECK(log[0].at("path") == "/.well-known/jwks.json");
  CHECK(log[0].at("token") == false);
  CHECK(log[1].at("path") == "/oauth/token");
  CHECK(api_methods(emu) == std::vector<std::string>{"GET", "GET", "PATCH", "POST"});
  CHECK((r.outputs + r.message + host.all_logs()).find(token) == std::string::npos);
  check_no_secret(r.outputs + host.all_logs());
}

TEST_CASE(
    "emulator: forged, HS256, none, expired, wrong-iss, wrong-aud and unknown-kid tokens send no Management API "
    "request") {
  emulator emu;
  plugin_host host;
  plugin_instance inst(host, config(emu));
  const auto before = json::serialize(emu.dump().at("users"));
  // Forged: a token the tenant signed for the primary, its payload rewritten to name the
  // secondary (whose roles an attacker wants copied into the primary).
  const auto signed_token = emu.id_token({{"user_id", k_primary}});
  const auto d1 = signed_token.find('.'), d2 = signed_token.rfind('.');
  json::object forged_claims =
      json::parse(*a0::jwt::base64url_decode(signed_token.substr(d1 + 1, d2 - d1 - 1))).as_object();
  forged_claims["sub"] = k_secondary;
  const auto forged =
      signed_token.substr(0, d1 + 1) + emu::base64url_encode(json::serialize(forged_claims)) + signed_token.substr(d2);
  struct bad_token {
    const char* what;
    std::string token;
    std::string message;
    bool jwks_allowed;  ///< refused after the JWKS GET (signature or claims) or before any request
  };
  const std::string iss = "https://" + emu.domain() + "/";
  const bad_token cases[] = {
      {"forged", forged, "secondary_token: has a signature that does not verify against the tenant's JWKS", true},
      {"HS256 keyed with the public key", emu.id_token({{"user_id", k_secondary}, {"alg", "HS256"}}),
       "secondary_token: alg 'HS256' is not accepted (RS256 only)", false},
      {"alg none", emu.id_token({{"user_id", k_secondary}, {"alg", "none"}}),
       "secondary_token: alg 'none' is not accepted (RS256 only)", false},
      {"expired", emu.id_token({{"user_id", k_secondary}, {"exp_in_s", -3600}}),
       "secondary_token: has expired (exp is in the past)", true},
      {"wrong iss", emu.id_token({{"user_id", k_secondary}, {"iss", "https://evil.example/"}}),
       "secondary_token: was not issued by this tenant (iss must be '" + iss + "')", true},
      {"wrong aud", emu.id_token({{"user_id", k_secondary}, {"aud", "another-app"}}),
       "secondary_token: is not for this application (aud must be the client id 'demo-link-client')", true},
      {"unknown kid", emu.id_token({{"user_id", k_secondary}, {"kid", "rotated-away"}}),
       "secondary_token: is signed with a key ('rotated-away') the tenant's JWKS does not hold", true},
  };
  int jwks_gets = 0;
  for (const auto& c : cases) {
    INFO(c.what);
    emu.clear_log();
    auto r = inst.run("auth0.link-account", R"({"merge_metadata":true})", token_inputs(c.token));
    CHECK(r.code == WFA_INVALID_INPUT);
    CHECK(r.message == c.message);
    CHECK_FALSE(r.retryable);
    CHECK(r.message.find(c.token) == std::string::npos);
    // No Management API request; at most the tenant's public JWKS (GET, no bearer).
    CHECK(api_methods(emu).empty());
    CHECK(only_jwks_gets(emu));
    if (!c.jwks_allowed) CHECK(emu.request_log().empty());
    jwks_gets += static_cast<int>(emu.request_log().size());
    // Primary and secondary unchanged (compared as a flag: the users hold an IdP token
    // that a failure report must not print).
    const bool unchanged = json::serialize(emu.dump().at("users")) == before;
    CHECK(unchanged);
  }
  CHECK(jwks_gets == 1);  // cached per instance; the unknown kid came right after the fetch
  CHECK(host.all_logs().find(forged) == std::string::npos);
}

TEST_CASE("emulator: with a fixed token, a secondary_token is checked against that token's azp, refused without one") {
  // Auth0 compares the ID token's aud with the calling token's azp: with a fixed token
  // there is no client id, so the azp comes from the token, and an opaque token leaves
  // nothing to compare with (every ID token of the tenant, for any app, would pass).
  emulator emu;
  plugin_host host;
  const auto secondary = emu.id_token({{"user_id", k_secondary}});  // aud demo-link-client
  const auto fixed = [&](const std::string& token) {
    return R"({"domain":")" + emu.domain() + R"(","token":")" + token + R"(","ca_file":")" + emu.ca_file() + "\"}";
  };
  {
    plugin_instance opaque(host, fixed("opaque-fixed-SECRET-1"));
    emu.clear_log();
    auto r = opaque.run("auth0.link-account", R"({"merge_metadata":true})", token_inputs(secondary));
    CHECK(r.code == WFA_INVALID_INPUT);
    CHECK(r.message.starts_with("secondary_token: cannot be checked with this connection"));
    CHECK(emu.request_log().empty());
  }
  const auto header = emu::base64url_encode(R"({"alg":"RS256","typ":"JWT"})");
  const auto jwt_like = [&](const std::string& azp) {
    return header + "." + emu::base64url_encode(json::serialize(json::object{{"azp", azp}})) + ".c2ln";
  };
  {
    plugin_instance other_app(host, fixed(jwt_like("another-m2m-app")));
    emu.clear_log();
    auto r = other_app.run("auth0.link-account", R"({"merge_metadata":true})", token_inputs(secondary));
    CHECK(r.code == WFA_INVALID_INPUT);
    CHECK(r.message == "secondary_token: is not for this application (aud must be the client id 'another-m2m-app')");
    CHECK(api_methods(emu).empty());
    CHECK(only_jwks_gets(emu));
  }
  {
    // The azp matches: the token passes our check and reaches the tenant (which does
    // not know this made-up bearer: 401).
    plugin_instance same_app(host, fixed(jwt_like(emulator::demo_client_id)));
    emu.clear_log();
    auto r = same_app.run("auth0.link-account", R"({"merge_metadata":false})", token_inputs(secondary));
    CHECK(r.code == WFA_UNAUTHORIZED);
    CHECK_FALSE(api_methods(emu).empty());
  }
  CHECK(user(emu, k_secondary).at("user_id") == k_secondary);  // never linked
}

TEST_CASE("emulator: the emulator itself refuses a link_with the plugin would refuse") {
  // The same checks one layer down (auth0-api.md §2), straight at the link endpoint.
  emulator emu;
  auto c = emu.client();
  const auto bearer = "Bearer " + emu.token();
  auto link = [&](const std::string& tok) {
    return c.request("POST", "/api/v2/users/google-oauth2%7C115015401343387192604/identities",
                     json::serialize(json::object{{"link_with", tok}}),
                     {{"authorization", bearer}, {"content-type", "application/json"}});
  };
  auto r = link(emu.id_token({{"user_id", k_secondary}, {"aud", "another-app"}}));
  CHECK(r.status == 400);
  CHECK(r.json().at("message") == "JWT (link_with) aud must match the caller's azp.");
  r = link(emu.id_token({{"user_id", k_secondary}}));
  CHECK(r.status == 201);
}

TEST_CASE("emulator: a valid secondary_connection_id reaches the link body") {
  emulator emu;
  plugin_host host;
  plugin_instance inst(host, config(emu));
  auto with_connection = [&](const char* id) {
    return std::string(R"({"primary_user_id":")") + k_primary + R"(","secondary_user_id":")" + k_secondary +
           R"(","secondary_connection_id":")" + id + "\"}";
  };
  // A database connection the secondary is not in: the emulator, reading connection_id
  // from the body, does not find the secondary there.
  auto r = inst.run("auth0.link-account", R"({"merge_metadata":false})", with_connection("con_DemoDatabase0002"));
  CHECK(r.code == WFA_INVALID_INPUT);
  CHECK(r.http_status == 400);
  CHECK(r.message.find("Provided secondary account not found.") != std::string::npos);
  // A pattern-valid id the tenant does not have.
  r = inst.run("auth0.link-account", R"({"merge_metadata":false})", with_connection("con_AAAAAAAAAAAAAAAA"));
  CHECK(r.message.find("The provider/connection is not configured.") != std::string::npos);
  CHECK(user(emu, k_primary).at("identities").as_array().size() == 1);
  // Its own connection: linked.
  r = inst.run("auth0.link-account", R"({"merge_metadata":false})", with_connection("con_DemoDatabase0001"));
  REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
  CHECK(user(emu, k_primary).at("identities").as_array().size() == 2);
}

TEST_CASE(
    "emulator: require_verified_email refuses missing, unverified and string-verified emails, links on a "
    "case-insensitive match") {
  emulator emu;
  plugin_host host;
  plugin_instance inst(host, config(emu));
  struct variant {
    const char* reason;  ///< "" = links
    std::function<void(json::object& primary, json::object& secondary)> edit;
  };
  const variant variants[] = {
      {"primary_email_missing", [](json::object& p, json::object&) { p.erase("email"); }},
      {"secondary_email_missing", [](json::object&, json::object& s) { s.erase("email"); }},
      {"primary_email_unverified", [](json::object& p, json::object&) { p["email_verified"] = false; }},
      {"secondary_email_unverified", [](json::object&, json::object& s) { s["email_verified"] = "true"; }},
      {"primary_email_unverified", [](json::object& p, json::object&) { p.erase("email_verified"); }},
      {"emails_differ", [](json::object&, json::object& s) { s["email"] = "jane.doe@example.org"; }},
      {"",
       [](json::object& p, json::object& s) {
         p["email"] = "Jane.Doe@Example.COM";
         s["email"] = "jane.doe@EXAMPLE.com";
       }},
  };
  for (const auto& v : variants) {
    INFO(v.reason);
    auto seed = demo_seed();
    v.edit(seed_user(seed, k_primary), seed_user(seed, k_secondary));
    emu.seed(seed);
    emu.clear_log();
    auto r = inst.run("auth0.link-account", R"({"merge_metadata":true,"require_verified_email":true})", k_inputs);
    if (*v.reason == '\0') {
      CHECK_MESSAGE(r.code == WFA_OK, r.message);
      CHECK(user(emu, k_primary).at("identities").as_array().size() == 2);
      continue;
    }
    CHECK(r.code == WFA_CONFLICT);
    CHECK(r.details_obj().at("reason") == v.reason);
    CHECK(r.message.find("require_verified_email: ") == 0);
    CHECK(api_methods(emu) == std::vector<std::string>{"GET", "GET"});  // refused before any write
    CHECK(user(emu, k_primary).at("identities").as_array().size() == 1);
  }
}

TEST_CASE("emulator: bad input of every kind, for all four actions: invalid_input, a clear message, no request") {
  emulator emu;
  plugin_host host;
  plugin_instance inst(host, config(emu));
  const std::string P = k_primary, S = k_secondary;
  const std::string jwt_none = "eyJhbGciOiJub25lIiwia2lkIjoiayJ9.eyJzdWIiOiJhdXRoMHwyMjIifQ.c2ln";
  struct bad {
    const char* action;
    std::string options, inputs, message;  ///< message: what the error starts with
  };
  const std::string ok_link = R"({"primary_user_id":")" + P + R"(","secondary_user_id":")" + S + "\"}";
  const std::string merge = R"({"merge_metadata":true})";
  const std::string L = "auth0.link-account", U = "auth0.unlink-account", G = "auth0.get-user",
                    M = "auth0.update-user-metadata";
  const bad cases[] = {
      // link-account options
      {L.c_str(), "{}", ok_link, "merge_metadata: is required"},
      {L.c_str(), R"({"merge_metadata":"yes"})", ok_link, "merge_metadata: is required (a boolean)"},
      {L.c_str(), R"({"merge_metadata":true,"include_idp_tokens":1})", ok_link,
       "include_idp_tokens: must be a boolean"},
      {L.c_str(), R"({"merge_metadata":true,"require_verified_email":"true"})", ok_link,
       "require_verified_email: must be a boolean"},
      {L.c_str(), R"({"merge_metadata":true,"dry_run":1})", ok_link, "dry_run: must be a boolean"},
      {L.c_str(), R"({"merge_metadata":true,"arrays":"zip"})", ok_link, "arrays"},
      {L.c_str(), R"({"merge_metadata":true,"merge_exclude":["/profile"]})", ok_link, "merge_exclude"},
      {L.c_str(), R"({"merge_metadata":true,"merge_exclude":"/app_metadata"})", ok_link, "merge_exclude"},
      {L.c_str(), R"({"merge_metadata":true,"typo":1})", ok_link, "options.typo: is not a known field"},
      {L.c_str(), "[1]", ok_link, "options_json: must be a JSON object"},
      // link-account inputs
      {L.c_str(), merge, R"({"secondary_user_id":")" + S + "\"}", "primary_user_id: is required"},
      {L.c_str(), merge, R"({"primary_user_id":"nopipe","secondary_user_id":")" + S + "\"}",
       "primary_user_id: must be a full user id"},
      {L.c_str(), merge, R"({"primary_user_id":42,"secondary_user_id":")" + S + "\"}",
       "primary_user_id: must be a string"},
      {L.c_str(), merge, R"({"primary_user_id":"","secondary_user_id":")" + S + "\"}",
       "primary_user_id: must not be empty"},
      {L.c_str(), merge, R"({"primary_user_id":")" + P + "\"}",
       "secondary_user_id: is required unless secondary_token is given"},
      {L.c_str(), merge, R"({"primary_user_id":")" + P + R"(","secondary_user_id":"abc"})",
       "secondary_provider: is required"},
      {L.c_str(), merge,
       R"({"primary_user_id":")" + P + R"(","secondary_user_id":"abc","secondary_provider":"myspace"})",
       "secondary_provider: 'myspace' is not a provider"},
      {L.c_str(), merge,
       R"({"primary_user_id":")" + P + R"(","secondary_user_id":"google-oauth2|1","secondary_provider":"auth0"})",
       "secondary_user_id: is a full id of provider 'google-oauth2'"},
      {L.c_str(), merge, R"({"primary_user_id":")" + P + R"(","secondary_user_id":")" + P + "\"}",
       "secondary_user_id: is the primary itself"},
      {L.c_str(), merge, R"({"primary_user_id":")" + P + R"(","secondary_user_id":"..","secondary_provider":"auth0"})",
       "secondary_user_id: '..' is not a user id"},
      {L.c_str(), merge,
       R"({"primary_user_id":")" + P + R"(","secondary_user_id":")" + S + R"(","secondary_connection_id":"con_short"})",
       "secondary_connection_id: must match"},
      {L.c_str(), merge,
       R"({"primary_user_id":")" + P + R"(","secondary_user_id":")" + S + R"(","secondary_token":")" + jwt_none + "\"}",
       "secondary_user_id: must not be given together with secondary_token"},
      {L.c_str(), merge, R"({"primary_user_id":")" + P + R"(","secondary_token":"not-a-jwt"})",
       "secondary_token: is not a JWT"},
      {L.c_str(), merge, R"({"primary_user_id":")" + P + R"(","secondary_token":")" + jwt_none + "\"}",
       "secondary_token: alg 'none' is not accepted"},
      {L.c_str(), merge, R"({"primary_user_id":")" + P + R"(","secondary_user_id":")" + S + R"(","extra":1})",
       "inputs.extra: is not a known field"},
      {L.c_str(), merge, "not json", "inputs_json: must be a JSON object"},
      // unlink-account
      {U.c_str(), R"({"include_idp_tokens":"x"})", ok_link, "include_idp_tokens: must be a boolean"},
      {U.c_str(), R"({"merge_metadata":true})", ok_link, "options.merge_metadata: is not a known field"},
      {U.c_str(), "{}", R"({"secondary_user_id":")" + S + "\"}", "primary_user_id: is required"},
      {U.c_str(), "{}", R"({"primary_user_id":"x","secondary_user_id":")" + S + "\"}",
       "primary_user_id: must be a full user id"},
      {U.c_str(), "{}", R"({"primary_user_id":")" + P + "\"}", "secondary_user_id: is required"},
      {U.c_str(), "{}", R"({"primary_user_id":")" + P + R"(","secondary_user_id":")" + P + "\"}",
       "secondary_user_id: is the primary's own identity"},
      {U.c_str(), "{}", R"({"primary_user_id":")" + P + R"(","secondary_user_id":"auth0|.."})",
       "secondary_user_id: '..' is not a user id"},
      {U.c_str(), "{}", R"({"primary_user_id":")" + P + R"(","secondary_user_id":"x","secondary_provider":"nope"})",
       "secondary_provider: 'nope' is not a provider"},
      {U.c_str(), "{}", ok_link + "x", "inputs_json: must be a JSON object"},
      // get-user
      {G.c_str(), "{}", "{}", "user_id: is required"},
      {G.c_str(), "{}", R"({"user_id":""})", "user_id: must not be empty"},
      {G.c_str(), "{}", R"({"user_id":"."})", "user_id: must be a full user id"},
      {G.c_str(), "{}", R"({"user_id":".."})", "user_id: must be a full user id"},
      {G.c_str(), "{}", R"({"user_id":"nopipe"})", "user_id: must be a full user id"},
      {G.c_str(), "{}", R"({"user_id":7})", "user_id: must be a string"},
      {G.c_str(), "{}", R"({"user_id":")" + P + R"(","fields":"email"})", "fields: must be an array"},
      {G.c_str(), "{}", R"({"user_id":")" + P + R"(","fields":["a,b"]})", "fields: each item must be a field name"},
      {G.c_str(), R"({"include_idp_tokens":"no"})", R"({"user_id":")" + P + "\"}",
       "include_idp_tokens: must be a boolean"},
      {G.c_str(), "{}", R"({"user_id":")" + P + R"(","id":1})", "inputs.id: is not a known field"},
      // update-user-metadata
      {M.c_str(), "{}", R"({"user_id":"..","user_metadata":{"a":1}})", "user_id: must be a full user id"},
      {M.c_str(), "{}", R"({"user_id":")" + P + "\"}", "user_metadata: is required (an object)"},
      {M.c_str(), "{}", R"({"user_id":")" + P + R"(","user_metadata":"x"})", "user_metadata: is required (an object)"},
      {M.c_str(), "{}", R"({"user_id":")" + P + R"(","user_metadata":{}})",
       "user_metadata: must not be empty ({} wipes all metadata)"},
      {M.c_str(), "{}", R"({"user_id":")" + P + R"(","user_metadata":{"a.b":1}})",
       "user_metadata: key 'a.b' at /user_metadata is not allowed"},
      {M.c_str(), "{}", R"({"user_id":")" + P + R"(","user_metadata":{"x":{"$set":1}}})",
       "user_metadata: key '$set' at /user_metadata/x"},
      {M.c_str(), R"({"dry_run":true})", R"({"user_id":")" + P + R"(","user_metadata":{"a":1}})",
       "options.dry_run: is not a known field"},
      // not an action of this plugin
      {"auth0.delete-user", "{}", R"({"user_id":")" + P + "\"}",
       "action_id: 'auth0.delete-user' is not an action of this plugin"},
  };
  emu.clear_log();
  for (const auto& c : cases) {
    INFO(c.action);
    CAPTURE(c.options);
    CAPTURE(c.inputs);
    auto r = inst.run(c.action, c.options, c.inputs);
    CHECK(r.code == WFA_INVALID_INPUT);
    CHECK_FALSE(r.retryable);
    CHECK_MESSAGE(r.message.rfind(c.message, 0) == 0, r.message);
  }
  CHECK(emu.request_log().empty());  // not even a token request
  CHECK(emu.counters().at("requests") == 0);
}

TEST_CASE("emulator: reset after the PATCH: the first run leaves metadata patched and not linked, the re-run links") {
  emulator emu;
  plugin_host host;
  plugin_instance inst(host, config(emu, R"(,"max_retries":0)"));
  // Every PATCH attempt is applied, then its connection reset (the pool resends an
  // idempotent request once when a reused connection fails, so one fault would be healed
  // within the run).
  emu.add_fault({{"method", "PATCH"}, {"path", "/api/v2/users/*"}, {"action", "reset_after"}});
  auto r = inst.run("auth0.link-account", R"({"merge_metadata":true})", k_inputs);
  emu.clear_faults();
  CHECK(r.code == WFA_UNAVAILABLE);
  CHECK(r.retryable);
  CHECK(r.details_obj().at("metadata_patched").is_null());  // applied or not: the answer never came
  CHECK(r.details_obj().at("linked") == false);
  // Intermediate state: the PATCH was applied, the link never sent.
  auto p = user(emu, k_primary);
  CHECK(p.at("user_metadata").at("hobby") == "chess");
  CHECK(p.at("identities").as_array().size() == 1);
  CHECK_FALSE(user(emu, k_secondary).empty());
  const auto methods = api_methods(emu);
  CHECK(std::count(methods.begin(), methods.end(), "POST") == 0);  // never linked without the merge
  CHECK(std::count(methods.begin(), methods.end(), "PATCH") >= 1);
  // The re-run: nothing left to PATCH, links.
  r = inst.run("auth0.link-account", R"({"merge_metadata":true})", k_inputs);
  REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
  CHECK(r.json().at("metadata_patched") == false);
  p = user(emu, k_primary);
  CHECK(p.at("identities").as_array().size() == 2);
  CHECK(p.at("user_metadata").at("hobby") == "chess");
  CHECK(p.at("user_metadata").at("color") == "red");
}

TEST_CASE("emulator: reset after the link POST: the same run re-reads and ends linked with the merge") {
  emulator emu;
  plugin_host host;
  plugin_instance inst(host, config(emu));
  emu.add_fault({{"method", "POST"}, {"path", "/api/v2/users/*/identities"}, {"action", "reset_after"}, {"times", 1}});
  auto r = inst.run("auth0.link-account", R"({"merge_metadata":true})", k_inputs);
  REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
  CHECK(r.json().at("metadata_patched") == true);
  CHECK(r.json().at("profiles").as_array().size() == 2);
  auto p = user(emu, k_primary);
  CHECK(p.at("identities").as_array().size() == 2);
  CHECK(p.at("user_metadata").at("hobby") == "chess");
  // GET both, PATCH, the POST once (reset), the re-read.
  CHECK(api_methods(emu) == std::vector<std::string>{"GET", "GET", "PATCH", "POST", "GET"});
}

TEST_CASE("emulator: reset after the unlink DELETE is not resent, the re-read shows it gone") {
  emulator emu;
  plugin_host host;
  plugin_instance inst(host, config(emu));
  REQUIRE(inst.run("auth0.link-account", R"({"merge_metadata":false})", k_inputs).code == WFA_OK);
  emu.clear_log();
  emu.add_fault(
      {{"method", "DELETE"}, {"path", "/api/v2/users/*/identities/*/*"}, {"action", "reset_after"}, {"times", 1}});
  const std::string in =
      std::string(R"({"primary_user_id":")") + k_primary + R"(","secondary_user_id":")" + k_secondary + "\"}";
  auto r = inst.run("auth0.unlink-account", "{}", in);
  REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
  CHECK(r.json().at("profiles").as_array().size() == 1);
  CHECK(api_methods(emu) == std::vector<std::string>{"DELETE", "GET"});
  CHECK(user(emu, k_primary).at("identities").as_array().size() == 1);
  CHECK_FALSE(user(emu, k_secondary).empty());  // back as a standalone user
  // The DELETE reset before it was applied: still linked, reported as such, not resent.
  REQUIRE(inst.run("auth0.link-account", R"({"merge_metadata":false})", k_inputs).code == WFA_OK);
  emu.clear_log();
  emu.add_fault(
      {{"method", "DELETE"}, {"path", "/api/v2/users/*/identities/*/*"}, {"action", "reset_before"}, {"times", 1}});
  r = inst.run("auth0.unlink-account", "{}", in);
  CHECK(r.code == WFA_UNAVAILABLE);
  CHECK(r.retryable);
  CHECK(r.message.rfind("not unlinked: ", 0) == 0);
  CHECK(r.details_obj().at("unlinked") == false);
  CHECK(api_methods(emu) == std::vector<std::string>{"DELETE", "GET"});
}
