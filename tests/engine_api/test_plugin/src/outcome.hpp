// What an operation ends with, before it becomes a wfa_result for the done callback.
#pragma once

#include <wfa/wfa.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace wfa_test {

struct outcome {
  int32_t code = WFA_OK;
  std::string outputs;  // JSON object, when code == WFA_OK
  std::string message;  // when code != WFA_OK
  int32_t http_status = 0;
  bool retryable = false;
  std::string details;  // JSON object or empty

  static outcome ok(std::string outputs_json) {
    outcome o;
    o.outputs = std::move(outputs_json);
    return o;
  }
  static outcome error(int32_t code, std::string message) {
    outcome o;
    o.code = code;
    o.message = std::move(message);
    // The codes a caller may retry unchanged (wfa.h, the ABI's retryable flag).
    o.retryable = code == WFA_RATE_LIMITED || code == WFA_UNAVAILABLE || code == WFA_TIMEOUT;
    return o;
  }
};

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
