// The actions through the C ABI against the auth0-emulator (demo seed: a Google primary
// and a database secondary with the same verified email), with its fault injection.
#include "emulator_fixture.hpp"
#include "plugin_host.hpp"
#include "util.hpp"

#include <jwt/jwt.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_to.hpp>
#include <doctest/doctest.h>

#include <thread>

using namespace a0::test;
namespace json = boost::json;

namespace {

constexpr const char* k_primary = "google-oauth2|115015401343387192604";
constexpr const char* k_secondary = "auth0|5f7c8ec7c33c6c004bbafe82";
const std::string k_inputs = std::string(R"({"primary_user_id":")") + k_primary +
                             R"(","secondary_user_id":")" + k_secondary + "\"}";

std::string config(const emulator& e, const std::string& extra = "") {
  return R"({"domain":")" + e.domain() + R"(","client_id":")" + emulator::demo_client_id +
         R"(","client_secret":")" + emulator::demo_client_secret + R"(","ca_file":")" + e.ca_file() +
         R"(","max_backoff_ms":200)" + extra + "}";
}

json::object user(emulator& e, const std::string& id) {
  const auto state = e.dump();
  for (const auto& u : state.at("users").as_array())
    if (u.at("user_id") == id.c_str()) return u.as_object();
  return {};
}

// Method sequence of the Management API requests (the token request left out).
std::vector<std::string> api_methods(emulator& e) {
  std::vector<std::string> m;
  const auto log = e.request_log();
  for (const auto& r : log) {
    const auto path = json::value_to<std::string>(r.at("path"));
    if (path.rfind("/api/v2/", 0) == 0) m.push_back(json::value_to<std::string>(r.at("method")));
  }
  return m;
}

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
  CHECK(p.at("user_metadata").at("color") == "red");     // primary wins
  CHECK(p.at("user_metadata").at("hobby") == "chess");   // secondary-only key copied
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
  for (auto inputs : {R"({"primary_user_id":"google-oauth2|1","secondary_user_id":"google-oauth2|1"})",
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
  emu.add_fault({{"method", "GET"}, {"path", "/api/v2/users/*"}, {"action", "rate_limit"}, {"times", 1},
                 {"reset_in_s", 0}, {"retry_after_s", 0}});
  emu.add_fault({{"method", "PATCH"}, {"path", "/api/v2/users/*"}, {"action", "status"}, {"status", 503}, {"times", 1}});
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

TEST_CASE("emulator: a failed link after the PATCH reports it; never linked without the merge") {
  emulator emu;
  plugin_host host;
  plugin_instance inst(host, config(emu));
  emu.add_fault({{"method", "PATCH"}, {"path", "/api/v2/users/*"}, {"action", "status"}, {"status", 500}, {"times", 10}});
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
    plugin_instance bad_token(host, R"({"domain":")" + emu.domain() + R"(","token":"not-a-valid-token-SECRET","ca_file":")" +
                                        emu.ca_file() + "\"}");
    auto r = bad_token.run("auth0.get-user", "{}", get);
    CHECK(r.code == WFA_UNAUTHORIZED);
    CHECK(r.http_status == 401);
    CHECK(r.message.find("not-a-valid-token-SECRET") == std::string::npos);
  }
  {
    plugin_instance wrong_secret(host, R"({"domain":")" + emu.domain() + R"(","client_id":")" + emulator::demo_client_id +
                                           R"(","client_secret":"wrong-SECRET","ca_file":")" + emu.ca_file() + "\"}");
    auto r = wrong_secret.run("auth0.get-user", "{}", get);
    CHECK(r.code == WFA_UNAUTHORIZED);
    CHECK(r.message.find("wrong-SECRET") == std::string::npos);
  }
  {
    plugin_instance readonly(host, R"({"domain":")" + emu.domain() +
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

}  // namespace

TEST_CASE("emulator: secondary_token is verified, then links the token's user with its metadata merged") {
  emulator emu;
  plugin_host host;
  plugin_instance inst(host, config(emu));
  const auto token = emu.id_token({{"user_id", k_secondary}});
  emu.clear_log();
  auto r = inst.run("auth0.link-account", R"({"merge_metadata":true,"require_verified_email":true})", token_inputs(token));
  REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
  const auto out = r.json();
  CHECK(out.at("metadata_patched") == true);
  REQUIRE(out.at("profiles").as_array().size() == 2);
  CHECK(out.at("profiles").as_array()[1].at("user_id") == "5f7c8ec7c33c6c004bbafe82");
  auto p = user(emu, k_primary);
  CHECK(p.at("user_metadata").at("hobby") == "chess");     // from the token's user
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

TEST_CASE("emulator: forged, HS256, none, expired, wrong-iss, wrong-aud and unknown-kid tokens send no Management API request") {
  emulator emu;
  plugin_host host;
  plugin_instance inst(host, config(emu));
  const auto before = json::serialize(emu.dump().at("users"));
  // Forged: a token the tenant signed for the primary, its payload rewritten to name the
  // secondary (whose roles an attacker wants copied into the primary).
  const auto signed_token = emu.id_token({{"user_id", k_primary}});
  const auto d1 = signed_token.find('.'), d2 = signed_token.rfind('.');
  json::object forged_claims = json::parse(*a0::jwt::base64url_decode(signed_token.substr(d1 + 1, d2 - d1 - 1))).as_object();
  forged_claims["sub"] = k_secondary;
  const auto forged = signed_token.substr(0, d1 + 1) + emu::base64url_encode(json::serialize(forged_claims)) +
                      signed_token.substr(d2);
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

TEST_CASE("emulator: reset after the unlink DELETE is not resent, the re-read shows it gone") {
  emulator emu;
  plugin_host host;
  plugin_instance inst(host, config(emu));
  REQUIRE(inst.run("auth0.link-account", R"({"merge_metadata":false})", k_inputs).code == WFA_OK);
  emu.clear_log();
  emu.add_fault({{"method", "DELETE"}, {"path", "/api/v2/users/*/identities/*/*"}, {"action", "reset_after"}, {"times", 1}});
  const std::string in = std::string(R"({"primary_user_id":")") + k_primary + R"(","secondary_user_id":")" + k_secondary + "\"}";
  auto r = inst.run("auth0.unlink-account", "{}", in);
  REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
  CHECK(r.json().at("profiles").as_array().size() == 1);
  CHECK(api_methods(emu) == std::vector<std::string>{"DELETE", "GET"});
  CHECK(user(emu, k_primary).at("identities").as_array().size() == 1);
  CHECK_FALSE(user(emu, k_secondary).empty());  // back as a standalone user
  // The DELETE reset before it was applied: still linked, reported as such, not resent.
  REQUIRE(inst.run("auth0.link-account", R"({"merge_metadata":false})", k_inputs).code == WFA_OK);
  emu.clear_log();
  emu.add_fault({{"method", "DELETE"}, {"path", "/api/v2/users/*/identities/*/*"}, {"action", "reset_before"}, {"times", 1}});
  r = inst.run("auth0.unlink-account", "{}", in);
  CHECK(r.code == WFA_UNAVAILABLE);
  CHECK(r.retryable);
  CHECK(r.message.rfind("not unlinked: ", 0) == 0);
  CHECK(r.details_obj().at("unlinked") == false);
  CHECK(api_methods(emu) == std::vector<std::string>{"DELETE", "GET"});
}
