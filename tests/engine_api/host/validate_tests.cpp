// validate(): every kind of error, each naming its step and field; env filling;
// secrets registered and kept out of errors. Manifests are given directly (no plugin).
#include <wfa/host/validate.hpp>

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>

namespace json = boost::json;
using namespace wfa::host;

namespace {

const char* echo_manifest = R"({
  "id": "p.echo", "version": "1.0.0", "title": "Echo", "description": "d",
  "connection": {"type": "object", "additionalProperties": false, "required": ["domain"],
    "properties": {
      "domain": {"type": "string", "pattern": "^[a-z0-9.:]+$", "x-env": "T_DOMAIN"},
      "token": {"type": "string", "x-secret": true, "x-env": "T_TOKEN"},
      "key": {"type": "string"},
      "n": {"type": "integer", "x-env": "T_N"},
      "zzz": {"type": "integer"}}},
  "options": {"type": "object", "additionalProperties": false, "required": ["mode"],
    "properties": {"mode": {"type": "string", "enum": ["a", "b"]}, "loud": {"type": "boolean"}}},
  "inputs": {"type": "object", "additionalProperties": false, "required": ["text"],
    "properties": {"text": {"type": "string", "minLength": 1}, "count": {"type": "integer"},
                   "tags": {"type": "array", "items": {"type": "string"}},
                   "alt": {"type": "string"}},
    "not": {"required": ["text", "alt"]}},
  "outputs": {"type": "object", "additionalProperties": false,
    "properties": {"text": {"type": "string"}, "count": {"type": "integer"},
                   "user": {"type": "object", "properties": {"id": {"type": "string"}}},
                   "list": {"type": "array", "items": {"type": "object", "properties": {"v": {"type": "integer"}}}}}}
})";

manifest_set manifests() { return {{"p", {json::parse(echo_manifest).as_object()}}}; }

// A two-step flow; `patch` is merged into it (steps replaced wholesale when given).
flow make_flow(const char* patch = "{}") {
  json::object f = json::parse(R"({
    "plugins": [{"id": "p", "path": "libp.so"}],
    "connections": {"c": {"plugin": "p", "config": {"domain": "example.com"}}},
    "inputs": {"name": {"type": "string"}, "num": {"type": "integer"}, "any": {}},
    "steps": [
      {"id": "s1", "action": "p.echo", "connection": "c", "options": {"mode": "a"},
       "inputs": {"text": "${{ inputs.name }}", "count": "${{ inputs.num }}"}},
      {"id": "s2", "action": "p.echo", "connection": "c", "options": {"mode": "b"},
       "inputs": {"text": "got ${{ steps.s1.outputs.text }}", "count": "${{ steps.s1.outputs.count }}"}}],
    "outputs": {"t": "${{ steps.s2.outputs.text }}"}})")
                       .as_object();
  json::value extra = json::parse(patch);
  for (auto& kv : extra.as_object()) f[kv.key()] = kv.value();
  return parse_flow(json::serialize(f), "t.flow.json");
}

std::map<std::string, std::string> no_env;

env_lookup env_of(const std::map<std::string, std::string>& m) {
  return [m](const std::string& n) -> std::optional<std::string> {
    auto it = m.find(n);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}

std::vector<std::string> errors(const flow& f, const std::map<std::string, std::string>& env = no_env) {
  return validate(f, manifests(), env_of(env)).errors;
}

bool has(const std::vector<std::string>& errs, const std::string& text) {
  return std::any_of(errs.begin(), errs.end(), [&](const std::string& e) { return e == text; });
}

std::string dump(const std::vector<std::string>& errs) {
  std::string out;
  for (const auto& e : errs) out += e + "\n";
  return out;
}

// Steps replaced by one step whose options/inputs are given.
flow one_step(const char* options, const char* inputs) {
  std::string patch = std::string(R"({"steps":[{"id":"s1","action":"p.echo","connection":"c","options":)") + options +
                      R"(,"inputs":)" + inputs + "}], \"outputs\": {}}";
  return make_flow(patch.c_str());
}

}  // namespace

