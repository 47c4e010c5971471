// client_config::from_json validation: messages name the field and never echo secrets.
#include "auth0/management_client.hpp"

#include <boost/json/parse.hpp>

#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>

using a0::client_config;
namespace json = boost::json;

namespace {
client_config parse(std::string_view text) { return client_config::from_json(json::parse(text).as_object()); }

std::string error_of(std::string_view text) {
  try {
    (void)parse(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "<accepted>";
}
}  // namespace

TEST_CASE("client credentials config with defaults") {
  const auto c = parse(R"({"domain":"tenant.eu.auth0.com","client_id":"cid","client_secret":"s3cr3t"})");
  CHECK(c.domain == "tenant.eu.auth0.com");
  CHECK(c.client_id == "cid");
  CHECK(c.client_secret == "s3cr3t");
  CHECK(c.token.empty());
  CHECK(c.audience == "https://tenant.eu.auth0.com/api/v2/");
  CHECK(c.timeout == std::chrono::milliseconds{10000});
  CHECK(c.max_retries == 3);
  CHECK(c.max_connections == 16);
}

TEST_CASE("token config and explicit limits") {
  const auto c = parse(
      R"({"domain":"127.0.0.1:8443","token":"tok","audience":"https://x/api/v2/","timeout_ms":2500,
          "max_retries":0,"max_connections":256})");
  CHECK(c.token == "tok");
  CHECK(c.audience == "https://x/api/v2/");
  CHECK(c.timeout == std::chrono::milliseconds{2500});
  CHECK(c.max_retries == 0);
  CHECK(c.max_connections == 256);
}

TEST_CASE("domain is required and must be a bare host[:port]") {
  CHECK(error_of(R"({"token":"t"})").rfind("domain:", 0) == 0);
  CHECK(error_of(R"({"domain":"","token":"t"})").rfind("domain:", 0) == 0);
  CHECK(error_of(R"({"domain":42,"token":"t"})") == "domain: must be a string");
  CHECK(error_of(R"({"domain":"https://t.auth0.com","token":"t"})").find("scheme") != std::string::npos);
  CHECK(error_of(R"({"domain":"t.auth0.com/x","token":"t"})").find("path") != std::string::npos);
}

TEST_CASE("exactly one way to authenticate") {
  CHECK(error_of(R"({"domain":"t.auth0.com"})").rfind("client_id:", 0) == 0);
  CHECK(error_of(R"({"domain":"t.auth0.com","client_id":"cid"})").rfind("client_secret:", 0) == 0);
  CHECK(error_of(R"({"domain":"t.auth0.com","client_secret":"hunter2"})").rfind("client_id:", 0) == 0);
  const auto both = error_of(R"({"domain":"t.auth0.com","client_id":"c","client_secret":"hunter2","token":"tok-value"})");
  CHECK(both.rfind("token:", 0) == 0);
  CHECK(both.find("hunter2") == std::string::npos);
  CHECK(both.find("tok-value") == std::string::npos);
}

TEST_CASE("secrets are never echoed, even when their type is wrong") {
  const auto e = error_of(R"({"domain":"t.auth0.com","client_id":"c","client_secret":["hunter2"]})");
  CHECK(e == "client_secret: must be a string");
  CHECK(e.find("hunter2") == std::string::npos);
}

TEST_CASE("numeric limits are checked with their ranges") {
  const std::string base = R"({"domain":"t.auth0.com","token":"t",)";
  CHECK(error_of(base + R"("timeout_ms":0})") == "timeout_ms: must be in 1..600000");
  CHECK(error_of(base + R"("timeout_ms":600001})") == "timeout_ms: must be in 1..600000");
  CHECK(error_of(base + R"("timeout_ms":"100"})") == "timeout_ms: must be an integer");
  CHECK(error_of(base + R"("timeout_ms":1.5})") == "timeout_ms: must be an integer");
  CHECK(error_of(base + R"("max_retries":-1})") == "max_retries: must be in 0..10");
  CHECK(error_of(base + R"("max_retries":11})") == "max_retries: must be in 0..10");
  CHECK(error_of(base + R"("max_connections":0})") == "max_connections: must be in 1..256");
  CHECK(error_of(base + R"("max_connections":18446744073709551615})") == "max_connections: must be in 1..256");
  CHECK(parse(base + R"("timeout_ms":600000.0})").timeout == std::chrono::milliseconds{600000});
}

TEST_CASE("ca_file must exist and be readable") {
  const auto e = error_of(R"({"domain":"t.auth0.com","token":"t","ca_file":"/nonexistent/ca.pem"})");
  CHECK(e.rfind("ca_file:", 0) == 0);
  CHECK(e.find("/nonexistent/ca.pem") != std::string::npos);
  const std::string path = "a0_client_test_ca.pem";
  { std::ofstream(path) << "-----BEGIN CERTIFICATE-----\n"; }
  const auto c = parse(R"({"domain":"t.auth0.com","token":"t","ca_file":")" + path + R"("})");
  CHECK(c.ca_file == path);
  std::remove(path.c_str());
}
