// valijson behind a small interface: no public header includes valijson.
#include "json_schema.hpp"

#include <wfa/host/expression.hpp>

#include <valijson/adapters/boost_json_adapter.hpp>
#include <valijson/constraint_builder.hpp>
#include <valijson/constraints/concrete_constraints.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <boost/json.hpp>

#include <re2/re2.h>

#include <algorithm>
#include <cmath>
#include <new>
#include <set>
#include <stdexcept>
#include <unordered_set>

namespace json = boost::json;

namespace wfa::host::detail {
namespace {

bool starts_with(const std::string& s, std::string_view p) { return s.compare(0, p.size(), p) == 0; }

// valijson reports each failing subschema plus one wrapper line per enclosing level;
// the wrappers repeat what the leaf said.
bool is_wrapper(const std::string& m) {
  return starts_with(m, "Failed to validate against schema associated with property name") ||
         starts_with(m, "Failed to validate item #") || starts_with(m, "Failed to validate against child schema #") ||
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
    bool digits =
        !inner.empty() && std::all_of(inner.begin(), inner.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
    out += digits ? "[" + inner + "]" : "." + inner;
  }
  return out;
}

// valijson checks `pattern` with std::regex, whose matcher recurses once per character:
// a 27,000-character id overflowed the stack. Its `uniqueItems` compares every pair and
// reports every duplicate pair: 1,000 copies of one name took minutes and megabytes of
// error text. So the schema valijson sees has these two keywords renamed, and the
// renamed ones are custom constraints: RE2 (linear time, no recursion on the subject)
// and one hash set over a canonical form of the items.
constexpr std::string_view pattern_key = "x-wfa-re2-pattern";
constexpr std::string_view unique_key = "x-wfa-unique-items";

// Keywords whose values are data, not schemas: nothing inside them is renamed.
bool data_keyword(std::string_view k) {
  return k == "enum" || k == "const" || k == "default" || k == "examples" || k == "x-dynamic-options";
}

// Keywords whose value maps names (any names, "enum" too) to schemas.
bool schema_map_keyword(std::string_view k) {
  return k == "properties" || k == "patternProperties" || k == "$defs" || k == "definitions" ||
         k == "dependentSchemas" || k == "dependencies";
}

json::value rewrite_keywords(const json::value& schema) {
  if (const auto* a = schema.if_array()) {
    json::array out;
    out.reserve(a->size());
    for (const auto& e : *a) out.push_back(rewrite_keywords(e));
    return out;
  }
  const auto* o = schema.if_object();
  if (!o) return schema;
  json::object out;
  out.reserve(o->size());
  for (const auto& kv : *o) {
    if (schema_map_keyword(kv.key()) && kv.value().is_object()) {
      json::object named;
      for (const auto& p : kv.value().get_object()) named[p.key()] = rewrite_keywords(p.value());
      out[kv.key()] = std::move(named);
      continue;
    }
    // A property named "pattern" maps to a schema (an object), never to a string.
    if (kv.key() == "pattern" && kv.value().is_string())
      out[pattern_key] = kv.value();
    else if (kv.key() == "uniqueItems" && kv.value().is_bool()) {
      if (kv.value().get_bool()) out[unique_key] = true;  // false asks for nothing
    } else if (data_keyword(kv.key()))
      out[kv.key()] = kv.value();
    else
      out[kv.key()] = rewrite_keywords(kv.value());
  }
  return out;
}

class re2_pattern final : public valijson::constraints::PolyConstraint {
 public:
  explicit re2_pattern(std::shared_ptr<const re2::RE2> re) : re_(std::move(re)) {}
  bool validate(const valijson::adapters::Adapter& target, const std::vector<std::string>& context,
                valijson::ValidationResults* results) const override {
    if (!target.isString()) return true;
    // JSON Schema patterns are not anchored: a search, like ECMA-262's test().
    if (re2::RE2::PartialMatch(target.asString(), *re_)) return true;
    if (results) results->pushError(context, "Failed to match regex specified by 'pattern' constraint.");
    return false;
  }

