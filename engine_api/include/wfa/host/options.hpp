// wfa/host/options.hpp -- the choices of a field with dynamic options (list_options).
//
// A manifest marks a field whose values a plugin can list with "x-dynamic-options"
// (e.g. a connection's database connections). A host names the field with a JSON
// Pointer /SECTION/NAME into the action's manifest (/inputs/NAME, /options/NAME), gives
// the step's literal options and inputs as context, and follows next_page_token.
#pragma once

#include <wfa/host.hpp>
#include <wfa/host/flow.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace wfa::host {

/// A field of an action's manifest: the property NAME of the SECTION schema.
struct field_ref {
  std::string section;  ///< "inputs", "options", ...
  std::string name;
};

/// Parses FIELD, /SECTION/NAME; nullopt when it does not look so.
std::optional<field_ref> parse_field(std::string_view field);

/// The property schema of `field` in `manifest` (SECTION's "properties"), or nullptr.
const boost::json::value* find_field(const boost::json::object& manifest, const field_ref& field);

/// True when a property schema carries "x-dynamic-options" (its values can be listed).
bool has_dynamic_options(const boost::json::value& property);

/// The context list_options gets for a step: {"options": {...}, "inputs": {...}} with the
/// step's literal values (those holding ${{ }} need a row and are left out), as JSON text.
std::string literal_context(const flow_step& step);

/// What list_all_options() got.
struct option_list {
  enum class outcome {
    complete,      ///< every page was read
    cut,           ///< the pages did not end (`reason` says why); `items` holds those read
    plugin_error,  ///< a page failed: `error` is the plugin's answer
    bad_answer,    ///< a page's outputs had no "items" array
  };
  outcome result = outcome::complete;
  boost::json::array items;
  std::string reason;
  op_result error;
};

/// Lists every choice of `field` (list_options, page after page, waiting for each). A
/// plugin whose pages never end does not make it loop or cut the list silently: a
/// next_page_token already seen, or more than `max_pages` pages, ends it as `cut`.
option_list list_all_options(instance& inst, std::string_view action_id, std::string_view field,
                             std::string_view context_json, int max_pages = 1000);

}  // namespace wfa::host
