// libFuzzer target: flow parsing, validation against the real action manifests, and
// `${{ }}` expressions (engine_api's host library, no plugin loaded).
//
// Input: up to three parts separated by NUL bytes:
//   FLOW JSON \0 ROW JSON (a row of inputs) \0 STEP OUTPUTS JSON ({"step id": outputs})
// The flow goes through parse_flow and validate (manifests/actions/*.json, a fixed
// environment: client credentials by x-env, FUZZ_TOKEN a token; both secrets). A flow
// that validates is then run as far as the host goes without a plugin: the row is
// checked (check_row), and each step's options and inputs are evaluated against the row
// and the given outputs and checked against its manifest (check_step); the flow's
// outputs are evaluated too.
// Every string of the flow is parsed as a template on its own as well.
// Checks beyond "no crash": only flow_error leaves parse_flow, only expression_error
// leaves the expression functions; no error text holds the environment's secrets.
#include "manifests.hpp"
#include "wfa/host/expression.hpp"
#include "wfa/host/flow.hpp"
#include "wfa/host/validate.hpp"

#include <boost/json/parse.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace json = boost::json;
using namespace wfa::host;

namespace {

constexpr std::string_view client_secret = "fuzz-client-secret-7Qx2";
constexpr std::string_view fixed_token = "fuzz-fixed-token-9Zr4";

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz_flow: %s\n", what.c_str());
  std::abort();
}

const manifest_set& manifests() {
  static const manifest_set m = a0::fuzz::real_manifests();
  return m;
}

std::optional<std::string> env(const std::string& name) {
  if (name == "AUTH0_DOMAIN") return "tenant.example.com";
  if (name == "AUTH0_CLIENT_ID") return "fuzz-client-id";
  if (name == "AUTH0_CLIENT_SECRET") return std::string(client_secret);
  if (name == "FUZZ_TOKEN") return std::string(fixed_token);  // not an x-env: only where a flow names it
  if (name == "FUZZ_VAR") return "value";
  return std::nullopt;
}

// The fuzzer's input of this run: a secret's text that the input itself holds (the
// fuzzer copies dictionary words into the flow) is the author's own text echoed back, not
// a secret that came from the environment.
std::string_view current_input;

void no_secret(const std::vector<std::string>& errors, std::string_view where) {
  for (const auto secret : {client_secret, fixed_token}) {
    if (current_input.find(secret) != std::string_view::npos) continue;
    for (const auto& e : errors)
      if (e.find(secret) != std::string::npos) fail(std::string(where) + " printed a secret: " + e);
  }
}

std::optional<json::object> object_part(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

/// Every string of v through parse_template; its references agree with has_expression.
void templates(const json::value& v) {
  if (v.is_string()) {
    try {
      const template_string t = parse_template(v.get_string());
      if (t.has_references() && !has_expression(std::string_view(v.get_string()))) {
        fail("parse_template found a reference in a string has_expression passes: " + std::string(v.get_string()));
      }
    } catch (const expression_error&) {}
  } else if (v.is_array()) {
    for (const auto& e : v.get_array()) templates(e);
  } else if (v.is_object()) {
    for (const auto& kv : v.get_object()) {
      templates(json::value(kv.key()));
      templates(kv.value());
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  current_input = input;
  const std::size_t nul1 = input.find('\0');
  const std::string_view flow_text = input.substr(0, nul1);
  std::string_view row_text, outputs_text;
  if (nul1 != std::string_view::npos) {
    const std::string_view rest = input.substr(nul1 + 1);
    const std::size_t nul2 = rest.find('\0');
    row_text = rest.substr(0, nul2);
    if (nul2 != std::string_view::npos) outputs_text = rest.substr(nul2 + 1);
  }

  flow f;
  try {
    f = parse_flow(flow_text);
  } catch (const flow_error&) {
    return 0;
  } catch (const std::exception& e) {
    fail(std::string("parse_flow threw something else than flow_error: ") + e.what());
  }
  for (const auto& s : f.steps) {
    templates(json::value(s.options));
    templates(json::value(s.inputs));
  }
  templates(json::value(f.outputs));

  const validation_result r = validate(f, manifests(), env);
  no_secret(r.errors, "validate");
  if (std::getenv("A0_FUZZ_VERBOSE") != nullptr) {  // seeing why a seed does not validate
    for (const auto& e : r.errors) std::fprintf(stderr, "fuzz_flow: validate: %s\n", e.c_str());
  }
  if (!r.checked) return 0;
  const checked_flow& cf = *r.checked;

  const json::object row = object_part(row_text).value_or(json::object{});
  no_secret(cf.check_row(row), "check_row");
  json::object steps;
  const auto given = object_part(outputs_text);
  eval_context ctx{&row, &steps, env};
  for (std::size_t i = 0; i < f.steps.size(); ++i) {
    const flow_step& step = f.steps[i];
    try {
      const auto options = evaluate(json::value(step.options), ctx);
      const auto inputs = evaluate(json::value(step.inputs), ctx);
      if (options && inputs && options->is_object() && inputs->is_object()) {
        no_secret(cf.check_step(i, options->get_object(), inputs->get_object()), "check_step");
      }
    } catch (const expression_error&) {}
    // What the step "returned": the given outputs, or an echo of its inputs.
    if (given && given->contains(step.id)) {
      steps[step.id] = given->at(step.id);
    } else {
      steps[step.id] = json::object{{"user", step.inputs}};
    }
  }
  try {
    (void)evaluate(json::value(f.outputs), ctx);
  } catch (const expression_error&) {}
  return 0;
}
