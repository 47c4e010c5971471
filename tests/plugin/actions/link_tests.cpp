// The actions end to end through the C ABI against the fake tenant: merge + link
// sequence, options, error mapping, faults, concurrency, secrets.
#include "fake_tenant.hpp"
#include "plugin_host.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <doctest/doctest.h>

#include <cctype>
#include <chrono>
#include <clocale>
#include <cstdlib>
#include <fstream>

using namespace a0::test;
namespace json = boost::json;

namespace {

constexpr const char* k_link = "auth0.link-account";
const std::string k_inputs = R"({"primary_user_id":"google-oauth2|111","secondary_user_id":"auth0|222"})";

json::object obj(std::string_view s) { return json::parse(s).as_object(); }

void seed(fake_tenant& t) {
  t.put_user(make_user("google-oauth2|111", "Ann@Example.com", true, obj(R"({"color":"red","tags":["a"]})")));
  t.put_user(make_user("auth0|222", "ann@example.com", true, obj(R"({"color":"blue","lang":"fr","tags":["b"]})"),
                       obj(R"({"plan":"pro"})")));
}

std::vector<std::string> writes(fake_tenant& t) {
  std::vector<std::string> w;
  for (const auto& r : t.server().requests())
    if (r.method != "GET" && r.target != "/oauth/token") w.push_back(r.method);
  return w;
}

void check_no_secret(const std::string& text) {
  for (auto s : {"TOP-SECRET", "mgmt-token-", "idp-access-token", "idp-refresh-token"})
    CHECK_MESSAGE(text.find(s) == std::string::npos, "secret leaked: ", s, " in ", text);
}

}  // namespace

TEST_CASE("link with merge: GET both, PATCH only the changed keys, then link, outputs shaped") {
  plugin_host host;
  fake_tenant t;
  seed(t);
  plugin_instance inst(host, t.config());
  auto r = inst.run(k_link, R"({"merge_metadata":true})", k_inputs);
  REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
  auto out = r.json();
  CHECK(out.at("metadata_patched") == true);
  CHECK(out.at("dry_run") == false);
  CHECK(out.at("primary_user_id") == "google-oauth2|111");
  CHECK(json::serialize(out.at("merged_keys")) == R"(["/user_metadata/lang","/app_metadata/plan"])");
  CHECK(json::serialize(out.at("patch")) == R"({"user_metadata":{"lang":"fr"},"app_metadata":{"plan":"pro"}})");
  auto& profiles = out.at("profiles").as_array();
  REQUIRE(profiles.size() == 2);
  CHECK(profiles[1].at("provider") == "auth0");
  CHECK(profiles[1].at("user_id") == "222");
  CHECK_FALSE(profiles[0].as_object().contains("access_token"));
  CHECK_FALSE(profiles[1].at("profileData").as_object().contains("nickname"));
  CHECK(writes(t) == std::vector<std::string>{"PATCH", "POST"});
  CHECK(t.requests("GET", "/api/v2/users/") == 2);
  auto p = *t.user("google-oauth2|111");
  CHECK(json::serialize(p.at("user_metadata")) == R"({"color":"red","tags":["a"],"lang":"fr"})");
  CHECK(json::serialize(p.at("app_metadata")) == R"({"plan":"pro"})");
  CHECK_FALSE(t.user("auth0|222"));
  check_no_secret(r.outputs + host.all_logs());
}

TEST_CASE("link without merge sends only the link request, include_idp_tokens keeps tokens") {
  plugin_host host;
  fake_tenant t;
  seed(t);
  plugin_instance inst(host, t.config());
  auto r =
      inst.run(k_link, R"({"merge_metadata":false,"include_idp_tokens":true})",
               R"({"primary_user_id":"google-oauth2|111","secondary_user_id":"222","secondary_provider":"auth0"})");
  REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
  CHECK(t.requests("GET") == 0);
  CHECK(writes(t) == std::vector<std::string>{"POST"});
  auto out = r.json();
  CHECK(out.at("metadata_patched") == false);
  CHECK(out.at("profiles").as_array()[0].at("access_token") == "idp-access-token-SECRET");
  CHECK(t.user("google-oauth2|111")->at("user_metadata").as_object().size() == 2);  // untouched
}

TEST_CASE("dry run fetches and merges but writes nothing") {
  plugin_host host;
  fake_tenant t;
  seed(t);
  plugin_instance inst(host, t.config());
  auto r = inst.run(k_link,
                    R"({"merge_metadata":true,"dry_run":true,"arrays":"union","merge_exclude":["/app_metadata/plan"]})",
                    k_inputs);
  REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
  auto out = r.json();
  CHECK(out.at("dry_run") == true);
  CHECK(out.at("metadata_patched") == false);
  CHECK(json::serialize(out.at("patch")) == R"({"user_metadata":{"tags":["a","b"],"lang":"fr"}})");
  CHECK(out.at("profiles").as_array().size() == 1);
  CHECK(writes(t).empty());
  CHECK(t.user("auth0|222"));
}

