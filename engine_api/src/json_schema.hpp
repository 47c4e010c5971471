// Internal: one compiled JSON Schema (valijson), and a field-aware checker for the
// object schemas of the manifests (connection, options, inputs) that can also look at
// values still holding ${{ }} expressions.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace valijson {
class Schema;
}

namespace wfa::host::detail {

/// One validation failure: `path` is relative to the validated value, written as
/// ".key" / "[index]" segments (empty at the root).
struct schema_issue {
  std::string path;
  std::string message;
};

/// A compiled schema. validate() is const and safe to call from several threads: one
/// valijson validator per schema keeps its compiled `pattern` regexes across calls
/// (building std::regex dominated the run-time check) and a mutex guards it.
class json_schema {
 public:
  /// validate() reports at most this many issues, then one line counting the rest.
  static constexpr std::size_t max_issues = 20;

  /// Throws std::runtime_error when valijson cannot use the schema.
  explicit json_schema(const boost::json::value& schema);
  ~json_schema();
  json_schema(json_schema&&) noexcept;
  json_schema& operator=(json_schema&&) noexcept;

  bool valid(const boost::json::value& doc) const;
  std::vector<schema_issue> validate(const boost::json::value& doc) const;

 private:
  struct cached_validator;
  std::unique_ptr<valijson::Schema> schema_;
  std::unique_ptr<cached_validator> validator_;
};

/// The JSON types a value with expressions will have, when known (e.g. {"string"}).
using type_oracle = std::function<std::optional<std::vector<std::string>>(const boost::json::value&)>;

/// Checks objects against an object schema, one property at a time, so that every
/// error names its field.
class object_checker {
 public:
  explicit object_checker(const boost::json::value& schema);

  /// Values that are data (evaluated step values, a filled connection config): every
  /// field against the full schema, and the constraints spanning several fields
  /// (oneOf, anyOf, if/then). A string holding "${{" is just a string here.
  /// "PREFIX.field: message" lines; empty when the value is acceptable.
  std::vector<std::string> check(const boost::json::object& value, const std::string& prefix) const;

  /// Values as written in a flow, before evaluation: fields whose values hold
  /// expressions are checked for type only (through the oracle, when it knows the
  /// type); literal fields get the full schema; constraints spanning several fields
  /// are checked only when no value holds an expression.
  std::vector<std::string> check_unevaluated(const boost::json::object& value, const std::string& prefix,
                                             const type_oracle& oracle) const;

  const boost::json::value& schema() const noexcept { return schema_; }

 private:
  /// `oracle` NULL: values are data.
  std::vector<std::string> check_impl(const boost::json::object& value, const std::string& prefix,
                                      const type_oracle* oracle) const;
  boost::json::value schema_;
  std::shared_ptr<const json_schema> whole_;
  std::map<std::string, std::shared_ptr<const json_schema>, std::less<>> fields_;
};

/// The JSON Schema type names of a value ("integer" for integral numbers).
std::vector<std::string> json_types(const boost::json::value& v);
/// The "type" of a schema as a list; empty when it has none.
std::vector<std::string> schema_types(const boost::json::value& schema);
/// True when a value of one of `have` can satisfy one of `want`.
bool types_compatible(const std::vector<std::string>& have, const std::vector<std::string>& want);

}  // namespace wfa::host::detail
