#include "actions.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <mutex>
#include <span>
#include <utility>

namespace json = boost::json;

namespace wfa_test {

namespace {

constexpr std::array<std::pair<std::string_view, int32_t>, 10> k_codes{{
    {"invalid_input", WFA_INVALID_INPUT},
    {"unauthorized", WFA_UNAUTHORIZED},
    {"forbidden", WFA_FORBIDDEN},
    {"not_found", WFA_NOT_FOUND},
    {"conflict", WFA_CONFLICT},
    {"rate_limited", WFA_RATE_LIMITED},
    {"unavailable", WFA_UNAVAILABLE},
    {"timeout", WFA_TIMEOUT},
    {"cancelled", WFA_CANCELLED},
    {"internal", WFA_INTERNAL},
}};

[[noreturn]] void bad(std::string_view where, std::string_view what) {
  throw input_error(std::string(where) + ": " + std::string(what));
}

// Refuses keys the schema does not list (additionalProperties: false).
void only_keys(const json::object& o, std::string_view where, std::initializer_list<std::string_view> keys) {
  for (const auto& kv : o) {
    bool known = false;
    for (auto k : keys) known = known || kv.key() == k;
    if (!known) bad(std::string(where) + "." + std::string(kv.key()), "unknown field");
  }
}

// JSON Schema "integer": any number with no fractional part (5 and 5.0 alike).
std::optional<std::int64_t> as_integer(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) {
    if (v.get_uint64() > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<std::int64_t>(v.get_uint64());
  }
  if (v.is_double()) {
    double d = v.get_double();
    if (d >= -9.0e15 && d <= 9.0e15 && d == static_cast<double>(static_cast<std::int64_t>(d)))
      return static_cast<std::int64_t>(d);
  }
  return std::nullopt;
}

std::string to_upper_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

// Upper-cases every string of v, at any depth; keys stay as they are.
json::value upper_strings(const json::value& v) {
  if (v.is_string()) return json::string(to_upper_ascii(v.get_string()));
  if (v.is_array()) {
    json::array out;
    out.reserve(v.get_array().size());
    for (const auto& e : v.get_array()) out.push_back(upper_strings(e));
    return out;
  }
  if (v.is_object()) {
    json::object out;
    for (const auto& kv : v.get_object()) out[kv.key()] = upper_strings(kv.value());
    return out;
  }
  return v;
}

}  // namespace

const char* code_name(int32_t code) {
  for (const auto& [name, c] : k_codes)
    if (c == code) return name.data();  // the literals are NUL-terminated
  return code == WFA_OK ? "ok" : "unknown";
}

std::optional<int32_t> code_from_name(std::string_view name) {
  for (const auto& [n, c] : k_codes)
    if (n == name) return c;
  return std::nullopt;
}

std::string redact(std::string text, std::string_view secret) {
  if (secret.empty()) return text;
  for (std::size_t pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + 3))
    text.replace(pos, secret.size(), "***");
  return text;
}

json::object parse_object(std::string_view text, std::string_view what) {
  if (text.empty()) return {};
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) bad(what, "not valid JSON (" + ec.message() + ")");
  if (!v.is_object()) bad(what, "expected a JSON object");
  return std::move(v.as_object());
}

connection_config parse_config(std::string_view text) {
  json::object o = parse_object(text, "config");
  only_keys(o, "config", {"prefix", "token", "fail_create"});
  connection_config c;
  if (const auto* p = o.if_contains("prefix")) {
    if (!p->is_string()) bad("config.prefix", "expected a string");
    c.prefix = p->get_string();
  }
  if (const auto* t = o.if_contains("token")) {
    if (!t->is_string() || t->get_string().empty()) bad("config.token", "expected a non-empty string");
    c.token = t->get_string();
  }
  if (const auto* f = o.if_contains("fail_create")) {
    if (!f->is_bool()) bad("config.fail_create", "expected a boolean");
    c.fail_create = f->get_bool();
  }
  return c;
}

outcome echo(const json::object& options, const json::object& inputs, const connection_config& config,
             std::uint64_t n) {
  only_keys(options, "options", {"upper"});
  bool upper = false;
  if (const auto* u = options.if_contains("upper")) {
    if (!u->is_bool()) bad("options.upper", "expected a boolean");
    upper = u->get_bool();
  }
  only_keys(inputs, "inputs", {"value", "tag", "secret", "id", "names"});  // id, names: checked by the host only
  const json::value* value = inputs.if_contains("value");
  if (!value) bad("inputs.value", "required");
  const json::value* tag = inputs.if_contains("tag");
  if (tag && (!tag->is_string() || tag->get_string().empty())) bad("inputs.tag", "expected a non-empty string");
  const json::value* secret = inputs.if_contains("secret");
  if (secret && !secret->is_string()) bad("inputs.secret", "expected a string");

  json::object out;
  out["value"] = upper ? upper_strings(*value) : *value;
  out["prefix"] = config.prefix;
  out["n"] = n;
  if (tag) out["tag"] = *tag;
  if (secret) out["secret"] = *secret;
  return outcome::ok(json::serialize(out));
}

