// flowrun: the reference runner for wfa plugins.
//
//   flowrun run FLOW.json [--input NAME=VALUE]... [--inputs-file ROWS.jsonl] [--concurrency N]
//               [--no-step-outputs] [--log-level trace|debug|info|warn|error]
//   flowrun validate FLOW.json
//   flowrun describe PLUGIN.so [--json]
//   flowrun options FLOW.json STEP_ID FIELD
//
// Exit codes: 0 ok; 1 some rows failed or were cancelled, also by Ctrl-C (options: the
// plugin failed); 2 usage, flow, plugin or validation errors (nothing was executed).
#include "commands.hpp"

#include <wfa/host.hpp>
#include <wfa/host/runner.hpp>
#include <wfa/host/validate.hpp>

#include <boost/json.hpp>

#include <unistd.h>

#include <charconv>
#include <fstream>
#include <future>
#include <iostream>
#include <string>
#include <vector>

namespace json = boost::json;
using namespace wfa::host;

namespace {

constexpr int exit_usage = 2;

const char* usage_text =
    "usage:\n"
    "  flowrun run FLOW.json [--input NAME=VALUE]... [--inputs-file ROWS.jsonl] [--concurrency N]\n"
    "              [--no-step-outputs] [--log-level trace|debug|info|warn|error]\n"
    "  flowrun validate FLOW.json\n"
    "  flowrun describe PLUGIN.so [--json]\n"
    "  flowrun options FLOW.json STEP_ID FIELD     (FIELD e.g. /inputs/secondary_connection_id)\n"
    "exit: 0 ok, 1 rows failed or were cancelled (also by Ctrl-C), 2 usage or validation errors\n";

int usage(const std::string& why) {
  std::cerr << "flowrun: " << why << "\n" << usage_text;
  return exit_usage;
}

// Loads and validates; prints the errors and returns nullopt when there are any.
std::optional<checked_flow> load_checked(const std::string& file) {
  try {
    flow f = load_flow(file);
    validation_result r = validate(f);
    for (const auto& e : r.errors) std::cerr << "flowrun: " << file << ": " << e << "\n";
    return std::move(r.checked);
  } catch (const flow_error& e) {
    std::cerr << "flowrun: " << e.what() << "\n";
    return std::nullopt;
  }
}

int cmd_validate(const std::vector<std::string>& args) {
  if (args.size() != 1) return usage("validate takes one FLOW.json");
  auto f = load_checked(args[0]);
  if (!f) return exit_usage;
  std::cout << args[0] << ": ok (" << f->definition.steps.size() << " steps, " << f->definition.connections.size()
            << " connections)\n";
  return 0;
}

std::optional<int32_t> parse_level(const std::string& s) {
  if (s == "trace") return WFA_LOG_TRACE;
  if (s == "debug") return WFA_LOG_DEBUG;
  if (s == "info") return WFA_LOG_INFO;
  if (s == "warn") return WFA_LOG_WARN;
  if (s == "error") return WFA_LOG_ERROR;
  return std::nullopt;
}

int cmd_run(const std::vector<std::string>& args) {
  std::string flow_file, rows_file;
  std::vector<std::pair<std::string, std::string>> inputs;
  run_options opts;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= args.size()) return std::nullopt;
      return args[++i];
    };
    if (a == "--input") {
      auto v = value();
      if (!v) return usage("--input needs NAME=VALUE");
      auto eq = v->find('=');
      if (eq == std::string::npos || eq == 0) return usage("--input needs NAME=VALUE, got '" + *v + "'");
      inputs.emplace_back(v->substr(0, eq), v->substr(eq + 1));
    } else if (a == "--inputs-file") {
      auto v = value();
      if (!v) return usage("--inputs-file needs a file");
      rows_file = *v;
    } else if (a == "--concurrency") {
      auto v = value();
      unsigned n = 0;
      if (!v || std::from_chars(v->data(), v->data() + v->size(), n).ec != std::errc() || n < 1 || n > 100000)
        return usage("--concurrency needs an integer from 1 to 100000");
      opts.concurrency = n;
    } else if (a == "--no-step-outputs") {
      opts.step_outputs = false;
    } else if (a == "--log-level") {
      auto v = value();
      auto lvl = v ? parse_level(*v) : std::nullopt;
      if (!lvl) return usage("--log-level needs trace, debug, info, warn or error");
      opts.log_level = *lvl;
    } else if (!a.empty() && a[0] == '-') {
      return usage("unknown option '" + a + "'");
    } else if (flow_file.empty()) {
      flow_file = a;
    } else {
      return usage("unexpected argument '" + a + "'");
    }
  }
  if (flow_file.empty()) return usage("run needs FLOW.json");

  auto f = load_checked(flow_file);
  if (!f) return exit_usage;

  // --input values apply to every row; a row of --inputs-file overrides them.
  json::object base;
  for (const auto& [name, text] : inputs) base[name] = parse_input_value(f->definition, name, text);
  bool bad = false;
  if (rows_file.empty()) {
    opts.rows.push_back(base);
  } else {
    std::ifstream in(rows_file);
    if (!in) return usage("cannot read " + rows_file);
    std::string line;
    for (std::size_t n = 1; std::getline(in, line); ++n) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      boost::system::error_code ec;
      json::value v = json::parse(line, ec);
      if (ec || !v.is_object()) {
        std::cerr << "flowrun: " << rows_file << ":" << n << ": expected one JSON object per line\n";
        bad = true;
        continue;
      }
      json::object row = base;
      for (auto& kv : v.get_object()) row[kv.key()] = kv.value();
      opts.rows.push_back(std::move(row));
    }
  }
  for (std::size_t i = 0; i < opts.rows.size(); ++i)
    for (const auto& e : f->check_row(opts.rows[i])) {
      std::cerr << "flowrun: row " << i << ": " << f->secrets.redact(e) << "\n";
      bad = true;
    }
  if (bad) return exit_usage;

  opts.progress = isatty(STDERR_FILENO) == 1;
  try {
    return run_flow(*f, opts, std::cout, std::cerr).exit_code();
  } catch (const create_error& e) {
    std::cerr << "flowrun: " << e.what() << "\n";
    return exit_usage;
  }
}

