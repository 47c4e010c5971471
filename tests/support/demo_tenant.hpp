// The demo seed's users and client as the emulator-backed action tests use them (a Google
// primary and a database secondary with the same verified email).
#pragma once

#include "emulator_fixture.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value_to.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace a0::test::demo {

inline constexpr const char* k_primary = "google-oauth2|115015401343387192604";
inline constexpr const char* k_secondary = "auth0|5f7c8ec7c33c6c004bbafe82";
inline const std::string k_inputs =
    std::string(R"({"primary_user_id":")") + k_primary + R"(","secondary_user_id":")" + k_secondary + "\"}";

/// The demo client's connection config (pacing and retry waits capped at 200 ms).
inline std::string config(const emulator& e, const std::string& extra = "") {
  return R"({"domain":")" + e.domain() + R"(","client_id":")" + emulator::demo_client_id + R"(","client_secret":")" +
         emulator::demo_client_secret + R"(","ca_file":")" + e.ca_file() + R"(","max_backoff_ms":200)" + extra + "}";
}

/// The stored user, or {} when the tenant has none with that id.
inline boost::json::object user(emulator& e, const std::string& id) {
  const auto state = e.dump();
  for (const auto& u : state.at("users").as_array())
    if (u.at("user_id") == id.c_str()) return u.as_object();
  return {};
}

/// Method sequence of the Management API requests (the token request left out).
inline std::vector<std::string> api_methods(emulator& e) {
  std::vector<std::string> m;
  const auto log = e.request_log();
  for (const auto& r : log) {
    const auto path = boost::json::value_to<std::string>(r.at("path"));
    if (path.rfind("/api/v2/", 0) == 0) m.push_back(boost::json::value_to<std::string>(r.at("method")));
  }
  return m;
}

/// manifests/emulator/demo.seed.json, to modify and load with emulator::seed.
inline boost::json::object demo_seed() {
  std::ifstream in(A0_EMULATOR_DEMO_SEED);
  std::stringstream ss;
  ss << in.rdbuf();
  return boost::json::parse(ss.str()).as_object();
}

}  // namespace a0::test::demo
