// libFuzzer target: JSON Schema validation of a step's options and inputs against the
// real action manifests (manifests/actions/*.json), through the host's run-time check
// (checked_flow::check_step, which flowrun runs on every row's evaluated values).
//
// Input: one JSON object
//   {"action": "auth0.link-account", "options": {...}, "inputs": {...}}
// ("action" one of the four actions; options and inputs default to {}). A fixed flow
// with one step per action is validated once; the input's values are checked against
// the step of its action. Checks beyond "no crash": the check is deterministic (the
// validators keep compiled state across calls), and every error names its field
// ("options.X: ..." / "inputs.X: ...").
#include "manifests.hpp"
#include "wfa/host/flow.hpp"
#include "wfa/host/validate.hpp"

#include <boost/json/parse.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace json = boost::json;
using namespace wfa::host;

namespace {

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz_inputs: %s\n", what.c_str());
  std::abort();
}

// One step per action; every required value comes from a row input, so the flow
// validates whatever the manifests require of literals.
constexpr std::string_view fixed_flow = R"({
  "name": "fuzz-inputs",
  "plugins": [{"id": "auth0", "path": "libauth0_actions.so"}],
  "connections": {"tenant": {"plugin": "auth0", "config": {}}},
  "inputs": {"a": {"type": "string"}, "b": {"type": "boolean"}, "m": {"type": "object"}},
  "steps": [
    {"id": "get", "action": "auth0.get-user", "connection": "tenant",
     "inputs": {"user_id": "${{ inputs.a }}"}},
    {"id": "link", "action": "auth0.link-account", "connection": "tenant",
     "options": {"merge_metadata": "${{ inputs.b }}"}, "inputs": {"primary_user_id": "${{ inputs.a }}"}},
    {"id": "unlink", "action": "auth0.unlink-account", "connection": "tenant",
     "inputs": {"primary_user_id": "${{ inputs.a }}", "secondary_user_id": "${{ inputs.a }}"}},
    {"id": "update", "action": "auth0.update-user-metadata", "connection": "tenant",
     "inputs": {"user_id": "${{ inputs.a }}", "user_metadata": "${{ inputs.m }}"}}
  ]
})";

const checked_flow& the_flow() {
  static const checked_flow cf = [] {
    auto env = [](const std::string& name) -> std::optional<std::string> {
      if (name == "AUTH0_DOMAIN") return "tenant.example.com";
      if (name == "AUTH0_TOKEN") return "fuzz-fixed-token";
      return std::nullopt;
    };
    validation_result r = validate(parse_flow(fixed_flow), a0::fuzz::real_manifests(), env);
    if (!r.checked) fail("the fixed flow does not validate: " + (r.errors.empty() ? "" : r.errors.front()));
    return std::move(*r.checked);
  }();
  return cf;
}

const json::object& object_or_empty(const json::object& o, std::string_view key) {
  static const json::object empty;
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? v->get_object() : empty;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const checked_flow& cf = the_flow();
  boost::system::error_code ec;
  const json::value doc = json::parse(std::string_view(reinterpret_cast<const char*>(data), size), ec);
  if (ec || !doc.is_object()) return -1;
  const json::object& o = doc.get_object();
  const json::value* action = o.if_contains("action");
  if (action == nullptr || !action->is_string()) return -1;
  std::optional<std::size_t> step;
  for (std::size_t i = 0; i < cf.definition.steps.size(); ++i) {
    if (cf.definition.steps[i].action == action->get_string()) step = i;
  }
  if (!step) return -1;
  const json::object& options = object_or_empty(o, "options");
  const json::object& inputs = object_or_empty(o, "inputs");

  const std::vector<std::string> errors = cf.check_step(*step, options, inputs);
  for (const auto& e : errors) {
    if (e.rfind("options", 0) != 0 && e.rfind("inputs", 0) != 0) fail("an error that names no field: " + e);
  }
  if (cf.check_step(*step, options, inputs) != errors) fail("check_step gave other errors the second time");
  return 0;
}