TEST_CASE("a correct flow validates") {
  auto r = validate(make_flow(), manifests(), env_of(no_env));
  INFO(dump(r.errors));
  CHECK(r.errors.empty());
  REQUIRE(r.checked);
  CHECK(r.checked->manifest(1).at("id") == "p.echo");
}

TEST_CASE("unknown plugin, connection and action") {
  CHECK(has(errors(make_flow(R"({"connections":{"c":{"plugin":"nope"}}})")),
            "connection c: plugin: unknown plugin 'nope'"));
  auto e = errors(make_flow(
      R"({"steps":[{"id":"s1","action":"p.echo","connection":"other","options":{"mode":"a"},"inputs":{"text":"t"}}],"outputs":{}})"));
  CHECK(has(e, "step s1: connection: unknown connection 'other'"));
  e = errors(make_flow(R"({"steps":[{"id":"s1","action":"p.ehco","connection":"c"}],"outputs":{}})"));
  CHECK(has(e, "step s1: action: unknown action 'p.ehco' in plugin 'p' (it has: p.echo)"));
}

TEST_CASE("validate(flow, manifests): a declared plugin the set has no manifests for is an error") {
  // Found by tests/fuzz/fuzz_flow: such a flow validated, and check_step of its steps
  // dereferenced a null schema checker.
  const flow f =
      make_flow(R"({"plugins":[{"id":"q","path":"libq.so"}],"connections":{"c":{"plugin":"q","config":{}}}})");
  const auto r = validate(f, manifests(), env_of(no_env));
  CHECK_FALSE(r.checked.has_value());
  CHECK(has(r.errors, "plugin q: no manifests were given for it"));
}