delay_request parse_delay(const json::object& options, const json::object& inputs) {
  only_keys(options, "options", {});
  only_keys(inputs, "inputs", {"ms", "value"});
  const json::value* ms = inputs.if_contains("ms");
  if (!ms) bad("inputs.ms", "required");
  auto n = as_integer(*ms);
  if (!n || *n < 0 || *n > 600000) bad("inputs.ms", "expected an integer from 0 to 600000");
  delay_request r;
  r.ms = static_cast<std::uint32_t>(*n);
  if (const auto* v = inputs.if_contains("value")) r.value = *v;
  return r;
}

outcome delay_done(const delay_request& request) {
  json::object out;
  out["slept_ms"] = request.ms;
  if (request.value) out["value"] = *request.value;
  return outcome::ok(json::serialize(out));
}

outcome fail(const json::object& options, const json::object& inputs) {
  only_keys(options, "options", {});
  only_keys(inputs, "inputs", {"code", "message", "http_status", "details", "failures"});
  const json::value* code = inputs.if_contains("code");
  if (!code) bad("inputs.code", "required");
  std::optional<int32_t> c = code->is_string() ? code_from_name(code->get_string()) : std::nullopt;
  if (!c)
    bad("inputs.code",
        "expected one of invalid_input, unauthorized, forbidden, not_found, conflict, "
        "rate_limited, unavailable, timeout, cancelled, internal");
  const json::value* message = inputs.if_contains("message");
  if (!message) bad("inputs.message", "required");
  if (!message->is_string()) bad("inputs.message", "expected a string");
  if (const auto* f = inputs.if_contains("failures")) {
    auto n = as_integer(*f);
    if (!n || *n < 1) bad("inputs.failures", "expected an integer >= 1");
    // Calls so far with this message, in this process: the first n fail, later ones succeed
    // (a rate limit that lifts, for the host's retries).
    static std::mutex mu;
    static std::map<std::string, std::int64_t, std::less<>> calls;
    std::lock_guard lock(mu);
    if (++calls[std::string(message->get_string())] > *n) return outcome::ok("{}");
  }
  outcome o = error(*c, std::string(message->get_string()));
  if (const auto* h = inputs.if_contains("http_status")) {
    auto status = as_integer(*h);
    if (!status || *status < 100 || *status > 599) bad("inputs.http_status", "expected an integer from 100 to 599");
    o.http_status = static_cast<int32_t>(*status);
  }
  if (const auto* d = inputs.if_contains("details")) {
    if (!d->is_object()) bad("inputs.details", "expected a JSON object");
    o.details_json = json::serialize(*d);
  }
  return o;
}

outcome list_options(std::string_view action, std::string_view field, std::string_view context_json,
                     std::string_view page_token, const connection_config& config) {
  if (action != "test.echo" && action != "test.delay" && action != "test.fail")
    throw input_error("unknown action '" + std::string(action) + "'");
  if (action != "test.echo" || field != "/inputs/tag")
    throw input_error(std::string(action) + ": " + std::string(field) + ": not a field with dynamic options");
  parse_object(context_json, "context");  // checked, not used: the choices depend on the config only

  // Page 1: a, b and a token for page 2; page 2: c and no further page.
  struct choice {
    const char* value;
    const char* label;
  };
  static constexpr choice first[] = {{"a", "A"}, {"b", "B"}};
  static constexpr choice second[] = {{"c", "C"}};
  std::span<const choice> page;
  json::value next = nullptr;
  if (page_token.empty()) {
    page = first;
    next = "2";
  } else if (page_token == "2") {
    page = second;
  } else {
    throw input_error("page_token: unknown page '" + std::string(page_token) + "'");
  }
  json::array items;
  for (const auto& c : page) items.push_back(json::object{{"value", c.value}, {"label", config.prefix + c.label}});
  return outcome::ok(json::serialize(json::object{{"items", std::move(items)}, {"next_page_token", std::move(next)}}));
}

}  // namespace wfa_test
