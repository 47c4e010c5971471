#include "http/stream_download.hpp"

#include "http/deadline_canceller.hpp"
#include "http/header_values.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <stdexcept>
#include <tuple>
#include <vector>

namespace a0::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace urls = boost::urls;
using tcp = net::ip::tcp;
using boost::system::error_code;

namespace {

bool has_control(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

}  // namespace

https_url parse_https_url(std::string_view text) {
  auto bad = [](const std::string& why) { throw std::invalid_argument("URL: " + why); };
  if (has_control(text)) bad("holds control characters");
  auto parsed = urls::parse_absolute_uri(text);
  if (!parsed) bad("is not an absolute URL");
  const urls::url_view u = *parsed;
  // Only https: the file is a tenant's users (personal data), and a pre-signed URL's
  // query is a credential that must not cross the network in clear.
  if (u.scheme_id() != urls::scheme::https)
    bad("scheme '" + std::string(u.scheme()) + "' refused: only https is downloaded");
  if (u.has_userinfo()) bad("must not carry user info");
  https_url out;
  switch (u.host_type()) {
    case urls::host_type::name: out.host = u.host_name(); break;
    case urls::host_type::ipv4: out.host = u.host_ipv4_address().to_string(); break;
    case urls::host_type::ipv6: out.host = u.host_ipv6_address().to_string(); break;
    default: bad("has no usable host");
  }
  if (out.host.empty() || has_control(out.host)) bad("has no usable host");
  out.port = "443";
  if (u.has_port()) {
    const auto n = u.port_number();
    if (n == 0) bad("port must be a number in 1..65535");
    out.port = std::to_string(n);
  }
  out.target = u.encoded_path().empty() ? std::string("/") : std::string(u.encoded_path());
  if (u.has_query()) out.target += "?" + std::string(u.encoded_query());
  out.host_header = u.encoded_host_and_port();
  out.redacted = "https://" + out.host_header + std::string(u.encoded_path());
  return out;
}

std::string redact_url(std::string_view text) {
  if (has_control(text)) return "(unparseable URL)";
  auto parsed = urls::parse_uri_reference(text);
  if (!parsed) return "(unparseable URL)";
  const urls::url_view u = *parsed;
  std::string out;
  if (u.has_scheme()) out += std::string(u.scheme()) + ":";
  if (u.has_authority()) out += "//" + std::string(u.encoded_host_and_port());
  out += std::string(u.encoded_path());
  return out;
}

namespace {

using tls_stream = beast::ssl_stream<beast::tcp_stream>;

bool cancelled_now(const net::cancellation_state& cs) { return cs.cancelled() != net::cancellation_type::none; }

failure classify(const error_code& ec, const net::cancellation_state& cs, failure otherwise) {
  if (ec == beast::error::timeout) return failure::timeout;
  if (ec == net::error::operation_aborted || cancelled_now(cs)) return failure::cancelled;
  return otherwise;
}

// Resolve (unless an IP literal), TCP connect and the verified TLS handshake, under one
// deadline. Fills r.kind/r.ec on failure.
net::awaitable<void> open(tls_stream& stream, const https_url& url, const download_options& opts, download_result& r) {
  const auto cs = co_await net::this_coro::cancellation_state;
  const auto ex = co_await net::this_coro::executor;
  const auto deadline = net::steady_timer::clock_type::now() + opts.connect_timeout;
  auto failed = [&](const error_code& ec, failure otherwise) {
    r.kind = classify(ec, cs, otherwise);
    if (r.kind == failure::timeout) r.kind = failure::connect_timeout;
    r.ec = ec;
  };
  auto& low = beast::get_lowest_layer(stream);
  error_code aec, cec;
  const auto addr = net::ip::make_address(url.host, aec);
  const bool ip_literal = !aec;
  if (ip_literal) {
    low.expires_at(deadline);
    std::tie(cec) = co_await low.async_connect(tcp::endpoint{addr, static_cast<unsigned short>(std::stoul(url.port))},
                                               net::as_tuple(net::use_awaitable));
  } else {
    tcp::resolver resolver(ex);
    tcp::resolver::results_type results;
    error_code rec;
    bool expired = false;
    {
      deadline_canceller stop(ex, deadline, cs.slot(), [&resolver] { resolver.cancel(); });
      std::tie(rec, results) = co_await resolver.async_resolve(url.host, url.port, net::as_tuple(net::use_awaitable));
      expired = stop.expired();
    }
    if (rec) {
      failed(expired ? error_code(beast::error::timeout) : rec, failure::connect);
      co_return;
    }
    low.expires_at(deadline);
    std::tie(cec, std::ignore) = co_await low.async_connect(results, net::as_tuple(net::use_awaitable));
  }
  if (cec) {
    failed(cec, failure::connect);
    co_return;
  }
  if (!ip_literal && !SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str())) {
    r.kind = failure::tls;
    r.ec = error_code(static_cast<int>(::ERR_get_error()), net::error::get_ssl_category());
    co_return;
  }
  stream.set_verify_mode(net::ssl::verify_peer);
  stream.set_verify_callback(net::ssl::host_name_verification(url.host));
  low.expires_at(deadline);
  auto [hec] = co_await stream.async_handshake(net::ssl::stream_base::client, net::as_tuple(net::use_awaitable));
  if (hec) failed(hec, failure::tls);
}

constexpr std::size_t k_chunk = 64 * 1024;
constexpr std::size_t k_error_body = 4096;

}  // namespace