TEST_CASE("require_verified_email refuses before any write and says why") {
  plugin_host host;
  fake_tenant t;
  seed(t);
  t.put_user(make_user("auth0|333", "ann@example.com", false));
  t.put_user(make_user("auth0|444", "bob@example.com", true));
  plugin_instance inst(host, t.config());
  const std::string opts = R"({"merge_metadata":true,"require_verified_email":true})";
  auto r = inst.run(k_link, opts, R"({"primary_user_id":"google-oauth2|111","secondary_user_id":"auth0|333"})");
  CHECK(r.code == WFA_CONFLICT);
  CHECK(r.message.find("not verified") != std::string::npos);
  CHECK(r.details_obj().at("reason") == "secondary_email_unverified");
  r = inst.run(k_link, opts, R"({"primary_user_id":"google-oauth2|111","secondary_user_id":"auth0|444"})");
  CHECK(r.code == WFA_CONFLICT);
  CHECK(r.details_obj().at("reason") == "emails_differ");
  CHECK(writes(t).empty());
  // Same email up to ASCII case, both verified: linked.
  r = inst.run(k_link, opts, k_inputs);
  CHECK_MESSAGE(r.code == WFA_OK, r.message);
}

// Behaviour kept from when every std::invalid_argument was bad input: the merge's refusal
// (merge::invalid_argument) is turned into the actions' input_error.
TEST_CASE("metadata that is not a JSON object is refused as input, before any write") {
  plugin_host host;
  fake_tenant t;
  seed(t);
  auto odd = make_user("auth0|555", "ann@example.com", true);
  odd["user_metadata"] = "not an object";
  t.put_user(odd);
  plugin_instance inst(host, t.config());
  auto r = inst.run(k_link, R"({"merge_metadata":true})",
                    R"({"primary_user_id":"google-oauth2|111","secondary_user_id":"auth0|555"})");
  CHECK(r.code == WFA_INVALID_INPUT);
  CHECK(r.message == "secondary user: user_metadata is not a JSON object");
  CHECK(writes(t).empty());
}

TEST_CASE("an already linked secondary is a success without any write") {
  plugin_host host;
  fake_tenant t;
  seed(t);
  plugin_instance inst(host, t.config());
  REQUIRE(inst.run(k_link, R"({"merge_metadata":true})", k_inputs).code == WFA_OK);
  const auto before = writes(t).size();
  auto again = inst.run(k_link, R"({"merge_metadata":true})", k_inputs);
  REQUIRE_MESSAGE(again.code == WFA_OK, again.message);
  CHECK(again.json().at("metadata_patched") == false);
  CHECK(again.json().at("profiles").as_array().size() == 2);
  CHECK(writes(t).size() == before);
  // Without merge the 409 "already exists" is resolved by re-reading the primary.
  auto plain = inst.run(k_link, R"({"merge_metadata":false})", k_inputs);
  REQUIRE_MESSAGE(plain.code == WFA_OK, plain.message);
  CHECK(plain.json().at("profiles").as_array().size() == 2);
}

TEST_CASE("API errors map to the ABI codes") {
  plugin_host host;
  fake_tenant t;
  seed(t);
  plugin_instance inst(host, t.config());
  auto r = inst.run("auth0.get-user", "{}", R"({"user_id":"auth0|missing"})");
  CHECK(r.code == WFA_NOT_FOUND);
  CHECK(r.http_status == 404);
  r = inst.run(k_link, R"({"merge_metadata":true})",
               R"({"primary_user_id":"auth0|missing","secondary_user_id":"auth0|222"})");
  CHECK(r.code == WFA_NOT_FOUND);
  r = inst.run(k_link, R"({"merge_metadata":true})",
               R"({"primary_user_id":"google-oauth2|111","secondary_user_id":"auth0|missing"})");
  CHECK(r.code == WFA_NOT_FOUND);
  CHECK(writes(t).empty());
  t.add_fault(
      {"GET", "/api/v2/users/", "", false,
       reply(
           403,
           R"({"statusCode":403,"error":"Forbidden","message":"Insufficient scope, expected any of: read:users","errorCode":"insufficient_scope"})")});
  r = inst.run("auth0.get-user", "{}", R"({"user_id":"auth0|222"})");
  CHECK(r.code == WFA_FORBIDDEN);
  CHECK(r.message.find("Insufficient scope") != std::string::npos);
  for (int i = 0; i < 4; ++i)
    t.add_fault(
        {"GET", "/api/v2/users/", "", false,
         reply(429, R"({"statusCode":429,"error":"Too Many Requests","message":"Global limit has been reached"})")});
  r = inst.run("auth0.get-user", "{}", R"({"user_id":"auth0|222"})");
  CHECK(r.code == WFA_RATE_LIMITED);
  CHECK(r.retryable);
  for (int i = 0; i < 4; ++i)
    t.add_fault({"GET", "/api/v2/users/", "", false,
                 reply(503, R"({"statusCode":503,"error":"Service Unavailable","message":"down"})")});
  r = inst.run("auth0.get-user", "{}", R"({"user_id":"auth0|222"})");
  CHECK(r.code == WFA_UNAVAILABLE);
  CHECK(r.retryable);
  // The link endpoint's 400 (e.g. provider not configured) is an input error, nothing linked.
  t.add_fault(
      {"POST", "/api/v2/users/", "/identities", false,
       reply(400,
             R"({"statusCode":400,"error":"Bad Request","message":"The provider/connection is not configured."})")});
  r = inst.run(k_link, R"({"merge_metadata":false})", k_inputs);
  CHECK(r.code == WFA_INVALID_INPUT);
  CHECK(r.http_status == 400);
  // Wrong client secret: the token endpoint refuses.
  plugin_instance wrong(host, R"({"domain":")" + t.domain() +
                                  R"(","client_id":"cid","client_secret":"nope","ca_file":")" + t.ca_file() + "\"}");
  r = wrong.run("auth0.get-user", "{}", R"({"user_id":"auth0|222"})");
  CHECK(r.code == WFA_UNAUTHORIZED);
  check_no_secret(host.all_logs());
}

