// wfa/host/flow.hpp -- the flow file model (see manifests/flows/README.md).
//
//   { "name": "...", "description": "...",
//     "plugins":     [ { "id": "crm", "path": "libcrm_actions.so" } ],
//     "connections": { "account": { "plugin": "crm", "config": { ... } } },
//     "inputs":      { "contact_id": { "type": "string", "description": "..." } },
//     "steps":       [ { "id": "get", "action": "crm.get-contact", "connection": "account",
//                        "options": { ... }, "inputs": { "contact_id": "${{ inputs.contact_id }}" } } ],
//     "outputs":     { "contact": "${{ steps.get.outputs.contact }}" } }
//
// Parsing checks the shape only (types, required keys, unknown keys, duplicate ids);
// meaning (references, manifests, schemas) is checked by validate().
#pragma once

#include <boost/json/object.hpp>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace wfa::host {

/// A flow file that cannot be read or has the wrong shape. what() names the file and
/// the JSON location, e.g. "f.flow.json: steps[1].action: expected a string".
class flow_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct flow_plugin {
  std::string id;
  std::string path;  ///< as written
  /// What dlopen gets. A `path` with a '/' is relative to the flow file's directory
  /// (absolute stays absolute) and becomes an absolute path. A bare file name becomes
  /// the absolute path of that file beside the flow file or in the installed plugin
  /// folder when one is there (checked when the flow is parsed; plugin_search.hpp),
  /// else stays bare for the dynamic loader's search.
  std::string location;
};

struct flow_connection {
  std::string name;
  std::string plugin;
  boost::json::object config;  ///< may hold ${{ env.NAME }}
};

struct flow_input {
  std::string name;
  std::string type;  ///< a JSON Schema type name, or empty when not declared
  std::string description;
};

struct flow_step {
  std::string id;
  std::string action;
  std::string connection;
  boost::json::object options;
  boost::json::object inputs;
};

struct flow {
  std::string name;
  std::string description;
  std::filesystem::path file;  ///< where it was read from (empty for parse_flow text)
  std::vector<flow_plugin> plugins;
  std::vector<flow_connection> connections;
  std::vector<flow_input> inputs;
  std::vector<flow_step> steps;
  boost::json::object outputs;

  const flow_plugin* find_plugin(std::string_view id) const noexcept;
  const flow_connection* find_connection(std::string_view name) const noexcept;
  const flow_input* find_input(std::string_view name) const noexcept;
  /// Index of the step with this id, or -1.
  int step_index(std::string_view id) const noexcept;
};

/// Parses flow JSON. `file` names it in errors and anchors relative plugin paths.
flow parse_flow(std::string_view text, const std::filesystem::path& file = {});
/// Reads and parses a flow file.
flow load_flow(const std::filesystem::path& file);

}  // namespace wfa::host
