// Pure helpers of the emulator (no sockets): glob, percent-decoding, path split, base64url.
#include "util.hpp"

#include <doctest/doctest.h>

using namespace emu;

TEST_CASE("glob_match: * and ? over the whole string") {
  CHECK(glob_match("/api/v2/users/*", "/api/v2/users/auth0|x"));
  CHECK(glob_match("/api/v2/users/*", "/api/v2/users/auth0|x/identities"));
  CHECK(glob_match("*/identities", "/api/v2/users/a/identities"));
  CHECK_FALSE(glob_match("*/identities", "/api/v2/users/a/identities/auth0/b"));
  CHECK(glob_match("/api/v2/user?/x", "/api/v2/users/x"));
  CHECK_FALSE(glob_match("/api/v2/users", "/api/v2/users/x"));
  CHECK(glob_match("*", ""));
  CHECK(glob_match("a*b*c", "a-b-b-c"));
}

TEST_CASE("pct_decode and path_segments: an encoded slash stays inside its segment") {
  CHECK(pct_decode("auth0%7Cabc", false) == "auth0|abc");
  CHECK(pct_decode("a+b%2", true) == "a b%2");
  CHECK(pct_decode("a+b", false) == "a+b");
  std::string q;
  auto segs = path_segments("/api/v2/users/samlp%7CConn%7Cx%2Fy/identities?fields=a,b", &q);
  REQUIRE(segs.size() == 5);
  CHECK(segs[3] == "samlp|Conn|x/y");
  CHECK(q == "fields=a,b");
  auto params = parse_query("strategy=auth0&strategy=github&name=My+Conn&flag");
  REQUIRE(params.size() == 4);
  CHECK(params[1].second == "github");
  CHECK(params[2].second == "My Conn");
  CHECK(params[3].first == "flag");
}

TEST_CASE("base64url round trip and rejection") {
  for (std::string s : {"", "f", "fo", "foo", "foob", "{\"sub\":\"auth0|x\"}"}) {
    std::string back;
    REQUIRE(base64url_decode(base64url_encode(s), back));
    CHECK(back == s);
  }
  std::string out;
  CHECK_FALSE(base64url_decode("ab!c", out));
}
