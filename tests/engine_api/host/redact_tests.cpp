// The redactor: text, JSON-escaped forms, JSON values (strings and keys).
#include <wfa/host/redact.hpp>

#include <boost/json.hpp>
#include <doctest/doctest.h>

namespace json = boost::json;
using wfa::host::redactor;

TEST_CASE("every occurrence is replaced, other text stays") {
  redactor r;
  r.add("s3cr3t");
  CHECK(r.redact("a s3cr3t b s3cr3ts3cr3t") == "a *** b ******");
  CHECK(r.redact("nothing here") == "nothing here");
  CHECK(redactor().redact("s3cr3t") == "s3cr3t");
}

TEST_CASE("empty secrets are ignored, overlapping secrets redact fully (longest first)") {
  redactor r;
  r.add("");
  CHECK(r.empty());
  r.add("abc");
  r.add("abcdef");
  CHECK(r.redact("xabcdefx abc") == "x***x ***");
}

TEST_CASE("a secret that JSON escapes is found in serialised JSON too") {
  redactor r;
  r.add("pa\"ss\\word");
  std::string line = json::serialize(json::object{{"message", "bad pa\"ss\\word here"}});
  CHECK(line.find("pa") != std::string::npos);
  std::string red = r.redact(line);
  CHECK(red == R"({"message":"bad *** here"})");
}

TEST_CASE("JSON values: strings at any depth and object keys") {
  redactor r;
  r.add("tok123");
  json::value v = json::parse(R"({"a":["x tok123 y",{"tok123":"tok123"}],"n":1,"tok123-key":true})");
  r.redact(v);
  CHECK(v == json::parse(R"({"a":["x *** y",{"***":"***"}],"n":1,"***-key":true})"));
}

TEST_CASE("short secrets (under 4 bytes) only where they are a word of their own") {
  redactor r;
  r.add("c");
  r.add("ab1");
  CHECK(r.redact("c") == "***");
  CHECK(r.redact("cancelled c-c c.x.com") == "cancelled ***-*** ***.x.com");
  CHECK(r.redact("ab1 xab1 ab12 [ab1]") == "*** xab1 ab12 [***]");
  // Four bytes and more: everywhere, also inside words.
  redactor longer;
  longer.add("abcd");
  CHECK(longer.redact("xabcdx") == "x***x");
  json::value v = json::parse(R"({"c":"c","code":"cancelled"})");
  r.redact(v);
  CHECK(v == json::parse(R"({"***":"***","code":"cancelled"})"));
}

TEST_CASE("encoded forms: percent-encoded (%20 or +, either hex case) and JSON with \\/ (issue 12.4)") {
  redactor r;
  r.add("p@ss w/rd+\xC3\xBC");
  CHECK(r.redact("client_secret=p%40ss%20w%2Frd%2B%C3%BC&x=1") == "client_secret=***&x=1");
  CHECK(r.redact("client_secret=p%40ss+w%2Frd%2B%C3%BC&x=1") == "client_secret=***&x=1");
  CHECK(r.redact("client_secret=p%40ss+w%2frd%2b%c3%bc") == "client_secret=***");
  CHECK(r.redact(R"({"s":"p@ss w\/rd+)"
                 "\xC3\xBC"
                 R"("})") == R"({"s":"***"})");
  // Text that only looks alike stays.
  CHECK(r.redact("p%40ss") == "p%40ss");
}

TEST_CASE("Basic credentials: base64 of id:secret, also form-encoded first (issue 12.4)") {
  redactor r;
  r.add_basic_credentials("my client", "s3c:r3t");
  // base64("my client:s3c:r3t") and base64("my+client:s3c%3Ar3t")
  CHECK(r.redact("Authorization: Basic bXkgY2xpZW50OnMzYzpyM3Q=") == "Authorization: Basic ***");
  CHECK(r.redact("Basic bXkrY2xpZW50OnMzYyUzQXIzdA==") == "Basic ***");
  CHECK(r.redact("bXkgY2xpZW50") == "bXkgY2xpZW50");  // the id alone is no secret
}
