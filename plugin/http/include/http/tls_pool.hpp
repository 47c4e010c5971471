// A keep-alive pool of verified TLS connections to one HTTPS origin.
//
// Every member must be called on the pool's executor (a strand when the io_context has
// several threads): the pool keeps no locks. One exchange = one request/response on one
// connection; retries and their policy belong to the caller, except the one transparent
// retry of an idempotent request whose pooled connection turned out to be stale.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace a0::http {

using request = boost::beast::http::request<boost::beast::http::string_body>;
using response = boost::beast::http::response<boost::beast::http::string_body>;

struct origin {
  std::string host;  ///< DNS name or IP literal: SNI (names only) and verification
  std::string port = "443";
  /// Where to connect instead of `host` (tests: verify a name the server does not hold).
  std::string connect_host;
};

struct pool_options {
  std::size_t max_connections = 16;
  std::chrono::milliseconds timeout{10000};  ///< per request: first byte written..last byte read
  std::string ca_file;                       ///< extra PEM trust anchors (optional)
  std::size_t body_limit = 8 * 1024 * 1024;
  /// A new connection: name resolution + TCP connect + TLS handshake, all together.
  std::chrono::milliseconds connect_timeout{10000};
};

enum class failure {
  none,
  connect,          ///< resolve/TCP connect failed: nothing was sent
  tls,              ///< handshake or certificate verification failed: nothing was sent
  connect_timeout,  ///< resolve/connect/handshake passed connect_timeout: nothing was sent
  timeout,          ///< the request deadline (pool_options::timeout) passed
  cancelled,        ///< the awaiting coroutine was cancelled
  io,               ///< reset/EOF/protocol error while exchanging
  closed,           ///< the pool was shut down
  refused,          ///< not sent: the target or a header value holds CR, LF, NUL or another control
  too_large,        ///< a response came whose body exceeds pool_options::body_limit (status says which)
};

struct exchange_result {
  std::optional<response> res;  ///< set iff kind == failure::none
  failure kind = failure::none;
  boost::system::error_code ec;
  /// Request bytes may have reached the server (a non-idempotent request is ambiguous).
  bool maybe_sent = false;
  /// failure::too_large: the status line of the response that was too large to read (a 2xx
  /// to a write means the write was applied).
  unsigned status = 0;
};

class tls_pool {
 public:
  /// Throws std::runtime_error when ca_file cannot be loaded.
  tls_pool(boost::asio::any_io_executor ex, origin o, pool_options opts);
  ~tls_pool();
  tls_pool(const tls_pool&) = delete;
  tls_pool& operator=(const tls_pool&) = delete;

  /// Sends req and reads the response. Never throws for transport errors (they are in
  /// the result). A pooled connection that fails before any response byte is replaced
  /// and the request resent once, only when `idempotent`.
  boost::asio::awaitable<exchange_result> exchange(request req, bool idempotent);

  /// Closes idle connections and fails queued waiters; later exchanges fail "closed".
  void shutdown();

  /// Completed TLS handshakes (thread-safe read).
  std::uint64_t handshakes() const noexcept;
  /// Connections parked in the pool (call on the pool's executor).
  std::size_t idle_count() const noexcept;

  struct state;  ///< internal; shared with in-flight exchanges

 private:
  std::shared_ptr<state> st_;
};

}  // namespace a0::http
