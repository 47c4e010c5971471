// Dynamic options (wfa/host/options.hpp): the manifest field a FIELD pointer names, the
// literal context of a step, and list_all_options() over the options fixture (two pages,
// or pages that never end) and a plugin that cannot start the call.
#include <wfa/host/options.hpp>

#include <boost/json.hpp>
#include <doctest/doctest.h>

namespace json = boost::json;
using namespace wfa::host;

namespace {
const json::object manifest = json::parse(R"({"id": "fx.pick",
  "inputs": {"type": "object", "properties": {
    "choice": {"type": "string", "x-dynamic-options": {"paged": true}},
    "other": {"type": "string"}}},
  "options": {"type": "object", "properties": {"mode": {"type": "string"}}},
  "outputs": {"type": "object", "properties": []}})")
                                  .as_object();
}  // namespace

TEST_CASE("parse_field: /SECTION/NAME, or nothing") {
  auto r = parse_field("/inputs/choice");
  REQUIRE(r);
  CHECK(r->section == "inputs");
  CHECK(r->name == "choice");
  CHECK_FALSE(parse_field("inputs/choice"));
  CHECK_FALSE(parse_field("/inputs"));
  CHECK_FALSE(parse_field("/a/"));
  CHECK_FALSE(parse_field(""));
}

TEST_CASE("find_field and has_dynamic_options") {
  const json::value* choice = find_field(manifest, {"inputs", "choice"});
  REQUIRE(choice);
  CHECK(has_dynamic_options(*choice));
  const json::value* other = find_field(manifest, {"inputs", "other"});
  REQUIRE(other);
  CHECK_FALSE(has_dynamic_options(*other));
  CHECK(find_field(manifest, {"inputs", "nope"}) == nullptr);
  CHECK(find_field(manifest, {"options", "choice"}) == nullptr);
  CHECK(find_field(manifest, {"nosection", "choice"}) == nullptr);
  CHECK(find_field(manifest, {"id", "choice"}) == nullptr);            // not an object
  CHECK(find_field(manifest, {"outputs", "choice"}) == nullptr);       // properties not an object
  CHECK_FALSE(has_dynamic_options(json::value("x-dynamic-options")));  // not a schema
}

TEST_CASE("literal_context: the step's literal options and inputs, expressions left out") {
  flow_step s;
  s.options = json::parse(R"({"mode": "a", "later": "${{ inputs.x }}"})").as_object();
  s.inputs = json::parse(R"({"other": "b", "n": 3, "mixed": "id ${{ steps.s.outputs.x }}"})").as_object();
  CHECK(json::parse(literal_context(s)) ==
        json::parse(R"({"options": {"mode": "a"}, "inputs": {"other": "b", "n": 3}})"));
}

TEST_CASE("list_all_options: follows next_page_token to the end") {
  auto lib = library::open(WFA_FIXTURE_OPTIONS);
  instance inst(lib, "{}");
  auto list = list_all_options(inst, "fx.pick", "/inputs/choice", R"({"options":{},"inputs":{}})");
  REQUIRE(list.result == option_list::outcome::complete);
  // Page 1 gives item a; page 2 echoes the context as an item's value.
  REQUIRE(list.items.size() == 2);
  CHECK(list.items[0].at("value") == "a");
  CHECK(list.items[1].at("value") == json::parse(R"({"options":{},"inputs":{}})"));
}

TEST_CASE("list_all_options: pages that never end are cut, with the items so far and why") {
  auto lib = library::open(WFA_FIXTURE_OPTIONS);
  instance inst(lib, "{}");
  // A next_page_token already seen.
  auto list = list_all_options(inst, "fx.pick", "/inputs/choice", R"({"options":{"mode":"endless"},"inputs":{}})");
  CHECK(list.result == option_list::outcome::cut);
  CHECK(list.items.size() == 2);
  CHECK(list.reason == "page 2 gave a next_page_token already seen, the pages would never end");
  // More pages than allowed (each token new).
  list = list_all_options(inst, "fx.pick", "/inputs/choice", R"({"options":{},"inputs":{}})", 1);
  CHECK(list.result == option_list::outcome::cut);
  CHECK(list.items.size() == 1);
  CHECK(list.reason == "stopped after 1 pages, the plugin still gave a next page");
}

TEST_CASE("list_all_options: a call the plugin cannot start is the plugin's error") {
  auto lib = library::open(WFA_FIXTURE_RETURNS_ZERO);
  instance inst(lib, "{}");
  auto list = list_all_options(inst, "fx.zero", "/inputs/choice", "{}");
  CHECK(list.result == option_list::outcome::plugin_error);
  CHECK(list.error.code == WFA_INTERNAL);
  CHECK(list.items.empty());
}