TEST_CASE("references: unknown input, unknown step, own step, later step") {
  auto e = errors(one_step(R"({"mode":"a"})", R"({"text":"${{ inputs.nmae }}"})"));
  CHECK(has(e, "step s1: inputs.text: unknown input 'nmae' in ${{ inputs.nmae }}"));
  e = errors(one_step(R"({"mode":"a"})", R"({"text":"${{ steps.zz.outputs.text }}"})"));
  CHECK(has(e, "step s1: inputs.text: unknown step 'zz' in ${{ steps.zz.outputs.text }}"));
  e = errors(one_step(R"({"mode":"a"})", R"({"text":"${{ steps.s1.outputs.text }}"})"));
  CHECK(has(e, "step s1: inputs.text: ${{ steps.s1.outputs.text }} refers to this step's own outputs"));
  e = errors(make_flow(R"({"steps":[
      {"id":"s1","action":"p.echo","connection":"c","options":{"mode":"a"},"inputs":{"text":"${{ steps.s2.outputs.text }}"}},
      {"id":"s2","action":"p.echo","connection":"c","options":{"mode":"a"},"inputs":{"text":"x"}}]})"));
  CHECK(has(e, "step s1: inputs.text: ${{ steps.s2.outputs.text }} refers to step 's2', which runs after this one"));
  // In options too, and in the flow outputs.
  e = errors(one_step(R"({"mode":"${{ inputs.zz }}"})", R"({"text":"x"})"));
  CHECK(has(e, "step s1: options.mode: unknown input 'zz' in ${{ inputs.zz }}"));
  e = errors(make_flow(R"({"outputs":{"o":"${{ steps.nope.outputs.x }}"}})"));
  CHECK(has(e, "flow: outputs.o: unknown step 'nope' in ${{ steps.nope.outputs.x }}"));
  // Bad syntax is reported where it is.
  e = errors(one_step(R"({"mode":"a"})", R"({"text":"${{ inputs.x"})"));
  REQUIRE(e.size() == 1);
  CHECK(e[0].rfind("step s1: inputs.text: unterminated", 0) == 0);
}

TEST_CASE("an output path the action cannot produce") {
  auto e = errors(make_flow(R"({"outputs":{"o":"${{ steps.s2.outputs.txet }}"}})"));
  CHECK(has(e, "flow: outputs.o: ${{ steps.s2.outputs.txet }}: 'txet' is not in outputs of p.echo"));
  // user.* is open (no additionalProperties:false): anything under it is accepted.
  CHECK(errors(make_flow(R"({"outputs":{"o":"${{ steps.s2.outputs.user.whatever }}"}})")).empty());
}

TEST_CASE("literal options and inputs against the manifest's schema, naming step and field") {
  auto e = errors(one_step(R"({})", R"({"text":"x"})"));
  CHECK(has(e, "step s1: options.mode: required"));
  e = errors(one_step(R"({"mode":"c"})", R"({"text":"x"})"));
  CHECK(has(e, "step s1: options.mode: Failed to match against any enum values."));
  e = errors(one_step(R"({"mode":"a","lound":true})", R"({"text":"x"})"));
  CHECK(has(e, "step s1: options.lound: unknown field (not allowed by the schema)"));
  e = errors(one_step(R"({"mode":"a"})", R"({"text":""})"));
  REQUIRE(e.size() == 1);
  CHECK(e[0].rfind("step s1: inputs.text: ", 0) == 0);
  e = errors(one_step(R"({"mode":"a"})", R"({"count":1})"));
  CHECK(has(e, "step s1: inputs.text: required"));
  e = errors(one_step(R"({"mode":"a"})", R"({"text":"x","tags":["a",2]})"));
  CHECK(has(e, "step s1: inputs.tags[1]: Value type not permitted by 'type' constraint."));
  // A constraint over several fields (here "not") is reported for the whole object.
  e = errors(one_step(R"({"mode":"a"})", R"({"text":"x","alt":"y"})"));
  REQUIRE(e.size() == 1);
  CHECK(e[0].rfind("step s1: inputs: does not satisfy the schema's combined constraints", 0) == 0);
}

TEST_CASE("expression values: type checked when the source type is known, otherwise skipped") {
  // A string input into an integer field.
  auto e = errors(one_step(R"({"mode":"a"})", R"({"text":"x","count":"${{ inputs.name }}"})"));
  CHECK(has(e, "step s1: inputs.count: expected integer, but the expression gives string"));
  // An interpolated string is a string.
  e = errors(one_step(R"({"mode":"a"})", R"({"text":"x","count":"n=${{ inputs.num }}"})"));
  CHECK(has(e, "step s1: inputs.count: expected integer, but the expression gives string"));
  // A step output's declared type.
  e = errors(make_flow(R"({"steps":[
      {"id":"s1","action":"p.echo","connection":"c","options":{"mode":"a"},"inputs":{"text":"x"}},
      {"id":"s2","action":"p.echo","connection":"c","options":{"mode":"a"},
       "inputs":{"text":"${{ steps.s1.outputs.list[0].v }}"}}], "outputs":{}})"));
  CHECK(has(e, "step s2: inputs.text: expected string, but the expression gives integer"));
  // env is a string.
  e = errors(one_step(R"({"mode":"a","loud":"${{ env.X }}"})", R"({"text":"x"})"));
  CHECK(has(e, "step s1: options.loud: expected boolean, but the expression gives string"));
  // Unknown source types are not checked: an input without a type, an open output.
  CHECK(errors(one_step(R"({"mode":"a"})", R"({"text":"x","count":"${{ inputs.any }}"})")).empty());
  CHECK(errors(one_step(R"({"mode":"${{ inputs.any }}"})", R"({"text":"${{ inputs.any }}"})")).empty());
  // An expression satisfies "required" and is not checked against literal constraints.
  CHECK(errors(one_step(R"({"mode":"${{ inputs.name }}"})", R"({"text":"${{ inputs.name }}"})")).empty());
}

