#include <wfa/host/expression.hpp>

#include <boost/json.hpp>

#include <cctype>
#include <cstdlib>

namespace json = boost::json;

namespace wfa::host {
namespace {

constexpr std::string_view open_tok = "${{";
constexpr std::string_view close_tok = "}}";

bool key_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; }

[[noreturn]] void fail(std::string_view expr, const std::string& why) {
  throw expression_error("${{ " + std::string(expr) + " }}: " + why);
}

// Parses the text between `${{` and `}}`.
reference parse_reference(std::string_view raw) {
  std::size_t b = 0, e = raw.size();
  while (b < e && std::isspace(static_cast<unsigned char>(raw[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(raw[e - 1]))) --e;
  std::string_view s = raw.substr(b, e - b);
  reference r;
  r.text = std::string(s);
  if (s.empty()) fail(s, "empty expression");

  // Tokenise into segments: keys (after '.' or at the start) and [indices].
  std::vector<reference::segment> segs;
  std::size_t i = 0;
  bool expect_key = true;  // at the start a key is expected without a dot
  while (i < s.size()) {
    if (!expect_key && s[i] == '.') {
      ++i;
      expect_key = true;
      continue;
    }
    if (s[i] == '[') {
      if (expect_key && !segs.empty()) fail(s, "'.' followed by '['");
      if (segs.empty()) fail(s, "must start with inputs, steps or env");
      std::size_t close = s.find(']', i);
      if (close == std::string_view::npos) fail(s, "unclosed '['");
      std::string_view digits = s.substr(i + 1, close - i - 1);
      if (digits.empty() || digits.size() > 9) fail(s, "bad index [" + std::string(digits) + "]");
      std::size_t idx = 0;
      for (char c : digits) {
        if (!std::isdigit(static_cast<unsigned char>(c)))
          fail(s, "bad index [" + std::string(digits) + "] (a non-negative integer is expected)");
        idx = idx * 10 + static_cast<std::size_t>(c - '0');
      }
      segs.emplace_back(idx);
      i = close + 1;
      expect_key = false;
      continue;
    }
    if (!expect_key) fail(s, std::string("unexpected '") + s[i] + "'");
    std::size_t start = i;
    while (i < s.size() && key_char(s[i])) ++i;
    if (i == start) fail(s, std::string("unexpected '") + s[i] + "'");
    segs.emplace_back(std::string(s.substr(start, i - start)));
    expect_key = false;
  }
  if (expect_key) fail(s, "ends with '.'");

  auto key_at = [&](std::size_t k) -> const std::string* {
    return k < segs.size() ? std::get_if<std::string>(&segs[k]) : nullptr;
  };
  const std::string* root = key_at(0);
  if (!root) fail(s, "must start with inputs, steps or env");
  if (*root == "inputs") {
    const std::string* name = key_at(1);
    if (!name) fail(s, "expected inputs.NAME");
    r.kind = reference::root::inputs;
    r.name = *name;
    r.path.assign(segs.begin() + 2, segs.end());
  } else if (*root == "steps") {
    const std::string* id = key_at(1);
    const std::string* outputs = key_at(2);
    if (!id || !outputs || *outputs != "outputs") fail(s, "expected steps.ID.outputs[.PATH]");
    r.kind = reference::root::steps;
    r.name = *id;
    r.path.assign(segs.begin() + 3, segs.end());
  } else if (*root == "env") {
    const std::string* name = key_at(1);
    if (!name || segs.size() != 2) fail(s, "expected env.NAME");
    r.kind = reference::root::env;
    r.name = *name;
  } else {
    fail(s, "unknown root '" + *root + "' (expected inputs, steps or env)");
  }
  return r;
}

const json::value* walk(const json::value* v, const std::vector<reference::segment>& path) {
  for (const auto& seg : path) {
    if (!v) return nullptr;
    if (const auto* key = std::get_if<std::string>(&seg)) {
      const auto* o = v->if_object();
      v = o ? o->if_contains(*key) : nullptr;
    } else {
      std::size_t idx = std::get<std::size_t>(seg);
      const auto* a = v->if_array();
      v = (a && idx < a->size()) ? &(*a)[idx] : nullptr;
    }
  }
  return v;
}

std::optional<json::value> evaluate_string(std::string_view s, const eval_context& ctx) {
  if (!has_expression(s)) return json::value(json::string(s));
  template_string t = parse_template(s);
  if (t.single()) return resolve(std::get<reference>(t.parts[0]), ctx);
  std::string out;
  for (const auto& part : t.parts) {
    if (const auto* lit = std::get_if<std::string>(&part)) {
      out += *lit;
      continue;
    }
    const auto& ref = std::get<reference>(part);
    auto v = resolve(ref, ctx);
    if (!v) throw expression_error("${{ " + ref.text + " }}: not found (cannot interpolate a missing value)");
    if (const auto* str = v->if_string())
      out.append(str->data(), str->size());
    else
      out += json::serialize(*v);
  }
  return json::value(json::string(out));
}

}  // namespace

bool template_string::single() const noexcept {
  return parts.size() == 1 && std::holds_alternative<reference>(parts[0]);
}

bool template_string::has_references() const noexcept {
  for (const auto& p : parts)
    if (std::holds_alternative<reference>(p)) return true;
  return false;
}

template_string parse_template(std::string_view text) {
  template_string t;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t open = text.find(open_tok, pos);
    if (open == std::string_view::npos) {
      t.parts.emplace_back(std::string(text.substr(pos)));
      break;
    }
    if (open > pos) t.parts.emplace_back(std::string(text.substr(pos, open - pos)));
    std::size_t close = text.find(close_tok, open + open_tok.size());
    if (close == std::string_view::npos)
      throw expression_error("unterminated '${{' at offset " + std::to_string(open) + " in \"" + std::string(text) +
                             "\"");
    t.parts.emplace_back(parse_reference(text.substr(open + open_tok.size(), close - open - open_tok.size())));
    pos = close + close_tok.size();
  }
  return t;
}

bool has_expression(std::string_view text) noexcept { return text.find(open_tok) != std::string_view::npos; }

bool has_expression(const json::value& v) noexcept {
  if (const auto* s = v.if_string()) return has_expression(std::string_view(*s));
  if (const auto* a = v.if_array()) {
    for (const auto& e : *a)
      if (has_expression(e)) return true;
  } else if (const auto* o = v.if_object()) {
    for (const auto& kv : *o)
      if (has_expression(kv.value())) return true;
  }
  return false;
}

std::vector<reference> collect_references(const json::value& v) {
  std::vector<reference> out;
  if (const auto* s = v.if_string()) {
    if (!has_expression(std::string_view(*s))) return out;
    for (auto& part : parse_template(std::string_view(*s)).parts)
      if (auto* r = std::get_if<reference>(&part)) out.push_back(std::move(*r));
  } else if (const auto* a = v.if_array()) {
    for (const auto& e : *a)
      for (auto& r : collect_references(e)) out.push_back(std::move(r));
  } else if (const auto* o = v.if_object()) {
    for (const auto& kv : *o)
      for (auto& r : collect_references(kv.value())) out.push_back(std::move(r));
  }
  return out;
}

std::optional<json::value> resolve(const reference& r, const eval_context& ctx) {
  switch (r.kind) {
    case reference::root::inputs: {
      const json::value* v = ctx.inputs ? ctx.inputs->if_contains(r.name) : nullptr;
      v = walk(v, r.path);
      return v ? std::optional<json::value>(*v) : std::nullopt;
    }
    case reference::root::steps: {
      const json::value* v = ctx.steps ? ctx.steps->if_contains(r.name) : nullptr;
      v = walk(v, r.path);
      return v ? std::optional<json::value>(*v) : std::nullopt;
    }
    case reference::root::env: {
      std::optional<std::string> e;
      if (ctx.env) {
        e = ctx.env(r.name);
      } else if (const char* c = std::getenv(r.name.c_str())) {
        e = std::string(c);
      }
      return e ? std::optional<json::value>(json::string(*e)) : std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<json::value> evaluate(const json::value& v, const eval_context& ctx) {
  if (const auto* s = v.if_string()) return evaluate_string(std::string_view(*s), ctx);
  if (const auto* a = v.if_array()) {
    json::array out;
    out.reserve(a->size());
    for (const auto& e : *a) {
      auto r = evaluate(e, ctx);
      out.push_back(r ? std::move(*r) : json::value(nullptr));
    }
    return json::value(std::move(out));
  }
  if (const auto* o = v.if_object()) {
    json::object out;
    out.reserve(o->size());
    for (const auto& kv : *o) {
      auto r = evaluate(kv.value(), ctx);
      if (r) out[kv.key()] = std::move(*r);
    }
    return json::value(std::move(out));
  }
  return v;
}

}  // namespace wfa::host
