#include "test_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace a0::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;

namespace {
using stream_t = beast::ssl_stream<beast::tcp_stream>;
std::atomic<int> file_counter{0};
}  // namespace

struct test_server::state {
  net::io_context ioc;
  net::ssl::context ctx{net::ssl::context::tls_server};
  tcp::acceptor acceptor{ioc};
  handler fn;
  std::string ca_path;
  unsigned short port = 0;

  mutable std::mutex mu;
  std::vector<seen_request> log;
  std::uint64_t accepted = 0;
  std::size_t open = 0, max_open = 0;
  std::vector<std::weak_ptr<stream_t>> streams;  // server thread only
  std::thread thread;

  net::awaitable<void> session(std::shared_ptr<stream_t> s, std::uint64_t id) {
    struct closer {
      state& st;
      ~closer() {
        std::lock_guard lk(st.mu);
        --st.open;
      }
    } on_exit{*this};
    auto [hec] = co_await s->async_handshake(net::ssl::stream_base::server, net::as_tuple(net::use_awaitable));
    if (hec) co_return;
    const char* sni = SSL_get_servername(s->native_handle(), TLSEXT_NAMETYPE_host_name);
    const std::string server_name = sni ? sni : "";
    beast::flat_buffer buf;
    for (;;) {
      bhttp::request<bhttp::string_body> req;
      auto [rec, n] = co_await bhttp::async_read(*s, buf, req, net::as_tuple(net::use_awaitable));
      if (rec) co_return;
      seen_request seen{std::string(req.method_string()),
                        std::string(req.target()),
                        req.body(),
                        std::string(req[bhttp::field::authorization]),
                        id,
                        server_name,
                        std::chrono::system_clock::now(),
                        std::string(req[bhttp::field::user_agent])};
      {
        std::lock_guard lk(mu);
        log.push_back(seen);
      }
      const reply r = fn(seen);
      if (r.delay.count() > 0) {
        net::steady_timer t(ioc, r.delay);
        co_await t.async_wait(net::as_tuple(net::use_awaitable));
      }
      if (r.drop) {
        beast::error_code ignored;
        beast::get_lowest_layer(*s).socket().shutdown(tcp::socket::shutdown_both, ignored);
        beast::get_lowest_layer(*s).close();
        co_return;
      }
      if (!r.raw.empty()) {
        // Whether the write went through does not matter: the connection ends either way.
        (void)co_await net::async_write(*s, net::buffer(r.raw), net::as_tuple(net::use_awaitable));
        beast::error_code ignored;
        beast::get_lowest_layer(*s).socket().shutdown(tcp::socket::shutdown_both, ignored);
        beast::get_lowest_layer(*s).close();
        co_return;
      }
      bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), 11};
      res.set(bhttp::field::content_type, "application/json; charset=utf-8");
      for (const auto& [k, v] : r.headers) res.set(k, v);
      res.body() = r.body;
      res.keep_alive(!r.close && req.keep_alive());
      res.prepare_payload();
      auto [wec, w] = co_await bhttp::async_write(*s, res, net::as_tuple(net::use_awaitable));
      if (wec || !res.keep_alive()) {
        beast::get_lowest_layer(*s).close();
        co_return;
      }
    }
  }

  net::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, sock] = co_await acceptor.async_accept(net::as_tuple(net::use_awaitable));
      if (ec) co_return;
      auto s = std::make_shared<stream_t>(std::move(sock), ctx);
      std::uint64_t id = 0;
      {
        std::lock_guard lk(mu);
        id = ++accepted;
        ++open;
        max_open = std::max(max_open, open);
      }
      std::erase_if(streams, [](const auto& w) { return w.expired(); });
      streams.push_back(s);
      net::co_spawn(ioc, session(s, id), net::detached);
    }
  }
};

test_server::test_server(handler h, std::vector<std::string> dns, std::vector<std::string> ips)
    : st_(std::make_shared<state>()) {
  st_->fn = std::move(h);
  const auto p = make_pki(dns, ips);
  st_->ctx.use_certificate_chain(net::buffer(p.cert_pem));
  st_->ctx.use_private_key(net::buffer(p.key_pem), net::ssl::context::pem);
  st_->ca_path =
      "/tmp/a0_client_test_ca_" + std::to_string(::getpid()) + "_" + std::to_string(file_counter.fetch_add(1)) + ".pem";
  std::ofstream(st_->ca_path) << p.ca_pem;

  tcp::endpoint ep{net::ip::make_address("127.0.0.1"), 0};
  st_->acceptor.open(ep.protocol());
  st_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  st_->acceptor.bind(ep);
  st_->acceptor.listen();
  st_->port = st_->acceptor.local_endpoint().port();
  net::co_spawn(st_->ioc, st_->accept_loop(), net::detached);
  st_->thread = std::thread([s = st_.get()] { s->ioc.run(); });
}

test_server::~test_server() {
  net::post(st_->ioc, [s = st_.get()] {
    beast::error_code ignored;
    s->acceptor.close(ignored);
    for (auto& w : s->streams)
      if (auto p = w.lock()) beast::get_lowest_layer(*p).close();
  });
  // Sessions sleeping in a reply delay must not hold up the test: stop after a grace period.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  st_->ioc.stop();
  st_->thread.join();
  std::remove(st_->ca_path.c_str());
}

unsigned short test_server::port() const { return st_->port; }
std::string test_server::domain() const { return "127.0.0.1:" + std::to_string(st_->port); }
const std::string& test_server::ca_file() const { return st_->ca_path; }

std::vector<seen_request> test_server::requests() const {
  std::lock_guard lk(st_->mu);
  return st_->log;
}

std::size_t test_server::count(std::string_view method, std::string_view prefix) const {
  std::lock_guard lk(st_->mu);
  std::size_t n = 0;
  for (const auto& r : st_->log)
    if (r.method == method && std::string_view(r.target).substr(0, prefix.size()) == prefix) ++n;
  return n;
}

std::uint64_t test_server::connections_accepted() const {
  std::lock_guard lk(st_->mu);
  return st_->accepted;
}

std::size_t test_server::max_concurrent_connections() const {
  std::lock_guard lk(st_->mu);
  return st_->max_open;
}

std::size_t test_server::open_connections() const {
  std::lock_guard lk(st_->mu);
  return st_->open;
}

void test_server::drop_all_connections() {
  std::promise<void> done;
  net::post(st_->ioc, [s = st_.get(), &done] {
    for (auto& w : s->streams)
      if (auto p = w.lock()) {
        beast::error_code ignored;
        beast::get_lowest_layer(*p).socket().shutdown(tcp::socket::shutdown_both, ignored);
        beast::get_lowest_layer(*p).close();
      }
    done.set_value();
  });
  done.get_future().wait();
}

silent_listener::silent_listener() {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) throw std::runtime_error("silent_listener: socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 16) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd_);
    throw std::runtime_error("silent_listener: cannot listen on 127.0.0.1");
  }
  port_ = ntohs(addr.sin_port);
}

silent_listener::~silent_listener() { ::close(fd_); }

}  // namespace a0::test
