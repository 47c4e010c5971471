// The actions' errors: input_error (bad options or inputs, refused before any request),
// the actions' own codes (action_errc, a std::error_code category beside the client's
// client_errc), and action_error, a failure that carries facts for the caller. What the
// ABI reports for each is decided in plugin/abi (outcome.cpp), nowhere else.
#pragma once

#include <auth0/client_error.hpp>

#include <boost/json/object.hpp>

#include <stdexcept>
#include <string>
#include <system_error>

namespace a0::actions {

/// Bad options or inputs of an action (the message names the field). Deliberately not a
/// std::invalid_argument: only what the actions refuse as input is reported as such.
class input_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The actions' own failures (the client's are client_errc). 0 is never used.
enum class action_errc {
  precondition_failed = 1,  ///< the users' state does not allow the link (require_verified_email)
  patch_unconfirmed,        ///< the PATCH answer does not show what was sent
  user_too_large,           ///< the merged primary could not be read back
  outputs_too_deep,         ///< done, but the outputs would nest deeper than the host parses
  output_file_failed,       ///< a local file the action writes (an export) could not be written
};

const std::error_category& action_category() noexcept;
std::error_code make_error_code(action_errc e) noexcept;

}  // namespace a0::actions

template <>
struct std::is_error_code_enum<a0::actions::action_errc> : std::true_type {};

namespace a0::actions {

/// A failure that carries machine-readable facts (wfa_result.details_json). Its api_error
/// holds a client_errc (a client failure, with what the action adds) or an action_errc.
class action_error : public std::runtime_error {
 public:
  action_error(a0::auth0::api_error e, boost::json::object details)
      : std::runtime_error(e.message), error_(std::move(e)), details_(std::move(details)) {}
  const a0::auth0::api_error& error() const noexcept { return error_; }
  const boost::json::object& details() const noexcept { return details_; }

 private:
  a0::auth0::api_error error_;
  boost::json::object details_;
};

}  // namespace a0::actions
