// Request targets (percent-encoded ids, incl. multi-pipe ids) and domain parsing.
#include "auth0/endpoints.hpp"
#include "http/percent_encoding.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using namespace a0::auth0;
using a0::http::pct_encode;

TEST_CASE("percent-encoding keeps unreserved bytes and encodes everything else") {
  CHECK(pct_encode("auth0|abc") == "auth0%7Cabc");
  CHECK(pct_encode("samlp|Conn|x") == "samlp%7CConn%7Cx");
  CHECK(pct_encode("AZaz09-._~") == "AZaz09-._~");
  CHECK(pct_encode("a/b c?d#e%f+g&h=i") == "a%2Fb%20c%3Fd%23e%25f%2Bg%26h%3Di");
  CHECK(pct_encode("adfs|john@fabrikam.com") == "adfs%7Cjohn%40fabrikam.com");
  CHECK(pct_encode("\xC3\xA9") == "%C3%A9");  // UTF-8 bytes, upper-case hex
  CHECK(pct_encode(std::string_view("\0x", 2)) == "%00x");
  CHECK(pct_encode("") == "");
}

TEST_CASE("user targets encode the id as one path segment") {
  CHECK(user_target("auth0|63d17c6a9d503d76c056c177") == "/api/v2/users/auth0%7C63d17c6a9d503d76c056c177");
  CHECK(user_target("oauth2|VippsLogin|sub/../x") == "/api/v2/users/oauth2%7CVippsLogin%7Csub%2F..%2Fx");
  CHECK(user_target("auth0|a", {"user_id", "app_metadata"}, true) ==
        "/api/v2/users/auth0%7Ca?fields=user_id,app_metadata&include_fields=true");
  CHECK(user_target("auth0|a", {"identities"}, false) ==
        "/api/v2/users/auth0%7Ca?fields=identities&include_fields=false");
  CHECK(user_target("auth0|a", {}, false) == "/api/v2/users/auth0%7Ca");
  // Ids that percent-encoding cannot make one harmless segment are refused.
  for (const char* id : {"", ".", ".."}) {
    CAPTURE(id);
    CHECK_THROWS_AS((void)user_target(id), std::invalid_argument);
    CHECK_THROWS_AS((void)identity_target("auth0|p", "auth0", id), std::invalid_argument);
    CHECK_THROWS_AS((void)identity_target("auth0|p", id, "x"), std::invalid_argument);
  }
  CHECK(user_target("...") == "/api/v2/users/...");
}

TEST_CASE("identity targets keep every pipe of a multi-pipe secondary id") {
  CHECK(identities_target("auth0|p") == "/api/v2/users/auth0%7Cp/identities");
  CHECK(identity_target("auth0|p", "samlp", "NeoLink|40813347") ==
        "/api/v2/users/auth0%7Cp/identities/samlp/NeoLink%7C40813347");
  CHECK(identity_target("auth0|p", "oauth2", "VippsLogin|a|b") ==
        "/api/v2/users/auth0%7Cp/identities/oauth2/VippsLogin%7Ca%7Cb");
}

TEST_CASE("connections target repeats strategy and carries the checkpoint") {
  CHECK(connections_target({}, std::nullopt, 50) == "/api/v2/connections?take=50");
  CHECK(connections_target({"auth0", "google-oauth2"}, std::string("ck+1/2"), 10) ==
        "/api/v2/connections?strategy=auth0&strategy=google-oauth2&from=ck%2B1%2F2&take=10");
  CHECK(connections_target({"auth0"}, std::string(), 5) == "/api/v2/connections?strategy=auth0&take=5");
}

TEST_CASE("domain splitting") {
  CHECK(split_domain("tenant.eu.auth0.com").host == "tenant.eu.auth0.com");
  CHECK(split_domain("tenant.eu.auth0.com").port == "443");
  CHECK(split_domain("127.0.0.1:8443").host == "127.0.0.1");
  CHECK(split_domain("127.0.0.1:8443").port == "8443");
  CHECK(split_domain("[::1]:9000").host == "::1");
  CHECK(split_domain("[::1]:9000").port == "9000");
  CHECK(split_domain("[::1]").port == "443");
}

TEST_CASE("canonical domain: the root label's trailing dot is dropped, nothing else changes") {
  CHECK(canonical_domain("tenant.eu.auth0.com.") == "tenant.eu.auth0.com");
  CHECK(canonical_domain("tenant.eu.auth0.com.:8443") == "tenant.eu.auth0.com:8443");
  CHECK(canonical_domain("tenant.eu.auth0.com") == "tenant.eu.auth0.com");
  CHECK(canonical_domain("127.0.0.1:8443") == "127.0.0.1:8443");
  CHECK(canonical_domain("[::1]:9000") == "[::1]:9000");
  // An explicit default port is dropped (the audience and issuer never carry it), any
  // other kept as a plain number.
  CHECK(canonical_domain("tenant.eu.auth0.com:443") == "tenant.eu.auth0.com");
  CHECK(canonical_domain("tenant.eu.auth0.com.:443") == "tenant.eu.auth0.com");
  CHECK(canonical_domain("tenant.eu.auth0.com:0443") == "tenant.eu.auth0.com");
  CHECK(canonical_domain("tenant.eu.auth0.com:08443") == "tenant.eu.auth0.com:8443");
  CHECK(canonical_domain("[::1]:443") == "[::1]");
  CHECK(default_audience("tenant.eu.auth0.com:443") == "https://tenant.eu.auth0.com/api/v2/");
  CHECK(default_audience("127.0.0.1:8443") == "https://127.0.0.1:8443/api/v2/");
  CHECK_THROWS_AS((void)canonical_domain("."), std::invalid_argument);
  CHECK_THROWS_AS((void)canonical_domain(".:443"), std::invalid_argument);
  CHECK_THROWS_AS((void)canonical_domain("https://t.auth0.com."), std::invalid_argument);
}

TEST_CASE("domain errors name the field and the problem") {
  auto msg = [](std::string_view d) {
    try {
      (void)split_domain(d);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("<accepted>");
  };
  CHECK(msg("") == "domain: must not be empty");
  CHECK(msg("https://tenant.auth0.com").find("scheme") != std::string::npos);
  CHECK(msg("tenant.auth0.com/api/v2").find("path") != std::string::npos);
  CHECK(msg("tenant.auth0.com:").find("empty port") != std::string::npos);
  CHECK(msg("tenant.auth0.com:0").find("1..65535") != std::string::npos);
  CHECK(msg("tenant.auth0.com:70000").find("1..65535") != std::string::npos);
  CHECK(msg("tenant.auth0.com:44x").find("1..65535") != std::string::npos);
  CHECK(msg("::1").find("brackets") != std::string::npos);
  CHECK(msg("user@tenant.auth0.com").find("user info") != std::string::npos);
  CHECK(msg("ten ant.auth0.com").find("spaces") != std::string::npos);
  CHECK(msg(":443").find("empty host") != std::string::npos);
  CHECK(msg("domain.only").rfind("domain:", 0) == std::string::npos);  // accepted
}
