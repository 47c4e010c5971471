// merge: the metadata merge of the Link Account action (see docs/merge-semantics.md
// and the README). Pure functions over Boost.JSON values: no I/O, no global state,
// inputs never mutated, output deterministic.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace merge {

/// Thrown for bad options or bad input documents; what() is a message for users.
class invalid_argument : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// How an array that both users have is merged. Never index-wise.
enum class array_policy { primary, concat, union_ };

/// Validated merge options.
struct options {
  array_policy arrays = array_policy::primary;
  /// RFC 6901 pointers rooted at /user_metadata or /app_metadata, never into arrays.
  std::vector<std::string> exclude;
};

/// Parses the action's `arrays` and `merge_exclude` option values (either may be null
/// or absent = default). Throws invalid_argument naming the bad value.
options parse_options(const boost::json::value* arrays, const boost::json::value* merge_exclude);

/// Parses "primary" | "concat" | "union"; throws invalid_argument otherwise.
array_policy parse_array_policy(std::string_view name);

/// What the link action sends and reports: the PATCH body and merged_keys, without M.
struct delta {
  /// PATCH body: {"user_metadata": D_u, "app_metadata": D_a}, each only when non-empty;
  /// an empty object when nothing changes (then no PATCH is sent).
  boost::json::object patch;
  /// RFC 6901 pointers (from the user root, e.g. "/user_metadata/color") of every
  /// subtree added from the secondary, in document order.
  std::vector<std::string> merged_keys;
};

/// The merge of both users' metadata, and what to send.
struct result : delta {
  boost::json::object user_metadata;  ///< M for user_metadata
  boost::json::object app_metadata;   ///< M for app_metadata
};

/// Merges two user objects (as GET /api/v2/users/{id} returns them). A missing
/// metadata key counts as {}; metadata that is not an object throws invalid_argument.
result merge_users(const boost::json::object& primary, const boost::json::object& secondary, const options& opts);

/// merge_users without M: the same patch and merged_keys, for a caller that sends the
/// PATCH body and never needs M (the link action). The delta's values are moved out of
/// each M as it is built, so the merge holds one copy of the merged metadata at a time
/// instead of M and the PATCH body side by side (merge/README.md, "Memory").
delta merge_delta(const boost::json::object& primary, const boost::json::object& secondary, const options& opts);

/// merge(P, S) for one metadata object; `root` is "/user_metadata" or "/app_metadata"
/// (used for exclusions and merged_keys, which are appended to *merged_keys when given).
boost::json::object merge_metadata(const boost::json::object& primary, const boost::json::object& secondary,
                                   const options& opts, std::string_view root,
                                   std::vector<std::string>* merged_keys = nullptr);

/// D = { k : M[k] | k not in P, or M[k] != P[k] } (JSON-semantic comparison).
boost::json::object metadata_delta(const boost::json::object& primary, const boost::json::object& merged);
/// The same D, its values moved out of `merged` (what is left of it is dropped).
boost::json::object metadata_delta(const boost::json::object& primary, boost::json::object&& merged);

/// Deep copies without recursion (boost::json::value's copy constructor recurses once per
/// level, so a deep enough document would overflow the stack).
boost::json::value deep_copy(const boost::json::value& v);
boost::json::object deep_copy_object(const boost::json::object& o);

/// Whether Auth0 keeps a null nested inside a metadata value on PATCH is not documented.
/// drop_nested_nulls removes, in place, every object member whose value is null inside
/// the top-level values of `metadata` (objects within arrays too; array elements and
/// top-level nulls stay), so that nothing depends on such a null surviving a write.
void drop_nested_nulls(boost::json::object& metadata);
/// json_equal(got, sent), except that an object member of `sent` whose value is null may
/// be absent from `got` (the server dropped it): what a PATCH answer shows of a value sent.
bool equal_but_dropped_nulls(const boost::json::value& got, const boost::json::value& sent);

/// JSON-semantic equality: objects regardless of key order, arrays element-wise,
/// numbers by mathematical value (1 == 1.0, int64 vs uint64).
bool json_equal(const boost::json::value& a, const boost::json::value& b);

/// RFC 6901 helpers.
std::string escape_pointer_token(std::string_view key);
/// Splits a pointer into unescaped tokens; throws invalid_argument when malformed.
std::vector<std::string> parse_pointer(std::string_view pointer);

}  // namespace merge
