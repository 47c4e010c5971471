// Parsing and validating the action's `arrays` and `merge_exclude` options.
#include "merge/merge.hpp"

#include <boost/json/serialize.hpp>

namespace merge {
namespace json = boost::json;

array_policy parse_array_policy(std::string_view name) {
  if (name == "primary") return array_policy::primary;
  if (name == "concat") return array_policy::concat;
  if (name == "union") return array_policy::union_;
  throw invalid_argument("arrays: \"" + std::string(name) + "\" is not one of \"primary\", \"concat\", \"union\"");
}

namespace {

std::string validated_exclude(const json::value& item, std::size_t index) {
  const std::string where = "merge_exclude[" + std::to_string(index) + "]";
  if (!item.is_string()) {
    throw invalid_argument(where + ": expected a JSON Pointer string, got " + json::serialize(item));
  }
  const std::string pointer(item.get_string());
  const auto tokens = parse_pointer(pointer);  // throws on bad escapes
  if (tokens.empty() || (tokens[0] != "user_metadata" && tokens[0] != "app_metadata")) {
    throw invalid_argument(where + ": \"" + pointer + "\" must start with /user_metadata or /app_metadata");
  }
  return pointer;
}

}  // namespace

options parse_options(const json::value* arrays, const json::value* merge_exclude) {
  options opts;
  if (arrays != nullptr && !arrays->is_null()) {
    if (!arrays->is_string()) {
      throw invalid_argument("arrays: expected one of \"primary\", \"concat\", \"union\", got " +
                             json::serialize(*arrays));
    }
    opts.arrays = parse_array_policy(arrays->get_string());
  }
  if (merge_exclude != nullptr && !merge_exclude->is_null()) {
    if (!merge_exclude->is_array()) {
      throw invalid_argument("merge_exclude: expected an array of JSON Pointers, got " +
                             json::serialize(*merge_exclude));
    }
    const auto& list = merge_exclude->get_array();
    for (std::size_t i = 0; i < list.size(); ++i) {
      opts.exclude.push_back(validated_exclude(list[i], i));
    }
  }
  return opts;
}

}  // namespace merge
