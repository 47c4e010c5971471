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