TEST_CASE("429 then success and 503 then success complete the merge and the link") {
  plugin_host host;
  fake_tenant t;
  seed(t);
  t.add_fault(
      {"GET", "/api/v2/users/auth0|222", "", false,
       reply(429, R"({"statusCode":429,"error":"Too Many Requests","message":"slow down"})", {{"Retry-After", "0"}})});
  t.add_fault({"PATCH", "/api/v2/users/", "", false,
               reply(503, R"({"statusCode":503,"error":"Service Unavailable","message":"busy"})")});
  plugin_instance inst(host, t.config());
  auto r = inst.run(k_link, R"({"merge_metadata":true})", k_inputs);
  REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
  CHECK(r.json().at("metadata_patched") == true);
  CHECK(t.user("google-oauth2|111")->at("user_metadata").as_object().contains("lang"));
}

TEST_CASE("connection reset after the PATCH was applied: retried, then linked with the merge") {
  plugin_host host;
  fake_tenant t;
  seed(t);
  t.add_fault({"PATCH", "/api/v2/users/", "", true, reply::dropped()});
  plugin_instance inst(host, t.config());
  auto r = inst.run(k_link, R"({"merge_metadata":true})", k_inputs);
  REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
  CHECK(t.requests("PATCH") == 2);
  CHECK(t.user("google-oauth2|111")->at("app_metadata").at("plan") == "pro");
  CHECK(t.user("google-oauth2|111")->at("identities").as_array().size() == 2);
}

TEST_CASE("connection reset after the link was applied: re-read shows it linked, merge done") {
  plugin_host host;
  fake_tenant t;
  seed(t);
  t.add_fault({"POST", "/api/v2/users/", "/identities", true, reply::dropped()});
  plugin_instance inst(host, t.config());
  auto r = inst.run(k_link, R"({"merge_metadata":true})", k_inputs);
  REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
  CHECK(t.requests("POST", "/api/v2/users/") == 1);  // the link POST is never resent
  CHECK(r.json().at("metadata_patched") == true);
  CHECK(r.json().at("profiles").as_array().size() == 2);
  CHECK(t.user("google-oauth2|111")->at("user_metadata").at("lang") == "fr");
}

TEST_CASE("link failing after the PATCH says so, the re-run repairs (union idempotent)") {
  plugin_host host;
  fake_tenant t;
  seed(t);
  t.add_fault(
      {"POST", "/api/v2/users/", "/identities", false,
       reply(403, R"({"statusCode":403,"error":"Forbidden","message":"Insufficient scope; expected: update:users"})")});
  plugin_instance inst(host, t.config());
  const std::string opts = R"({"merge_metadata":true,"arrays":"union"})";
  auto r = inst.run(k_link, opts, k_inputs);
  CHECK(r.code == WFA_FORBIDDEN);
  CHECK(r.message.find("metadata patched, not linked") == 0);
  CHECK(r.details_obj().at("metadata_patched") == true);
  CHECK(r.details_obj().at("linked") == false);
  auto after_first = json::serialize(t.user("google-oauth2|111")->at("user_metadata"));
  CHECK(after_first == R"({"color":"red","tags":["a","b"],"lang":"fr"})");
  r = inst.run(k_link, opts, k_inputs);
  REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
  CHECK(r.json().at("metadata_patched") == false);  // D empty the second time
  CHECK(json::serialize(t.user("google-oauth2|111")->at("user_metadata")) == after_first);
}

TEST_CASE("an ambiguous link failure is resolved by re-reading, unknown only when that fails too") {
  plugin_host host;
  fake_tenant t;
  seed(t);
  plugin_instance inst(host, t.config());
  // Dropped before it was applied, and the primary says: not linked -> known, retryable.
  t.add_fault({"POST", "/api/v2/users/", "/identities", false, reply::dropped()});
  auto r = inst.run(k_link, R"({"merge_metadata":false})", k_inputs);
  CHECK(r.code == WFA_UNAVAILABLE);
  CHECK(r.retryable);
  CHECK(r.details_obj().at("linked") == false);
  // Dropped, and the re-read fails as well -> the link state is reported unknown.
  t.add_fault({"POST", "/api/v2/users/", "/identities", false, reply::dropped()});
  for (int i = 0; i < 4; ++i)
    t.add_fault({"GET", "/api/v2/users/", "", false,
                 reply(503, R"({"statusCode":503,"error":"Service Unavailable","message":"x"})")});
  r = inst.run(k_link, R"({"merge_metadata":false})", k_inputs);
  CHECK(r.retryable);
  CHECK(r.message.find("link state unknown") == 0);
  CHECK(r.details_obj().at("linked").is_null());
  CHECK(t.requests("POST", "/api/v2/users/") == 2);  // never resent within a run
  // The re-run converges.
  r = inst.run(k_link, R"({"merge_metadata":false})", k_inputs);
  CHECK(r.code == WFA_OK);
}