TEST_CASE("connection config: env filling (x-env), ${{ env }} only, schema checked") {
  // domain absent: filled from T_DOMAIN when set...
  auto f = make_flow(R"({"connections":{"c":{"plugin":"p","config":{}}}})");
  auto r = validate(f, manifests(), env_of({{"T_DOMAIN", "tenant.example"}, {"T_N", "7"}}));
  INFO(dump(r.errors));
  REQUIRE(r.checked);
  CHECK(r.checked->configs.at("c").at("domain") == "tenant.example");
  CHECK(r.checked->configs.at("c").at("n") == 7);  // typed: the schema says integer
  // ...and required otherwise.
  CHECK(has(errors(f), "connection c: config.domain: required"));
  // A field given in the flow wins over x-env.
  r = validate(make_flow(), manifests(), env_of({{"T_DOMAIN", "other.example"}}));
  REQUIRE(r.checked);
  CHECK(r.checked->configs.at("c").at("domain") == "example.com");
  // ${{ env.NAME }} in config.
  r = validate(make_flow(R"({"connections":{"c":{"plugin":"p","config":{"domain":"${{ env.D }}"}}}})"), manifests(),
               env_of({{"D", "from.env"}}));
  REQUIRE(r.checked);
  CHECK(r.checked->configs.at("c").at("domain") == "from.env");
  // Rows are not visible to a shared connection.
  CHECK(has(errors(make_flow(R"({"connections":{"c":{"plugin":"p","config":{"domain":"${{ inputs.name }}"}}}})")),
            "connection c: config.domain: only ${{ env.NAME }} is allowed in a connection config (it is shared by all "
            "rows)"));
  CHECK(has(errors(make_flow(R"({"connections":{"c":{"plugin":"p","config":{"domain":"a b"}}}})")),
            "connection c: config.domain: Failed to match regex specified by 'pattern' constraint."));
  CHECK(has(errors(make_flow(R"({"connections":{"c":{"plugin":"p","config":{"domain":"a","bogus":1}}}})")),
            "connection c: config.bogus: unknown field (not allowed by the schema)"));
}

TEST_CASE("secrets: x-secret fields and every env-sourced value are registered and redacted") {
  auto f = make_flow(R"({"connections":{"c":{"plugin":"p","config":{"key":"${{ env.KEY }}"}}}})");
  auto r = validate(f, manifests(),
                    env_of({{"T_DOMAIN", "dom.example"}, {"T_TOKEN", "tok-SECRET-1"}, {"KEY", "key-SECRET-2"}}));
  INFO(dump(r.errors));
  REQUIRE(r.checked);
  const auto& s = r.checked->secrets;
  CHECK(s.redact("a tok-SECRET-1 b") == "a *** b");  // x-secret via x-env
  CHECK(s.redact("key-SECRET-2") == "***");          // ${{ env }} in config
  CHECK(s.redact("at dom.example") == "at ***");     // any env-sourced value
  // token is marked x-secret: a secret even when written in the flow.
  auto f2 = make_flow(R"({"connections":{"c":{"plugin":"p","config":{"domain":"d","token":"literal-tok"}}}})");
  auto r2 = validate(f2, manifests(), env_of(no_env));
  REQUIRE(r2.checked);
  CHECK(r2.checked->secrets.redact("literal-tok") == "***");
  CHECK(r2.checked->secrets.redact("d") == "d");  // a literal non-secret stays
  // Another string of the config with a secret: HTTP Basic credentials, base64 (issue 12.4).
  auto f3 = make_flow(
      R"({"connections":{"c":{"plugin":"p","config":{"domain":"d","key":"client-7","token":"literal-tok"}}}})");
  auto r3 = validate(f3, manifests(), env_of(no_env));
  REQUIRE(r3.checked);
  CHECK(r3.checked->secrets.redact("Basic Y2xpZW50LTc6bGl0ZXJhbC10b2s=") == "Basic ***");
}

TEST_CASE("secrets: only what the manifests mark x-secret, whatever the field's name") {
  // The host knows no plugin's field names: a "client_secret" or "token" that the
  // manifest does not mark is configuration like any other, and a marked field of any
  // name is a secret.
  const char* m = R"({"id": "p.echo", "version": "1.0.0", "title": "t", "description": "d",
    "connection": {"type": "object", "properties": {
      "client_secret": {"type": "string"}, "token": {"type": "string"},
      "passphrase": {"type": "string", "x-secret": true}}},
    "options": {"type": "object"}, "inputs": {"type": "object"}, "outputs": {"type": "object"}})";
  manifest_set ms{{"p", {json::parse(m).as_object()}}};
  auto f = make_flow(R"({"connections":{"c":{"plugin":"p","config":{
      "client_secret":"plain-value-1","token":"plain-value-2","passphrase":"marked-value-3"}}},
    "steps":[{"id":"s1","action":"p.echo","connection":"c"}],"outputs":{}})");
  auto r = validate(f, ms, env_of(no_env));
  INFO(dump(r.errors));
  REQUIRE(r.checked);
  const auto& s = r.checked->secrets;
  CHECK(s.redact("plain-value-1 plain-value-2") == "plain-value-1 plain-value-2");
  CHECK(s.redact("marked-value-3") == "***");
}

