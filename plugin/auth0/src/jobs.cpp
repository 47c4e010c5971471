// The users export job's helpers and management_client::download (the one public call
// that needs none of the client core: no token, no pool, no pacing).
#include "auth0/jobs.hpp"

#include "auth0/errors.hpp"
#include "http/percent_encoding.hpp"

#include <a0/version.h>

#include <boost/asio/ssl/error.hpp>

#include <stdexcept>

namespace a0::auth0 {

std::string job_target(std::string_view job_id) {
  // "." and ".." are dot segments that servers and proxies resolve, even as %2E.
  if (job_id.empty() || job_id == "." || job_id == "..")
    throw std::invalid_argument("job id: '" + std::string(job_id) + "' cannot be a path segment");
  return "/api/v2/jobs/" + http::pct_encode(job_id);
}

std::string users_by_email_target(std::string_view email, const std::vector<std::string>& fields, bool include_fields) {
  std::string t = "/api/v2/users-by-email?email=" + http::pct_encode(email);
  if (fields.empty()) return t;
  t += "&fields=";
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) t += ',';
    t += http::pct_encode(fields[i]);
  }
  t += include_fields ? "&include_fields=true" : "&include_fields=false";
  return t;
}

namespace {

std::string xml_element(std::string_view body, std::string_view name) {
  // Appended piece by piece: GCC 12 -O2 reports a false -Wrestrict on "<" + string.
  std::string open("<"), close("</");
  open.append(name).append(">");
  close.append(name).append(">");
  const auto a = body.find(open);
  if (a == std::string_view::npos) return {};
  const auto from = a + open.size();
  const auto b = body.find(close, from);
  if (b == std::string_view::npos) return {};
  std::string out;
  for (char c : body.substr(from, std::min<std::size_t>(b - from, 200)))
    if (c >= 0x20 && c < 0x7f) out += c;
  return out;
}

}  // namespace

std::string storage_error_text(std::string_view body) {
  const auto code = xml_element(body, "Code"), message = xml_element(body, "Message");
  if (code.empty()) return message;
  return message.empty() ? code : code + ": " + message;
}

api_error download_error(const http::download_result& r, const std::string& where, const client_config& cfg,
                         std::uint64_t max_bytes) {
  using http::failure;
  const std::string what = "download of the export file " + where;
  switch (r.kind) {
    case failure::none: break;
    case failure::cancelled: return make_error(client_errc::cancelled, "cancelled");
    case failure::refused:
      return make_error(client_errc::unsafe_request, what + " refused: the URL holds control characters");
    case failure::too_large: {
      auto e = make_error(client_errc::download_too_large, what + ": the file is larger than max_download_bytes " +
                                                               std::to_string(max_bytes) + "; nothing kept");
      e.http_status = static_cast<int>(r.status);
      return e;
    }
    case failure::connect_timeout:
      return make_error(
          client_errc::timed_out,
          what + ": no TLS connection within connect_timeout_ms " + std::to_string(cfg.connect_timeout.count()), true);
    case failure::timeout:
      return make_error(client_errc::timed_out,
                        what + ": no data for timeout_ms " + std::to_string(cfg.timeout.count()) + " (" +
                            std::to_string(r.bytes) + " bytes received)",
                        true);
    case failure::tls:
      // A certificate that does not verify does not heal by itself.
      return make_error(client_errc::connection_failed, what + ": TLS handshake failed: " + r.ec.message(),
                        r.ec.category() != boost::asio::error::get_ssl_category());
    default:
      return make_error(client_errc::connection_failed,
                        what + ": connection failed after " + std::to_string(r.bytes) + " bytes: " + r.ec.message(),
                        true);
  }
  const int status = static_cast<int>(r.status);
  std::string said = storage_error_text(r.error_body);
  said = std::to_string(status) + (said.empty() ? std::string() : " (" + said + ")");
  api_error e;
  e.http_status = status;
  if (status == 403 || status == 404) {
    // What a pre-signed URL answers once it has expired (403 AccessDenied "Request has
    // expired"), or once the file was removed: the job's result is gone, a new job makes
    // a new one.
    e.code = status == 403 ? client_errc::forbidden : client_errc::not_found;
    e.retryable = true;
    e.message = what + " answered " + said +
                ": the job's download link has expired or the file is gone; run the step again for a new export";
  } else if (status >= 300 && status <= 399) {
    e.code = client_errc::bad_response;
    e.message = what + " answered a redirect (" + std::to_string(status) + "); redirects are not followed";
  } else if (status == 408 || status == 429 || (status >= 500 && status <= 599)) {
    e.code = status == 429 ? client_errc::rate_limited : client_errc::server_error;
    e.retryable = true;
    e.message = what + " answered " + said;
  } else {
    e.code = client_errc::bad_response;
    e.message = what + " answered " + said;
  }
  return e;
}

namespace net = boost::asio;

net::awaitable<std::uint64_t> management_client::download(std::string url, std::function<void(std::string_view)> sink,
                                                          std::uint64_t max_bytes) {
  http::https_url where;
  try {
    where = http::parse_https_url(url);
  } catch (const std::invalid_argument& e) {
    // The location comes from the server: not the caller's input, and never followed
    // in clear text.
    throw api_exception(auth0::make_error(
        client_errc::bad_response, "the export file's location " + http::redact_url(url) + " refused: " + e.what()));
  }
  const auto& cfg = config();
  http::download_options o;
  o.ca_file = cfg.ca_file;
  o.connect_timeout = cfg.connect_timeout;
  o.idle_timeout = cfg.timeout;
  o.user_agent = "a0-link-account/" A0_VERSION;
  o.max_bytes = max_bytes;
  // What the sink throws (the caller's verdict on the data) leaves as it is.
  const auto r = co_await http::stream_get(where, o, sink);
  if (r.kind == http::failure::none && r.status >= 200 && r.status <= 299) co_return r.bytes;
  throw api_exception(auth0::download_error(r, where.redacted, cfg, max_bytes));
}

}  // namespace a0::auth0