TEST_CASE("concat is not idempotent: a re-run after a failed link appends again") {
  plugin_host host;
  fake_tenant t;
  seed(t);
  t.add_fault({"POST", "/api/v2/users/", "/identities", false,
               reply(503, R"({"statusCode":503,"error":"Service Unavailable","message":"x"})")});
  plugin_instance inst(host, t.config());
  const std::string opts = R"({"merge_metadata":true,"arrays":"concat"})";
  auto r = inst.run(k_link, opts, k_inputs);
  CHECK(r.code == WFA_UNAVAILABLE);
  CHECK(r.retryable);
  CHECK(r.details_obj().at("metadata_patched") == true);
  r = inst.run(k_link, opts, k_inputs);
  REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
  CHECK(json::serialize(t.user("google-oauth2|111")->at("user_metadata").at("tags")) == R"(["a","b","b"])");
}

TEST_CASE("a PATCH response that does not confirm the merge stops before the link") {
  plugin_host host;
  fake_tenant t;
  seed(t);
  t.add_fault({"PATCH", "/api/v2/users/", "", false, reply(200, json::serialize(*t.user("google-oauth2|111")))});
  plugin_instance inst(host, t.config());
  auto r = inst.run(k_link, R"({"merge_metadata":true})", k_inputs);
  CHECK(r.code == WFA_CONFLICT);
  CHECK(r.retryable);
  CHECK(r.message.find("the PATCH was sent but its response does not show /user_metadata/lang as sent") == 0);
  CHECK(r.message.find("not linked") != std::string::npos);
  // Sent and answered 200, but what it wrote is not known: neither true nor false.
  CHECK(r.details_obj().at("metadata_patched").is_null());
  CHECK(r.details_obj().at("linked") == false);
  CHECK(t.requests("POST", "/api/v2/users/") == 0);
}

TEST_CASE("a PATCH that fails reports whether it may have written: 4xx no, 5xx after retries unknown") {
  plugin_host host;
  fake_tenant t;
  seed(t);
  plugin_instance inst(host, t.config(R"(,"max_retries":0)"));
  t.add_fault(
      {"PATCH", "/api/v2/users/", "", false,
       reply(
           400,
           R"({"statusCode":400,"error":"Bad Request","message":"Payload validation error","errorCode":"invalid_body"})")});
  auto r = inst.run(k_link, R"({"merge_metadata":true})", k_inputs);
  CHECK(r.code == WFA_INVALID_INPUT);
  CHECK(r.details_obj().at("metadata_patched") == false);
  CHECK(r.details_obj().at("linked") == false);
  t.add_fault({"PATCH", "/api/v2/users/", "", true,
               reply(503, R"({"statusCode":503,"error":"Service Unavailable","message":"x"})")});
  r = inst.run(k_link, R"({"merge_metadata":true})", k_inputs);
  CHECK(r.code == WFA_UNAVAILABLE);
  CHECK(r.details_obj().at("metadata_patched").is_null());
  CHECK(r.details_obj().at("linked") == false);
  CHECK(t.requests("POST", "/api/v2/users/") == 0);
}

TEST_CASE("a 409 whose re-read of the primary fails reports the link state unknown") {
  plugin_host host;
  fake_tenant t;
  seed(t);
  plugin_instance inst(host, t.config());
  t.add_fault(
      {"POST", "/api/v2/users/", "/identities", false,
       reply(
           409,
           R"({"statusCode":409,"error":"Conflict","message":"Specified identity already exists.","errorCode":"identity_conflict"})")});
  for (int i = 0; i < 4; ++i)  // max_retries 3: every attempt of the re-read fails
    t.add_fault({"GET", "/api/v2/users/", "", false,
                 reply(503, R"({"statusCode":503,"error":"Service Unavailable","message":"x"})")});
  auto r = inst.run(k_link, R"({"merge_metadata":false})", k_inputs);
  CHECK(r.code == WFA_CONFLICT);
  CHECK(r.retryable);
  CHECK(r.message.find("link state unknown (the link request may have been applied): ") == 0);
  CHECK(r.details_obj().at("linked").is_null());
  CHECK(r.details_obj().at("metadata_patched") == false);
  CHECK(t.requests("GET", "/api/v2/users/google-oauth2|111") == 4);
}

