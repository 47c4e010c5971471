#include "server.hpp"

#include "util.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <algorithm>
#include <chrono>
#include <limits>
#include <memory>

namespace emu {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t k_body_limit = 512u << 20;  // whole seeds are POSTed to /__emulator/seed

using tls_stream = beast::ssl_stream<beast::tcp_stream>;

/// Closes with SO_LINGER 0 so the peer sees a TCP RST, like a dropped connection.
void hard_reset(tls_stream& s) {
  boost::system::error_code ec;
  auto& sock = beast::get_lowest_layer(s).socket();
  sock.set_option(asio::socket_base::linger(true, 0), ec);
  sock.close(ec);
}

http::response<http::string_body> to_beast(const response& r, unsigned version, bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "auth0-emulator");
  if (r.status != 204) {
    res.set(http::field::content_type, r.content_type);
    res.body() = r.body;
  }
  for (auto& [k, v] : r.headers) res.set(k, v);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

asio::awaitable<void> session(tcp::socket sock, asio::ssl::context& tls, emulator_state& st, std::chrono::seconds idle,
                              bool storage) {
  ++st.count.connections;
  sock.set_option(tcp::no_delay(true));
  tls_stream stream(beast::tcp_stream(std::move(sock)), tls);
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
  auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::server, use_tuple);
  if (hec) co_return;
  ++st.count.tls_handshakes;
  beast::flat_buffer buf;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    beast::get_lowest_layer(stream).expires_after(idle);
    http::request_parser<http::string_body> parser;
    parser.body_limit(k_body_limit);
    auto [rec, n] = co_await http::async_read(stream, buf, parser, use_tuple);
    if (rec) break;
    auto& hreq = parser.get();
    request req;
    req.method = std::string(hreq.method_string());
    req.target = std::string(hreq.target());
    req.host = std::string(hreq[http::field::host]);
    req.authorization = std::string(hreq[http::field::authorization]);
    req.content_type = std::string(hreq[http::field::content_type]);
    req.body = std::move(hreq.body());
    const bool keep_alive = hreq.keep_alive();
    const unsigned version = hreq.version();

    response res;
    if (storage) {
      res = st.api.storage(req);
    } else if (is_control(req.target)) {
      ++st.count.control_requests;
      res = handle_control(st, req);
    } else {
      ++st.count.requests;
      const auto path = decoded_path(req.target);
      auto plan = st.faults.match(req.method, path);
      if (!plan.fired.empty()) ++st.count.faults_fired;
      if (const long delay = st.global_latency_ms + plan.latency_ms; delay > 0) {
        // An async wait: other connections keep being served meanwhile.
        beast::get_lowest_layer(stream).expires_never();
        timer.expires_after(std::chrono::milliseconds(delay));
        co_await timer.async_wait(use_tuple);
      }
      if (plan.reset_before) {
        st.log_request(req, 0, "reset_before#" + plan.fired);
        hard_reset(stream);
        co_return;
      }
      res = st.dispatch(req, path, plan);
      if (plan.reset_after) {
        st.log_request(req, 0, "reset_after#" + plan.fired);
        hard_reset(stream);
        co_return;
      }
      st.log_request(req, res.status, plan.fired);
    }
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
    if (const long long stall = storage ? st.api.download_stall_ms() : 0; stall > 0 && res.status == 200) {
      // Test knob (PUT /__emulator/exports download_stall_ms): the header and half of the
      // file, a pause, then the rest, so that a client can be cancelled mid-download.
      auto msg = to_beast(res, version, keep_alive);
      http::response_serializer<http::string_body> sr{msg};
      sr.limit(std::max<std::size_t>(1, res.body.size() / 2));
      auto [hec, h] = co_await http::async_write_some(stream, sr, use_tuple);
      if (hec) break;
      beast::get_lowest_layer(stream).expires_never();
      timer.expires_after(std::chrono::milliseconds(stall));
      co_await timer.async_wait(use_tuple);
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
      sr.limit(std::numeric_limits<std::size_t>::max());
      auto [rec, r] = co_await http::async_write(stream, sr, use_tuple);
      if (rec || !keep_alive) break;
      continue;
    }
    auto [wec, w] = co_await http::async_write(stream, to_beast(res, version, keep_alive), use_tuple);
    if (wec || !keep_alive) break;
  }
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
  co_await stream.async_shutdown(use_tuple);
}

asio::awaitable<void> accept_loop(std::shared_ptr<tcp::acceptor> acc, asio::ssl::context& tls, emulator_state& st,
                                  std::chrono::seconds idle, bool storage) {
  for (;;) {
    auto [ec, sock] = co_await acc->async_accept(use_tuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acc->is_open()) co_return;
      continue;  // e.g. EMFILE: keep serving the connections we have
    }
    asio::co_spawn(acc->get_executor(), session(std::move(sock), tls, st, idle, storage), asio::detached);
  }
}

std::uint16_t listen(asio::io_context& ioc, asio::ssl::context& tls, emulator_state& state, std::uint16_t port,
                     std::chrono::seconds idle_timeout, bool storage) {
  auto acc = std::make_shared<tcp::acceptor>(ioc);
  const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
  acc->open(ep.protocol());
  acc->set_option(tcp::acceptor::reuse_address(true));
  acc->bind(ep);
  acc->listen(asio::socket_base::max_listen_connections);
  const auto bound = acc->local_endpoint().port();
  asio::co_spawn(ioc, accept_loop(acc, tls, state, idle_timeout, storage), asio::detached);
  return bound;
}

}  // namespace

std::uint16_t start_server(asio::io_context& ioc, asio::ssl::context& tls, emulator_state& state, std::uint16_t port,
                           std::chrono::seconds idle_timeout) {
  return listen(ioc, tls, state, port, idle_timeout, false);
}

std::uint16_t start_storage_server(asio::io_context& ioc, asio::ssl::context& tls, emulator_state& state) {
  return listen(ioc, tls, state, 0, std::chrono::seconds(30), true);
}

}  // namespace emu
