// libFuzzer target: the Management API client's handling of whatever a server answers
// (plugin/http + plugin/auth0), over real TLS on 127.0.0.1.
//
// Input: byte 0 picks the call (get_user, patch_user, link, unlink, get_jwks,
// list_connections); the rest is sent as it is as the server's whole answer (status line,
// headers, body; malformed too) by the client tests' scripted server
// (tests/support/test_server, reply::raw), which then closes the connection.
// One client for the whole run (as one plugin instance serves many rows), with a fixed
// Management token, no retries and short waits.
// Checks beyond "no crash": a call fails only with api_exception (nothing else leaves it);
// it succeeds only on a 2xx status line; a failure's http_status is 0 or the status the
// server sent; no error message holds the bearer token.
#include "auth0/management_client.hpp"

#include "test_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace net = boost::asio;
namespace json = boost::json;

namespace {

constexpr std::string_view bearer = "fuzz-bearer-token-5Kd8";

[[noreturn]] void fail(const std::string& what, std::string_view answer) {
  std::fprintf(stderr, "fuzz_client: %s\n  answer: %.*s\n", what.c_str(), static_cast<int>(answer.size()),
               answer.data());
  std::abort();
}

struct rig {
  std::mutex mu;
  std::string answer;  // what the server sends next
  a0::test::test_server server{[this](const a0::test::seen_request&) {
    std::lock_guard lk(mu);
    a0::test::reply r;
    r.raw = answer.empty() ? std::string(" ") : answer;  // empty = a one-byte garbage answer
    return r;
  }};
  net::io_context ioc;
  std::unique_ptr<a0::auth0::management_client> client;

  rig() {
    a0::auth0::client_config cfg;
    cfg.domain = server.domain();
    cfg.token = std::string(bearer);
    cfg.ca_file = server.ca_file();
    cfg.timeout = std::chrono::milliseconds(2000);
    cfg.connect_timeout = std::chrono::milliseconds(2000);
    cfg.max_retries = 0;
    cfg.max_connections = 1;
    cfg.max_backoff = std::chrono::milliseconds(1);  // Retry-After, x-ratelimit-reset, pacing
    client = std::make_unique<a0::auth0::management_client>(ioc.get_executor(), cfg);
  }
};

rig& the_rig() {
  static rig* r = new rig;  // never destroyed: the server thread outlives every input
  return *r;
}

net::awaitable<void> call(a0::auth0::management_client& c, unsigned which) {
  switch (which % 6) {
    case 0: (void)co_await c.get_user("auth0|fuzz", {"user_id", "email"}); break;
    case 1: (void)co_await c.patch_user("auth0|fuzz", json::object{{"user_metadata", json::object{{"a", 1}}}}); break;
    case 2: (void)co_await c.link("auth0|fuzz", json::object{{"provider", "auth0"}, {"user_id", "other"}}); break;
    case 3: (void)co_await c.unlink("auth0|fuzz", "google-oauth2", "123"); break;
    case 4: (void)co_await c.get_jwks(); break;
    default: (void)co_await c.list_connections({"auth0"}, std::nullopt, 5); break;
  }
}

/// The status code of the answer's status line, when it has one ("HTTP/1.x NNN").
std::optional<int> status_of(std::string_view answer) {
  if (answer.size() < 12 || answer.substr(0, 7) != "HTTP/1." || answer[8] != ' ') return std::nullopt;
  int s = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (answer[i] < '0' || answer[i] > '9') return std::nullopt;
    s = s * 10 + (answer[i] - '0');
  }
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return -1;
  rig& r = the_rig();
  const std::string_view answer(reinterpret_cast<const char*>(data) + 1, size - 1);
  {
    std::lock_guard lk(r.mu);
    r.answer = std::string(answer);
  }
  bool done = false;
  std::exception_ptr error;
  net::co_spawn(r.ioc, call(*r.client, data[0]), [&](std::exception_ptr e) {
    done = true;
    error = e;
  });
  r.ioc.restart();
  r.ioc.run();
  if (!done) fail("the call never completed", answer);

  const auto status = status_of(answer);
  if (!error) {
    if (!status || *status < 200 || *status > 299) fail("a call succeeded without a 2xx status line", answer);
    return 0;
  }
  try {
    std::rethrow_exception(error);
  } catch (const a0::auth0::api_exception& e) {
    const a0::auth0::api_error& err = e.error();
    if (err.http_status != 0 && (!status || err.http_status != *status)) {
      fail("http_status " + std::to_string(err.http_status) + " is not the status the server sent", answer);
    }
    if (err.message.find(bearer) != std::string::npos || err.error_code.find(bearer) != std::string::npos) {
      fail("an error message holds the bearer token: " + err.message, answer);
    }
  } catch (const std::exception& e) {
    fail(std::string("the call threw something else than api_exception: ") + e.what(), answer);
  }
  return 0;
}
