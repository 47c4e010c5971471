// valijson behind a small interface: no public header includes valijson.
#include "json_schema.hpp"

#include <wfa/host/expression.hpp>

#include <valijson/adapters/boost_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace json = boost::json;

namespace wfa::host::detail {
namespace {

bool starts_with(const std::string& s, std::string_view p) { return s.compare(0, p.size(), p) == 0; }

// valijson reports each failing subschema plus one wrapper line per enclosing level;
// the wrappers repeat what the leaf said.
bool is_wrapper(const std::string& m) {
  return starts_with(m, "Failed to validate against schema associated with property name") ||
         starts_with(m, "Failed to validate item #") ||
         starts_with(m, "Failed to validate against child schema #") ||
         starts_with(m, "Failed to validate against additional properties schema");
}

// "'name'." at the end of a valijson message, or empty.
std::string quoted_tail(const std::string& m) {
  if (m.empty()) return {};
  std::size_t end = m.rfind('\'');
  if (end == std::string::npos || end == 0) return {};
  std::size_t begin = m.rfind('\'', end - 1);
  if (begin == std::string::npos) return {};
  return m.substr(begin + 1, end - begin - 1);
}

std::string render_path(const std::vector<std::string>& ctx) {
  std::string out;
  for (const auto& c : ctx) {
    if (c == "<root>") continue;
    std::string inner = (c.size() >= 2 && c.front() == '[' && c.back() == ']') ? c.substr(1, c.size() - 2) : c;
    bool digits = !inner.empty() && std::all_of(inner.begin(), inner.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
    out += digits ? "[" + inner + "]" : "." + inner;
  }
  return out;
}

}  // namespace

struct json_schema::cached_validator {
  std::mutex mu;
  valijson::Validator validator;
};

json_schema::json_schema(const json::value& schema)
    : schema_(std::make_unique<valijson::Schema>()), validator_(std::make_unique<cached_validator>()) {
  // The manifests declare 2020-12; every keyword they use means the same in draft 7,
  // the newest draft valijson implements.
  valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
  valijson::adapters::BoostJsonAdapter adapter(schema);
  try {
    parser.populateSchema(adapter, *schema_);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("unusable JSON Schema: ") + e.what());
  }
}

json_schema::~json_schema() = default;
json_schema::json_schema(json_schema&&) noexcept = default;
json_schema& json_schema::operator=(json_schema&&) noexcept = default;

bool json_schema::valid(const json::value& doc) const {
  valijson::adapters::BoostJsonAdapter adapter(doc);
  std::lock_guard lock(validator_->mu);
  return validator_->validator.validate(*schema_, adapter, nullptr);
}

std::vector<schema_issue> json_schema::validate(const json::value& doc) const {
  valijson::ValidationResults results;
  valijson::adapters::BoostJsonAdapter adapter(doc);
  std::vector<schema_issue> out;
  {
    std::lock_guard lock(validator_->mu);
    if (validator_->validator.validate(*schema_, adapter, &results)) return out;
  }
  valijson::ValidationResults::Error e;
  while (results.popError(e)) {
    if (is_wrapper(e.description)) continue;
    schema_issue issue{render_path(e.context), e.description};
    if (starts_with(e.description, "Missing required property")) {
      issue.path += "." + quoted_tail(e.description);
      issue.message = "required";
    } else if (starts_with(e.description, "Object contains a property that could not be validated")) {
      issue.path += "." + quoted_tail(e.description);
      issue.message = "unknown field (not allowed by the schema)";
    }
    bool dup = std::any_of(out.begin(), out.end(), [&](const schema_issue& o) {
      return o.path == issue.path && o.message == issue.message;
    });
    if (!dup) out.push_back(std::move(issue));
  }
  return out;
}

std::vector<std::string> json_types(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return {"null"};
    case json::kind::bool_: return {"boolean"};
    case json::kind::int64:
    case json::kind::uint64: return {"integer", "number"};
    case json::kind::double_: {
      double d = v.get_double();
      if (std::isfinite(d) && std::floor(d) == d) return {"integer", "number"};
      return {"number"};
    }
    case json::kind::string: return {"string"};
    case json::kind::array: return {"array"};
    case json::kind::object: return {"object"};
  }
  return {};
}

