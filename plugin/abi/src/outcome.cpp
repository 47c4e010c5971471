#include "outcome.hpp"

#include "actions/actions.hpp"

#include <auth0/management_client.hpp>

#include <boost/asio/error.hpp>
#include <boost/json/serialize.hpp>
#include <boost/system/system_error.hpp>

#include <stdexcept>

namespace a0::abi {

wfa_result outcome::view() const noexcept {
  wfa_result r{};
  r.struct_size = sizeof(wfa_result);
  r.code = code;
  if (code == WFA_OK) r.outputs_json = {outputs_json.data(), outputs_json.size()};
  r.message = {message.data(), message.size()};
  r.http_status = http_status;
  r.retryable = retryable ? 1u : 0u;
  r.details_json = {details_json.data(), details_json.size()};
  return r;
}

outcome outcome::ok(std::string outputs_json) {
  outcome o;
  o.outputs_json = std::move(outputs_json);
  return o;
}

outcome outcome::error(std::int32_t code, std::string message, bool retryable) {
  outcome o;
  o.code = code;
  o.message = std::move(message);
  o.retryable = retryable;
  return o;
}

namespace {
outcome from_api_error(const a0::auth0::api_error& e) {
  outcome o = outcome::error(e.code ? e.code : WFA_INTERNAL, e.message, e.retryable);
  o.http_status = e.http_status;
  // The runner's contract for a long rate-limit wait: integer seconds in details_json.
  if (e.retry_after_s)
    o.details_json = boost::json::serialize(boost::json::object{{"retry_after_s", *e.retry_after_s}});
  return o;
}
}  // namespace

outcome outcome::from_exception(std::exception_ptr e) noexcept {
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
    } catch (const std::invalid_argument& x) {  // also merge::invalid_argument
      return error(WFA_INVALID_INPUT, x.what());
    } catch (const boost::system::system_error& x) {
      if (x.code() == boost::asio::error::operation_aborted) return error(WFA_CANCELLED, "cancelled");
      return error(WFA_INTERNAL, std::string("internal error: ") + x.what());
    } catch (const std::exception& x) {
      return error(WFA_INTERNAL, std::string("internal error: ") + x.what());
    } catch (...) {
      return error(WFA_INTERNAL, "internal error: unknown exception");
    }
  } catch (...) {  // e.g. bad_alloc while building the message
    outcome o;
    o.code = WFA_INTERNAL;
    return o;
  }
}

}  // namespace a0::abi
