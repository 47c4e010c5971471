// Hand-written cases, one or more per rule of docs/merge-semantics.md.
#include "auth0_patch_model.hpp"
#include "merge/merge.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

namespace json = boost::json;

namespace {

json::object obj(std::string_view text) { return json::parse(text).as_object(); }

merge::options opts_with(merge::array_policy arrays, std::vector<std::string> exclude = {}) {
  merge::options o;
  o.arrays = arrays;
  o.exclude = std::move(exclude);
  return o;
}

json::object merged(std::string_view p, std::string_view s, const merge::options& o = {},
                    std::vector<std::string>* keys = nullptr) {
  return merge::merge_metadata(obj(p), obj(s), o, "/user_metadata", keys);
}

// Byte-exact comparison: the merge keeps P's key order and appends S's new keys in S's order.
void check_bytes(const json::object& got, std::string_view want) {
  CHECK(json::serialize(got) == json::serialize(json::parse(want)));
}

}  // namespace

TEST_CASE("walkthrough: google-oauth2 primary, database secondary") {
  const auto primary = obj(R"({
    "user_id": "google-oauth2|115015401343387192604", "email": "ana@example.com",
    "user_metadata": {"color": "red", "prefs": {"lang": "en"}},
    "app_metadata": {"roles": ["Admin"]}})");
  const auto secondary = obj(R"({
    "user_id": "auth0|5f7c8ec7c33c6c004bbafe82", "email": "ana@example.com",
    "user_metadata": {"color": "blue", "hobby": "chess", "prefs": {"lang": "fr", "tz": "UTC"}},
    "app_metadata": {"roles": ["User", "Editor"], "plan": "pro"}})");
  const auto r = merge::merge_users(primary, secondary, {});
  check_bytes(r.user_metadata, R"({"color":"red","prefs":{"lang":"en","tz":"UTC"},"hobby":"chess"})");
  // `primary` keeps the primary's array whole: no lodash-style index-wise ["Admin","Editor"].
  check_bytes(r.app_metadata, R"({"roles":["Admin"],"plan":"pro"})");
  check_bytes(r.patch, R"({"user_metadata":{"prefs":{"lang":"en","tz":"UTC"},"hobby":"chess"},
                           "app_metadata":{"plan":"pro"}})");
  // In the secondary's document order.
  CHECK(r.merged_keys ==
        std::vector<std::string>{"/user_metadata/hobby", "/user_metadata/prefs/tz", "/app_metadata/plan"});
}

TEST_CASE("walkthrough under union and concat") {
  const auto primary = obj(R"({"app_metadata": {"roles": ["Admin"]}})");
  const auto secondary = obj(R"({"app_metadata": {"roles": ["User", "Admin", "User"]}})");
  SUBCASE("union appends what is new, once") {
    const auto r = merge::merge_users(primary, secondary, opts_with(merge::array_policy::union_));
    check_bytes(r.app_metadata, R"({"roles":["Admin","User"]})");
    CHECK(r.merged_keys == std::vector<std::string>{"/app_metadata/roles/1"});
    check_bytes(r.patch, R"({"app_metadata":{"roles":["Admin","User"]}})");
  }
  SUBCASE("concat appends everything") {
    const auto r = merge::merge_users(primary, secondary, opts_with(merge::array_policy::concat));
    check_bytes(r.app_metadata, R"({"roles":["Admin","User","Admin","User"]})");
    CHECK(r.merged_keys ==
          std::vector<std::string>{"/app_metadata/roles/1", "/app_metadata/roles/2", "/app_metadata/roles/3"});
  }
}

