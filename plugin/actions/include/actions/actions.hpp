// The four actions of libauth0_actions.so, as Asio coroutines over the Management API
// client. prepare_*() validates synchronously (no request for bad input, WFA-10) and
// binds a runner; running it performs the requests and yields the outputs object.
//
// Errors (actions/errors.hpp): input_error (bad input), a0::auth0::api_exception (an API call
// failed), action_error (a failure with facts for the caller, e.g. metadata patched, not
// linked).
#pragma once

#include "actions/errors.hpp"
#include "auth0/id_token_verifier.hpp"
#include "actions/key_lock.hpp"

#include <auth0/management_client.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace a0::actions {

/// What every action runs with: one per plugin instance, outliving every run.
struct context {
  a0::auth0::management_client& client;
  key_lock& primary_locks;              ///< serialises links into the same primary
  auth0::id_token_verifier& id_tokens;  ///< secondary_token against the tenant's JWKS (cached)
  std::function<void(a0::auth0::log_level level, std::string_view message)> log;  ///< never secrets
};

using runner = std::function<boost::asio::awaitable<boost::json::object>(context&)>;

/// The action ids this library implements.
bool is_known_action(std::string_view action_id) noexcept;

/// Validates options and inputs of `action_id` and binds them. Throws input_error
/// naming the field (also for an unknown action id).
runner prepare_action(std::string_view action_id, const boost::json::object& options,
                      const boost::json::object& inputs);

/// list_options(): only "/inputs/secondary_connection_id" of auth0.link-account, which
/// lists the tenant's database connections one checkpoint page at a time.
runner prepare_list_options(std::string_view action_id, std::string_view field, std::string_view page_token);

}  // namespace a0::actions
