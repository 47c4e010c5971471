// The owned form of a wfa_result, and the one place where C++ failures become ABI codes.
#pragma once

#include <auth0/management_client.hpp>

#include <wfa/plugin.hpp>
#include <wfa/wfa.h>

#include <cstdint>
#include <exception>
#include <string>
#include <system_error>

namespace a0::abi {

/// The ABI code of an error code of the client (client_errc) or of the actions
/// (actions::action_errc); WFA_INTERNAL for any other. The mapping table.
std::int32_t wfa_code(const std::error_code& ec) noexcept;

/// The host's log level of the client's and the actions' log_level.
std::int32_t wfa_log_level(a0::auth0::log_level level) noexcept;

/// An operation's result: the SDK's owned wfa_result (its view() is what done receives).
using outcome = wfa::plugin::result;

/// api_exception -> wfa_code of its code; action_error -> that and its details;
/// actions::input_error -> WFA_INVALID_INPUT; Asio's cancellation -> WFA_CANCELLED
/// (a0::auth0::cancellation); anything else, std::invalid_argument included (a jwt::error, a
/// std::stoul deep inside), -> WFA_INTERNAL. Never throws.
outcome from_exception(std::exception_ptr e) noexcept;

}  // namespace a0::abi