TEST_CASE("require_verified_email compares ASCII-case-insensitively whatever the process locale") {
  // In tr_TR.ISO-8859-9, tolower('I') is 0xFD (dotless i): a compare that follows the
  // process locale would refuse IVAN@EXAMPLE.COM against ivan@example.com.
  const std::string dir = A0_TEST_LOCALE_DIR;
  const std::string name = "tr_TR.ISO-8859-9";
  if (!std::ifstream(dir + "/" + name + "/LC_CTYPE"))
    (void)std::system(
        ("mkdir -p '" + dir + "' && localedef -i tr_TR -f ISO-8859-9 '" + dir + "/" + name + "' >/dev/null 2>&1")
            .c_str());
  ::setenv("LOCPATH", dir.c_str(), 1);
  const bool turkish = std::setlocale(LC_CTYPE, name.c_str()) != nullptr;
  ::unsetenv("LOCPATH");
  // Without the locale the test would prove nothing: scripts/bootstrap installs locales.
  REQUIRE_MESSAGE(turkish, "locale tr_TR.ISO-8859-9 not available (localedef from the locales package)");
  CHECK(std::tolower('I') != 'i');  // the locale really folds 'I' elsewhere
  plugin_host host;
  fake_tenant t;
  t.put_user(make_user("google-oauth2|111", "IVAN@EXAMPLE.COM", true));
  t.put_user(make_user("auth0|222", "ivan@example.com", true));
  // U+00C9 and U+00E9 (UTF-8): not ASCII, so never folded into each other.
  t.put_user(make_user("google-oauth2|555", "\xC3\x89VA@example.com", true));
  t.put_user(make_user("auth0|666", "\xC3\xA9va@example.com", true));
  plugin_instance inst(host, t.config());
  const std::string opts = R"({"merge_metadata":false,"require_verified_email":true})";
  auto r = inst.run(k_link, opts, k_inputs);
  auto other = inst.run(k_link, opts, R"({"primary_user_id":"google-oauth2|555","secondary_user_id":"auth0|666"})");
  std::setlocale(LC_CTYPE, "C");
  CHECK_MESSAGE(r.code == WFA_OK, r.message);
  CHECK(other.code == WFA_CONFLICT);
  CHECK(other.details_obj().at("reason") == "emails_differ");
}

TEST_CASE("unlink: a DELETE without an answer is not resent, the primary says whether it is gone") {
  plugin_host host;
  fake_tenant t;
  seed(t);
  plugin_instance inst(host, t.config());
  REQUIRE(inst.run(k_link, R"({"merge_metadata":false})", k_inputs).code == WFA_OK);
  const std::string in = R"({"primary_user_id":"google-oauth2|111","secondary_user_id":"auth0|222"})";
  // 503 before applying: the re-read still lists the identity -> "not unlinked", retryable.
  t.add_fault({"DELETE", "/api/v2/users/", "", false,
               reply(503, R"({"statusCode":503,"error":"Service Unavailable","message":"x"})")});
  auto r = inst.run("auth0.unlink-account", "{}", in);
  CHECK(r.code == WFA_UNAVAILABLE);
  CHECK(r.retryable);
  CHECK(r.message.find("not unlinked: ") == 0);
  CHECK(r.details_obj().at("unlinked") == false);
  CHECK(t.requests("DELETE") == 1);  // not resent
  // Applied, then the connection dropped: the re-read shows it gone -> success.
  t.add_fault({"DELETE", "/api/v2/users/", "", true, reply::dropped()});
  r = inst.run("auth0.unlink-account", "{}", in);
  REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
  CHECK(r.json().at("profiles").as_array().size() == 1);
  CHECK(t.requests("DELETE") == 2);
  CHECK(t.user("auth0|222"));
  // 429 is still retried: the server said it did nothing.
  REQUIRE(inst.run(k_link, R"({"merge_metadata":false})", k_inputs).code == WFA_OK);
  t.add_fault({"DELETE", "/api/v2/users/", "", false,
               reply(429, R"({"statusCode":429,"error":"Too Many Requests","message":"x"})", {{"Retry-After", "0"}})});
  r = inst.run("auth0.unlink-account", "{}", in);
  REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
  CHECK(t.requests("DELETE") == 4);
}

TEST_CASE("token expiry mid-run: refreshed once, the run completes") {
  plugin_host host;
  fake_tenant t;
  seed(t);
  plugin_instance inst(host, t.config());
  REQUIRE(inst.run("auth0.get-user", "{}", R"({"user_id":"auth0|222"})").code == WFA_OK);
  t.expire_tokens();
  auto r = inst.run(k_link, R"({"merge_metadata":true})", k_inputs);
  REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
  CHECK(t.requests("POST", "/oauth/token") == 2);
}

TEST_CASE("TLS with an untrusted CA is refused before any token is sent") {
  plugin_host host;
  fake_tenant t;
  seed(t);
  plugin_instance inst(host, R"({"domain":")" + t.domain() +
                                 R"(","client_id":"cid","client_secret":"TOP-SECRET-cs-123","max_retries":0})");
  auto r = inst.run("auth0.get-user", "{}", R"({"user_id":"auth0|222"})");
  CHECK(r.code != WFA_OK);
  CHECK(t.server().requests().empty());
  check_no_secret(r.message + host.all_logs());
}

TEST_CASE("concurrent links into one primary are serialised: both merges kept") {
  // Both secondaries add a key inside the same top-level object (user_metadata.prefs).
  // Auth0 replaces a top-level key whole, so two merges computed from the same GET of the
  // primary would lose one of them: only the per-primary lock keeps both.
  plugin_host host;
  fake_tenant t;
  t.put_user(make_user("google-oauth2|111", "ann@example.com", true, obj(R"({"prefs":{"x":1}})")));
  t.put_user(make_user("auth0|222", "ann@example.com", true, obj(R"({"prefs":{"a":1}})")));
  t.put_user(make_user("auth0|333", "ann@example.com", true, obj(R"({"prefs":{"b":2}})")));
  t.set_get_delay(std::chrono::milliseconds(150));  // both runs' GETs overlap when not serialised
  plugin_instance inst(host, t.config());
  auto a = inst.start(k_link, R"({"merge_metadata":true})", k_inputs);
  auto b = inst.start(k_link, R"({"merge_metadata":true})",
                      R"({"primary_user_id":"google-oauth2|111","secondary_user_id":"auth0|333"})");
  auto ra = a.wait(), rb = b.wait();
  REQUIRE_MESSAGE(ra.code == WFA_OK, ra.message);
  REQUIRE_MESSAGE(rb.code == WFA_OK, rb.message);
  CHECK(json::serialize(t.user("google-oauth2|111")->at("user_metadata")) == R"({"prefs":{"x":1,"a":1,"b":2}})");
  CHECK(t.user("google-oauth2|111")->at("identities").as_array().size() == 3);
}