TEST_CASE("secrets: every string read from the environment, also inside a longer value") {
  auto f = make_flow(R"({"connections":{"c":{"plugin":"p","config":{"domain":"${{ env.SUB }}.x.com"}}}})");
  auto r = validate(f, manifests(), env_of({{"SUB", "tenantsub"}}));
  INFO(dump(r.errors));
  REQUIRE(r.checked);
  CHECK(r.checked->configs.at("c").at("domain") == "tenantsub.x.com");
  CHECK(r.checked->secrets.redact("tenantsub") == "***");  // alone, not only as "tenantsub.x.com"
  CHECK(r.checked->secrets.redact("at tenantsub.x.com") == "at ***");
  // An x-env value parsed into a number is registered as it was read.
  r = validate(make_flow(), manifests(), env_of({{"T_N", "65537"}}));
  REQUIRE(r.checked);
  CHECK(r.checked->configs.at("c").at("n") == 65537);
  CHECK(r.checked->secrets.redact("n=65537") == "n=***");
}

TEST_CASE("secrets: a short env value is redacted where it stands alone, not inside words") {
  auto f = make_flow(R"({"connections":{"c":{"plugin":"p","config":{"domain":"${{ env.SUB }}.x.com"}}}})");
  auto r = validate(f, manifests(), env_of({{"SUB", "ab"}}));
  REQUIRE(r.checked);
  const auto& s = r.checked->secrets;
  CHECK(s.redact("ab") == "***");
  CHECK(s.redact("id ab, ab.y") == "id ***, ***.y");
  CHECK(s.redact("tab about") == "tab about");
}

TEST_CASE("secrets: an object or array x-secret value: each string inside, not its serialisation") {
  const char* m = R"({"id": "p.echo", "version": "1.0.0", "title": "t", "description": "d",
    "connection": {"type": "object", "properties": {
      "creds": {"type": "object", "x-secret": true},
      "keys": {"type": "array", "x-secret": true}}},
    "options": {"type": "object"}, "inputs": {"type": "object"}, "outputs": {"type": "object"}})";
  manifest_set ms{{"p", {json::parse(m).as_object()}}};
  auto f = make_flow(R"({"connections":{"c":{"plugin":"p","config":{
      "creds":{"user":"obj-user-1","pass":"obj-SECRET-3","n":424242},"keys":["arr-SECRET-4",["arr-SECRET-5"]]}}},
    "steps":[{"id":"s1","action":"p.echo","connection":"c"}],"outputs":{}})");
  auto r = validate(f, ms, env_of(no_env));
  INFO(dump(r.errors));
  REQUIRE(r.checked);
  const auto& s = r.checked->secrets;
  CHECK(s.redact("obj-SECRET-3") == "***");
  CHECK(s.redact("obj-user-1") == "***");
  CHECK(s.redact("arr-SECRET-4 arr-SECRET-5") == "*** ***");
  CHECK(s.redact("424242") == "***");
  json::value shown = json::parse(R"({"pass":"obj-SECRET-3"})");
  s.redact(shown);
  CHECK(shown == json::parse(R"({"pass":"***"})"));
}

TEST_CASE("secrets: error messages pass through the redactor") {
  // The secret's value is also a (wrongly) configured field name, so the error that names
  // that field would show it: it must come out redacted.
  auto f = make_flow(
      R"({"connections":{"c":{"plugin":"p","config":{"domain":"d","token":"${{ env.TOK }}","hunter2x":1}}}})");
  auto e = errors(f, {{"TOK", "hunter2x"}});
  REQUIRE(!e.empty());
  for (const auto& line : e) CHECK(line.find("hunter2x") == std::string::npos);
  CHECK(has(e, "connection c: config.***: unknown field (not allowed by the schema)"));
}