TEST_CASE("type conflicts: the primary wins unless both are objects (or arrays under concat/union)") {
  const char* kinds[] = {"null", "true", "1", "2.5", "\"s\"", "[1]", "{\"x\":1}"};
  for (const char* p : kinds) {
    for (const char* s : kinds) {
      const std::string pd = std::string(R"({"k":)") + p + "}";
      const std::string sd = std::string(R"({"k":)") + s + "}";
      CAPTURE(pd);
      CAPTURE(sd);
      for (auto policy : {merge::array_policy::primary, merge::array_policy::concat, merge::array_policy::union_}) {
        const auto m = merged(pd, sd, opts_with(policy));
        const bool both_objects = std::string(p).front() == '{' && std::string(s).front() == '{';
        const bool both_arrays = std::string(p).front() == '[' && std::string(s).front() == '[';
        if (both_objects) {
          check_bytes(m, R"({"k":{"x":1}})");
        } else if (both_arrays && policy == merge::array_policy::concat) {
          check_bytes(m, R"({"k":[1,1]})");
        } else {
          check_bytes(m, pd);  // also union of [1] and [1]: nothing new
        }
      }
    }
  }
}

TEST_CASE("nulls: a secondary null is never copied, a primary null stays") {
  check_bytes(merged(R"({})", R"({"a":null,"b":{"c":null,"d":1,"e":{"f":null}}})"), R"({"b":{"d":1,"e":{}}})");
  check_bytes(merged(R"({"a":null})", R"({"a":{"x":1}})"), R"({"a":null})");
  check_bytes(merged(R"({"a":{"x":null}})", R"({"a":{"x":5,"y":null}})"), R"({"a":{"x":null}})");
  // Arrays are copied verbatim, nulls inside them included.
  check_bytes(merged(R"({})", R"({"a":[null,{"b":null}]})"), R"({"a":[null,{"b":null}]})");
}

TEST_CASE("nested objects merge at every depth, keys in P's order then S's") {
  std::vector<std::string> keys;
  const auto m =
      merged(R"({"a":{"b":{"c":1,"z":0}},"q":1})", R"({"n":2,"a":{"b":{"d":2,"c":9},"e":{"f":3}}})", {}, &keys);
  check_bytes(m, R"({"a":{"b":{"c":1,"z":0,"d":2},"e":{"f":3}},"q":1,"n":2})");
  CHECK(keys == std::vector<std::string>{"/user_metadata/n", "/user_metadata/a/b/d", "/user_metadata/a/e"});
}

TEST_CASE("arrays are never merged index-wise") {
  // lodash _.merge gives ["admin","editor"] here.
  check_bytes(merged(R"({"r":["admin"]})", R"({"r":["user","editor"]})"), R"({"r":["admin"]})");
  // Arrays of objects under union compare deeply, regardless of key order and 1 vs 1.0.
  check_bytes(merged(R"({"r":[{"a":1,"b":[2]}]})", R"({"r":[{"b":[2.0],"a":1.0},{"a":2}]})",
                     opts_with(merge::array_policy::union_)),
              R"({"r":[{"a":1,"b":[2]},{"a":2}]})");
  // The primary's own duplicates stay under union.
  check_bytes(merged(R"({"r":[1,1]})", R"({"r":[1,2,2]})", opts_with(merge::array_policy::union_)), R"({"r":[1,1,2]})");
  // A new array key is copied verbatim under every policy.
  check_bytes(merged(R"({})", R"({"r":[3,3]})", opts_with(merge::array_policy::union_)), R"({"r":[3,3]})");
}