TEST_CASE("unlink, get-user, update-user-metadata and list_options") {
  plugin_host host;
  fake_tenant t;
  seed(t);
  t.add_connection("con_AAAAAAAAAAAAAAAA", "Username-Password-Authentication", "auth0");
  t.add_connection("con_BBBBBBBBBBBBBBBB", "google-oauth2", "google-oauth2");
  t.add_connection("con_CCCCCCCCCCCCCCCC", "Staff", "auth0");
  t.add_connection("con_DDDDDDDDDDDDDDDD", "Partners", "auth0");
  plugin_instance inst(host, t.config());
  REQUIRE(inst.run(k_link, R"({"merge_metadata":false})", k_inputs).code == WFA_OK);

  auto g = inst.run("auth0.get-user", "{}", R"({"user_id":"google-oauth2|111","fields":["user_id","identities"]})");
  REQUIRE_MESSAGE(g.code == WFA_OK, g.message);
  CHECK(g.json().at("user").at("identities").as_array().size() == 2);
  CHECK_FALSE(g.json().at("user").at("identities").as_array()[0].as_object().contains("access_token"));
  const auto target = t.server().requests().back().target;
  CAPTURE(target);
  CHECK(target.find("fields=user_id") != std::string::npos);
  CHECK(target.find("identities") != std::string::npos);

  auto u = inst.run("auth0.update-user-metadata", "{}",
                    R"({"user_id":"google-oauth2|111","user_metadata":{"color":null,"size":"L"}})");
  REQUIRE_MESSAGE(u.code == WFA_OK, u.message);
  CHECK(json::serialize(u.json().at("user").at("user_metadata")) == R"({"tags":["a"],"size":"L"})");

  auto un = inst.run("auth0.unlink-account", "{}",
                     R"({"primary_user_id":"google-oauth2|111","secondary_user_id":"auth0|222"})");
  REQUIRE_MESSAGE(un.code == WFA_OK, un.message);
  CHECK(un.json().at("profiles").as_array().size() == 1);
  CHECK(t.user("auth0|222"));

  auto p1 = inst.start_options(k_link, "/inputs/secondary_connection_id").wait();
  REQUIRE_MESSAGE(p1.code == WFA_OK, p1.message);
  CHECK(
      json::serialize(p1.json()) ==
      R"({"items":[{"value":"con_AAAAAAAAAAAAAAAA","label":"Username-Password-Authentication"},{"value":"con_CCCCCCCCCCCCCCCC","label":"Staff"}],"next_page_token":"2"})");
  auto p2 = inst.start_options(k_link, "/inputs/secondary_connection_id", "2").wait();
  CHECK(json::serialize(p2.json()) ==
        R"({"items":[{"value":"con_DDDDDDDDDDDDDDDD","label":"Partners"}],"next_page_token":null})");
  auto bad = inst.start_options(k_link, "/inputs/primary_user_id").wait();
  CHECK(bad.code == WFA_INVALID_INPUT);
  check_no_secret(host.all_logs());
}

TEST_CASE("multi-pipe enterprise ids: provider before the first pipe, the rest kept whole") {
  plugin_host host;
  fake_tenant t;
  seed(t);
  t.put_user(make_user("samlp|NeoLink|40813347", "ann@example.com", true, obj(R"({"dept":"x"})")));
  plugin_instance inst(host, t.config());
  auto r = inst.run(k_link, R"({"merge_metadata":true})",
                    R"({"primary_user_id":"google-oauth2|111","secondary_user_id":"samlp|NeoLink|40813347"})");
  REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
  const auto out = r.json();
  const auto& last = out.at("profiles").as_array().back();
  CHECK(last.at("provider") == "samlp");
  CHECK(last.at("user_id") == "NeoLink|40813347");
  CHECK(t.server().requests().back().body.find(R"("user_id":"NeoLink|40813347")") != std::string::npos);
  auto u = inst.run(
      "auth0.unlink-account", "{}",
      R"({"primary_user_id":"google-oauth2|111","secondary_user_id":"NeoLink|40813347","secondary_provider":"samlp"})");
  REQUIRE_MESSAGE(u.code == WFA_OK, u.message);
  CHECK(t.server().requests().back().target == "/api/v2/users/google-oauth2%7C111/identities/samlp/NeoLink%7C40813347");
  CHECK(t.user("samlp|NeoLink|40813347"));
}

