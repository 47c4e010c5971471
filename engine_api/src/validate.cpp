#include <wfa/host/secret_outputs.hpp>
#include <wfa/host/validate.hpp>

#include "json_schema.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <set>

namespace json = boost::json;

namespace wfa::host {
namespace detail {

struct compiled_step {
  const json::object* manifest = nullptr;  // points into compiled_flow::manifests
  std::shared_ptr<const object_checker> options, inputs;
};

struct compiled_flow {
  manifest_set manifests;  // owns the manifest objects
  std::vector<compiled_step> steps;
};

}  // namespace detail

namespace {

using detail::object_checker;

std::optional<std::string> lookup(const env_lookup& env, const std::string& name) {
  if (env) return env(name);
  if (const char* v = std::getenv(name.c_str())) return std::string(v);
  return std::nullopt;
}

const json::object& member_object(const json::object& o, std::string_view key) {
  static const json::object empty;
  const json::value* v = o.if_contains(key);
  return v && v->is_object() ? v->get_object() : empty;
}

// UTF-8 as JSON text must be (RFC 8259): no overlong forms, no surrogates, at most
// U+10FFFF. Boost.JSON serialises the bytes of a string as they are, so a value read
// from the environment that is not UTF-8 makes a config the plugin cannot parse.
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    std::uint32_t cp = n == 1 ? c : (c & (0x7F >> n));
    for (std::size_t k = 1; k < n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 2) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr std::uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < least[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

// True when every string inside `v` (keys too) is UTF-8.
bool all_utf8(const json::value& v) {
  if (const auto* s = v.if_string()) return valid_utf8(*s);
  if (const auto* a = v.if_array())
    return std::all_of(a->begin(), a->end(), [](const json::value& e) { return all_utf8(e); });
  if (const auto* o = v.if_object())
    return std::all_of(o->begin(), o->end(),
                       [](const json::key_value_pair& kv) { return valid_utf8(kv.key()) && all_utf8(kv.value()); });
  return true;
}

std::string str(const json::value* v) { return v && v->is_string() ? std::string(v->get_string()) : std::string(); }

std::string type_list(const std::vector<std::string>& ts) {
  std::string out;
  for (const auto& t : ts) out += (out.empty() ? "" : "|") + t;
  return out;
}

// The declared type of a steps.ID.outputs.PATH in the outputs schema. nullopt when it
// cannot be known; throws expression_error when the path cannot exist.
std::optional<std::vector<std::string>> output_type(const json::object& manifest, const reference& r,
                                                    const std::string& action) {
  const json::value* s = manifest.if_contains("outputs");
  std::string walked = "outputs";
  for (const auto& seg : r.path) {
    if (!s || !s->is_object()) return std::nullopt;
    const json::object& so = s->get_object();
    if (const auto* key = std::get_if<std::string>(&seg)) {
      const json::value* props = so.if_contains("properties");
      const json::value* next = props && props->is_object() ? props->get_object().if_contains(*key) : nullptr;
      if (!next) {
        const json::value* addl = so.if_contains("additionalProperties");
        if (props && addl && addl->is_bool() && !addl->get_bool())
          throw expression_error("${{ " + r.text + " }}: '" + *key + "' is not in " + walked + " of " + action);
        return std::nullopt;
      }
      walked += "." + *key;
      s = next;
    } else {
      const json::value* items = so.if_contains("items");
      if (!items || !items->is_object()) return std::nullopt;
      walked += "[]";
      s = items;
    }
  }
  auto t = detail::schema_types(s ? *s : json::value());
  if (t.empty()) return std::nullopt;
  return t;
}

class validator {
 public:
  validator(const flow& f, const manifest_set& manifests, const env_lookup& env) : f_(f), env_(env) {
    compiled_ = std::make_shared<detail::compiled_flow>();
    compiled_->manifests = manifests;
  }

  validation_result run(std::map<std::string, library, std::less<>> libraries) {
    checked_flow out;
    check_connections(out);
    check_steps();
    check_outputs();
    validation_result result;
    for (auto& e : errors_) result.errors.push_back(out.secrets.redact(e));
    if (result.errors.empty()) {
      out.definition = f_;
      out.libraries = std::move(libraries);
      out.compiled = compiled_;
      result.checked = std::move(out);
    }
    return result;
  }

 private:
  const json::object* find_manifest(const std::string& plugin, const std::string& action) const {
    auto it = compiled_->manifests.find(plugin);
    if (it == compiled_->manifests.end()) return nullptr;
    for (const auto& m : it->second)
      if (str(m.if_contains("id")) == action) return &m;
    return nullptr;
  }

  void check_connections(checked_flow& out) {
    for (const auto& c : f_.connections) {
      std::string where = "connection " + c.name;
      auto mit = compiled_->manifests.find(c.plugin);
      if (!f_.find_plugin(c.plugin)) {
        errors_.push_back(where + ": plugin: unknown plugin '" + c.plugin + "'");
        continue;
      }
      if (mit == compiled_->manifests.end()) continue;  // it did not load: reported already
      // The connection schemas of the actions this connection serves (all of the
      // plugin's when no step uses it), without duplicates.
      std::vector<const json::value*> schemas;
      auto add_schema = [&](const json::object& manifest) {
        const json::value* s = manifest.if_contains("connection");
        if (!s) return;
        for (const auto* seen : schemas)
          if (*seen == *s) return;
        schemas.push_back(s);
      };
      for (const auto& step : f_.steps)
        if (step.connection == c.name)
          if (const auto* m = find_manifest(c.plugin, step.action)) add_schema(*m);
      if (schemas.empty())
        for (const auto& m : mit->second) add_schema(m);

      // ${{ env.NAME }} only: one instance serves every row, so rows cannot be seen here.
      json::object config;
      std::set<std::string> from_env;
      bool ok = true;
      for (const auto& kv : c.config) {
        std::string field = where + ": config." + std::string(kv.key());
        try {
          bool env_only = true;
          for (const auto& r : collect_references(kv.value())) env_only = env_only && r.kind == reference::root::env;
          if (!env_only) {
            errors_.push_back(field +
                              ": only ${{ env.NAME }} is allowed in a connection config (it is shared by all rows)");
            ok = false;
            continue;
          }
          if (has_expression(kv.value())) from_env.insert(std::string(kv.key()));
          eval_context ctx;
          // Every string read from the environment is a secret on its own: a value
          // interpolated into a longer one ("${{ env.SUB }}.x.com") must not leak
          // where it appears alone.
          ctx.env = [this, &out](const std::string& n) {
            auto v = lookup(env_, n);
            if (v) out.secrets.add(*v);
            return v;
          };
          if (auto v = evaluate(kv.value(), ctx)) config[kv.key()] = std::move(*v);
        } catch (const expression_error& e) {
          errors_.push_back(field + ": " + e.what());
          ok = false;
        }
      }
      // x-env: an absent field comes from its environment variable when that is set.
      for (const auto* s : schemas) {
        for (const auto& p : member_object(s->get_object(), "properties")) {
          if (!p.value().is_object() || config.contains(p.key())) continue;
          std::string var = str(p.value().get_object().if_contains("x-env"));
          if (var.empty()) continue;
          auto v = lookup(env_, var);
          if (!v || v->empty()) continue;
          out.secrets.add(*v);  // as read, also when it is parsed into a number below
          auto types = detail::schema_types(p.value());
          json::value parsed;
          bool typed = false;
          if (!types.empty() && std::find(types.begin(), types.end(), "string") == types.end()) {
            boost::system::error_code ec;
            parsed = json::parse(*v, ec);
            typed = !ec;
          }
          config[p.key()] = typed ? parsed : json::value(json::string(*v));
          from_env.insert(std::string(p.key()));
        }
      }
      // Secrets are registered before any message is produced: what the manifests mark
      // x-secret, and whatever came from the environment.
      std::vector<std::string> secret_texts;
      for (const auto& kv : config) {
        bool secret = from_env.count(std::string(kv.key())) > 0;
        for (const auto* s : schemas) {
          const json::value* prop = member_object(s->get_object(), "properties").if_contains(kv.key());
          const json::value* xs = prop && prop->is_object() ? prop->get_object().if_contains("x-secret") : nullptr;
          secret = secret || (xs && xs->is_bool() && xs->get_bool());
        }
        if (secret) {
          std::vector<std::string> leaves;
          secret_leaves(kv.value(), leaves);
          out.secrets.add(leaves);
          secret_texts.insert(secret_texts.end(), leaves.begin(), leaves.end());
        }
      }
      // A config's id and secret may travel as HTTP Basic credentials (RFC 6749 2.3.1),
      // which a reflecting server shows base64-encoded: every string of the config as
      // the user, with every secret of it.
      for (const auto& kv : config)
        if (const auto* user = kv.value().if_string())
          for (const auto& secret : secret_texts)
            if (secret != *user) out.secrets.add_basic_credentials(*user, secret);
      // Named here, without the value: the plugin could only say its config is not JSON.
      for (const auto& kv : config)
        if (!all_utf8(kv.value())) {
          errors_.push_back(where + ": config." + std::string(kv.key()) + ": not valid UTF-8" +
                            (from_env.count(std::string(kv.key())) ? " (as read from the environment)" : "") +
                            "; it must be text");
          ok = false;
        }
      if (ok) {
        for (const auto* s : schemas) {
          try {
            object_checker checker(*s);
            for (auto& e : checker.check(config, "config")) errors_.push_back(where + ": " + e);
          } catch (const std::exception& e) {
            errors_.push_back(where + ": the connection schema is unusable: " + e.what());
          }
        }
      }
      out.configs[c.name] = std::move(config);
    }
  }

  // Checks one reference made from step `self` (-1: from the flow outputs).
  void check_reference(const reference& r, int self, const std::string& where) {
    switch (r.kind) {
      case reference::root::inputs:
        if (!f_.find_input(r.name))
          errors_.push_back(where + ": unknown input '" + r.name + "' in ${{ " + r.text + " }}");
        break;
      case reference::root::env: break;
      case reference::root::steps: {
        int target = f_.step_index(r.name);
        if (target < 0)
          errors_.push_back(where + ": unknown step '" + r.name + "' in ${{ " + r.text + " }}");
        else if (self >= 0 && target == self)
          errors_.push_back(where + ": ${{ " + r.text + " }} refers to this step's own outputs");
        else if (self >= 0 && target > self)
          errors_.push_back(where + ": ${{ " + r.text + " }} refers to step '" + r.name +
                            "', which runs after this one");
        else if (const json::object* m = step_manifest(target)) {
          try {
            output_type(*m, r, f_.steps[target].action);
          } catch (const expression_error& e) {
            errors_.push_back(where + ": " + e.what());
          }
        }
        break;
      }
    }
  }

  const json::object* step_manifest(int i) const {
    if (i < 0 || static_cast<std::size_t>(i) >= f_.steps.size()) return nullptr;
    const auto& s = f_.steps[i];
    const flow_connection* c = f_.find_connection(s.connection);
    return c ? find_manifest(c->plugin, s.action) : nullptr;
  }

  // Checks references of every value in the object; false when one did not parse.
  bool check_references(const json::object& o, int self, const std::string& where, const std::string& section) {
    bool parsed = true;
    for (const auto& kv : o) {
      std::string field = where + ": " + section + (section.empty() ? "" : ".") + std::string(kv.key());
      try {
        for (const auto& r : collect_references(kv.value())) check_reference(r, self, field);
      } catch (const expression_error& e) {
        errors_.push_back(field + ": " + e.what());
        parsed = false;
      }
    }
    return parsed;
  }

  // The type an expression-holding value will have, when it can be known.
  std::optional<std::vector<std::string>> expression_type(const json::value& v) const {
    if (v.is_array()) return std::vector<std::string>{"array"};
    if (v.is_object()) return std::vector<std::string>{"object"};
    if (!v.is_string()) return detail::json_types(v);
    template_string t;
    try {
      t = parse_template(std::string_view(v.get_string()));
    } catch (const expression_error&) {
      return std::nullopt;
    }
    if (!t.single()) return std::vector<std::string>{"string"};
    const auto& r = std::get<reference>(t.parts[0]);
    switch (r.kind) {
      case reference::root::env: return std::vector<std::string>{"string"};
      case reference::root::inputs: {
        const flow_input* in = f_.find_input(r.name);
        if (!in || in->type.empty() || !r.path.empty()) return std::nullopt;
        return std::vector<std::string>{in->type};
      }
      case reference::root::steps: {
        const json::object* m = step_manifest(f_.step_index(r.name));
        if (!m) return std::nullopt;
        try {
          return output_type(*m, r, "");
        } catch (const expression_error&) {
          return std::nullopt;
        }
      }
    }
    return std::nullopt;
  }

  void check_steps() {
    compiled_->steps.resize(f_.steps.size());
    detail::type_oracle oracle = [this](const json::value& v) { return expression_type(v); };
    for (std::size_t i = 0; i < f_.steps.size(); ++i) {
      const flow_step& s = f_.steps[i];
      std::string where = "step " + s.id;
      const flow_connection* c = f_.find_connection(s.connection);
      const json::object* m = nullptr;
      if (!c) {
        errors_.push_back(where + ": connection: unknown connection '" + s.connection + "'");
      } else if (!compiled_->manifests.count(c->plugin)) {
        // Unknown plugin or one that did not load: reported with the connection / plugin.
      } else if (!(m = find_manifest(c->plugin, s.action))) {
        std::string known;
        auto it = compiled_->manifests.find(c->plugin);
        if (it != compiled_->manifests.end())
          for (const auto& mm : it->second) known += (known.empty() ? "" : ", ") + str(mm.if_contains("id"));
        errors_.push_back(where + ": action: unknown action '" + s.action + "' in plugin '" + c->plugin + "'" +
                          (known.empty() ? "" : " (it has: " + known + ")"));
      }
      bool refs_ok = check_references(s.options, static_cast<int>(i), where, "options");
      refs_ok = check_references(s.inputs, static_cast<int>(i), where, "inputs") && refs_ok;
      if (!m) continue;
      auto& cs = compiled_->steps[i];
      cs.manifest = m;
      if (const auto* outs = m->if_contains("outputs"))
        for (const auto& p : unreachable_secret_marks(*outs))
          errors_.push_back(where + ": the manifest of " + s.action + " marks x-secret at outputs" + p +
                            ", where flowrun does not look for it (it follows properties, additionalProperties, "
                            "items and prefixItems): the value would be printed");
      try {
        cs.options =
            std::make_shared<object_checker>(m->contains("options") ? m->at("options") : json::value(json::object()));
        cs.inputs =
            std::make_shared<object_checker>(m->contains("inputs") ? m->at("inputs") : json::value(json::object()));
      } catch (const std::exception& e) {
        errors_.push_back(where + ": the manifest of " + s.action + " has an unusable schema: " + e.what());
        continue;
      }
      if (!refs_ok) continue;
      for (auto& e : cs.options->check_unevaluated(s.options, "options", oracle)) errors_.push_back(where + ": " + e);
      for (auto& e : cs.inputs->check_unevaluated(s.inputs, "inputs", oracle)) errors_.push_back(where + ": " + e);
    }
  }

  void check_outputs() { check_references(f_.outputs, -1, "flow", "outputs"); }

  const flow& f_;
  const env_lookup& env_;
  std::shared_ptr<detail::compiled_flow> compiled_;
  std::vector<std::string> errors_;
};

}  // namespace

const json::object& checked_flow::manifest(std::size_t step) const { return *compiled->steps.at(step).manifest; }

std::vector<std::string> checked_flow::check_step(std::size_t step, const json::object& options,
                                                  const json::object& inputs) const {
  const auto& cs = compiled->steps.at(step);
  std::vector<std::string> errors = cs.options->check(options, "options");
  for (auto& e : cs.inputs->check(inputs, "inputs")) errors.push_back(std::move(e));
  return errors;
}

std::vector<std::string> checked_flow::check_row(const json::object& row) const {
  std::vector<std::string> errors;
  for (const auto& kv : row) {
    if (!all_utf8(kv.value())) {
      errors.push_back("inputs." + std::string(kv.key()) + ": not valid UTF-8; it must be text");
      continue;
    }
    const flow_input* in = definition.find_input(kv.key());
    if (!in) {
      errors.push_back("inputs." + std::string(kv.key()) + ": unknown input (the flow declares no such input)");
      continue;
    }
    if (in->type.empty()) continue;
    auto have = detail::json_types(kv.value());
    if (!detail::types_compatible(have, {in->type}) || (in->type == "integer" && have.size() == 1))
      errors.push_back("inputs." + std::string(kv.key()) + ": expected " + in->type + ", got " + type_list(have));
  }
  return errors;
}

namespace {

/// Errors found before the schema checks (plugins) come first; any of them fails the flow.
validation_result with_plugin_errors(validation_result r, std::vector<std::string> errors) {
  if (!errors.empty()) {
    r.checked.reset();
    errors.insert(errors.end(), r.errors.begin(), r.errors.end());
    r.errors = std::move(errors);
  }
  return r;
}

}  // namespace

validation_result validate(const flow& f, const manifest_set& manifests, const env_lookup& env) {
  // A declared plugin the set has no manifests for is what a plugin that does not load is
  // to the other overload: an error. Without it its steps would pass unchecked, with no
  // schema for check_step (found by tests/fuzz/fuzz_flow: a null dereference).
  std::vector<std::string> errors;
  for (const auto& p : f.plugins) {
    if (!manifests.count(p.id)) errors.push_back("plugin " + p.id + ": no manifests were given for it");
  }
  return with_plugin_errors(validator(f, manifests, env).run({}), std::move(errors));
}

validation_result validate(const flow& f, const env_lookup& env) {
  manifest_set manifests;
  std::map<std::string, library, std::less<>> libraries;
  std::vector<std::string> errors;
  for (const auto& p : f.plugins) {
    try {
      library lib = library::open(p.location);
      auto& list = manifests[p.id];
      for (const auto& a : lib.actions()) {
        boost::system::error_code ec;
        json::value m = json::parse(a.manifest_json, ec);
        if (ec || !m.is_object()) {
          errors.push_back("plugin " + p.id + ": action " + a.id + ": manifest_json is not a JSON object");
          continue;
        }
        list.push_back(std::move(m.get_object()));
      }
      libraries.emplace(p.id, std::move(lib));
    } catch (const load_error& e) {
      errors.push_back("plugin " + p.id + ": " + e.what());
    }
  }
  return with_plugin_errors(validator(f, manifests, env).run(std::move(libraries)), std::move(errors));
}

json::value parse_input_value(const flow& f, const std::string& name, const std::string& text) {
  const flow_input* in = f.find_input(name);
  if (in && in->type == "string") return json::string(text);
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return json::string(text);
  return v;
}

}  // namespace wfa::host