std::vector<std::string> schema_types(const json::value& schema) {
  std::vector<std::string> out;
  const auto* o = schema.if_object();
  const json::value* t = o ? o->if_contains("type") : nullptr;
  if (!t) return out;
  if (const auto* s = t->if_string()) out.emplace_back(*s);
  if (const auto* a = t->if_array())
    for (const auto& e : *a)
      if (const auto* s = e.if_string()) out.emplace_back(*s);
  return out;
}

bool types_compatible(const std::vector<std::string>& have, const std::vector<std::string>& want) {
  for (const auto& h : have)
    for (const auto& w : want)
      if (h == w || (h == "integer" && w == "number") || (h == "number" && w == "integer")) return true;
  return false;
}

object_checker::object_checker(const json::value& schema)
    : schema_(schema), whole_(std::make_shared<json_schema>(schema)) {
  const auto* o = schema.if_object();
  const json::value* props = o ? o->if_contains("properties") : nullptr;
  if (props && props->is_object()) {
    for (const auto& kv : props->get_object()) {
      try {
        fields_.emplace(std::string(kv.key()), std::make_shared<json_schema>(kv.value()));
      } catch (const std::exception&) {
        // A subschema that is not usable alone (a $ref into the root): the whole-schema
        // pass still checks it.
      }
    }
  }
}

std::vector<std::string> object_checker::check(const json::object& value, const std::string& prefix) const {
  return check_impl(value, prefix, nullptr);
}

std::vector<std::string> object_checker::check_unevaluated(const json::object& value, const std::string& prefix,
                                                           const type_oracle& oracle) const {
  return check_impl(value, prefix, &oracle);
}

std::vector<std::string> object_checker::check_impl(const json::object& value, const std::string& prefix,
                                                    const type_oracle* oracle) const {
  std::vector<std::string> errors;
  // Expressions exist only before evaluation; afterwards "${{" is data like any text.
  auto is_expression = [&](const json::value& v) { return oracle && wfa::host::has_expression(v); };
  bool any_expression = false;
  for (const auto& kv : value) any_expression = any_expression || is_expression(kv.value());
  // The common case at run time: one pass, nothing else to report.
  if (!any_expression && whole_->valid(json::value(value))) return errors;

  const auto* so = schema_.if_object();
  const json::object empty;
  const json::object& props = [&]() -> const json::object& {
    const json::value* p = so ? so->if_contains("properties") : nullptr;
    return p && p->is_object() ? p->get_object() : empty;
  }();
  const json::value* addl = so ? so->if_contains("additionalProperties") : nullptr;
  const bool closed = addl && addl->is_bool() && !addl->get_bool();

  for (const auto& kv : value) {
    std::string field = prefix + "." + std::string(kv.key());
    const json::value* sub = props.if_contains(kv.key());
    if (!sub) {
      if (closed) errors.push_back(field + ": unknown field (not allowed by the schema)");
      continue;
    }
    if (is_expression(kv.value())) {
      auto have = *oracle ? (*oracle)(kv.value()) : std::nullopt;
      auto want = schema_types(*sub);
      if (have && !have->empty() && !want.empty() && !types_compatible(*have, want)) {
        std::string w, h;
        for (const auto& t : want) w += (w.empty() ? "" : "|") + t;
        for (const auto& t : *have) h += (h.empty() ? "" : "|") + t;
        errors.push_back(field + ": expected " + w + ", but the expression gives " + h);
      }
      continue;
    }
    auto it = fields_.find(kv.key());
    if (it == fields_.end()) continue;
    for (const auto& issue : it->second->validate(kv.value())) errors.push_back(field + issue.path + ": " + issue.message);
  }

  const json::value* req = so ? so->if_contains("required") : nullptr;
  if (req && req->is_array())
    for (const auto& r : req->get_array())
      if (r.is_string() && !value.contains(r.get_string()))
        errors.push_back(prefix + "." + std::string(r.get_string()) + ": required");

  // Whatever is left spans several fields (oneOf, anyOf, if/then, ...).
  if (errors.empty() && !any_expression) {
    std::string joined;
    for (const auto& issue : whole_->validate(json::value(value))) {
      std::string line = (issue.path.empty() ? "" : issue.path.substr(1) + ": ") + issue.message;
      joined += (joined.empty() ? "" : "; ") + line;
    }
    errors.push_back(prefix + ": does not satisfy the schema's combined constraints (oneOf/anyOf/if): " +
                     (joined.empty() ? "invalid" : joined));
  }
  return errors;
}

}  // namespace wfa::host::detail
