// The raw ABI, synchronous part: version negotiation, struct_size, the descriptor and
// its manifests, create() and its errors.
#include "raw_plugin.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <cstddef>
#include <cstring>
#include <set>
#include <string>

namespace json = boost::json;
using namespace abi_test;

namespace {

wfa_error fresh_error() {
  wfa_error err{};
  err.struct_size = sizeof err;
  err.code = -1;
  return err;
}

}  // namespace

TEST_CASE("negotiation: the same major is accepted, whatever the host's minor") {
  for (uint32_t minor : {0u, 1u, 7u}) {
    CAPTURE(minor);
    wfa_error err = fresh_error();
    const wfa_plugin* p = entry()(WFA_ABI_MAJOR, minor, &err);
    REQUIRE(p != nullptr);
    CHECK(p->abi_major == WFA_ABI_MAJOR);
    CHECK(p->abi_minor == WFA_ABI_MINOR);  // the plugin's own minor, not the host's
    CHECK(err.code == -1);                 // untouched on success
  }
  // Thread-safe and repeatable: the same static descriptor every time (WFA-6).
  CHECK(entry()(WFA_ABI_MAJOR, WFA_ABI_MINOR, nullptr) == &plugin());
}

TEST_CASE("negotiation: another major is refused with WFA_INCOMPATIBLE and a reason") {
  for (uint32_t major : {0u, 2u, 1000u}) {
    CAPTURE(major);
    wfa_error err = fresh_error();
    CHECK(entry()(major, 0, &err) == nullptr);
    CHECK(err.code == WFA_INCOMPATIBLE);
    std::string reason = err.message;
    CHECK(reason.find(std::to_string(major) + ".0") != std::string::npos);  // names the host's version
    CHECK(reason.find("1.0") != std::string::npos);                         // and its own
    CHECK(entry()(major, 0, nullptr) == nullptr);                           // err may be NULL
  }
}

TEST_CASE("struct_size: a host wfa_error shorter than 1.0 is written only within its size") {
  // Room for the code and 8 message bytes: 7 characters and the NUL, nothing beyond.
  wfa_error err{};
  std::memset(err.message, 'Z', sizeof err.message);
  err.struct_size = static_cast<uint32_t>(offsetof(wfa_error, message) + 8);
  CHECK(entry()(2, 0, &err) == nullptr);
  CHECK(err.code == WFA_INCOMPATIBLE);
  CHECK(std::strlen(err.message) == 7);
  CHECK(err.message[8] == 'Z');
  // No room for a message at all: only the code.
  std::memset(err.message, 'Z', sizeof err.message);
  err.struct_size = static_cast<uint32_t>(offsetof(wfa_error, message));
  err.code = -1;
  CHECK(entry()(2, 0, &err) == nullptr);
  CHECK(err.code == WFA_INCOMPATIBLE);
  CHECK(err.message[0] == 'Z');
}

TEST_CASE("struct_size: the descriptor and its actions carry theirs") {
  const wfa_plugin& p = plugin();
  CHECK(p.struct_size == sizeof(wfa_plugin));
  REQUIRE(p.actions != nullptr);
  for (uint32_t i = 0; i < p.action_count; ++i) CHECK(p.actions[i].struct_size == sizeof(wfa_action));
  CHECK(static_cast<bool>(p.create));
  CHECK(static_cast<bool>(p.destroy));
  CHECK(static_cast<bool>(p.execute));
  CHECK(static_cast<bool>(p.list_options));
  CHECK(static_cast<bool>(p.cancel));
}

TEST_CASE("descriptor: name, version and the three actions") {
  const wfa_plugin& p = plugin();
  CHECK(std::string(p.name) == "wfa-test");
  CHECK(std::string(p.version) == "1.0.0");
  std::set<std::string> ids;
  for (uint32_t i = 0; i < p.action_count; ++i) {
    ids.insert(p.actions[i].id);
    CHECK(std::strlen(p.actions[i].title) > 0);
    CHECK(std::strlen(p.actions[i].description) > 0);
  }
  CHECK(p.action_count == 3);
  CHECK(ids == std::set<std::string>{"test.delay", "test.echo", "test.fail"});
}

