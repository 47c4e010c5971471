// Nested nulls (issue 11): Auth0 may keep or drop a null nested in PATCHed metadata.
#include <merge/merge.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <doctest/doctest.h>

namespace json = boost::json;

TEST_CASE("drop_nested_nulls: nested members only, key order kept, through arrays, top-level nulls stay") {
  auto md = json::parse(R"({"top":null,"a":{"x":null,"b":1,"c":{"y":null,"z":[null,{"q":null,"r":2}]},"d":3},"n":5})")
                .as_object();
  merge::drop_nested_nulls(md);
  CHECK(json::serialize(md) == R"({"top":null,"a":{"b":1,"c":{"z":[null,{"r":2}]},"d":3},"n":5})");
}

TEST_CASE("equal_but_dropped_nulls: a sent nested null may be absent, nothing else may differ") {
  auto eq = [](const char* got, const char* sent) {
    return merge::equal_but_dropped_nulls(json::parse(got), json::parse(sent));
  };
  CHECK(eq(R"({"b":1})", R"({"a":null,"b":1})"));
  CHECK(eq(R"({"a":null,"b":1})", R"({"a":null,"b":1})"));     // kept: fine too
  CHECK(eq(R"([{"r":2}])", R"([{"q":null,"r":2}])"));          // inside an array's object
  CHECK(eq(R"({"b":1.0})", R"({"b":1})"));                     // JSON-semantic numbers
  CHECK_FALSE(eq(R"({"b":1,"c":2})", R"({"a":null,"b":1})"));  // a member that was not sent
  CHECK_FALSE(eq(R"({})", R"({"b":1})"));                      // a non-null member missing
  CHECK_FALSE(eq(R"({"a":0,"b":1})", R"({"a":null,"b":1})"));  // null answered as a value
  CHECK_FALSE(eq(R"([1])", R"([null,1])"));                    // array elements are not dropped
  CHECK_FALSE(eq(R"({"a":{"b":2}})", R"({"a":{"b":1}})"));
}
