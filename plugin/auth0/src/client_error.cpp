#include "auth0/client_error.hpp"

#include <boost/asio/error.hpp>

namespace a0::auth0 {

namespace {
class client_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "a0.management_client"; }
  std::string message(int ev) const override {
    switch (static_cast<client_errc>(ev)) {
      case client_errc::invalid_argument: return "invalid argument";
      case client_errc::bad_request: return "bad request";
      case client_errc::unauthorized: return "unauthorized";
      case client_errc::forbidden: return "forbidden";
      case client_errc::not_found: return "not found";
      case client_errc::conflict: return "conflict";
      case client_errc::rate_limited: return "rate limited";
      case client_errc::timed_out: return "timed out";
      case client_errc::server_error: return "server error";
      case client_errc::connection_failed: return "connection failed";
      case client_errc::response_too_large: return "response too large";
      case client_errc::too_deep: return "response nests too deep";
      case client_errc::bad_response: return "bad response";
      case client_errc::unsafe_request: return "unsafe request refused";
      case client_errc::cancelled: return "cancelled";
      case client_errc::internal: return "internal error";
      case client_errc::download_too_large: return "download too large";
    }
    return "unknown management client error";
  }
};
}  // namespace

const std::error_category& client_category() noexcept {
  static const client_category_impl c;
  return c;
}

std::error_code make_error_code(client_errc e) noexcept { return {static_cast<int>(e), client_category()}; }

api_error make_error(client_errc code, std::string message, bool retryable, bool ambiguous) {
  api_error e;
  e.code = code;
  e.message = std::move(message);
  e.retryable = retryable;
  e.ambiguous = ambiguous;
  return e;
}

std::optional<api_error> cancellation(const boost::system::error_code& ec, bool ambiguous) {
  if (ec != boost::asio::error::operation_aborted) return std::nullopt;
  return make_error(client_errc::cancelled, "cancelled", false, ambiguous);
}

}  // namespace a0::auth0
