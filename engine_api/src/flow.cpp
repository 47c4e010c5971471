#include <wfa/host/flow.hpp>
#include <wfa/host/plugin_search.hpp>

#include <boost/json.hpp>

#include <cctype>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>

namespace json = boost::json;

namespace wfa::host {
namespace {

class parser {
 public:
  explicit parser(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const std::string& where, const std::string& why) const {
    std::string prefix = file_.empty() ? "" : file_ + ": ";
    throw flow_error(prefix + (where.empty() ? "" : where + ": ") + why);
  }

  const json::object& object(const json::value& v, const std::string& where) const {
    if (!v.is_object()) fail(where, "expected an object");
    return v.get_object();
  }

  std::string string(const json::object& o, std::string_view key, const std::string& where, bool required) const {
    const json::value* v = o.if_contains(key);
    if (!v) {
      if (required) fail(where, "'" + std::string(key) + "' is required");
      return {};
    }
    if (!v->is_string()) fail(join(where, key), "expected a string");
    return std::string(v->get_string());
  }

  json::object optional_object(const json::object& o, std::string_view key, const std::string& where) const {
    const json::value* v = o.if_contains(key);
    if (!v) return {};
    return object(*v, join(where, key));
  }

  void only(const json::object& o, std::initializer_list<std::string_view> keys, const std::string& where) const {
    for (const auto& kv : o) {
      bool known = false;
      for (auto k : keys) known = known || kv.key() == k;
      if (!known) fail(where, "unknown key '" + std::string(kv.key()) + "'");
    }
  }

  static std::string join(const std::string& where, std::string_view key) {
    return where.empty() ? std::string(key) : where + "." + std::string(key);
  }