 private:
  Constraint* cloneInto(void* where) const override { return new (where) re2_pattern(*this); }
  size_t sizeOf() const override { return sizeof(re2_pattern); }
  std::shared_ptr<const re2::RE2> re_;
};

class re2_pattern_builder final : public valijson::ConstraintBuilder {
 public:
  valijson::constraints::Constraint* make(const valijson::adapters::Adapter& v) const override {
    std::string text = v.asString();
    re2::RE2::Options opts;
    opts.set_log_errors(false);
    auto re = std::make_shared<const re2::RE2>(text, opts);
    if (!re->ok())
      throw std::runtime_error("pattern '" + text +
                               "' is not usable (RE2 syntax: no look-around or back-references): " + re->error());
    return new re2_pattern(std::move(re));  // valijson takes ownership of the result
  }
};

// A canonical text of a value, equal for values JSON Schema calls equal (objects in any
// key order; 1 and 1.0 the same number).
void canonical(const valijson::adapters::Adapter& v, std::string& out) {
  if (v.isNull()) {
    out += 'n';
  } else if (v.isBool()) {
    out += v.getBool() ? 't' : 'f';
  } else if (v.isNumber()) {
    out += 'd';
    out += json::serialize(json::value(v.getNumber()));
  } else if (v.isString()) {
    out += 's';
    out += json::serialize(json::value(json::string(v.getString())));
  } else if (v.isArray()) {
    out += '[';
    v.applyToArray([&](const valijson::adapters::Adapter& e) {
      canonical(e, out);
      out += ',';
      return true;
    });
    out += ']';
  } else if (v.isObject()) {
    std::vector<std::string> members;
    v.applyToObject([&](const std::string& k, const valijson::adapters::Adapter& e) {
      std::string m = json::serialize(json::value(json::string(k))) + ":";
      canonical(e, m);
      members.push_back(std::move(m));
      return true;
    });
    std::sort(members.begin(), members.end());
    out += '{';
    for (const auto& m : members) out += m + ",";
    out += '}';
  }
}

class unique_items final : public valijson::constraints::PolyConstraint {
 public:
  bool validate(const valijson::adapters::Adapter& target, const std::vector<std::string>& context,
                valijson::ValidationResults* results) const override {
    if (!target.isArray()) return true;
    std::unordered_set<std::string> seen;
    std::size_t index = 0;
    bool ok = true;
    // One error, at the first repeat: the rest say nothing more.
    target.applyToArray([&](const valijson::adapters::Adapter& e) {
      std::string c;
      canonical(e, c);
      if (!seen.insert(std::move(c)).second) {
        ok = false;
        if (results)
          results->pushError(context, "Elements of array must be unique (item #" + std::to_string(index) +
                                          " repeats an earlier one).");
        return false;
      }
      ++index;
      return true;
    });
    return ok;
  }

 private:
  Constraint* cloneInto(void* where) const override { return new (where) unique_items(*this); }
  size_t sizeOf() const override { return sizeof(unique_items); }
};

class unique_items_builder final : public valijson::ConstraintBuilder {
 public:
  valijson::constraints::Constraint* make(const valijson::adapters::Adapter&) const override {
    return new unique_items();  // only `true` is renamed to this keyword
  }
};

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
  parser.addConstraintBuilder(std::string(pattern_key), new re2_pattern_builder());  // owned by the parser
  parser.addConstraintBuilder(std::string(unique_key), new unique_items_builder());
  const json::value rewritten = rewrite_keywords(schema);
  valijson::adapters::BoostJsonAdapter adapter(rewritten);
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
  // Many failing items (a long array) make many lines: a few name the problem, and a set
  // keeps the duplicate check linear.
  std::set<std::pair<std::string, std::string>> seen;
  std::size_t more = 0;
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
    if (!seen.emplace(issue.path, issue.message).second) continue;
    if (out.size() < max_issues)
      out.push_back(std::move(issue));
    else
      ++more;
  }
  if (more) out.push_back({"", "and " + std::to_string(more) + " more problems (not shown)"});
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
    for (const auto& issue : it->second->validate(kv.value()))
      errors.push_back(field + issue.path + ": " + issue.message);
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