TEST_CASE("exclusions at several depths") {
  const auto p = R"({"a":{"b":{"c":1}},"keep":1})";
  const auto s = R"({"a":{"b":{"d":2},"x":3},"top":4,"new":{"in":1,"out":2}})";
  auto ex = [&](std::vector<std::string> e) {
    return merged(p, s, opts_with(merge::array_policy::primary, std::move(e)));
  };
  check_bytes(ex({"/user_metadata/top"}), R"({"a":{"b":{"c":1,"d":2},"x":3},"keep":1,"new":{"in":1,"out":2}})");
  check_bytes(ex({"/user_metadata/a/b/d"}), R"({"a":{"b":{"c":1},"x":3},"keep":1,"top":4,"new":{"in":1,"out":2}})");
  check_bytes(ex({"/user_metadata/a"}), R"({"a":{"b":{"c":1}},"keep":1,"top":4,"new":{"in":1,"out":2}})");
  // Inside a subtree the primary does not have: clean() drops the excluded member.
  check_bytes(ex({"/user_metadata/new/out"}), R"({"a":{"b":{"c":1,"d":2},"x":3},"keep":1,"top":4,"new":{"in":1}})");
  // The whole metadata object, and pointers of the other root, which do not apply here.
  check_bytes(ex({"/user_metadata"}), p);
  check_bytes(ex({"/app_metadata/a"}), R"({"a":{"b":{"c":1,"d":2},"x":3},"keep":1,"top":4,"new":{"in":1,"out":2}})");
  // A prefix that is not a whole token does not exclude ("/user_metadata/to" vs "top").
  CHECK(json::serialize(ex({"/user_metadata/to"})) == json::serialize(ex({})));
}

TEST_CASE("exclusions with escaped keys") {
  const auto m = merged(R"({})", R"({"a/b":1,"~":2,"ok":3})",
                        opts_with(merge::array_policy::primary, {"/user_metadata/a~1b", "/user_metadata/~0"}));
  check_bytes(m, R"({"ok":3})");
}

TEST_CASE("an exclusion that indexes into an array is an error") {
  const auto o = opts_with(merge::array_policy::union_, {"/user_metadata/roles/0"});
  CHECK_THROWS_WITH_AS(merged(R"({"roles":["a"]})", R"({})", o),
                       doctest::Contains("points into the array at \"/user_metadata/roles\""), merge::invalid_argument);
  CHECK_THROWS_AS(merged(R"({})", R"({"roles":[1]})", o), merge::invalid_argument);
  // The array itself may be excluded; a key "0" of an object is an ordinary key.
  check_bytes(merged(R"({"roles":["a"]})", R"({"roles":["b"]})",
                     opts_with(merge::array_policy::union_, {"/user_metadata/roles"})),
              R"({"roles":["a"]})");
  check_bytes(
      merged(R"({"m":{}})", R"({"m":{"0":1,"1":2}})", opts_with(merge::array_policy::primary, {"/user_metadata/m/0"})),
      R"({"m":{"1":2}})");
}

TEST_CASE("keys are opaque strings") {
  std::vector<std::string> keys;
  const auto m = merged(R"({"__proto__":{"a":1}})",
                        R"({"":1,"__proto__":{"b":2},"a/b":3,"~":4,"ü→✓":5,"constructor":6})", {}, &keys);
  check_bytes(m, R"({"__proto__":{"a":1,"b":2},"":1,"a/b":3,"~":4,"ü→✓":5,"constructor":6})");
  CHECK(keys == std::vector<std::string>{"/user_metadata/", "/user_metadata/__proto__/b", "/user_metadata/a~1b",
                                         "/user_metadata/~0", "/user_metadata/ü→✓", "/user_metadata/constructor"});
  for (const auto& k : keys) CHECK(merge::parse_pointer(k).size() >= 2);
  CHECK(merge::parse_pointer("/user_metadata/a~1b")[1] == "a/b");
  CHECK(merge::parse_pointer("/user_metadata/~0")[1] == "~");
  CHECK(merge::parse_pointer("/user_metadata/")[1].empty());
  CHECK(merge::parse_pointer("/a~01") == std::vector<std::string>{"a~1"});
  CHECK(merge::escape_pointer_token("~/") == "~0~1");
}

