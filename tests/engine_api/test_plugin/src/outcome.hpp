// What an operation ends with (the SDK's result, wfa/plugin.hpp), and the helpers the
// actions share.
#pragma once

#include <wfa/plugin.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace wfa_test {

using outcome = wfa::plugin::result;

// An error with the ABI's retryable flag set for the codes a caller may retry unchanged.
inline outcome error(int32_t code, std::string message) {
  return outcome::failure(code, std::move(message),
                          code == WFA_RATE_LIMITED || code == WFA_UNAVAILABLE || code == WFA_TIMEOUT);
}

// Options, inputs or config that do not fit the manifest; what() names the field.
struct input_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The stable name of a status code ("not_found"), or "unknown".
const char* code_name(int32_t code);
// The code of a stable name; nullopt for anything else (also "ok" and "incompatible",
// which no operation completes with).
std::optional<int32_t> code_from_name(std::string_view name);

// text with every occurrence of secret replaced by "***" (nothing when secret is empty).
std::string redact(std::string text, std::string_view secret);

}  // namespace wfa_test
