// plugin/abi's mapping table, the one place where the client's and the actions' errors
// become ABI codes: every client_errc and action_errc maps to the WFA code its failure
// had before the codes were the client's own, and from_exception sorts what
// the actions throw (input_error is bad input; a stray std::invalid_argument is not).
#include "outcome.hpp"
#include "actions/errors.hpp"

#include <jwt/jwt.hpp>
#include <merge/merge.hpp>

#include <boost/asio/error.hpp>
#include <boost/json/parse.hpp>
#include <boost/system/system_error.hpp>
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

using a0::abi::outcome;
using a0::actions::action_errc;
using a0::auth0::client_errc;

namespace {
template <class E>
outcome from(E e) {
  return a0::abi::from_exception(std::make_exception_ptr(std::move(e)));
}
}  // namespace

TEST_CASE("abi: each client and action error code maps to its WFA code") {
  const std::vector<std::pair<std::error_code, std::int32_t>> table = {
      {client_errc::invalid_argument, WFA_INVALID_INPUT},
      {client_errc::bad_request, WFA_INVALID_INPUT},
      {client_errc::unauthorized, WFA_UNAUTHORIZED},
      {client_errc::forbidden, WFA_FORBIDDEN},
      {client_errc::not_found, WFA_NOT_FOUND},
      {client_errc::conflict, WFA_CONFLICT},
      {client_errc::rate_limited, WFA_RATE_LIMITED},
      {client_errc::timed_out, WFA_TIMEOUT},
      {client_errc::server_error, WFA_UNAVAILABLE},
      {client_errc::connection_failed, WFA_UNAVAILABLE},
      {client_errc::response_too_large, WFA_UNAVAILABLE},
      {client_errc::too_deep, WFA_CONFLICT},
      {client_errc::bad_response, WFA_INTERNAL},
      {client_errc::unsafe_request, WFA_INTERNAL},
      {client_errc::cancelled, WFA_CANCELLED},
      {client_errc::internal, WFA_INTERNAL},
      {client_errc::download_too_large, WFA_CONFLICT},
      {action_errc::precondition_failed, WFA_CONFLICT},
      {action_errc::patch_unconfirmed, WFA_CONFLICT},
      {action_errc::user_too_large, WFA_CONFLICT},
      {action_errc::outputs_too_deep, WFA_INTERNAL},
      {action_errc::output_file_failed, WFA_INTERNAL},
      // No code, and codes of categories the plugin does not own, are internal errors.
      {std::error_code(), WFA_INTERNAL},
      {std::make_error_code(std::errc::invalid_argument), WFA_INTERNAL},
      {std::error_code(static_cast<int>(client_errc::download_too_large) + 1, a0::auth0::client_category()),
       WFA_INTERNAL},
  };
  for (const auto& [ec, wfa] : table) {
    CAPTURE(ec.message());
    CHECK(a0::abi::wfa_code(ec) == wfa);
    a0::auth0::api_error e;
    e.code = ec;
    e.message = "m";
    CHECK(from(a0::auth0::api_exception(e)).code == wfa);  // the same through the exception
  }
}

TEST_CASE("abi: log levels map to the host's") {
  CHECK(a0::abi::wfa_log_level(a0::auth0::log_level::trace) == WFA_LOG_TRACE);
  CHECK(a0::abi::wfa_log_level(a0::auth0::log_level::debug) == WFA_LOG_DEBUG);
  CHECK(a0::abi::wfa_log_level(a0::auth0::log_level::info) == WFA_LOG_INFO);
  CHECK(a0::abi::wfa_log_level(a0::auth0::log_level::warn) == WFA_LOG_WARN);
  CHECK(a0::abi::wfa_log_level(a0::auth0::log_level::error) == WFA_LOG_ERROR);
}

TEST_CASE("abi: an api_exception keeps its status, retryability and the server's wait") {
  a0::auth0::api_error e = a0::auth0::make_error(client_errc::rate_limited, "429 slow down", true);
  e.http_status = 429;
  e.retry_after_s = 42;
  const auto o = from(a0::auth0::api_exception(e));
  CHECK(o.code == WFA_RATE_LIMITED);
  CHECK(o.http_status == 429);
  CHECK(o.retryable);
  CHECK(o.message == "429 slow down");
  CHECK(boost::json::parse(o.details_json) == boost::json::parse(R"({"retry_after_s":42})"));
}

TEST_CASE("abi: an action_error carries its code and details") {
  a0::auth0::api_error e;
  e.code = action_errc::precondition_failed;
  e.message = "require_verified_email: the users' emails differ";
  auto o = from(a0::actions::action_error(e, boost::json::object{{"reason", "emails_differ"}}));
  CHECK(o.code == WFA_CONFLICT);
  CHECK_FALSE(o.retryable);
  CHECK(boost::json::parse(o.details_json) == boost::json::parse(R"({"reason":"emails_differ"})"));
  a0::auth0::api_error limited = a0::auth0::make_error(client_errc::rate_limited, "429", true);
  limited.retry_after_s = 7;
  o = from(a0::actions::action_error(limited, boost::json::object{{"linked", false}}));
  CHECK(o.code == WFA_RATE_LIMITED);
  CHECK(boost::json::parse(o.details_json) == boost::json::parse(R"({"linked":false,"retry_after_s":7})"));
}

TEST_CASE("abi: only input_error is bad input, a std::invalid_argument from elsewhere is internal") {
  auto o = from(a0::actions::input_error("secondary_user_id: must be a non-empty string"));
  CHECK(o.code == WFA_INVALID_INPUT);
  CHECK(o.message == "secondary_user_id: must be a non-empty string");
  // e.g. std::stoul deep inside the transport, or a jwt::error / merge::invalid_argument
  // that the actions did not turn into an input_error: a bug, not the caller's input.
  o = from(std::invalid_argument("stoul"));
  CHECK(o.code == WFA_INTERNAL);
  CHECK(o.message == "internal error: stoul");
  CHECK(from(a0::jwt::error(a0::jwt::error::kind::malformed, "bad")).code == WFA_INTERNAL);
  CHECK(from(merge::invalid_argument("arrays: 'zip'")).code == WFA_INTERNAL);
  CHECK(from(std::runtime_error("x")).code == WFA_INTERNAL);
  CHECK(a0::abi::from_exception(std::make_exception_ptr(42)).code == WFA_INTERNAL);
}

TEST_CASE("abi: Asio's cancellation is cancelled, other system errors internal") {
  auto o = from(boost::system::system_error(boost::asio::error::operation_aborted));
  CHECK(o.code == WFA_CANCELLED);
  CHECK(o.message == "cancelled");
  CHECK_FALSE(o.retryable);
  CHECK(from(boost::system::system_error(boost::asio::error::connection_reset)).code == WFA_INTERNAL);
}