TEST_CASE("check_step: run-time values against the full schema (WFA-10)") {
  auto r = validate(make_flow(), manifests(), env_of(no_env));
  REQUIRE(r.checked);
  CHECK(r.checked
            ->check_step(0, json::parse(R"({"mode":"a"})").as_object(),
                         json::parse(R"({"text":"x","count":2})").as_object())
            .empty());
  auto e =
      r.checked->check_step(0, json::parse(R"({"mode":"a"})").as_object(), json::parse(R"({"count":"2"})").as_object());
  CHECK(has(e, "inputs.text: required"));
  CHECK(has(e, "inputs.count: Value type not permitted by 'type' constraint."));
  e = r.checked->check_step(0, json::parse(R"({"mode":"a"})").as_object(),
                            json::parse(R"({"text":"x","alt":"y"})").as_object());
  REQUIRE(e.size() == 1);
  CHECK(e[0].rfind("inputs: does not satisfy", 0) == 0);
}

TEST_CASE("check_step: after evaluation \"${{\" is data, checked like any string") {
  // A row value that looks like an expression (it came from a row, so it is not one).
  auto r = validate(make_flow(), manifests(), env_of(no_env));
  REQUIRE(r.checked);
  auto e = r.checked->check_step(0, json::parse(R"({"mode":"a"})").as_object(),
                                 json::parse(R"({"text":"x","count":"${{ soon"})").as_object());
  CHECK(has(e, "inputs.count: Value type not permitted by 'type' constraint."));
  e = r.checked->check_step(0, json::parse(R"({"mode":"${{ inputs.name }}"})").as_object(),
                            json::parse(R"({"text":"x"})").as_object());
  CHECK(has(e, "options.mode: Failed to match against any enum values."));
  // Constraints over several fields are checked too.
  e = r.checked->check_step(0, json::parse(R"({"mode":"a"})").as_object(),
                            json::parse(R"({"text":"${{ x","alt":"y"})").as_object());
  REQUIRE(e.size() == 1);
  CHECK(e[0].rfind("inputs: does not satisfy", 0) == 0);
}

TEST_CASE("check_row: declared input names and types") {
  auto r = validate(make_flow(), manifests(), env_of(no_env));
  REQUIRE(r.checked);
  CHECK(r.checked->check_row(json::parse(R"({"name":"a","num":3,"any":[1]})").as_object()).empty());
  CHECK(r.checked->check_row(json::parse(R"({"num":3.0})").as_object()).empty());
  auto e = r.checked->check_row(json::parse(R"({"name":1,"num":1.5,"nope":1})").as_object());
  CHECK(has(e, "inputs.name: expected string, got integer|number"));
  CHECK(has(e, "inputs.num: expected integer, got number"));
  CHECK(has(e, "inputs.nope: unknown input (the flow declares no such input)"));
}

TEST_CASE("parse_input_value: JSON when it parses, except for declared strings") {
  flow f = make_flow();
  CHECK(parse_input_value(f, "num", "12") == json::value(12));
  CHECK(parse_input_value(f, "any", "{\"a\":[1]}") == json::parse("{\"a\":[1]}"));
  CHECK(parse_input_value(f, "any", "auth0|12") == json::value("auth0|12"));
  CHECK(parse_input_value(f, "name", "12") == json::value("12"));
  CHECK(parse_input_value(f, "name", "true") == json::value("true"));
}

TEST_CASE("validate(flow) loads plugins: a plugin that does not load is an error naming it") {
  flow f = parse_flow(R"({"plugins":[{"id":"p","path":"./no/such/libp.so"}],
                          "connections":{"c":{"plugin":"p"}},"steps":[{"id":"s","action":"p.echo","connection":"c"}]})",
                      "/tmp/x.flow.json");
  auto r = validate(f);
  CHECK_FALSE(r.checked);
  REQUIRE(r.errors.size() == 1);  // no follow-up noise about the connection or the action
  CHECK(r.errors[0] == "plugin p: /tmp/no/such/libp.so: plugin not found (no such file)");
}

namespace {

// The project's own manifest of one action (manifests/actions/ID.json, as spliced and
// embedded: A0_MANIFEST_OUT_DIR) as a manifest_set.
manifest_set real_manifest(const std::string& id) {
  std::ifstream in(std::string(WFA_MANIFEST_DIR) + "/" + id + ".json");
  std::stringstream text;
  text << in.rdbuf();
  return {{"p", {json::parse(text.str()).as_object()}}};
}

flow action_step(const std::string& action, const char* inputs) {
  std::string f = R"({"plugins": [{"id": "p", "path": "libp.so"}],
    "connections": {"c": {"plugin": "p", "config": {"domain": "example.com", "token": "t0k3n"}}},
    "steps": [{"id": "s", "action": ")" +
                  action + R"(", "connection": "c", "inputs": )" + inputs + "}]}";
  return parse_flow(f, "t.flow.json");
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& e : v) out += e + "\n";
  return out;
}

}  // namespace