TEST_CASE("the PATCH body holds only changed top-level keys, whole") {
  SUBCASE("nothing new: empty body, so no PATCH") {
    const auto r = merge::merge_users(obj(R"({"user_metadata":{"a":1},"app_metadata":{"b":[1]}})"),
                                      obj(R"({"user_metadata":{"a":2},"app_metadata":{"b":[1.0]}})"),
                                      opts_with(merge::array_policy::union_));
    CHECK(r.patch.empty());
    CHECK(r.merged_keys.empty());
  }
  SUBCASE("one side changes: the other is left out, never {}") {
    const auto r = merge::merge_users(obj(R"({"user_metadata":{"a":{"x":1},"b":2,"c":null}})"),
                                      obj(R"({"user_metadata":{"a":{"y":1}},"app_metadata":{}})"), {});
    check_bytes(r.patch, R"({"user_metadata":{"a":{"x":1,"y":1}}})");
    CHECK(r.patch.find("app_metadata") == r.patch.end());
  }
  SUBCASE("missing and null metadata count as {}") {
    const auto r = merge::merge_users(obj(R"({"user_id":"auth0|1","user_metadata":null})"),
                                      obj(R"({"user_metadata":{"k":1}})"), {});
    check_bytes(r.patch, R"({"user_metadata":{"k":1}})");
    check_bytes(r.app_metadata, "{}");
  }
}

TEST_CASE("metadata that is not an object is an input error") {
  CHECK_THROWS_WITH_AS(merge::merge_users(obj(R"({"user_metadata":[1]})"), obj("{}"), {}),
                       "primary user: user_metadata is not a JSON object", merge::invalid_argument);
  CHECK_THROWS_WITH_AS(merge::merge_users(obj("{}"), obj(R"({"app_metadata":"x"})"), {}),
                       "secondary user: app_metadata is not a JSON object", merge::invalid_argument);
  // merge_delta (the link action's call) refuses the same, in the same order.
  CHECK_THROWS_WITH_AS(merge::merge_delta(obj(R"({"app_metadata":1})"), obj(R"({"user_metadata":2})"), {}),
                       "primary user: app_metadata is not a JSON object", merge::invalid_argument);
  CHECK_THROWS_WITH_AS(merge::merge_delta(obj(R"({"user_metadata":{"a":[1]}})"), obj("{}"),
                                          opts_with(merge::array_policy::union_, {"/user_metadata/a/0"})),
                       doctest::Contains("points into the array"), merge::invalid_argument);
}

TEST_CASE("options: arrays and merge_exclude are validated with clear errors") {
  const json::value concat = "concat";
  CHECK(merge::parse_options(&concat, nullptr).arrays == merge::array_policy::concat);
  const json::value null_v;
  CHECK(merge::parse_options(&null_v, &null_v).arrays == merge::array_policy::primary);
  CHECK(merge::parse_options(nullptr, nullptr).exclude.empty());

  const json::value bad = "merge";
  CHECK_THROWS_WITH_AS(merge::parse_options(&bad, nullptr),
                       "arrays: \"merge\" is not one of \"primary\", \"concat\", \"union\"", merge::invalid_argument);
  const json::value number = 1;
  CHECK_THROWS_AS(merge::parse_options(&number, nullptr), merge::invalid_argument);

  auto ex = [](std::string_view text) {
    const json::value v = json::parse(text);
    return merge::parse_options(nullptr, &v);
  };
  CHECK(ex(R"(["/app_metadata","/user_metadata/a~1b"])").exclude.size() == 2);
  CHECK_THROWS_WITH_AS(ex(R"(["/app_metadata/~2"])"), doctest::Contains("'~' not followed by 0 or 1"),
                       merge::invalid_argument);
  CHECK_THROWS_WITH_AS(ex(R"(["app_metadata/x"])"), doctest::Contains("must be empty or start with '/'"),
                       merge::invalid_argument);
  CHECK_THROWS_WITH_AS(ex(R"(["/email"])"),
                       "merge_exclude[0]: \"/email\" must start with /user_metadata or /app_metadata",
                       merge::invalid_argument);
  CHECK_THROWS_AS(ex(R"([""])"), merge::invalid_argument);
  CHECK_THROWS_AS(ex(R"(["/"])"), merge::invalid_argument);
  CHECK_THROWS_WITH_AS(ex(R"(["/app_metadata", 3])"), doctest::Contains("merge_exclude[1]"), merge::invalid_argument);
  CHECK_THROWS_AS(ex(R"("/app_metadata")"), merge::invalid_argument);
}

