// wfa/host/expression.hpp -- `${{ ... }}` expressions in flow values.
//
// Grammar inside `${{ }}` (surrounding spaces ignored):
//   inputs.NAME[PATH]          a row input
//   steps.ID.outputs[PATH]     an earlier step's outputs
//   env.NAME                   an environment variable (a string)
//   PATH := ( .KEY | [INDEX] )*     KEY: letters, digits, '_' and '-'
// A string that is exactly one expression takes the referenced value with its JSON type;
// otherwise each expression is interpolated (strings as they are, anything else as JSON).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace wfa::host {

class expression_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One `${{ ... }}`.
struct reference {
  enum class root { inputs, steps, env };
  using segment = std::variant<std::string, std::size_t>;  ///< .key or [index]
  root kind = root::inputs;
  std::string name;           ///< input name, step id or variable name
  std::vector<segment> path;  ///< inputs: after NAME; steps: after `outputs`
  std::string text;           ///< the expression as written, trimmed (for messages)
};

/// A string split into literal text and references.
struct template_string {
  std::vector<std::variant<std::string, reference>> parts;
  /// True when the whole string is one expression (its value keeps its JSON type).
  bool single() const noexcept;
  bool has_references() const noexcept;
};

/// Parses a string; throws expression_error (naming the position) on bad syntax.
template_string parse_template(std::string_view text);

/// True when the string (quick check, no parse) contains `${{`.
bool has_expression(std::string_view text) noexcept;
/// True when any string in the value (recursively) contains `${{`.
bool has_expression(const boost::json::value& v) noexcept;

/// Every reference in the value, recursively (parsing each string; may throw).
std::vector<reference> collect_references(const boost::json::value& v);

/// Environment lookup: the variable's value, or std::nullopt when unset.
using env_lookup = std::function<std::optional<std::string>(const std::string&)>;

/// What expressions can see while a row runs.
struct eval_context {
  const boost::json::object* inputs = nullptr;  ///< the row's inputs
  const boost::json::object* steps = nullptr;   ///< step id -> that step's outputs
  /// Environment lookup; defaults to std::getenv when empty.
  env_lookup env;
};

/// Follows a reference. std::nullopt when it does not resolve (missing input, step,
/// key, index out of range, unset variable).
std::optional<boost::json::value> resolve(const reference& r, const eval_context& ctx);

/// Evaluates every string of the value. A single-expression string that does not
/// resolve makes the result std::nullopt ("missing"); inside an object that member is
/// left out, inside an array it becomes null. An interpolated string with a part that
/// does not resolve throws expression_error naming the expression.
std::optional<boost::json::value> evaluate(const boost::json::value& v, const eval_context& ctx);

}  // namespace wfa::host