 private:
  std::string file_;
};

// The directory relative plugin paths start from: the flow file's, made absolute so
// that the result never depends on how the flow file was named (f.flow.json, ./f, ...).
// Text without a file: the working directory.
std::filesystem::path plugin_base(const std::filesystem::path& file) {
  std::error_code ec;
  std::filesystem::path dir = file.empty() ? std::filesystem::path(".") : file.parent_path();
  if (dir.empty()) dir = ".";
  std::filesystem::path abs = std::filesystem::absolute(dir, ec);
  return (ec ? dir : abs).lexically_normal();
}

// What dlopen gets. A path with a '/' is relative to the flow file's directory (or
// absolute), so a flow and its plugin move together; it is made absolute, so that it
// keeps its '/' (dlopen searches the library path for a name without one). A bare
// file name is looked for beside the flow file, then in the installed plugin folder,
// then left to the dynamic loader's search (wfa/host/plugin_search.hpp).
std::string plugin_location(const std::string& path, const std::filesystem::path& base) {
  if (path.find('/') != std::string::npos) {
    std::filesystem::path pp(path);
    return (pp.is_absolute() ? pp : base / pp).lexically_normal().string();
  }
  if (auto found = find_plugin_file(path, base)) return found->string();
  return path;
}

}  // namespace

const flow_plugin* flow::find_plugin(std::string_view id) const noexcept {
  for (const auto& p : plugins)
    if (p.id == id) return &p;
  return nullptr;
}
const flow_connection* flow::find_connection(std::string_view n) const noexcept {
  for (const auto& c : connections)
    if (c.name == n) return &c;
  return nullptr;
}
const flow_input* flow::find_input(std::string_view n) const noexcept {
  for (const auto& i : inputs)
    if (i.name == n) return &i;
  return nullptr;
}
int flow::step_index(std::string_view id) const noexcept {
  for (std::size_t i = 0; i < steps.size(); ++i)
    if (steps[i].id == id) return static_cast<int>(i);
  return -1;
}

flow parse_flow(std::string_view text, const std::filesystem::path& file) {
  parser p(file.string());
  json::value root;
  {
    boost::system::error_code ec;
    root = json::parse(text, ec);
    if (ec) p.fail("", "not valid JSON: " + ec.message());
  }
  flow f;
  f.file = file;
  const json::object& o = p.object(root, "");
  p.only(o, {"$schema", "name", "description", "version", "plugins", "connections", "inputs", "steps", "outputs"}, "");
  f.name = p.string(o, "name", "", false);
  f.description = p.string(o, "description", "", false);

  // plugins
  const json::value* plugins = o.if_contains("plugins");
  if (!plugins) p.fail("", "'plugins' is required");
  if (!plugins->is_array()) p.fail("plugins", "expected an array");
  const std::filesystem::path base = plugin_base(file);
  for (std::size_t i = 0; i < plugins->get_array().size(); ++i) {
    std::string where = "plugins[" + std::to_string(i) + "]";
    const json::object& po = p.object(plugins->get_array()[i], where);
    p.only(po, {"id", "path", "description"}, where);
    flow_plugin fp;
    fp.id = p.string(po, "id", where, true);
    fp.path = p.string(po, "path", where, true);
    if (fp.id.empty()) p.fail(where + ".id", "must not be empty");
    if (fp.path.empty()) p.fail(where + ".path", "must not be empty");
    if (f.find_plugin(fp.id)) p.fail(where + ".id", "duplicate plugin id '" + fp.id + "'");
    fp.location = plugin_location(fp.path, base);
    f.plugins.push_back(std::move(fp));
  }

  // connections
  for (const auto& kv : p.optional_object(o, "connections", "")) {
    std::string where = "connections." + std::string(kv.key());
    const json::object& co = p.object(kv.value(), where);
    p.only(co, {"plugin", "config", "description"}, where);
    flow_connection c;
    c.name = std::string(kv.key());
    c.plugin = p.string(co, "plugin", where, true);
    c.config = p.optional_object(co, "config", where);
    f.connections.push_back(std::move(c));
  }

  // inputs
  static const std::set<std::string> types = {"string", "number", "integer", "boolean", "object", "array", "null"};
  for (const auto& kv : p.optional_object(o, "inputs", "")) {
    std::string where = "inputs." + std::string(kv.key());
    const json::object& io = p.object(kv.value(), where);
    p.only(io, {"type", "description"}, where);
    flow_input in;
    in.name = std::string(kv.key());
    in.type = p.string(io, "type", where, false);
    if (!in.type.empty() && !types.count(in.type))
      p.fail(where + ".type", "unknown type '" + in.type + "' (string, number, integer, boolean, object, array, null)");
    in.description = p.string(io, "description", where, false);
    f.inputs.push_back(std::move(in));
  }

  // steps
  const json::value* steps = o.if_contains("steps");
  if (!steps) p.fail("", "'steps' is required");
  if (!steps->is_array()) p.fail("steps", "expected an array");
  for (std::size_t i = 0; i < steps->get_array().size(); ++i) {
    std::string where = "steps[" + std::to_string(i) + "]";
    const json::object& so = p.object(steps->get_array()[i], where);
    p.only(so, {"id", "name", "description", "action", "connection", "options", "inputs"}, where);
    flow_step s;
    s.id = p.string(so, "id", where, true);
    if (s.id.empty()) p.fail(where + ".id", "must not be empty");
    for (char c : s.id)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'))
        p.fail(where + ".id", "'" + s.id + "': only letters, digits, '_' and '-' (it is used in ${{ steps.ID }})");
    if (f.step_index(s.id) >= 0) p.fail(where + ".id", "duplicate step id '" + s.id + "'");
    s.action = p.string(so, "action", where, true);
    s.connection = p.string(so, "connection", where, true);
    s.options = p.optional_object(so, "options", where);
    s.inputs = p.optional_object(so, "inputs", where);
    f.steps.push_back(std::move(s));
  }

  f.outputs = p.optional_object(o, "outputs", "");
  return f;
}

flow load_flow(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw flow_error(file.string() + ": cannot read the flow file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_flow(ss.str(), file);
}

}  // namespace wfa::host
