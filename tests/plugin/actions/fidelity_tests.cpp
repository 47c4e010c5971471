// Where Auth0's documents allow more than one answer (issue 11): each behaviour through
// the C ABI against the emulator switched each way (PUT /__emulator/behaviour, faults).
#include "demo_tenant.hpp"
#include "emulator_fixture.hpp"
#include "plugin_host.hpp"

#include <boost/json/serialize.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>

using namespace a0::test;
using namespace a0::test::demo;
namespace json = boost::json;

namespace {

std::size_t count_requests(emulator& e, std::string_view method) {
  const auto m = api_methods(e);
  return static_cast<std::size_t>(std::count(m.begin(), m.end(), method));
}

bool has_warning(const plugin_host& h, std::string_view text) {
  for (const auto& [level, line] : h.logs())
    if (level == WFA_LOG_WARN && line.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("fidelity: a re-run of a linked pair succeeds without a write, whether Auth0 answers 409 or 400") {
  for (auto relink : {"409", "400"}) {
    for (bool merge : {false, true}) {
      CAPTURE(relink);
      CAPTURE(merge);
      emulator emu;
      emu.set_behaviour({{"relink", relink}});
      plugin_host host;
      plugin_instance inst(host, config(emu));
      const std::string options = merge ? R"({"merge_metadata":true})" : R"({"merge_metadata":false})";
      REQUIRE(inst.run("auth0.link-account", options, k_inputs).code == WFA_OK);
      emu.clear_log();
      auto again = inst.run("auth0.link-account", options, k_inputs);
      REQUIRE_MESSAGE(again.code == WFA_OK, again.message);
      CHECK(again.json().at("profiles").as_array().size() == 2);
      CHECK(count_requests(emu, "PATCH") == 0);
      CHECK(user(emu, k_primary).at("identities").as_array().size() == 2);
    }
  }
}

TEST_CASE("fidelity: a 409 or 400 for a secondary the primary does not hold stays a non-retryable failure") {
  // The link answer is injected: the re-read shows the secondary not linked.
  // workaround(lsan): (GCC 12's LeakSanitizer) one plugin load for both answers; with a load per answer,
  // LeakSanitizer's exit-time scan crashed on a stale dynamic-TLS range ("Tracer caught
  // signal 11", DTLS at a bogus address), every time, after all assertions had passed.
  emulator emu;
  plugin_host host;
  plugin_instance inst(host, config(emu));
  for (int status : {409, 400}) {
    CAPTURE(status);
    emu.clear_log();
    emu.add_fault(
        {{"method", "POST"},
         {"path", "/api/v2/users/*/identities"},
         {"action", "status"},
         {"status", status},
         {"message", status == 409 ? "Specified identity already exists." : "Provided secondary account not found."},
         {"times", 1}});
    auto r = inst.run("auth0.link-account", R"({"merge_metadata":false})", k_inputs);
    CHECK(r.code == (status == 409 ? WFA_CONFLICT : WFA_INVALID_INPUT));
    CHECK_FALSE(r.retryable);
    CHECK(r.details_obj().at("linked") == false);
    CHECK(count_requests(emu, "GET") == 1);  // the re-read
  }
}

TEST_CASE("fidelity: a link with merge is confirmed whether Auth0 keeps or drops nested nulls") {
  // The primary has a nested null in an object the merge changes: it is sent whole.
  for (auto nulls : {"keep", "drop"}) {
    CAPTURE(nulls);
    emulator emu;
    auto seed = demo_seed();
    for (auto& u : seed.at("users").as_array())
      if (u.at("user_id") == k_primary)
        u.as_object()["user_metadata"].as_object()["preferences"] =
            json::object{{"newsletter", true}, {"pager", nullptr}};
    emu.seed(seed);
    emu.set_behaviour({{"nested_nulls", nulls}});
    plugin_host host;
    plugin_instance inst(host, config(emu));
    auto r = inst.run("auth0.link-account", R"({"merge_metadata":true})", k_inputs);
    REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
    const auto prefs = user(emu, k_primary).at("user_metadata").at("preferences").as_object();
    CHECK(prefs.at("theme") == "dark");  // from the secondary
    CHECK(prefs.at("newsletter") == true);
  }
}

TEST_CASE("fidelity: a secondary null nested in a copied array's object is confirmed when Auth0 drops it") {
  emulator emu;
  auto seed = demo_seed();
  for (auto& u : seed.at("users").as_array())
    if (u.at("user_id") == k_secondary)
      u.as_object()["user_metadata"].as_object()["devices"] = json::array{json::object{{"id", 1}, {"label", nullptr}}};
  emu.seed(seed);
  emu.set_behaviour({{"nested_nulls", "drop"}});
  plugin_host host;
  plugin_instance inst(host, config(emu));
  auto r = inst.run("auth0.link-account", R"({"merge_metadata":true})", k_inputs);
  REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
  CHECK(json::serialize(user(emu, k_primary).at("user_metadata").at("devices")) == R"([{"id":1}])");
}

TEST_CASE("fidelity: a wrong client secret is UNAUTHORIZED whether the tenant says invalid_client or access_denied") {
  for (auto answer : {"invalid_client", "access_denied"}) {
    CAPTURE(answer);
    emulator emu;
    emu.set_behaviour({{"wrong_secret", answer}});
    plugin_host host;
    plugin_instance inst(host, R"({"domain":")" + emu.domain() + R"(","client_id":")" + emulator::demo_client_id +
                                   R"(","client_secret":"wrong-SECRET","ca_file":")" + emu.ca_file() + "\"}");
    auto r = inst.run("auth0.get-user", "{}", std::string(R"({"user_id":")") + k_primary + "\"}");
    CHECK(r.code == WFA_UNAUTHORIZED);
    CHECK(r.http_status == 401);
    CHECK(r.message.find(answer) != std::string::npos);
    CHECK(r.message.find("wrong-SECRET") == std::string::npos);
  }
}

TEST_CASE("fidelity: custom_domain is the expected iss of a secondary_token, domain stays the tenant's") {
  emulator emu;
  emu.set_behaviour({{"custom_domain", "login.acme.example"}});
  plugin_host host;
  const auto token = emu.id_token({{"user_id", k_secondary}, {"iss", "https://login.acme.example/"}});
  const std::string inputs =
      std::string(R"({"primary_user_id":")") + k_primary + R"(","secondary_token":")" + token + "\"}";
  {
    plugin_instance without(host, config(emu));  // iss would have to be https://DOMAIN/
    auto r = without.run("auth0.link-account", R"({"merge_metadata":false})", inputs);
    CHECK(r.code == WFA_INVALID_INPUT);
    CHECK(count_requests(emu, "POST") == 0);
  }
  plugin_instance with(host, config(emu, R"(,"custom_domain":"login.acme.example")"));
  auto r = with.run("auth0.link-account", R"({"merge_metadata":false})", inputs);
  REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
  CHECK(user(emu, k_primary).at("identities").as_array().size() == 2);
}

TEST_CASE("fidelity: a secondary_token valid for less than the margin is refused before any write") {
  emulator emu;
  plugin_host host;
  plugin_instance inst(host, config(emu));
  auto inputs = [&](long exp_in_s) {
    return std::string(R"({"primary_user_id":")") + k_primary + R"(","secondary_token":")" +
           emu.id_token({{"user_id", k_secondary}, {"exp_in_s", exp_in_s}}) + "\"}";
  };
  // 20 s past exp (within the 30 s leeway the verification allows) and 30 s before it.
  for (long exp_in_s : {-20L, 30L}) {
    CAPTURE(exp_in_s);
    auto r = inst.run("auth0.link-account", R"({"merge_metadata":true})", inputs(exp_in_s));
    CHECK(r.code == WFA_INVALID_INPUT);
    CHECK(r.message.find("secondary_token_min_validity_s") != std::string::npos);
  }
  CHECK(count_requests(emu, "GET") + count_requests(emu, "PATCH") + count_requests(emu, "POST") == 0);
  // The margin is an option: 10 s lets the 30 s token through.
  auto r = inst.run("auth0.link-account", R"({"merge_metadata":true,"secondary_token_min_validity_s":10})", inputs(30));
  REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
}

TEST_CASE("fidelity: a Retry-After longer than max_backoff_ms fails at once, rate_limited, retryable, retry_after_s") {
  emulator emu;
  plugin_host host;
  plugin_instance inst(host, config(emu));  // max_backoff_ms 200
  emu.add_fault({{"method", "POST"},
                 {"path", "/api/v2/users/*/identities"},
                 {"action", "rate_limit"},
                 {"reset_in_s", 0},
                 {"retry_after_s", 3600}});
  const auto t0 = std::chrono::steady_clock::now();
  auto r = inst.run("auth0.link-account", R"({"merge_metadata":false})", k_inputs);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
  CHECK(r.code == WFA_RATE_LIMITED);
  CHECK(r.retryable);
  CHECK(r.http_status == 429);
  const auto d = r.details_obj();
  REQUIRE(d.contains("retry_after_s"));
  CHECK(d.at("retry_after_s").is_int64());
  CHECK(d.at("retry_after_s").as_int64() == 3600);
  CHECK(d.at("linked") == false);
  CHECK(count_requests(emu, "POST") == 1);  // not retried in vain
  emu.clear_faults();
  // A short Retry-After is still waited for and retried.
  emu.add_fault({{"method", "GET"},
                 {"path", "/api/v2/users/*"},
                 {"action", "rate_limit"},
                 {"times", 1},
                 {"reset_in_s", 0},
                 {"retry_after_s", 0}});
  auto ok = inst.run("auth0.get-user", "{}", std::string(R"({"user_id":")") + k_primary + "\"}");
  CHECK_MESSAGE(ok.code == WFA_OK, ok.message);
}

TEST_CASE("fidelity: include_idp_tokens without read:user_idp_tokens says so in a warning") {
  emulator emu;
  const std::string get = std::string(R"({"user_id":")") + k_primary + "\"}";
  {
    plugin_host host;
    plugin_instance inst(host, config(emu));  // the link client has the scope
    REQUIRE(inst.run("auth0.get-user", R"({"include_idp_tokens":true})", get).code == WFA_OK);
    CHECK_FALSE(has_warning(host, "read:user_idp_tokens"));
  }
  plugin_host host;
  plugin_instance readonly(
      host,
      R"({"domain":")" + emu.domain() +
          R"(","client_id":"demo-readonly-client","client_secret":"demo-readonly-secret-not-a-real-secret","ca_file":")" +
          emu.ca_file() + "\"}");
  REQUIRE(readonly.run("auth0.get-user", R"({"include_idp_tokens":true})", get).code == WFA_OK);
  CHECK(has_warning(host, "read:user_idp_tokens"));
  REQUIRE(readonly.run("auth0.get-user", "{}", get).code == WFA_OK);  // not asked: no new warning
}