// Waits for one completion (options runs no io_context: the CLI thread just blocks).
op_result wait_for(const std::function<void(completion)>& start) {
  auto p = std::make_shared<std::promise<op_result>>();
  auto fut = p->get_future();
  start([p](op_result r) { p->set_value(std::move(r)); });
  return fut.get();
}

int cmd_options(const std::vector<std::string>& args) {
  if (args.size() != 3) return usage("options takes FLOW.json STEP_ID FIELD");
  const std::string& step_id = args[1];
  const std::string& field = args[2];
  auto f = load_checked(args[0]);
  if (!f) return exit_usage;
  int idx = f->definition.step_index(step_id);
  if (idx < 0) return usage("no step '" + step_id + "' in " + args[0]);
  const flow_step& s = f->definition.steps[static_cast<std::size_t>(idx)];

  // FIELD is a JSON Pointer /SECTION/NAME into the action's manifest.
  auto slash = field.find('/', 1);
  if (field.size() < 4 || field[0] != '/' || slash == std::string::npos)
    return usage("FIELD must look like /inputs/NAME or /options/NAME");
  std::string section = field.substr(1, slash - 1), name = field.substr(slash + 1);
  const json::object& m = f->manifest(static_cast<std::size_t>(idx));
  const json::value* prop = nullptr;
  if (const json::value* sec = m.if_contains(section); sec && sec->is_object())
    if (const json::value* props = sec->get_object().if_contains("properties"); props && props->is_object())
      prop = props->get_object().if_contains(name);
  if (!prop) return usage("step " + step_id + ": " + field + ": no such field in " + s.action);
  if (!prop->is_object() || !prop->get_object().contains("x-dynamic-options"))
    return usage("step " + step_id + ": " + field + ": not a field with dynamic options");

  // Context: the step's literal options and inputs (expressions need a row: left out).
  json::object ctx_options, ctx_inputs;
  for (const auto& kv : s.options)
    if (!has_expression(kv.value())) ctx_options[kv.key()] = kv.value();
  for (const auto& kv : s.inputs)
    if (!has_expression(kv.value())) ctx_inputs[kv.key()] = kv.value();
  std::string context = json::serialize(json::object{{"options", ctx_options}, {"inputs", ctx_inputs}});

  const flow_connection* c = f->definition.find_connection(s.connection);
  auto sink = [&f](int32_t level, std::string_view msg) {
    if (level >= WFA_LOG_WARN) std::cerr << f->secrets.redact("flowrun: plugin: " + std::string(msg)) + "\n";
  };
  json::array items;
  try {
    instance inst(f->libraries.at(c->plugin), json::serialize(f->configs.at(s.connection)), sink, WFA_LOG_WARN);
    std::string page;
    for (int pages = 0; pages < 1000; ++pages) {
      op_result r = wait_for([&](completion done) { inst.list_options(s.action, field, context, page, std::move(done)); });
      if (r.code != WFA_OK) {
        std::cerr << "flowrun: options: " << code_name(r.code) << ": " << f->secrets.redact(r.message) << "\n";
        return 1;
      }
      boost::system::error_code ec;
      json::value v = json::parse(r.outputs_json, ec);
      const json::value* list = (!ec && v.is_object()) ? v.get_object().if_contains("items") : nullptr;
      if (!list || !list->is_array()) {
        std::cerr << "flowrun: options: the plugin's answer has no items array\n";
        return 1;
      }
      for (const auto& it : list->get_array()) items.push_back(it);
      const json::value* next = v.get_object().if_contains("next_page_token");
      if (!next || !next->is_string() || next->get_string().empty()) break;
      page = std::string(next->get_string());
    }
  } catch (const create_error& e) {
    std::cerr << "flowrun: " << f->secrets.redact("connection " + s.connection + ": " + e.what()) << "\n";
    return exit_usage;
  }
  json::value out(std::move(items));
  f->secrets.redact(out);
  std::cout << json::serialize(out) << "\n";
  return 0;
}

int cmd_describe(const std::vector<std::string>& args) {
  bool as_json = false;
  std::string plugin;
  for (const auto& a : args) {
    if (a == "--json") as_json = true;
    else if (!plugin.empty() || (!a.empty() && a[0] == '-')) return usage("describe takes PLUGIN.so [--json]");
    else plugin = a;
  }
  if (plugin.empty()) return usage("describe takes PLUGIN.so [--json]");
  try {
    return flowrun::describe(plugin, as_json, std::cout, std::cerr);
  } catch (const load_error& e) {
    std::cerr << "flowrun: " << e.what() << "\n";
    return exit_usage;
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return usage("missing command");
  std::string cmd = args.front();
  args.erase(args.begin());
  try {
    if (cmd == "run") return cmd_run(args);
    if (cmd == "validate") return cmd_validate(args);
    if (cmd == "describe") return cmd_describe(args);
    if (cmd == "options") return cmd_options(args);
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
      std::cout << usage_text;
      return 0;
    }
    return usage("unknown command '" + cmd + "'");
  } catch (const std::exception& e) {
    std::cerr << "flowrun: " << e.what() << "\n";
    return exit_usage;
  }
}
