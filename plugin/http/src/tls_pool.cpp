#include "http/tls_pool.hpp"

#include "http/deadline_canceller.hpp"
#include "http/header_values.hpp"
#include "http/wake_signal.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <cerrno>
#include <deque>
#include <string>
#include <tuple>
#include <stdexcept>
#include <vector>

namespace a0::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using boost::system::error_code;

namespace {

struct connection {
  connection(const net::any_io_executor& ex, net::ssl::context& ctx) : stream(ex, ctx) {}
  beast::ssl_stream<beast::tcp_stream> stream;
  void close() noexcept {
    error_code ignored;
    beast::get_lowest_layer(stream).socket().close(ignored);
  }
};

// A queued exchange waiting for a free connection slot; the timer serves as an event.
struct waiter {
  explicit waiter(const net::any_io_executor& ex) : wake(ex) {}
  wake_signal wake;
  std::unique_ptr<connection> conn;  // handed over when a pooled connection frees up
  bool granted = false;              // owns a slot now (conn may be empty: open a new one)
};

// A non-blocking peek tells whether an idle connection was closed by the server while it
// sat in the pool, so that a request is not written into a dead socket (the classic
// keep-alive race, which would make a POST ambiguous).
bool looks_alive(connection& c) noexcept {
  auto& sock = beast::get_lowest_layer(c.stream).socket();
  if (!sock.is_open()) return false;
  char byte = 0;
  const auto n = ::recv(sock.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n >= 0) return false;  // EOF, or unsolicited bytes (close_notify/alert) on an idle link
  return errno == EAGAIN || errno == EWOULDBLOCK;
}

bool is_ip_literal(const std::string& host) {
  error_code ec;
  (void)net::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

struct tls_pool::state {
  state(net::any_io_executor e, origin o, pool_options p)
      : ex(std::move(e)), org(std::move(o)), opts(std::move(p)), ip_literal(is_ip_literal(org.host)) {}

  net::any_io_executor ex;
  origin org;
  pool_options opts;
  bool ip_literal;
  net::ssl::context ctx{net::ssl::context::tls_client};
  std::vector<std::unique_ptr<connection>> idle;
  std::deque<std::shared_ptr<waiter>> waiters;
  std::size_t open = 0;  // slots in use: idle + busy + connecting
  bool closed = false;
  std::atomic<std::uint64_t> handshakes{0};

  // Returns a slot (and the connection in it) to the pool, or hands it to a waiter.
  void release(std::unique_ptr<connection> conn, bool reusable) {
    if (conn && !(reusable && !closed)) {
      conn->close();
      conn.reset();
    }
    if (!closed && !waiters.empty()) {
      auto w = std::move(waiters.front());
      waiters.pop_front();
      w->conn = std::move(conn);
      w->granted = true;
      w->wake.notify();
      return;
    }
    if (conn) {
      idle.push_back(std::move(conn));
      return;
    }
    --open;
  }
};

namespace {

// Owns one slot of the pool for the duration of an exchange; gives it back on every path
// (including exceptions and coroutine destruction).
struct lease {
  explicit lease(std::shared_ptr<tls_pool::state> s) : st(std::move(s)) {}
  lease(const lease&) = delete;
  lease& operator=(const lease&) = delete;
  ~lease() { give_back(false); }
  void give_back(bool reusable) {
    if (!slot) return;
    slot = false;
    st->release(std::move(conn), reusable);
  }
  std::shared_ptr<tls_pool::state> st;
  std::unique_ptr<connection> conn;
  bool slot = false;
};

}  // namespace

tls_pool::tls_pool(net::any_io_executor ex, origin o, pool_options opts)
    : st_(std::make_shared<state>(std::move(ex), std::move(o), std::move(opts))) {
  auto& ctx = st_->ctx;
  ctx.set_verify_mode(net::ssl::verify_peer);
  ctx.set_default_verify_paths();
  if (!st_->opts.ca_file.empty()) {
    error_code ec;
    ctx.load_verify_file(st_->opts.ca_file, ec);
    if (ec) throw std::runtime_error("ca_file: cannot load PEM trust anchors from the file");
  }
  if (st_->opts.max_connections == 0) st_->opts.max_connections = 1;
}

tls_pool::~tls_pool() { shutdown(); }

void tls_pool::shutdown() {
  auto& s = *st_;
  if (s.closed) return;
  s.closed = true;
  for (auto& c : s.idle) c->close();
  s.open -= s.idle.size();
  s.idle.clear();
  auto waiters = std::move(s.waiters);
  for (auto& w : waiters) w->wake.notify();
}

std::size_t tls_pool::idle_count() const noexcept { return st_->idle.size(); }

std::uint64_t tls_pool::handshakes() const noexcept { return st_->handshakes.load(); }

namespace {

bool cancelled_now(const net::cancellation_state& cs) { return cs.cancelled() != net::cancellation_type::none; }

failure classify(const error_code& ec, const net::cancellation_state& cs, failure otherwise) {
  if (ec == beast::error::timeout) return failure::timeout;
  if (ec == net::error::operation_aborted || cancelled_now(cs)) return failure::cancelled;
  return otherwise;
}

// Waits for a slot; false when the pool is closed.
net::awaitable<bool> acquire(tls_pool::state& s, lease& l) {
  if (s.closed) co_return false;
  if (!s.idle.empty()) {
    l.conn = std::move(s.idle.back());
    s.idle.pop_back();
    l.slot = true;
    co_return true;
  }
  if (s.open < s.opts.max_connections) {
    ++s.open;
    l.slot = true;
    co_return true;
  }
  auto w = std::make_shared<waiter>(s.ex);
  s.waiters.push_back(w);
  struct unqueue {  // leaves the queue on every exit path, incl. a throw on cancellation
    tls_pool::state& s;
    std::shared_ptr<waiter>& w;
    ~unqueue() { std::erase(s.waiters, w); }
  } guard{s, w};
  (void)co_await w->wake.wait();
  if (w->granted) {
    l.conn = std::move(w->conn);
    l.slot = true;
    co_return true;
  }
  if (s.closed) co_return false;
  throw boost::system::system_error(net::error::operation_aborted);
}

net::awaitable<exchange_result> connect(tls_pool::state& s, connection& c) {
  exchange_result r;
  const auto cs = co_await net::this_coro::cancellation_state;
  // One deadline for resolve, TCP connect and TLS handshake; the request has its own.
  const auto deadline = net::steady_timer::clock_type::now() + s.opts.connect_timeout;
  auto failed = [&](const error_code& ec, failure otherwise) {
    r.kind = classify(ec, cs, otherwise);
    if (r.kind == failure::timeout) r.kind = failure::connect_timeout;
    r.ec = ec;
    return r;
  };
  auto& low = beast::get_lowest_layer(c.stream);
  const auto& where = s.org.connect_host.empty() ? s.org.host : s.org.connect_host;
  error_code cec;
  error_code aec;
  const auto addr = net::ip::make_address(where, aec);
  if (!aec) {
    // IP literal: no resolver round trip (the resolver runs getaddrinfo on a thread).
    const tcp::endpoint ep{addr, static_cast<unsigned short>(std::stoul(s.org.port))};
    low.expires_at(deadline);
    std::tie(cec) = co_await low.async_connect(ep, net::as_tuple(net::use_awaitable));
  } else {
    tcp::resolver resolver(s.ex);
    tcp::resolver::results_type results;
    error_code rec;
    bool expired = false;
    {
      deadline_canceller stop(s.ex, deadline, cs.slot(), [&resolver] { resolver.cancel(); });
      std::tie(rec, results) = co_await resolver.async_resolve(where, s.org.port, net::as_tuple(net::use_awaitable));
      expired = stop.expired();
    }
    if (rec) co_return failed(expired ? error_code(beast::error::timeout) : rec, failure::connect);
    low.expires_at(deadline);
    std::tie(cec, std::ignore) = co_await low.async_connect(results, net::as_tuple(net::use_awaitable));
  }
  if (cec) co_return failed(cec, failure::connect);
  // SNI carries names only (RFC 6066); an IP literal is still verified against IP SANs.
  if (!s.ip_literal && !SSL_set_tlsext_host_name(c.stream.native_handle(), s.org.host.c_str())) {
    r.kind = failure::tls;
    r.ec = error_code(static_cast<int>(::ERR_get_error()), net::error::get_ssl_category());
    co_return r;
  }
  c.stream.set_verify_mode(net::ssl::verify_peer);
  c.stream.set_verify_callback(net::ssl::host_name_verification(s.org.host));
  low.expires_at(deadline);
  auto [hec] = co_await c.stream.async_handshake(net::ssl::stream_base::client, net::as_tuple(net::use_awaitable));
  if (hec) co_return failed(hec, failure::tls);
  s.handshakes.fetch_add(1);
  co_return r;
}

}  // namespace

namespace {

// The last line of defence against header injection and request smuggling: nothing
// with a control character in its request line or header block reaches the wire.
bool safe_to_send(const request& req) {
  const auto target = req.target();
  if (target.empty() || !is_safe_header_value(target) || target.find(' ') != target.npos) return false;
  for (const auto& field : req) {
    if (!is_safe_header_value(field.name_string()) || !is_safe_header_value(field.value())) return false;
  }
  return true;
}

}  // namespace

net::awaitable<exchange_result> tls_pool::exchange(request req, bool idempotent) {
  auto st = st_;  // keeps the state alive even if the pool object goes away meanwhile
  exchange_result r;
  if (!safe_to_send(req)) {
    r.kind = failure::refused;
    r.ec = make_error_code(boost::system::errc::invalid_argument);
    co_return r;
  }
  lease l{st};
  try {
    if (!co_await acquire(*st, l)) {
      r.kind = failure::closed;
      co_return r;
    }
    req.prepare_payload();
    const auto cs = co_await net::this_coro::cancellation_state;
    for (int round = 0;; ++round) {
      bool reused = static_cast<bool>(l.conn);
      if (reused && !looks_alive(*l.conn)) {
        l.conn->close();
        l.conn.reset();
        reused = false;
      }
      if (!l.conn) {
        l.conn = std::make_unique<connection>(st->ex, st->ctx);
        r = co_await connect(*st, *l.conn);
        if (r.kind != failure::none) co_return r;
      }
      auto& low = beast::get_lowest_layer(l.conn->stream);
      low.expires_after(st->opts.timeout);

      r.maybe_sent = true;  // from here on the server may see (part of) the request
      auto [wec, written] = co_await bhttp::async_write(l.conn->stream, req, net::as_tuple(net::use_awaitable));
      if (wec) {
        const auto kind = classify(wec, cs, failure::io);
        // A TLS record is all-or-nothing: zero bytes accepted means nothing arrived.
        if (written == 0 && kind == failure::io) r.maybe_sent = false;
        if (kind == failure::io && reused && round == 0 && (idempotent || written == 0)) {
          l.conn->close();
          l.conn.reset();
          r.maybe_sent = false;
          continue;
        }
        r.kind = kind;
        r.ec = wec;
        co_return r;
      }

      beast::flat_buffer buffer;
      bhttp::response_parser<bhttp::string_body> parser;
      parser.body_limit(st->opts.body_limit);
      auto [rec, n] = co_await bhttp::async_read(l.conn->stream, buffer, parser, net::as_tuple(net::use_awaitable));
      (void)n;
      if (rec) {
        const auto kind = classify(rec, cs, failure::io);
        // Stale keep-alive connection: the server closed it before reading our request.
        if (kind == failure::io && reused && round == 0 && idempotent && !parser.got_some()) {
          l.conn->close();
          l.conn.reset();
          r.maybe_sent = false;
          continue;
        }
        r.kind = kind;
        r.ec = rec;
        if (rec == bhttp::error::body_limit && parser.is_header_done()) {
          // The server answered (and so processed the request); only its body is too
          // big for us. The connection is mid-message: it is not given back.
          r.kind = failure::too_large;
          r.status = parser.get().result_int();
        }
        co_return r;
      }
      r.res = parser.release();
      r.kind = failure::none;
      l.give_back(r.res->keep_alive());
      co_return r;
    }
  } catch (const boost::system::system_error& e) {
    // throw_if_cancelled: the coroutine was cancelled between two operations.
    r.res.reset();
    r.kind = e.code() == net::error::operation_aborted ? failure::cancelled : failure::io;
    r.ec = e.code();
    co_return r;
  }
}

}  // namespace a0::http
