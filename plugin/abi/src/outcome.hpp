// The owned form of a wfa_result, and the one place where C++ failures become ABI codes.
#pragma once

#include <wfa/wfa.h>

#include <cstdint>
#include <exception>
#include <string>

namespace a0::abi {

struct outcome {
  std::int32_t code = WFA_OK;
  std::string outputs_json;
  std::string message;
  std::int32_t http_status = 0;
  bool retryable = false;
  std::string details_json;

  /// A view for the done callback; valid while *this lives (WFA-6).
  wfa_result view() const noexcept;

  static outcome ok(std::string outputs_json);
  static outcome error(std::int32_t code, std::string message, bool retryable = false);
  /// api_exception -> its code; action_error -> its code and details;
  /// std::invalid_argument -> WFA_INVALID_INPUT; operation_aborted -> WFA_CANCELLED;
  /// anything else -> WFA_INTERNAL. Never throws.
  static outcome from_exception(std::exception_ptr e) noexcept;
};

}  // namespace a0::abi
