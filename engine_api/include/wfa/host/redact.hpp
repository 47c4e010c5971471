// wfa/host/redact.hpp -- removes secret values from text and JSON before it is shown.
#pragma once

#include <boost/json/value.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace wfa::host {

/// A set of secret strings. Every occurrence of one of them (and of its JSON-escaped
/// form, for secrets that need escaping) is replaced with "***". Immutable after the
/// last add(), so concurrent redact() calls are safe.
class redactor {
 public:
  /// Registers a secret; empty strings are ignored.
  void add(std::string_view secret);
  bool empty() const noexcept { return secrets_.empty(); }

  /// The text with every secret replaced by "***".
  std::string redact(std::string_view text) const;
  /// Redacts every string and object key inside the value, in place.
  void redact(boost::json::value& v) const;

 private:
  std::vector<std::string> secrets_;  ///< longest first, so that overlaps redact fully
};

}  // namespace wfa::host
