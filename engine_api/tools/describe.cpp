#include "commands.hpp"

#include <wfa/host.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <ostream>

namespace json = boost::json;

namespace flowrun {
namespace {

std::string str(const json::value* v) { return v && v->is_string() ? std::string(v->get_string()) : std::string(); }

// One line per property of an object schema: name, type, flags, description.
void fields(const json::value* schema, const char* title, std::ostream& out) {
  const auto* so = schema ? schema->if_object() : nullptr;
  const json::value* props = so ? so->if_contains("properties") : nullptr;
  out << "    " << title << ":";
  if (!props || !props->is_object() || props->get_object().empty()) {
    out << " (none)\n";
    return;
  }
  out << "\n";
  std::vector<std::string> required;
  if (const json::value* r = so->if_contains("required"); r && r->is_array())
    for (const auto& e : r->get_array())
      if (e.is_string()) required.emplace_back(e.get_string());
  for (const auto& kv : props->get_object()) {
    const auto* p = kv.value().if_object();
    std::string name(kv.key());
    std::string type;
    std::vector<std::string> flags;
    if (p) {
      if (const json::value* t = p->if_contains("type"))
        type = t->is_string() ? std::string(t->get_string()) : json::serialize(*t);
      if (const json::value* e = p->if_contains("enum")) type += " " + json::serialize(*e);
      if (std::find(required.begin(), required.end(), name) != required.end()) flags.emplace_back("required");
      if (const json::value* d = p->if_contains("default")) flags.push_back("default " + json::serialize(*d));
      if (const json::value* s = p->if_contains("x-secret"); s && s->is_bool() && s->get_bool())
        flags.emplace_back("secret");
      if (const json::value* e = p->if_contains("x-env"); e && e->is_string())
        flags.push_back("env " + std::string(e->get_string()));
      if (p->contains("x-dynamic-options")) flags.emplace_back("dynamic options");
    }
    out << "      " << name << ": " << (type.empty() ? "any" : type);
    for (const auto& f : flags) out << ", " << f;
    if (std::string d = p ? str(p->if_contains("description")) : ""; !d.empty()) out << " -- " << d;
    out << "\n";
  }
}

}  // namespace

int describe(const std::string& plugin, bool as_json, std::ostream& out, std::ostream& err) {
  wfa::host::library lib = wfa::host::library::open(plugin);
  const wfa_plugin& p = lib.plugin();
  if (as_json) {
    json::array actions;
    for (const auto& a : lib.actions()) {
      boost::system::error_code ec;
      json::value m = json::parse(a.manifest_json, ec);
      actions.push_back(json::object{{"id", a.id},
                                     {"title", a.title ? a.title : ""},
                                     {"description", a.description ? a.description : ""},
                                     {"manifest", ec ? json::value(nullptr) : m}});
    }
    json::object o{{"name", p.name},
                   {"version", p.version},
                   {"abi", std::to_string(p.abi_major) + "." + std::to_string(p.abi_minor)},
                   {"path", lib.path()},
                   {"dynamic_options", p.list_options != nullptr},
                   {"actions", std::move(actions)}};
    out << json::serialize(o) << "\n";
    return 0;
  }
  out << p.name << " " << p.version << " (ABI " << p.abi_major << "." << p.abi_minor << ")\n";
  out << "file: " << lib.path() << "\n";
  out << lib.actions().size() << " action(s)\n";
  for (const auto& a : lib.actions()) {
    out << "\n  " << a.id << " -- " << (a.title ? a.title : "") << "\n";
    if (a.description && *a.description) out << "    " << a.description << "\n";
    boost::system::error_code ec;
    json::value m = json::parse(a.manifest_json, ec);
    if (ec || !m.is_object()) {
      err << "flowrun: " << a.id << ": manifest_json is not a JSON object\n";
      continue;
    }
    const json::object& mo = m.get_object();
    for (const char* section : {"connection", "options", "inputs", "outputs"})
      fields(mo.if_contains(section), section, out);
  }
  return 0;
}

}  // namespace flowrun
