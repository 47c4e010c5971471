// client_config::from_json validation: messages name the field and never echo secrets.
#include "auth0/management_client.hpp"

#include <boost/json/parse.hpp>

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

using a0::auth0::client_config;
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
  CHECK(c.max_connections == 128);  // on demand; does not throttle a runner at concurrency 64
  CHECK(c.custom_domain.empty());
  CHECK(c.connect_timeout == std::chrono::milliseconds{10000});
}

TEST_CASE("token config and explicit limits") {
  const auto c = parse(
      R"({"domain":"127.0.0.1:8443","token":"tok","audience":"https://x/api/v2/","timeout_ms":2500,
          "max_retries":0,"max_connections":256,"connect_timeout_ms":750})");
  CHECK(c.token == "tok");
  CHECK(c.audience == "https://x/api/v2/");
  CHECK(c.timeout == std::chrono::milliseconds{2500});
  CHECK(c.max_retries == 0);
  CHECK(c.max_connections == 256);
  CHECK(c.connect_timeout == std::chrono::milliseconds{750});
  CHECK(c.timeout == std::chrono::milliseconds{2500});  // separate from the connect timeout
}

TEST_CASE(
    "custom_domain: only the secondary_token issuer, the audience stays the tenant's, an audience must be /api/v2/") {
  const auto c = parse(
      R"({"domain":"tenant.eu.auth0.com","custom_domain":"login.acme.example:443","client_id":"cid","client_secret":"s"})");
  CHECK(c.domain == "tenant.eu.auth0.com");
  CHECK(c.custom_domain == "login.acme.example");
  CHECK(c.audience == "https://tenant.eu.auth0.com/api/v2/");
  // Equal to domain is fine.
  CHECK(parse(R"({"domain":"t.auth0.com","custom_domain":"t.auth0.com","token":"t"})").custom_domain == "t.auth0.com");
  CHECK(error_of(R"({"domain":"t.auth0.com","custom_domain":"https://login.acme.example","token":"t"})")
            .starts_with("custom_domain: must be a host name without a scheme"));
  CHECK(error_of(R"({"domain":"t.auth0.com","custom_domain":7,"token":"t"})") == "custom_domain: must be a string");
  const std::string refused = "audience: must be the Management API identifier https://TENANT-DOMAIN/api/v2/";
  for (auto aud :
       {"https://login.acme.example/", "http://t.auth0.com/api/v2/", "https:///api/v2/", "https://t.auth0.com/api/v2",
        "t.auth0.com/api/v2/", "https://t.auth0.com/userinfo", "https://a/b/api/v2/"}) {
    CAPTURE(aud);
    CHECK(error_of(std::string(R"({"domain":"t.auth0.com","token":"t","audience":")") + aud + "\"}") == refused);
  }
  CHECK(parse(R"({"domain":"login.acme.example","token":"t","audience":"https://t.eu.auth0.com/api/v2/"})").audience ==
        "https://t.eu.auth0.com/api/v2/");
}

TEST_CASE("a fully qualified domain (trailing dot) is used without the dot: Host, SNI, audience, issuer") {
  const auto c = parse(R"({"domain":"tenant.eu.auth0.com.","client_id":"cid","client_secret":"s"})");
  CHECK(c.domain == "tenant.eu.auth0.com");
  CHECK(c.audience == "https://tenant.eu.auth0.com/api/v2/");
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
  const auto both =
      error_of(R"({"domain":"t.auth0.com","client_id":"c","client_secret":"hunter2","token":"tok-value"})");
  CHECK(both.rfind("token:", 0) == 0);
  CHECK(both.find("hunter2") == std::string::npos);
  CHECK(both.find("tok-value") == std::string::npos);
}

TEST_CASE("a token (AUTH0_TOKEN) with CR/LF or other non-token68 bytes is refused, not echoed") {
  const std::string base = R"({"domain":"t.auth0.com","token":)";
  for (const char* bad : {R"("tok\r\nX-Injected: 1")", R"("tok\nX: 1")", R"("tok\u0000")", R"("tok en")", R"("tok\"")",
                          R"("=abc")", R"("ab=c")"}) {
    const auto e = error_of(base + bad + "}");
    CAPTURE(bad);
    CHECK(e.rfind("token: must be a bearer token", 0) == 0);
    CHECK(e.find("tok") == e.find("token"));  // the value itself is not in the message
  }
  CHECK(parse(base + R"("eyJhbGciOi.J9-_~+/x.sig==")" + "}").token == "eyJhbGciOi.J9-_~+/x.sig==");
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
  CHECK(error_of(base + R"("connect_timeout_ms":0})") == "connect_timeout_ms: must be in 1..600000");
  CHECK(error_of(base + R"("connect_timeout_ms":600001})") == "connect_timeout_ms: must be in 1..600000");
  CHECK(error_of(base + R"("connect_timeout_ms":"5"})") == "connect_timeout_ms: must be an integer");
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

namespace {
json::object read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str()).as_object();
}

// The parsed value of an integer connection option, by its manifest name.
std::int64_t parsed_value(const client_config& c, std::string_view name) {
  if (name == "timeout_ms") return c.timeout.count();
  if (name == "connect_timeout_ms") return c.connect_timeout.count();
  if (name == "max_backoff_ms") return c.max_backoff.count();
  if (name == "max_retries") return c.max_retries;
  if (name == "max_connections") return c.max_connections;
  FAIL("integer connection option without a client_config field: ", name);
  return -1;
}
}  // namespace