TEST_CASE("json_equal is JSON-semantic") {
  auto eq = [](std::string_view a, std::string_view b) { return merge::json_equal(json::parse(a), json::parse(b)); };
  CHECK(eq("1", "1.0"));
  CHECK(eq("-0.0", "0"));
  CHECK(eq("18446744073709551615", "18446744073709551615"));
  CHECK(json::parse("9223372036854775808").is_uint64());
  CHECK(eq("9223372036854775808", "9.223372036854775808e18"));
  CHECK(eq("-9223372036854775808", "-9.223372036854775808e18"));
  CHECK_FALSE(eq("9007199254740993", "9007199254740992.0"));  // 2^53+1 is not the double 2^53
  CHECK_FALSE(eq("1", "1.5"));
  CHECK_FALSE(eq("-1", "18446744073709551615"));
  CHECK(eq(R"({"a":1,"b":[1,{"c":2}]})", R"({"b":[1.0,{"c":2}],"a":1})"));
  CHECK_FALSE(eq("[1,2]", "[2,1]"));
  CHECK_FALSE(eq(R"({"a":1})", R"({"a":1,"b":null})"));
  CHECK_FALSE(eq("null", "false"));
  CHECK_FALSE(eq(R"("1")", "1"));
  // Boost.JSON reads 0e75808 as NaN (fuzz_merge found it): such a value equals itself, and
  // a union does not keep it twice.
  REQUIRE(std::isnan(json::parse("0e75808").as_double()));
  CHECK(eq("0e75808", "0e75808"));
  CHECK(eq("[1,0e75808]", "[1,0e75808]"));
  CHECK_FALSE(eq("0e75808", "0"));
  const auto r = merge::merge_users(json::parse(R"({"app_metadata":{"l":[1,0e75808]}})").as_object(),
                                    json::parse(R"({"app_metadata":{"l":[0e75808,2]}})").as_object(),
                                    opts_with(merge::array_policy::union_));
  CHECK(r.app_metadata.at("l").as_array().size() == 3);  // [1, NaN, 2]
}

TEST_CASE("Auth0's PATCH rule") {
  const auto cur = obj(R"({"a":{"x":1,"y":2},"b":1,"c":2})");
  check_bytes(a0::test::apply_auth0_patch(cur, obj(R"({"a":{"z":3},"c":null,"d":4})")), R"({"a":{"z":3},"b":1,"d":4})");
  check_bytes(a0::test::apply_auth0_patch(cur, obj("{}")), "{}");
}

TEST_CASE("idempotence: primary and union converge, concat appends again") {
  const auto p = obj(R"({"user_metadata":{"r":[1],"k":{"a":1}}})");
  const auto s = obj(R"({"user_metadata":{"r":[1,2],"k":{"b":2},"n":3}})");
  for (auto policy : {merge::array_policy::primary, merge::array_policy::union_}) {
    const auto first = merge::merge_users(p, s, opts_with(policy));
    json::object p2 = p;
    p2["user_metadata"] = first.user_metadata;
    const auto second = merge::merge_users(p2, s, opts_with(policy));
    CHECK(second.patch.empty());  // a re-run after a partial failure writes nothing
  }
  const auto first = merge::merge_users(p, s, opts_with(merge::array_policy::concat));
  json::object p2 = p;
  p2["user_metadata"] = first.user_metadata;
  const auto second = merge::merge_users(p2, s, opts_with(merge::array_policy::concat));
  check_bytes(second.patch, R"({"user_metadata":{"r":[1,1,2,1,2]}})");
}

TEST_CASE("inputs are never mutated and output is deterministic") {
  const auto p = obj(R"({"user_metadata":{"r":[1],"k":{"a":1}},"app_metadata":{"x":null}})");
  const auto s = obj(R"({"user_metadata":{"r":[2],"k":{"b":null,"c":[{}]}},"app_metadata":{"y":{"z":null}}})");
  const auto p_before = json::serialize(p);
  const auto s_before = json::serialize(s);
  const auto a = merge::merge_users(p, s, opts_with(merge::array_policy::union_));
  const auto b = merge::merge_users(p, s, opts_with(merge::array_policy::union_));
  CHECK(json::serialize(p) == p_before);
  CHECK(json::serialize(s) == s_before);
  CHECK(json::serialize(a.patch) == json::serialize(b.patch));
  CHECK(json::serialize(a.user_metadata) == json::serialize(b.user_metadata));
}