TEST_CASE("secondary_token: a token that is not RS256 is refused before any request") {
  // An unsigned token naming a user must not make the plugin read that user, merge its
  // app_metadata (roles) into the primary and PATCH it: nothing is sent at all.
  plugin_host host;
  fake_tenant t;
  seed(t);
  plugin_instance inst(host, t.config());
  // {"alg":"none","kid":"k"}.{"sub":"auth0|222"}.sig
  const std::string jwt = "eyJhbGciOiJub25lIiwia2lkIjoiayJ9.eyJzdWIiOiJhdXRoMHwyMjIifQ.c2ln";
  const auto before = json::serialize(*t.user("google-oauth2|111"));
  auto r = inst.run(k_link, R"({"merge_metadata":true})",
                    R"({"primary_user_id":"google-oauth2|111","secondary_token":")" + jwt + "\"}");
  CHECK(r.code == WFA_INVALID_INPUT);
  CHECK(r.message == "secondary_token: alg 'none' is not accepted (RS256 only)");
  CHECK(t.server().requests().empty());
  CHECK(json::serialize(*t.user("google-oauth2|111")) == before);
  CHECK(r.message.find(jwt) == std::string::npos);
  CHECK(host.all_logs().find(jwt) == std::string::npos);
}

// Writes real outputs for the manifest check (manifest_check.mjs validates them against
// the outputs schemas with ajv); without A0_SAMPLES_DIR it only checks they are objects.
TEST_CASE("outputs samples of every action") {
  plugin_host host;
  fake_tenant t;
  seed(t);
  t.add_connection("con_AAAAAAAAAAAAAAAA", "Username-Password-Authentication", "auth0");
  plugin_instance inst(host, t.config());
  const char* dir = std::getenv("A0_SAMPLES_DIR");
  int n = 0;
  auto keep = [&](const std::string& action, const captured& r) {
    REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
    CHECK(r.json().size() > 0);
    if (dir) std::ofstream(std::string(dir) + "/" + action + "--" + std::to_string(++n) + ".json") << r.outputs;
  };
  keep(k_link, inst.run(k_link, R"({"merge_metadata":true,"dry_run":true})", k_inputs));
  keep(k_link, inst.run(k_link, R"({"merge_metadata":true,"include_idp_tokens":true})", k_inputs));
  keep("auth0.get-user",
       inst.run("auth0.get-user", R"({"include_idp_tokens":true})", R"({"user_id":"google-oauth2|111"})"));
  keep("auth0.get-user", inst.run("auth0.get-user", "{}", R"({"user_id":"google-oauth2|111","fields":["email"]})"));
  keep("auth0.update-user-metadata",
       inst.run("auth0.update-user-metadata", "{}", R"({"user_id":"google-oauth2|111","user_metadata":{"x":1}})"));
  keep("auth0.unlink-account", inst.run("auth0.unlink-account", "{}",
                                        R"({"primary_user_id":"google-oauth2|111","secondary_user_id":"auth0|222"})"));
}

namespace {
// {"k":{"k":...{"k":"leaf"}}} with `levels` objects.
json::object nested(int levels) {
  json::value v = "leaf";
  for (int i = 0; i < levels; ++i) v = json::object{{"k", std::move(v)}};
  return std::move(v.as_object());
}
}  // namespace

TEST_CASE("deep metadata (issue 12 item 2): 30 levels link and report ok, and too deep is refused before any write") {
  plugin_host host;
  fake_tenant t;
  t.put_user(make_user("google-oauth2|111", "ann@example.com", true, obj(R"({"color":"red"})")));
  SUBCASE("30 levels: the PATCH and the link are reported as done, the outputs parse at WFA_JSON_MAX_DEPTH") {
    t.put_user(make_user("auth0|222", "ann@example.com", true, json::object{{"deep", nested(30)}}));
    plugin_instance inst(host, t.config());
    auto r = inst.run(k_link, R"({"merge_metadata":true})", k_inputs);
    REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
    const auto out = r.json();  // Boost.JSON's default depth (32) refused these outputs
    CHECK(out.at("metadata_patched") == true);
    CHECK(out.at("patch").at("user_metadata").at("deep") == nested(30));
    CHECK(t.user("google-oauth2|111")->at("user_metadata").at("deep") == nested(30));
    CHECK(writes(t) == std::vector<std::string>{"PATCH", "POST"});
  }
  SUBCASE("a secondary deeper than the outputs can carry is refused: nothing written") {
    t.put_user(make_user("auth0|222", "ann@example.com", true, json::object{{"deep", nested(70)}}));
    plugin_instance inst(host, t.config());
    auto r = inst.run(k_link, R"({"merge_metadata":true})", k_inputs);
    CHECK(r.code == WFA_CONFLICT);
    CHECK(r.message.find("nests deeper than 61 levels") != std::string::npos);
    CHECK_FALSE(r.retryable);
    CHECK(writes(t).empty());
  }
  SUBCASE("update-user-metadata with metadata that could not be read back is refused before the PATCH") {
    t.put_user(make_user("auth0|222", "ann@example.com", true));
    plugin_instance inst(host, t.config());
    const std::string deep = json::serialize(nested(61));
    auto r =
        inst.run("auth0.update-user-metadata", "{}", R"({"user_id":"auth0|222","user_metadata":{"a":)" + deep + "}}");
    CHECK(r.code == WFA_INVALID_INPUT);
    CHECK(r.message.find("user_metadata: nests deeper") != std::string::npos);
    CHECK(writes(t).empty());
    const std::string ok = json::serialize(nested(58));
    auto fine =
        inst.run("auth0.update-user-metadata", "{}", R"({"user_id":"auth0|222","user_metadata":{"a":)" + ok + "}}");
    REQUIRE_MESSAGE(fine.code == WFA_OK, fine.message);
    CHECK(fine.json().at("user").at("user_metadata").at("a") == nested(58));
  }
}