TEST_CASE("every manifest has the same connection schema, and from_json applies its integer ranges and defaults") {
  std::vector<json::object> schemas;
  for (const auto& f : std::filesystem::directory_iterator(A0_MANIFEST_DIR))
    if (f.path().extension() == ".json") schemas.push_back(read_json(f.path()).at("connection").as_object());
  REQUIRE(schemas.size() >= 4);
  for (const auto& s : schemas) CHECK(s == schemas.front());

  const std::string base = R"({"domain":"t.auth0.com","token":"t")";
  const auto defaults = parse(base + "}");
  std::size_t integers = 0;
  for (const auto& [name, prop] : schemas.front().at("properties").as_object()) {
    const auto& p = prop.as_object();
    if (p.at("type") != "integer") continue;
    ++integers;
    const auto lo = p.at("minimum").as_int64(), hi = p.at("maximum").as_int64();
    const std::string key = name;
    INFO(key);
    const std::string range = key + ": must be in " + std::to_string(lo) + ".." + std::to_string(hi);
    CHECK(error_of(base + ",\"" + key + "\":" + std::to_string(lo - 1) + "}") == range);
    CHECK(error_of(base + ",\"" + key + "\":" + std::to_string(hi + 1) + "}") == range);
    CHECK(parsed_value(parse(base + ",\"" + key + "\":" + std::to_string(lo) + "}"), key) == lo);
    CHECK(parsed_value(parse(base + ",\"" + key + "\":" + std::to_string(hi) + "}"), key) == hi);
    CHECK(parsed_value(defaults, key) == p.at("default").as_int64());
  }
  CHECK(integers == 5);
}

TEST_CASE("max_requests_per_second: a number from 0.01 to 10000, absent means none") {
  CHECK(parse(R"({"domain":"t.auth0.com","token":"x"})").max_requests_per_second == 0);
  CHECK(parse(R"({"domain":"t.auth0.com","token":"x","max_requests_per_second":12})").max_requests_per_second == 12);
  CHECK(parse(R"({"domain":"t.auth0.com","token":"x","max_requests_per_second":0.5})").max_requests_per_second == 0.5);
  for (const char* bad : {"0", "-1", "10001", "\"8\"", "true"}) {
    CAPTURE(bad);
    CHECK_THROWS_WITH_AS(
        parse(std::string(R"({"domain":"t.auth0.com","token":"x","max_requests_per_second":)") + bad + "}"),
        doctest::Contains("max_requests_per_second"), std::invalid_argument);
  }
}
