// The three test actions and the one dynamic field, as plain functions over parsed JSON:
// no threads, no timers, no ABI structs. Every check mirrors manifests/*.json, so that a
// call the host let through by mistake still answers invalid_input (WFA-10).
#pragma once

#include "outcome.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wfa_test {

// The connection config (manifests: "connection").
struct connection_config {
  std::string prefix;
  std::string token;  // secret (WFA-8): only ever used to redact
  bool fail_create = false;
};

// Parses and checks a connection config. Empty text is {}. Throws input_error naming
// the field ("config.prefix: expected a string").
connection_config parse_config(std::string_view json);

// Parses a JSON object; empty text is {}. Throws input_error("<what>: ...").
boost::json::object parse_object(std::string_view json, std::string_view what);

// test.echo: `n` is the instance's execute() count including this call.
outcome echo(const boost::json::object& options, const boost::json::object& inputs, const connection_config& config,
             std::uint64_t n);

// test.delay, split in two: the checked request, and the outputs once the wait is over.
struct delay_request {
  std::uint32_t ms = 0;
  std::optional<boost::json::value> value;
};
delay_request parse_delay(const boost::json::object& options, const boost::json::object& inputs);
outcome delay_done(const delay_request& request);

// test.fail: the error it is asked for.
outcome fail(const boost::json::object& options, const boost::json::object& inputs);

// list_options for (action, field): test.echo's /inputs/tag, in two pages.
outcome list_options(std::string_view action, std::string_view field, std::string_view context_json,
                     std::string_view page_token, const connection_config& config);

}  // namespace wfa_test
