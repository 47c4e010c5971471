// secret_outputs: masking the outputs a manifest marks x-secret (properties, items,
// prefixItems, additionalProperties), what the masked parts held, and the marks the walk
// cannot reach (validate refuses those).
#include <wfa/host/secret_outputs.hpp>
#include <wfa/host/validate.hpp>

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace json = boost::json;
using namespace wfa::host;

namespace {

const json::value schema = json::parse(R"({
  "type": "object",
  "properties": {
    "profiles": {"type": "array", "items": {"type": "object", "properties": {
      "user_id": {"type": "string"},
      "access_token": {"type": "string", "x-secret": true},
      "refresh_token": {"type": "string", "x-secret": true}}}},
    "pair": {"type": "array", "prefixItems": [{"type": "string"}, {"x-secret": true}]},
    "vault": {"type": "object", "additionalProperties": {"x-secret": true}, "properties": {"name": {"type": "string"}}},
    "blob": {"x-secret": true},
    "plain": {"type": "string"}}})");

}  // namespace

TEST_CASE("secret outputs: each marked part becomes ***, whatever its type, the rest stays") {
  const auto outputs = json::parse(R"({
    "profiles": [{"user_id": "u1", "access_token": "at-1", "refresh_token": "rt-1"}, {"user_id": "u2"}],
    "pair": ["shown", "hidden-2"],
    "vault": {"name": "n", "k1": "v-1", "k2": {"deep": "v-2", "n": 42}},
    "blob": {"list": ["b-1", true, null]},
    "plain": "p",
    "extra": "x"})");
  std::vector<std::string> found;
  const auto shown = mask_secret_outputs(schema, outputs, found);
  CHECK(shown == json::parse(R"({
    "profiles": [{"user_id": "u1", "access_token": "***", "refresh_token": "***"}, {"user_id": "u2"}],
    "pair": ["shown", "***"],
    "vault": {"name": "n", "k1": "***", "k2": "***"},
    "blob": "***",
    "plain": "p",
    "extra": "x"})"));
  std::sort(found.begin(), found.end());
  CHECK(found == std::vector<std::string>{"42", "at-1", "b-1", "hidden-2", "rt-1", "v-1", "v-2"});
  CHECK(has_secret_marks(schema));
  CHECK(unreachable_secret_marks(schema).empty());
}

TEST_CASE("secret outputs: marks behind allOf, $ref or if/then are reported as unreachable") {
  const auto hidden = json::parse(R"({
    "type": "object",
    "properties": {"a": {"allOf": [{"x-secret": true}]}, "b": {"$ref": "#/$defs/t"}, "c": {"x-secret": true}},
    "$defs": {"t": {"type": "string", "x-secret": true}},
    "if": {"properties": {"d": {"x-secret": true}}}})");
  CHECK(unreachable_secret_marks(hidden) ==
        std::vector<std::string>{"/$defs/t", "/if/properties/d", "/properties/a/allOf/0"});
  CHECK_FALSE(has_secret_marks(json::parse(R"({"properties": {"x-secret": {"type": "string"}}, "x-secret": false})")));
  // Data is not a schema: an example or default that holds the key marks nothing.
  CHECK_FALSE(has_secret_marks(
      json::parse(R"({"properties": {"a": {"examples": [{"x-secret": true}], "default": {"x-secret": true}}}})")));
}

TEST_CASE("validate refuses an action whose outputs mark a secret flowrun would not find") {
  const auto manifest = json::parse(R"({
    "id": "p.leaky", "version": "1.0.0", "title": "T", "description": "d",
    "connection": {"type": "object"}, "options": {"type": "object"}, "inputs": {"type": "object"},
    "outputs": {"type": "object", "properties": {"tok": {"anyOf": [{"type": "string", "x-secret": true}]}}}})")
                            .as_object();
  const auto f = parse_flow(R"({"plugins": [{"id": "p", "path": "libp.so"}],
    "connections": {"c": {"plugin": "p", "config": {}}},
    "steps": [{"id": "s1", "action": "p.leaky", "connection": "c"}]})",
                            "t.flow.json");
  const auto r = validate(f, manifest_set{{"p", {manifest}}}, [](const std::string&) { return std::nullopt; });
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].starts_with("step s1: the manifest of p.leaky marks x-secret at outputs/properties/tok/anyOf/0"));
}
