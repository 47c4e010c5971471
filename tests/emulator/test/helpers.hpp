// Shared helpers of the emulator tests: a spawned emulator on the test seed with
// one keep-alive client and a token per client id.
#pragma once

#include "emulator_fixture.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace emutest {

namespace json = boost::json;
using a0::test::http_result;

inline std::string test_seed() { return A0_EMULATOR_TEST_SEED; }

struct harness {
  explicit harness(std::vector<std::string> args = {}, std::string seed = test_seed())
      : emu(std::move(seed), std::move(args)), http(emu.client()) {}

  std::string token(const std::string& client = "full-client") {
    const auto secret = client.substr(0, client.find("-client")) + "-secret";
    return emu.token(client, secret);
  }
  http_result call(const std::string& method, const std::string& target, const std::string& body = {},
                   const std::string& tok = "default") {
    std::vector<std::pair<std::string, std::string>> h;
    const std::string t = tok == "default" ? bearer() : tok;
    if (!t.empty()) h.emplace_back("Authorization", "Bearer " + t);
    return http.request(method, target, body, h);
  }
  http_result get(const std::string& t) { return call("GET", t); }
  const std::string& bearer() {
    if (default_token.empty()) default_token = token();
    return default_token;
  }

  a0::test::emulator emu;
  a0::test::https_client http;
  std::string default_token;
};

/// The Auth0 Management error body, field by field.
inline void check_error(const http_result& r, unsigned status, const std::string& message,
                        const std::string& error_code = {}) {
  INFO("body: " << r.body);
  CHECK(r.status == status);
  CHECK(r.header("content-type") == "application/json; charset=utf-8");
  auto o = r.json().as_object();
  CHECK(o.at("statusCode").to_number<unsigned>() == status);
  CHECK(o.at("message").as_string() == message);
  CHECK(o.contains("error"));
  if (error_code.empty())
    CHECK_FALSE(o.contains("errorCode"));
  else
    CHECK(o.at("errorCode").as_string() == error_code);
}

inline json::object obj(const http_result& r) { return r.json().as_object(); }

/// A JSON file (a seed) as a value.
inline json::value read_json(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in, "cannot read " << path);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

}  // namespace emutest
