#include "auth0/errors.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace a0::auth0 {

namespace json = boost::json;

namespace {
std::string string_field(const json::object& o, std::string_view key) {
  if (const auto* v = o.if_contains(key); v && v->is_string()) return std::string(v->get_string());
  return {};
}

// Upstream text is echoed into logs and ABI error buffers: keep it bounded.
std::string clip(std::string s) {
  constexpr std::size_t max = 400;
  if (s.size() > max) {
    s.resize(max);
    s += "...";
  }
  return s;
}
}  // namespace

error_body parse_error_body(std::string_view body) {
  error_body out;
  json::error_code ec;
  const auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return out;
  const auto& o = v.get_object();
  const auto error = string_field(o, "error");
  out.code = string_field(o, "errorCode");
  const bool management_shape = o.contains("statusCode") || o.contains("message");
  if (out.code.empty() && !management_shape) out.code = error;  // OAuth: error is the code
  out.message = string_field(o, "message");
  if (out.message.empty()) out.message = string_field(o, "error_description");
  if (out.message.empty()) out.message = error;
  out.code = clip(std::move(out.code));
  out.message = clip(std::move(out.message));
  return out;
}

api_error error_from_status(int status, std::string_view body, endpoint_kind kind) {
  const auto parsed = parse_error_body(body);
  api_error e;
  e.http_status = status;
  e.error_code = parsed.code;
  e.message = std::to_string(status);
  e.message += ' ';
  e.message += parsed.message.empty() ? std::string("unexpected response") : parsed.message;
  if (!parsed.code.empty()) e.message += " (" + parsed.code + ")";

  switch (status) {
    case 400: e.code = client_errc::bad_request; break;
    case 401: e.code = client_errc::unauthorized; break;
    case 403: e.code = client_errc::forbidden; break;
    case 404: e.code = client_errc::not_found; break;
    case 409: e.code = client_errc::conflict; break;
    case 408:
      e.code = client_errc::timed_out;
      e.retryable = true;
      break;
    case 429:
      e.code = client_errc::rate_limited;
      e.retryable = true;
      break;
    default:
      if (status >= 500 && status <= 599) {
        e.code = client_errc::server_error;
        e.retryable = true;
      } else {
        e.code = client_errc::bad_response;
      }
  }
  if (kind == endpoint_kind::link && status == 400 && parsed.message.find("already exists") != std::string::npos)
    e.code = client_errc::conflict;  // the identity is linked already: a state conflict, not bad input
  if (kind == endpoint_kind::token) {
    // The token endpoint says "who you are" is wrong (invalid_client) vs "what you may
    // do" is wrong (access_denied: no client-grant; unauthorized_client: grant type).
    if (parsed.code == "invalid_client") e.code = client_errc::unauthorized;
    if (parsed.code == "access_denied" || parsed.code == "unauthorized_client") e.code = client_errc::forbidden;
    // Real tenants answer a wrong client secret 401 access_denied "Unauthorized": the
    // status decides, the credentials are what is wrong (node-auth0#682).
    if (status == 401) e.code = client_errc::unauthorized;
  }
  return e;
}

}  // namespace a0::auth0
