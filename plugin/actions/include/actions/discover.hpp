// Issue 13, "Discover": the actions that read a whole tenant (auth0.export-users: the
// users export job, its file streamed to disk) or find users by email
// (auth0.users-by-email). Registered in actions.cpp's prepare_action.
#pragma once

#include "actions/actions.hpp"
#include "actions/requests.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace a0::actions {

inline constexpr std::string_view k_export_users = "auth0.export-users";
inline constexpr std::string_view k_users_by_email = "auth0.users-by-email";

boost::asio::awaitable<boost::json::object> export_users(context& ctx, export_users_request r);
boost::asio::awaitable<boost::json::object> users_by_email(context& ctx, users_by_email_request r);

/// The wait before the next poll of an export job. `grown` is the interval so far (it
/// grows x1.5 per poll from poll_interval up to max_poll_interval); a job that says how
/// long it still needs (time_left_seconds) is polled then, but never sooner than
/// poll_interval nor later than `grown` would have.
std::chrono::milliseconds next_poll_wait(std::chrono::milliseconds grown, std::optional<std::int64_t> time_left_s,
                                         const export_users_request& r);

/// A users export takes as long as the tenant is large (hours for millions of users):
/// when the host gives no timeout_ms, this action's operation deadline is 24 h instead of
/// the plugin's default. nullopt for the other actions.
std::optional<std::chrono::milliseconds> default_timeout_of(std::string_view action_id);

}  // namespace a0::actions
