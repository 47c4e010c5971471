#include <wfa/host/redact.hpp>
#include <wfa/host/secret_outputs.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>

#include <algorithm>
#include <set>

namespace wfa::host {

namespace json = boost::json;

namespace {

bool marked(const json::object& schema) {
  const auto* x = schema.if_contains("x-secret");
  return x && x->is_bool() && x->get_bool();
}

const json::value* member(const json::object& o, std::string_view key) { return o.if_contains(key); }

std::string escaped(std::string_view token) {  // RFC 6901
  std::string out;
  for (char c : token) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

// Keywords whose values are data (instances), not schemas: an x-secret in them marks nothing.
bool data_keyword(std::string_view k) { return k == "enum" || k == "const" || k == "default" || k == "examples"; }

// Every schema holding an "x-secret": true, wherever it is.
void all_marks(const json::value& v, const std::string& at, std::set<std::string>& out) {
  if (const auto* o = v.if_object()) {
    if (marked(*o)) out.insert(at);
    for (const auto& kv : *o)
      if (!data_keyword(kv.key())) all_marks(kv.value(), at + "/" + escaped(kv.key()), out);
  } else if (const auto* a = v.if_array()) {
    for (std::size_t i = 0; i < a->size(); ++i) all_marks((*a)[i], at + "/" + std::to_string(i), out);
  }
}

// The marks the masking walk reaches: the same keywords as mask() below.
void reached_marks(const json::value& v, const std::string& at, std::set<std::string>& out) {
  const auto* s = v.if_object();
  if (!s) return;
  if (marked(*s)) out.insert(at);
  if (const auto* p = member(*s, "properties"); p && p->is_object())
    for (const auto& kv : p->get_object()) reached_marks(kv.value(), at + "/properties/" + escaped(kv.key()), out);
  if (const auto* ap = member(*s, "additionalProperties")) reached_marks(*ap, at + "/additionalProperties", out);
  if (const auto* it = member(*s, "items")) reached_marks(*it, at + "/items", out);
  if (const auto* pi = member(*s, "prefixItems"); pi && pi->is_array())
    for (std::size_t i = 0; i < pi->get_array().size(); ++i)
      reached_marks(pi->get_array()[i], at + "/prefixItems/" + std::to_string(i), out);
}

void mask(const json::value* schema, json::value& v, std::vector<std::string>& found) {
  const auto* s = schema ? schema->if_object() : nullptr;
  if (!s) return;
  if (marked(*s)) {
    secret_leaves(v, found);
    v = json::string(secret_mask);
    return;
  }
  if (auto* o = v.if_object()) {
    const auto* props = member(*s, "properties");
    const auto* extra = member(*s, "additionalProperties");
    for (auto& kv : *o) {
      const json::value* sub = props && props->is_object() ? props->get_object().if_contains(kv.key()) : nullptr;
      mask(sub ? sub : extra, kv.value(), found);
    }
  } else if (auto* a = v.if_array()) {
    const auto* prefix = member(*s, "prefixItems");
    const auto* items = member(*s, "items");
    for (std::size_t i = 0; i < a->size(); ++i) {
      const bool in_prefix = prefix && prefix->is_array() && i < prefix->get_array().size();
      mask(in_prefix ? &prefix->get_array()[i] : items, (*a)[i], found);
    }
  }
}

}  // namespace

bool has_secret_marks(const json::value& outputs_schema) {
  std::set<std::string> all;
  all_marks(outputs_schema, "", all);
  return !all.empty();
}

std::vector<std::string> unreachable_secret_marks(const json::value& outputs_schema) {
  std::set<std::string> all, reached;
  all_marks(outputs_schema, "", all);
  reached_marks(outputs_schema, "", reached);
  std::vector<std::string> out;
  std::set_difference(all.begin(), all.end(), reached.begin(), reached.end(), std::back_inserter(out));
  return out;
}

json::value mask_secret_outputs(const json::value& outputs_schema, const json::value& outputs,
                                std::vector<std::string>& found) {
  json::value shown = outputs;
  mask(&outputs_schema, shown, found);
  return shown;
}

}  // namespace wfa::host