TEST_CASE("duplicate keys in input JSON: the last one wins (Boost.JSON's parser)") {
  const auto s = obj(R"({"user_metadata":{"k":1,"k":2}})");
  const auto r = merge::merge_users(obj("{}"), s, {});
  check_bytes(r.user_metadata, R"({"k":2})");
}

TEST_CASE("deep documents merge without recursion") {
  constexpr int depth = 20000;
  std::string p, s;
  for (int i = 0; i < depth; ++i) {
    p += R"({"d":)";
    s += R"({"d":)";
  }
  p += "{\"p\":1}";
  s += "{\"s\":[[[1]]]}";
  for (int i = 0; i < depth; ++i) {
    p += '}';
    s += '}';
  }
  json::parse_options po;
  po.max_depth = depth + 10;
  const auto pv = json::parse(p, {}, po);
  const auto sv = json::parse(s, {}, po);
  std::vector<std::string> keys;
  const auto m = merge::merge_metadata(pv.as_object(), sv.as_object(), {}, "/user_metadata", &keys);
  REQUIRE(keys.size() == 1);
  CHECK(keys[0].size() == std::string("/user_metadata").size() + 2 * (depth + 1));
  CHECK(merge::json_equal(json::value(m), json::value(m)));
  CHECK_FALSE(merge::json_equal(json::value(m), pv));
  const auto delta = merge::metadata_delta(pv.as_object(), m);
  CHECK(delta.size() == 1);
}

// Issue 12 item 9: union of two 200,000-element arrays whose elements differ only four
// levels down ([[[[i]]]]). The former hash looked three levels deep, put every element into one
// bucket and compared each against all (hours); the whole-value hash makes it linear
// (about 1 s in release, 3 s under ASan; the timeout leaves room for a loaded machine).
TEST_CASE("union of 200,000-element arrays of deep values is near-linear and exact" * doctest::timeout(60)) {
  constexpr std::int64_t n = 200000;
  auto element = [](std::int64_t i) {  // [[[[i]]]]
    json::value v = json::array{i};
    for (int level = 0; level < 3; ++level) v = json::array{std::move(v)};
    return v;
  };
  auto leaf = [](const json::value& e) -> const json::value& { return e.at(0).at(0).at(0).at(0); };
  json::array p, s;
  p.reserve(n);
  s.reserve(n);
  for (std::int64_t i = 0; i < n; ++i) p.push_back(element(i));
  // Half shared (spelt as doubles: 1 == 1.0), half new.
  for (std::int64_t i = n / 2; i < n + n / 2; ++i) {
    json::value e = element(i);
    if (i < n) e.at(0).at(0).at(0).at(0) = static_cast<double>(i);
    s.push_back(std::move(e));
  }
  json::object primary{{"r", std::move(p)}}, secondary{{"r", std::move(s)}};
  std::vector<std::string> keys;
  const auto m =
      merge::merge_metadata(primary, secondary, opts_with(merge::array_policy::union_), "/user_metadata", &keys);
  const auto& r = m.at("r").as_array();
  REQUIRE(r.size() == static_cast<std::size_t>(n + n / 2));
  bool in_order = true;
  for (std::int64_t i = 0; i < n + n / 2 && in_order; ++i)
    in_order = leaf(r[static_cast<std::size_t>(i)]).to_number<std::int64_t>() == i;
  CHECK(in_order);
  REQUIRE(keys.size() == static_cast<std::size_t>(n / 2));
  CHECK(keys.front() == "/user_metadata/r/200000");
  CHECK(keys.back() == "/user_metadata/r/299999");
}