TEST_CASE("check_step: long ids (30,000 characters, 50 MB) get a clear error, no stack overflow (issue 12.1)") {
  auto r = validate(action_step("auth0.get-user", R"({"user_id": "auth0|x"})"), real_manifest("auth0.get-user"), {});
  REQUIRE_MESSAGE(r.checked, joined(r.errors));
  const json::object no_options;
  for (std::size_t n : {std::size_t(30000), std::size_t(50) << 20}) {
    CAPTURE(n);
    auto e = r.checked->check_step(0, no_options, json::object{{"user_id", "auth0|" + std::string(n, 'a')}});
    INFO(joined(e));
    REQUIRE(e.size() == 1);
    CHECK(e[0] == "inputs.user_id: String should be no more than 1024 characters in length.");
    // Without a pipe: the pattern fails too, still one short message per problem.
    e = r.checked->check_step(0, no_options, json::object{{"user_id", std::string(n, 'a')}});
    INFO(joined(e));
    CHECK(!e.empty());
    CHECK(joined(e).size() < 1000);
  }
}

TEST_CASE("pattern: matched in linear time without recursion, unanchored like ECMA-262 (issue 12.1)") {
  // No maxLength here: only the pattern engine stands between a long string and the stack.
  const char* m = R"({"id": "p.re", "version": "1.0.0", "title": "t", "description": "d",
    "connection": {"type": "object"}, "options": {"type": "object"},
    "inputs": {"type": "object", "properties": {"id": {"type": "string", "pattern": "^[^|]+\\|.+$"},
                                                 "word": {"type": "string", "pattern": "b+"},
                                                 "enum": {"type": "string", "pattern": "^[^|]+\\|.+$"}}},
    "outputs": {"type": "object"}})";
  manifest_set ms{{"p", {json::parse(m).as_object()}}};
  auto r = validate(action_step("p.re", "{}"), ms, {});
  REQUIRE_MESSAGE(r.checked, joined(r.errors));
  const std::string big(8 << 20, 'a');
  CHECK(r.checked->check_step(0, {}, json::object{{"id", "auth0|" + big}}).empty());
  CHECK(joined(r.checked->check_step(0, {}, json::object{{"id", big}})) ==
        "inputs.id: Failed to match regex specified by 'pattern' constraint.\n");
  // A property named like a data keyword is still a schema: its pattern is RE2's too.
  CHECK(joined(r.checked->check_step(0, {}, json::object{{"enum", big}})) ==
        "inputs.enum: Failed to match regex specified by 'pattern' constraint.\n");
  CHECK(r.checked->check_step(0, {}, json::object{{"word", "aabaa"}}).empty());
  CHECK(!r.checked->check_step(0, {}, json::object{{"word", "aaaa"}}).empty());
}

TEST_CASE("pattern: a pattern RE2 cannot run makes the schema unusable, named") {
  const char* m = R"({"id": "p.re", "version": "1.0.0", "title": "t", "description": "d",
    "connection": {"type": "object"}, "options": {"type": "object"},
    "inputs": {"type": "object", "properties": {"id": {"type": "string", "pattern": "^(a)\\1$"}}},
    "outputs": {"type": "object"}})";
  manifest_set ms{{"p", {json::parse(m).as_object()}}};
  auto r = validate(action_step("p.re", "{}"), ms, {});
  CHECK_FALSE(r.checked);
  CHECK(joined(r.errors).find("pattern '^(a)\\1$' is not usable") != std::string::npos);
}

