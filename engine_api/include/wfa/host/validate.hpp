// wfa/host/validate.hpp -- everything that can be checked before a flow runs.
//
// validate() loads the flow's plugins, fills connection configs from the environment,
// and checks every reference and every literal value against the action manifests'
// JSON Schemas (valijson). Each error names where it is, for example
//   step link: inputs.primary_user_id: required
//   step after: inputs.user_id: refers to step 'later', which runs after this one
//   connection tenant: config.domain: required
// Secret config values never appear in errors (see checked_flow::secrets).
#pragma once

#include <wfa/host.hpp>
#include <wfa/host/expression.hpp>
#include <wfa/host/flow.hpp>
#include <wfa/host/redact.hpp>

#include <boost/json/object.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace wfa::host {

namespace detail {
struct compiled_flow;
}

/// Parsed action manifests (wfa_action::manifest_json) by plugin id.
using manifest_set = std::map<std::string, std::vector<boost::json::object>, std::less<>>;

/// A flow that passed validate(): what a run needs.
struct checked_flow {
  flow definition;
  /// Plugin id -> loaded library (empty when validated from a manifest_set).
  std::map<std::string, library, std::less<>> libraries;
  /// Connection name -> config after ${{ env }} and x-env filling. Holds secrets.
  std::map<std::string, boost::json::object, std::less<>> configs;
  /// Secrets: every string read from the environment for a connection (each
  /// ${{ env.NAME }} and x-env value on its own), every config value built from them,
  /// and each string and number inside the values of fields the manifests mark x-secret.
  redactor secrets;

  /// The manifest of step i's action.
  const boost::json::object& manifest(std::size_t step) const;
  /// Run-time check of evaluated options and inputs of step i (WFA-10); empty when ok.
  /// The values are data: a string holding "${{" gets the full schema like any other.
  std::vector<std::string> check_step(std::size_t step, const boost::json::object& options,
                                      const boost::json::object& inputs) const;
  /// A row's inputs against the flow's declared inputs (known names, declared types).
  std::vector<std::string> check_row(const boost::json::object& row) const;

  std::shared_ptr<const detail::compiled_flow> compiled;
};

struct validation_result {
  std::optional<checked_flow> checked;  ///< set when `errors` is empty
  std::vector<std::string> errors;      ///< already redacted
};

/// Validates against given manifests (no plugin is loaded).
validation_result validate(const flow& f, const manifest_set& manifests, const env_lookup& env = {});
/// Loads every plugin of the flow (library::open) and validates against its manifests.
validation_result validate(const flow& f, const env_lookup& env = {});

/// Parses an --input VALUE: JSON when it parses, else the text as a string. When the
/// flow declares the input as a string, the text is always kept as it is (an id such
/// as 12345 stays "12345").
boost::json::value parse_input_value(const flow& f, const std::string& name, const std::string& text);

}  // namespace wfa::host
