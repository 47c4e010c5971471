// Internal helpers shared by the merge sources. Every walk over a document is
// iterative (an explicit stack), so nesting depth is bounded by memory, not by the
// thread's stack.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace merge::detail {

/// A hash of the whole value consistent with json_equal (equal values hash equal: key
/// order ignored, numbers by value), linear in the value's size; json_equal decides.
std::size_t deep_hash(const boost::json::value& v);

/// Appends the RFC 6901 escaped key (~ as ~0, / as ~1).
void append_escaped(std::string& out, std::string_view key);

/// Appends "/" + the escaped key to a pointer being built.
void append_token(std::string& pointer, std::string_view key);

/// True when `pointer` equals one of `excluded` or lies below one.
bool is_excluded(std::string_view pointer, const std::vector<std::string>& excluded) noexcept;

}  // namespace merge::detail