namespace {
// A JSON object body of about `bytes` bytes.
std::string big_user_json(std::size_t bytes) {
  return R"({"user_id":"google-oauth2|111","blob":")" + std::string(bytes, 'x') + R"("})";
}
}  // namespace

TEST_CASE("a PATCH answered 200 with a body over the client's limit (issue 12 item 8): re-read, never resent") {
  plugin_host host;
  fake_tenant t;
  seed(t);
  SUBCASE("the re-read of the patched fields confirms it: linked") {
    t.add_fault({"PATCH", "/api/v2/users/", "", true, reply{200, big_user_json(9u << 20)}});
    plugin_instance inst(host, t.config());
    auto r = inst.run(k_link, R"({"merge_metadata":true})", k_inputs);
    REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
    CHECK(r.json().at("metadata_patched") == true);
    CHECK(t.requests("PATCH") == 1);  // formerly 4: retried as a connection failure
    bool reread_fields = false;
    for (const auto& q : t.server().requests())
      reread_fields = reread_fields || q.target.find("fields=user_metadata,app_metadata") != std::string::npos;
    CHECK(reread_fields);
    CHECK(writes(t) == std::vector<std::string>{"PATCH", "POST"});
  }
  SUBCASE("the re-read is over the limit too: metadata state unknown, not retryable, not linked") {
    t.add_fault({"PATCH", "/api/v2/users/", "", true, reply{200, big_user_json(9u << 20)}});
    t.add_fault({"GET", "/api/v2/users/", "", false, reply{200, big_user_json(9u << 20)}}, "fields=");
    plugin_instance inst(host, t.config());
    auto r = inst.run(k_link, R"({"merge_metadata":true})", k_inputs);
    CHECK(r.code == WFA_UNAVAILABLE);
    CHECK(r.message.find("the request was applied; re-reading its metadata failed too") != std::string::npos);
    CHECK(r.message.find("metadata state unknown, not linked") != std::string::npos);
    CHECK_FALSE(r.retryable);
    CHECK(r.details_obj().at("metadata_patched").is_null());
    CHECK(r.details_obj().at("linked") == false);
    CHECK(writes(t) == std::vector<std::string>{"PATCH"});
  }
}

TEST_CASE("update-user-metadata: a 200 over the body limit is reported patched, not retryable, sent once") {
  plugin_host host;
  fake_tenant t;
  seed(t);
  t.add_fault({"PATCH", "/api/v2/users/", "", true, reply{200, big_user_json(9u << 20)}});
  plugin_instance inst(host, t.config());
  auto r = inst.run("auth0.update-user-metadata", "{}", R"({"user_id":"auth0|222","user_metadata":{"a":1}})");
  CHECK(r.code == WFA_UNAVAILABLE);
  CHECK(r.message.find("metadata patched, but the user it returned cannot be read") != std::string::npos);
  CHECK(r.message.find("body limit") != std::string::npos);
  CHECK_FALSE(r.retryable);
  CHECK(r.details_obj().at("metadata_patched") == true);
  CHECK(t.requests("PATCH") == 1);
  CHECK(t.user("auth0|222")->at("user_metadata").at("a") == 1);
}

TEST_CASE("a PATCH that would make the primary unreadable is refused before it is sent") {
  plugin_host host;
  fake_tenant t;
  t.put_user(
      make_user("google-oauth2|111", "ann@example.com", true, json::object{{"own", std::string(5u << 20, 'p')}}));
  t.put_user(make_user("auth0|222", "ann@example.com", true, json::object{{"theirs", std::string(4u << 20, 's')}}));
  plugin_instance inst(host, t.config());
  auto r = inst.run(k_link, R"({"merge_metadata":true})", k_inputs);
  CHECK(r.code == WFA_CONFLICT);
  CHECK(r.message.find("more than the client can read back") != std::string::npos);
  CHECK_FALSE(r.retryable);
  CHECK(r.details_obj().at("metadata_patched") == false);
  CHECK(writes(t).empty());
}

TEST_CASE("a primary that cannot be read after an ambiguous link is not retryable (issue 12 item 11)") {
  plugin_host host;
  fake_tenant t;
  seed(t);
  t.add_fault({"POST", "/api/v2/users/", "/identities", true, reply::dropped()});
  t.add_fault({"GET", "/api/v2/users/", "", false,
               reply{404, R"({"statusCode":404,"error":"Not Found","message":"The user does not exist."})"}});
  plugin_instance inst(host, t.config());
  auto r = inst.run(k_link, R"({"merge_metadata":false})", k_inputs);
  CHECK(r.code == WFA_UNAVAILABLE);
  CHECK(r.message.find("link state unknown") != std::string::npos);
  CHECK_FALSE(r.retryable);  // formerly true: a re-run reads the same 404
  CHECK(r.details_obj().at("linked").is_null());
}