net::awaitable<download_result> stream_get(const https_url& url, const download_options& opts, const chunk_sink& sink) {
  download_result r;
  net::ssl::context ctx{net::ssl::context::tls_client};
  ctx.set_verify_mode(net::ssl::verify_peer);
  ctx.set_default_verify_paths();
  if (!opts.ca_file.empty()) {
    error_code ec;
    ctx.load_verify_file(opts.ca_file, ec);
    if (ec) throw std::runtime_error("ca_file: cannot load PEM trust anchors from the file");
  }
  const auto ex = co_await net::this_coro::executor;
  const auto cs = co_await net::this_coro::cancellation_state;
  tls_stream stream(ex, ctx);
  co_await open(stream, url, opts, r);
  if (r.kind != failure::none) co_return r;

  // No Authorization header, ever: the URL carries its own credential, and the
  // Management token must not leave the tenant (storage hosts refuse both together).
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, url.target, 11};
  req.set(bhttp::field::host, url.host_header);
  if (!opts.user_agent.empty()) req.set(bhttp::field::user_agent, opts.user_agent);
  req.set(bhttp::field::accept, "*/*");
  for (const auto& field : req)
    if (!is_safe_header_value(field.value())) {
      r.kind = failure::refused;
      r.ec = make_error_code(boost::system::errc::invalid_argument);
      co_return r;
    }
  auto& low = beast::get_lowest_layer(stream);
  low.expires_after(opts.idle_timeout);
  auto [wec, written] = co_await bhttp::async_write(stream, req, net::as_tuple(net::use_awaitable));
  (void)written;
  if (wec) {
    r.kind = classify(wec, cs, failure::io);
    r.ec = wec;
    co_return r;
  }

  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::buffer_body> parser;
  // No limit unless asked: an export is far larger than any API answer.
  if (opts.max_bytes)
    parser.body_limit(opts.max_bytes);
  else
    parser.body_limit(boost::none);
  low.expires_after(opts.idle_timeout);
  auto [hec, hn] = co_await bhttp::async_read_header(stream, buffer, parser, net::as_tuple(net::use_awaitable));
  (void)hn;
  if (hec) {
    r.kind = classify(hec, cs, failure::io);
    r.ec = hec;
    co_return r;
  }
  r.status = parser.get().result_int();
  const bool ok = r.status >= 200 && r.status <= 299;
  std::vector<char> chunk(k_chunk);
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    low.expires_after(opts.idle_timeout);
    auto [rec, n] = co_await bhttp::async_read(stream, buffer, parser, net::as_tuple(net::use_awaitable));
    (void)n;
    if (rec == bhttp::error::need_buffer) rec = {};
    const std::size_t got = chunk.size() - parser.get().body().size;
    if (got) {
      if (ok) {
        r.bytes += got;
        sink(std::string_view(chunk.data(), got));
      } else if (r.error_body.size() < k_error_body) {
        r.error_body.append(chunk.data(), std::min(got, k_error_body - r.error_body.size()));
      }
    }
    if (rec) {
      r.kind = rec == bhttp::error::body_limit ? failure::too_large : classify(rec, cs, failure::io);
      r.ec = rec;
      co_return r;
    }
    if (!ok && r.error_body.size() >= k_error_body) break;  // enough to say why
  }
  error_code ignored;
  low.socket().close(ignored);
  co_return r;
}

}  // namespace a0::http