TEST_CASE("manifests: each parses, has the required keys and 2020-12 schemas, marks secrets and dynamic fields") {
  const wfa_plugin& p = plugin();
  for (uint32_t i = 0; i < p.action_count; ++i) {
    const wfa_action& a = p.actions[i];
    CAPTURE(a.id);
    json::error_code ec;
    json::value m = json::parse(a.manifest_json, ec);
    REQUIRE_FALSE(ec);
    REQUIRE(m.is_object());
    CHECK(m.at("id") == a.id);
    CHECK(m.at("title") == a.title);
    CHECK(m.at("description") == a.description);
    CHECK(m.at("version").is_string());
    for (const char* part : {"connection", "options", "inputs", "outputs"}) {
      CAPTURE(part);
      const json::object& schema = m.at(part).as_object();
      CHECK(schema.at("$schema") == "https://json-schema.org/draft/2020-12/schema");
      CHECK(schema.at("type") == "object");
      // Every required field is described.
      if (const auto* req = schema.if_contains("required"))
        for (const auto& name : req->as_array()) CHECK(schema.at("properties").as_object().contains(name.as_string()));
    }
    const json::object& conn = m.at("connection").at("properties").as_object();
    CHECK(conn.at("token").at("x-secret") == true);
    CHECK_FALSE(conn.at("prefix").as_object().contains("x-secret"));
    CHECK(conn.at("fail_create").at("type") == "boolean");
    // The one dynamic field: test.echo's /inputs/tag.
    for (const auto& kv : m.at("inputs").at("properties").as_object()) {
      bool dynamic = kv.value().as_object().contains("x-dynamic-options");
      CHECK(dynamic == (std::string(a.id) == "test.echo" && kv.key() == "tag"));
      if (dynamic) CHECK(kv.value().at("x-dynamic-options").at("paged") == true);
    }
  }
}

TEST_CASE("create: a config, an empty config, no host") {
  const wfa_plugin& p = plugin();
  log_sink logs;
  for (const char* config : {"{}", "", R"({"prefix":"p-","token":"t","fail_create":false})"}) {
    CAPTURE(config);
    wfa_error err = fresh_error();
    wfa_instance* inst = p.create(logs.host(), str(config), &err);
    CHECK(inst != nullptr);
    CHECK(err.code == -1);
    p.destroy(inst);
  }
  wfa_instance* inst = p.create(nullptr, wfa_str{nullptr, 0}, nullptr);
  CHECK(inst != nullptr);
  p.destroy(inst);
  p.destroy(nullptr);  // ignored
}

TEST_CASE("create: fail_create and bad configs fail with invalid_input naming the field") {
  const wfa_plugin& p = plugin();
  struct bad_config {
    const char* config;
    const char* says;
  };
  for (auto [config, says] : {
           bad_config{R"({"fail_create":true})", "config.fail_create: this connection is set up to fail"},
           bad_config{R"({"fail_create":"yes"})", "config.fail_create: expected a boolean"},
           bad_config{R"({"prefix":1})", "config.prefix: expected a string"},
           bad_config{R"({"token":""})", "config.token: expected a non-empty string"},
           bad_config{R"({"domain":"x"})", "config.domain: unknown field"},
           bad_config{"[]", "config: expected a JSON object"},
           bad_config{"{", "config: not valid JSON"},
       }) {
    CAPTURE(config);
    wfa_error err = fresh_error();
    CHECK(p.create(nullptr, str(config), &err) == nullptr);
    CHECK(err.code == WFA_INVALID_INPUT);
    CHECK(std::string(err.message).find(says) != std::string::npos);
    CHECK(p.create(nullptr, str(config), nullptr) == nullptr);  // err may be NULL
  }
}
