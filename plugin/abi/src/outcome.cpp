#include "outcome.hpp"

#include "actions/actions.hpp"

#include <auth0/management_client.hpp>

#include <boost/json/serialize.hpp>
#include <boost/system/system_error.hpp>

namespace a0::abi {

// WFA-11: the client and the actions hold users and outputs to the host's depth limit.
static_assert(a0::auth0::host_json_depth == WFA_JSON_MAX_DEPTH, "host_json_depth follows WFA_JSON_MAX_DEPTH");

std::int32_t wfa_code(const std::error_code& ec) noexcept {
  if (ec.category() == a0::auth0::client_category()) {
    switch (static_cast<a0::auth0::client_errc>(ec.value())) {
      case a0::auth0::client_errc::invalid_argument: return WFA_INVALID_INPUT;
      case a0::auth0::client_errc::bad_request: return WFA_INVALID_INPUT;
      case a0::auth0::client_errc::unauthorized: return WFA_UNAUTHORIZED;
      case a0::auth0::client_errc::forbidden: return WFA_FORBIDDEN;
      case a0::auth0::client_errc::not_found: return WFA_NOT_FOUND;
      case a0::auth0::client_errc::conflict: return WFA_CONFLICT;
      case a0::auth0::client_errc::rate_limited: return WFA_RATE_LIMITED;
      case a0::auth0::client_errc::timed_out: return WFA_TIMEOUT;
      case a0::auth0::client_errc::server_error: return WFA_UNAVAILABLE;
      case a0::auth0::client_errc::connection_failed: return WFA_UNAVAILABLE;
      case a0::auth0::client_errc::response_too_large: return WFA_UNAVAILABLE;
      // A user the outputs cannot carry: its state, not the call, is the obstacle.
      case a0::auth0::client_errc::too_deep: return WFA_CONFLICT;
      case a0::auth0::client_errc::bad_response: return WFA_INTERNAL;
      case a0::auth0::client_errc::unsafe_request: return WFA_INTERNAL;
      case a0::auth0::client_errc::cancelled: return WFA_CANCELLED;
      case a0::auth0::client_errc::internal: return WFA_INTERNAL;
      // A cap the caller chose: its file, not the service, is the obstacle.
      case a0::auth0::client_errc::download_too_large: return WFA_CONFLICT;
    }
    return WFA_INTERNAL;
  }
  if (ec.category() == actions::action_category()) {
    switch (static_cast<actions::action_errc>(ec.value())) {
      case actions::action_errc::precondition_failed: return WFA_CONFLICT;
      case actions::action_errc::patch_unconfirmed: return WFA_CONFLICT;
      case actions::action_errc::user_too_large: return WFA_CONFLICT;
      case actions::action_errc::outputs_too_deep: return WFA_INTERNAL;
      case actions::action_errc::output_file_failed: return WFA_INTERNAL;
    }
  }
  return WFA_INTERNAL;
}

std::int32_t wfa_log_level(a0::auth0::log_level level) noexcept {
  switch (level) {
    case a0::auth0::log_level::trace: return WFA_LOG_TRACE;
    case a0::auth0::log_level::debug: return WFA_LOG_DEBUG;
    case a0::auth0::log_level::info: return WFA_LOG_INFO;
    case a0::auth0::log_level::warn: return WFA_LOG_WARN;
    case a0::auth0::log_level::error: return WFA_LOG_ERROR;
  }
  return WFA_LOG_ERROR;
}

namespace {
outcome from_api_error(const a0::auth0::api_error& e) {
  outcome o = outcome::failure(wfa_code(e.code), e.message, e.retryable);
  o.http_status = e.http_status;
  // The runner's contract for a long rate-limit wait: integer seconds in details_json.
  if (e.retry_after_s)
    o.details_json = boost::json::serialize(boost::json::object{{"retry_after_s", *e.retry_after_s}});
  return o;
}
}  // namespace

outcome from_exception(std::exception_ptr e) noexcept {
  try {
    try {
      std::rethrow_exception(e);
    } catch (const actions::action_error& x) {
      auto o = from_api_error(x.error());
      if (!x.details().empty()) {
        auto details = x.details();
        if (x.error().retry_after_s) details["retry_after_s"] = *x.error().retry_after_s;
        o.details_json = boost::json::serialize(details);
      }
      return o;
    } catch (const a0::auth0::api_exception& x) {
      return from_api_error(x.error());
    } catch (const actions::input_error& x) {
      return outcome::failure(WFA_INVALID_INPUT, x.what());
    } catch (const boost::system::system_error& x) {  // e.g. a key_lock or JWKS wait cancelled
      if (auto cancelled = a0::auth0::cancellation(x.code())) return from_api_error(*cancelled);
      return outcome::failure(WFA_INTERNAL, std::string("internal error: ") + x.what());
    } catch (const std::exception& x) {
      return outcome::failure(WFA_INTERNAL, std::string("internal error: ") + x.what());
    } catch (...) {
      return outcome::failure(WFA_INTERNAL, "internal error: unknown exception");
    }
  } catch (...) {  // e.g. bad_alloc while building the message
    outcome o;
    o.code = WFA_INTERNAL;
    return o;
  }
}

}  // namespace a0::abi
