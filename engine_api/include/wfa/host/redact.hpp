// wfa/host/redact.hpp -- removes secret values from text and JSON before it is shown.
#pragma once

#include <boost/json/value.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace wfa::host {

/// What every secret is shown as: the redactor's replacement, and the value that
/// takes the place of a secret output (see secret_outputs.hpp).
inline constexpr std::string_view secret_mask = "***";

/// Appends the strings and numbers (as JSON text) inside `v`, one by one: how a secret
/// object or array is registered. It is never shown serialised the same way twice,
/// but its strings are. Booleans and null are not text worth hiding.
void secret_leaves(const boost::json::value& v, std::vector<std::string>& out);

/// A set of secret strings, each replaced with "***", also in the forms a server that
/// reflects a request shows it in: JSON-escaped (also with "\/"), percent-encoded (%20 or
/// '+' for a space, either case of hex). Immutable after the last add(), so concurrent
/// redact() calls are safe.
///
/// Short secrets (fewer than `short_secret` bytes, e.g. an env value "ab") are replaced
/// only where they stand as a whole word: not preceded nor followed by an ASCII letter
/// or digit. So "ab.x.com" and "id ab" lose it but "tab" and "cancelled" stay readable.
/// Replacing every "c" would make the output useless; leaking the value where it
/// stands alone would be worse, so they are never ignored.
class redactor {
 public:
  static constexpr std::size_t short_secret = 4;

  /// Registers a secret; empty strings are ignored.
  void add(std::string_view secret);
  /// Registers several at once (one sort instead of one per secret).
  void add(std::span<const std::string> secrets);
  /// Registers the HTTP Basic credentials of `user` and `password`: base64 of
  /// "user:password", as is and with both form-encoded first (RFC 6749 2.3.1).
  void add_basic_credentials(std::string_view user, std::string_view password);
  bool empty() const noexcept { return secrets_.empty(); }

  /// The text with every secret replaced by "***".
  std::string redact(std::string_view text) const;
  /// Redacts every string and object key inside the value, in place.
  void redact(boost::json::value& v) const;

 private:
  struct entry {
    std::string text;
    bool whole_word;  ///< short: only where it is a word of its own
  };
  void insert(std::string_view secret);  ///< unsorted: add() sorts once after
  void longest_first();
  std::vector<entry> secrets_;  ///< longest first, so that overlaps redact fully
};

}  // namespace wfa::host