TEST_CASE("uniqueItems and maxItems: 1,000 copies of one field name are refused fast, in a few lines (issue 12.7)") {
  auto r = validate(action_step("auth0.get-user", R"({"user_id": "auth0|x"})"), real_manifest("auth0.get-user"), {});
  REQUIRE_MESSAGE(r.checked, joined(r.errors));
  json::array fields;
  for (int i = 0; i < 1000; ++i) fields.push_back("email");
  auto t0 = std::chrono::steady_clock::now();
  auto e = r.checked->check_step(0, {}, json::object{{"user_id", "auth0|x"}, {"fields", fields}});
  auto took = std::chrono::steady_clock::now() - t0;
  INFO(joined(e));
  CHECK(took < std::chrono::seconds(1));
  CHECK(joined(e).size() < 1000);
  CHECK(joined(e).find("inputs.fields: Array should contain no more than 100 elements.") != std::string::npos);
  CHECK(joined(e).find("inputs.fields: Elements of array must be unique (item #1 repeats an earlier one).") !=
        std::string::npos);
  // Under maxItems, a repeat is still one line; distinct names pass.
  fields.resize(50);
  e = r.checked->check_step(0, {}, json::object{{"user_id", "auth0|x"}, {"fields", fields}});
  CHECK(joined(e) == "inputs.fields: Elements of array must be unique (item #1 repeats an earlier one).\n");
  CHECK(r.checked->check_step(0, {}, json::object{{"user_id", "auth0|x"}, {"fields", json::array{"email", "name"}}})
            .empty());
  // Equal in JSON terms: 1 and 1.0, objects in any key order.
  CHECK_FALSE(
      r.checked->check_step(0, {}, json::object{{"user_id", "auth0|x"}, {"fields", json::array{"a", "a"}}}).empty());
}

TEST_CASE("a schema's many failing items: at most json_schema::max_issues lines, then a count") {
  const char* m = R"({"id": "p.re", "version": "1.0.0", "title": "t", "description": "d",
    "connection": {"type": "object"}, "options": {"type": "object"},
    "inputs": {"type": "object", "properties": {"list": {"type": "array", "items": {"type": "integer"}}}},
    "outputs": {"type": "object"}})";
  manifest_set ms{{"p", {json::parse(m).as_object()}}};
  auto r = validate(action_step("p.re", "{}"), ms, {});
  REQUIRE_MESSAGE(r.checked, joined(r.errors));
  json::array list;
  for (int i = 0; i < 5000; ++i) list.push_back("x");
  auto e = r.checked->check_step(0, {}, json::object{{"list", list}});
  REQUIRE(e.size() == 21);
  CHECK(e[0] == "inputs.list[0]: Value type not permitted by 'type' constraint.");
  CHECK(e[20] == "inputs.list: and 4980 more problems (not shown)");
}

TEST_CASE("a config value or an input that is not UTF-8 is named, without its value (issue 12.11)") {
  auto f = make_flow(R"({"connections":{"c":{"plugin":"p","config":{"domain":"d"}}}})");
  auto r = validate(f, manifests(), env_of({{"T_TOKEN", "ab\xFF\xFEsecret"}}));
  INFO(dump(r.errors));
  CHECK_FALSE(r.checked);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0] == "connection c: config.token: not valid UTF-8 (as read from the environment); it must be text");
  // Overlong forms and surrogates are not UTF-8 either; real multi-byte text is.
  for (const char* bad : {"\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "a\xE2\x82"}) {
    CAPTURE(bad);
    CHECK_FALSE(validate(f, manifests(), env_of({{"T_TOKEN", bad}})).checked);
  }
  CHECK(validate(f, manifests(), env_of({{"T_TOKEN", "\xC3\xBC\xE2\x82\xAC\xF0\x9F\x98\x80"}})).checked);
  auto ok = validate(make_flow(), manifests(), env_of(no_env));
  REQUIRE(ok.checked);
  auto e = ok.checked->check_row(json::object{{"name", "x\xFF"}});
  REQUIRE(e.size() == 1);
  CHECK(e[0] == "inputs.name: not valid UTF-8; it must be text");
}
