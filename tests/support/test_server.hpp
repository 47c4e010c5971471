// A scripted HTTPS/1.1 server on 127.0.0.1 for the client's transport tests: each request
// is recorded and answered by a test-supplied function (status, headers, body, delay,
// or a dropped connection). Runs its own io_context on its own thread.
#pragma once

#include "test_pki.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace a0::test {

struct seen_request {
  std::string method, target, body, authorization;
  std::uint64_t connection = 0;  ///< server-side connection number (1-based)
  std::string sni;               ///< the TLS server_name the client sent ("" = none)
  std::chrono::system_clock::time_point at;
  std::string user_agent;
};

struct reply {
  using header_list = std::vector<std::pair<std::string, std::string>>;
  reply(int s = 200, std::string b = "{}", header_list h = {}) : status(s), body(std::move(b)), headers(std::move(h)) {}
  static reply dropped() {
    reply r;
    r.drop = true;
    return r;
  }

  int status = 200;
  std::string body = "{}";
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds delay{0};
  bool drop = false;   ///< close the connection instead of answering (after reading)
  bool close = false;  ///< answer with Connection: close
  /// When non-empty: these bytes are the whole answer, sent as they are (no serialising,
  /// no checks: malformed HTTP too), then the connection is closed (the fuzz target
  /// tests/fuzz/fuzz_client.cpp plays a hostile server with it).
  std::string raw;
};

using handler = std::function<reply(const seen_request&)>;

class test_server {
 public:
  /// Serves a certificate for `dns`/`ips` signed by a fresh CA written to a temp file.
  explicit test_server(handler h, std::vector<std::string> dns = {"localhost"},
                       std::vector<std::string> ips = {"127.0.0.1"});
  ~test_server();
  test_server(const test_server&) = delete;
  test_server& operator=(const test_server&) = delete;

  unsigned short port() const;
  std::string domain() const;  ///< "127.0.0.1:PORT"
  const std::string& ca_file() const;

  std::vector<seen_request> requests() const;
  std::size_t count(std::string_view method, std::string_view target_prefix) const;
  std::uint64_t connections_accepted() const;
  std::size_t max_concurrent_connections() const;
  std::size_t open_connections() const;

  /// Closes every connection from the server side (as an idle timeout would).
  void drop_all_connections();

 private:
  struct state;
  std::shared_ptr<state> st_;
};

/// A listening TCP socket on 127.0.0.1 that never accepts: the kernel completes the TCP
/// handshake, and nothing ever answers the TLS ClientHello (connect-timeout tests).
class silent_listener {
 public:
  silent_listener();
  ~silent_listener();
  silent_listener(const silent_listener&) = delete;
  silent_listener& operator=(const silent_listener&) = delete;
  unsigned short port() const { return port_; }

 private:
  int fd_ = -1;
  unsigned short port_ = 0;
};

}  // namespace a0::test
