// Control API: faults, latency, rate limits, log, counters, seed/reset/dump, process life.
#include "helpers.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <thread>

extern char** environ;

using namespace emutest;
using namespace std::chrono_literals;

namespace {
const std::string k_user = "/api/v2/users/auth0%7Cprimary1";
long long now_epoch() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}
}  // namespace

TEST_CASE("ready line: port, CA file and base URL") {
  harness h;
  CHECK(h.emu.port() > 0);
  CHECK(h.emu.base_url() == "https://127.0.0.1:" + std::to_string(h.emu.port()));
  std::ifstream ca(h.emu.ca_file());
  std::string first;
  std::getline(ca, first);
  CHECK(first == "-----BEGIN CERTIFICATE-----");
  // The certificate also names localhost.
  a0::test::https_client lh("localhost", h.emu.port(), h.emu.ca_file());
  CHECK(lh.request("GET", "/__emulator/health").status == 200);
}

TEST_CASE("fault: status with Auth0's error body, next N matches only, method and glob match") {
  harness h;
  h.bearer();
  h.emu.add_fault(
      {{"method", "GET"}, {"path", "/api/v2/users/*"}, {"action", "status"}, {"status", 503}, {"times", 2}});
  check_error(h.get(k_user), 503, "Service Unavailable");
  CHECK(h.call("PATCH", k_user, R"({"nickname":"x"})").status == 200);  // other method: not matched
  check_error(h.get(k_user), 503, "Service Unavailable");
  CHECK(h.get(k_user).status == 200);  // used up
  auto rules = h.emu.dump();
  (void)rules;
  h.emu.add_fault({{"path", "/api/v2/users/auth0|primary1"},
                   {"action", "status"},
                   {"status", 500},
                   {"message", "boom"},
                   {"error_code", "internal"}});
  check_error(h.get(k_user), 500, "boom", "internal");
  h.emu.clear_faults();
  CHECK(h.get(k_user).status == 200);
  // A verbatim body.
  const auto id = h.emu.add_fault({{"path_regex", "^/api/v2/connections$"},
                                   {"action", "status"},
                                   {"status", 502},
                                   {"body", json::object{{"raw", true}}}});
  auto r = h.get("/api/v2/connections");
  CHECK(r.status == 502);
  CHECK(r.body == R"({"raw":true})");
  h.emu.remove_fault(id);
  CHECK(h.get("/api/v2/connections").status == 200);
}

TEST_CASE("fault: probability 0 never fires, 1 always") {
  harness h;
  h.bearer();
  h.emu.add_fault({{"path", "/api/v2/*"}, {"action", "status"}, {"status", 500}, {"probability", 0.0}});
  for (int i = 0; i < 5; ++i) CHECK(h.get(k_user).status == 200);
  h.emu.clear_faults();
  h.emu.add_fault({{"path", "/api/v2/*"}, {"action", "status"}, {"status", 500}, {"probability", 1.0}});
  for (int i = 0; i < 3; ++i) CHECK(h.get(k_user).status == 500);
}

TEST_CASE("fault: 429 with x-ratelimit-reset and Retry-After") {
  harness h;
  h.bearer();
  h.emu.add_fault(
      {{"path", "/api/v2/*"}, {"action", "rate_limit"}, {"reset_in_s", 5}, {"retry_after_s", 3}, {"times", 1}});
  auto r = h.get(k_user);
  check_error(r, 429, "Global limit has been reached", "too_many_requests");
  CHECK(r.header("retry-after") == "3");
  CHECK(r.header("x-ratelimit-remaining") == "0");
  const auto reset = std::stoll(r.header("x-ratelimit-reset"));
  CHECK(reset >= now_epoch() + 3);
  CHECK(reset <= now_epoch() + 6);
  CHECK(h.get(k_user).status == 200);
}

TEST_CASE("fault: reset before the request is applied, reset after it is applied") {
  harness h;
  h.bearer();
  h.emu.add_fault({{"method", "PATCH"}, {"path", "/api/v2/users/*"}, {"action", "reset_before"}, {"times", 1}});
  CHECK_THROWS_AS(h.call("PATCH", k_user, R"({"nickname":"before"})"), std::runtime_error);
  CHECK(obj(h.get(k_user)).at("nickname").as_string() == "one");  // not applied

  h.emu.add_fault({{"method", "PATCH"}, {"path", "/api/v2/users/*"}, {"action", "reset_after"}, {"times", 1}});
  CHECK_THROWS_AS(h.call("PATCH", k_user, R"({"nickname":"after"})"), std::runtime_error);
  CHECK(obj(h.get(k_user)).at("nickname").as_string() == "after");  // applied, answer lost

  // The link's ambiguity: applied, then a retry meets 409.
  h.emu.add_fault({{"method", "POST"}, {"path", "*/identities"}, {"action", "reset_after"}, {"times", 1}});
  CHECK_THROWS(h.call("POST", k_user + "/identities", R"({"provider":"auth0","user_id":"secondary1"})"));
  CHECK(h.call("POST", k_user + "/identities", R"({"provider":"auth0","user_id":"secondary1"})").status == 409);

  auto log = h.emu.request_log();
  int resets = 0;
  for (auto& e : log)
    if (e.as_object().contains("fault") && e.at("status").to_number<int>() == 0) ++resets;
  CHECK(resets == 3);
}

TEST_CASE("latency: fault and global latency delay responses without blocking other connections") {
  harness h;
  h.bearer();
  h.emu.add_fault({{"path", "/api/v2/connections"}, {"action", "latency"}, {"latency_ms", 1500}, {"times", 1}});
  std::atomic<bool> slow_done{false};
  std::atomic<bool> fast_done_first{false};
  const auto tok = h.bearer();
  std::thread slow([&] {
    auto c = h.emu.client();
    auto r = c.request("GET", "/api/v2/connections", {}, {{"Authorization", "Bearer " + tok}});
    slow_done = r.status == 200;
  });
  std::this_thread::sleep_for(200ms);
  CHECK(h.get(k_user).status == 200);
  fast_done_first = !slow_done.load();
  slow.join();
  CHECK(slow_done);
  CHECK(fast_done_first);  // served while the other connection was delayed

  h.emu.set_latency(300);
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(h.get(k_user).status == 200);
  CHECK(std::chrono::steady_clock::now() - t0 >= 300ms);
  h.emu.set_latency(0);
}

TEST_CASE("rate limits: token buckets, headers on every response, 429 shapes per API") {
  harness h;
  h.bearer();
  auto r = h.get(k_user);
  CHECK_FALSE(r.header("x-ratelimit-limit").empty());
  CHECK_FALSE(r.header("x-ratelimit-remaining").empty());
  CHECK(std::stoll(r.header("x-ratelimit-reset")) >= now_epoch() - 1);

  h.emu.set_bucket("management", 3, 0);
  CHECK(h.get(k_user).header("x-ratelimit-remaining") == "2");
  CHECK(h.get(k_user).header("x-ratelimit-remaining") == "1");
  CHECK(h.get(k_user).header("x-ratelimit-remaining") == "0");
  r = h.get(k_user);
  check_error(r, 429, "Global limit has been reached", "too_many_requests");
  CHECK(r.header("x-ratelimit-limit") == "3");
  CHECK(r.header("x-ratelimit-remaining") == "0");
  h.emu.set_bucket("management", 1000, 1000);

  // A per-endpoint bucket: only GET connections are limited.
  h.emu.set_bucket("read-connections", 1, 0, {{"path", "/api/v2/connections*"}, {"methods", json::array{"GET"}}});
  CHECK(h.get("/api/v2/connections").status == 200);
  CHECK(h.get("/api/v2/connections").status == 429);
  CHECK(h.get(k_user).status == 200);
  h.emu.remove_bucket("read-connections");
  CHECK(h.get("/api/v2/connections").status == 200);

  // Refill: 1 token, 20 per second.
  h.emu.set_bucket("management", 1, 20);
  CHECK(h.get(k_user).status == 200);
  std::this_thread::sleep_for(150ms);
  CHECK(h.get(k_user).status == 200);

  h.emu.set_bucket("token", 1, 0, {{"path", "/oauth/token"}});
  CHECK_NOTHROW(h.token());
  auto t = h.http.request("POST", "/oauth/token",
                          json::serialize(json::object{{"grant_type", "client_credentials"},
                                                       {"client_id", "full-client"},
                                                       {"client_secret", "full-secret"},
                                                       {"audience", "https://" + h.emu.domain() + "/api/v2/"}}));
  CHECK(t.status == 429);
  CHECK(obj(t).at("error").as_string() == "too_many_requests");
  CHECK(h.emu.counters().at("rate_limited").to_number<int>() == 3);
}

TEST_CASE("rate limits from the seed, bad bucket settings refused") {
  harness h;
  auto seed = json::parse(R"({"domain":"t.local","clients":[{"client_id":"c","client_secret":"s"}],
    "users":[{"user_id":"auth0|u"}],
    "rate_limits":[{"name":"management","burst":1,"per_second":0,"path":"/api/v2/*"}]})");
  h.emu.seed(seed);
  auto tok = h.emu.token("c", "s");
  CHECK(h.call("GET", "/api/v2/users/auth0%7Cu", {}, tok).status == 200);
  CHECK(h.call("GET", "/api/v2/users/auth0%7Cu", {}, tok).status == 429);
  CHECK_THROWS(h.emu.set_bucket("x", 0, 1));
}

TEST_CASE("request log: method, path, status, whether a token was sent (never the token), clearable") {
  harness h;
  const auto tok = h.bearer();
  h.emu.clear_log();
  h.get(k_user);
  h.call("GET", "/api/v2/users/auth0%7Cghost", {}, "");
  auto log = h.emu.request_log();
  REQUIRE(log.size() == 2);
  CHECK(log[0].at("method").as_string() == "GET");
  CHECK(log[0].at("path").as_string() == k_user);
  CHECK(log[0].at("status").to_number<int>() == 200);
  CHECK(log[0].at("token").as_bool() == true);
  CHECK(log[1].at("status").to_number<int>() == 401);
  CHECK(log[1].at("token").as_bool() == false);
  CHECK(json::serialize(log).find(tok) == std::string::npos);
  h.emu.clear_log();
  CHECK(h.emu.request_log().empty());
}

TEST_CASE("counters: requests, connections, TLS handshakes, resettable") {
  harness h;
  h.get(k_user);  // opens the harness's kept-alive connection
  h.emu.reset_counters();
  for (int i = 0; i < 3; ++i) h.get(k_user);
  auto c = h.emu.counters();
  CHECK(c.at("requests").to_number<int>() == 3);
  CHECK(c.at("connections").to_number<int>() == 0);
  {
    auto other = h.emu.client();
    other.request("GET", "/__emulator/health");
    other.request("GET", "/__emulator/health");
  }
  c = h.emu.counters();
  CHECK(c.at("connections").to_number<int>() == 1);
  CHECK(c.at("tls_handshakes").to_number<int>() == 1);
  CHECK(c.at("control_requests").to_number<int>() >= 2);
  h.emu.reset_counters();
  CHECK(h.emu.counters().at("requests").to_number<int>() == 0);
}

TEST_CASE("seed, reset, dump") {
  harness h;
  h.bearer();
  REQUIRE(h.call("POST", k_user + "/identities", R"({"provider":"auth0","user_id":"secondary1"})").status == 201);
  auto d = h.emu.dump();
  CHECK(d.at("domain").as_string() == "test-tenant.auth0.local");
  CHECK(d.at("users").as_array().size() == 7);
  CHECK(json::serialize(d).find("full-secret") == std::string::npos);  // secrets not dumped
  h.emu.reset();
  CHECK(h.emu.dump().at("users").as_array().size() == 8);
  CHECK(h.get("/api/v2/users/auth0%7Csecondary1").status == 200);

  CHECK_THROWS(h.emu.seed(json::parse(R"({"users":[]})")));  // no domain: refused, state kept
  CHECK(h.emu.dump().at("users").as_array().size() == 8);
  CHECK_THROWS(
      h.emu.seed(json::parse(R"({"domain":"x","connections":[{"id":"con_bad","name":"a","strategy":"auth0"}]})")));
  h.emu.seed(json::parse(
      R"({"domain":"other.local","clients":[{"client_id":"c","client_secret":"s"}],"users":[{"user_id":"auth0|only"}]})"));
  auto tok = h.emu.token("c", "s");
  CHECK(h.call("GET", "/api/v2/users/auth0%7Conly", {}, tok).status == 200);
  CHECK(h.call("GET", k_user, {}, tok).status == 404);
  h.emu.reset();  // back to the last loaded seed
  CHECK(h.emu.dump().at("domain").as_string() == "other.local");
}

TEST_CASE("--generate-users N adds primary/secondary pairs") {
  harness h({"--generate-users", "3"});
  auto p = obj(h.get("/api/v2/users/auth0%7Cp2"));
  auto s = obj(h.get("/api/v2/users/auth0%7Cs2"));
  CHECK(p.at("email") == s.at("email"));
  CHECK(p.at("user_metadata").at("color").as_string() == "red");
  CHECK(s.at("user_metadata").at("color").as_string() == "blue");
  CHECK(h.call("POST", "/api/v2/users/auth0%7Cp2/identities", R"({"provider":"auth0","user_id":"s2"})").status == 201);
}

TEST_CASE("process: SIGTERM is a clean exit, stdin EOF ends it with --exit-on-stdin-eof, bad seed fails") {
  {
    a0::test::emulator emu(test_seed());
    CHECK(emu.terminate() == 0);
  }
  int in[2], out[2];
  REQUIRE(::pipe(in) == 0);
  REQUIRE(::pipe(out) == 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addclose(&fa, in[1]);
  posix_spawn_file_actions_addclose(&fa, out[0]);
  std::string exe = a0::test::emulator::default_executable();
  std::vector<char*> argv{exe.data(), const_cast<char*>("--exit-on-stdin-eof"), nullptr};
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, exe.c_str(), &fa, nullptr, argv.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&fa);
  ::close(in[0]);
  ::close(out[1]);
  char buf[256];
  CHECK(::read(out[0], buf, sizeof buf) > 0);  // the ready line
  ::close(in[1]);                              // EOF
  int status = -1;
  for (int i = 0; i < 250 && ::waitpid(pid, &status, WNOHANG) == 0; ++i) std::this_thread::sleep_for(20ms);
  if (!WIFEXITED(status)) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    FAIL("emulator did not exit on stdin EOF");
  }
  CHECK(WEXITSTATUS(status) == 0);
  ::close(out[0]);

  CHECK_THROWS_AS(a0::test::emulator("/nonexistent/seed.json"), std::runtime_error);
}

TEST_CASE("--cert/--key/--ca: serves the given certificate and reports the given CA file") {
  char dir_tmpl[] = "/tmp/emu-certs-XXXXXX";
  REQUIRE(::mkdtemp(dir_tmpl) != nullptr);
  const std::string dir = dir_tmpl;
  const std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + dir +
                          "/key.pem -out " + dir +
                          "/cert.pem -days 1 -subj /CN=localhost "
                          "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    MESSAGE("openssl CLI not available: skipped");
    return;
  }
  {
    a0::test::emulator emu(test_seed(),
                           {"--cert", dir + "/cert.pem", "--key", dir + "/key.pem", "--ca", dir + "/cert.pem"});
    CHECK(emu.ca_file() == dir + "/cert.pem");
    CHECK(emu.client().request("GET", "/__emulator/health").status == 200);
  }
  std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("--idle-timeout closes idle keep-alive connections, the fixture's control calls reconnect") {
  harness h({"--idle-timeout", "1"});
  h.bearer();
  CHECK(h.get(k_user).status == 200);
  std::this_thread::sleep_for(1500ms);
  CHECK_THROWS_AS(h.get(k_user), std::runtime_error);  // API client: the failure is visible
  CHECK(h.get(k_user).status == 200);                  // and the next call reconnects
  CHECK_NOTHROW(h.emu.counters());                     // control calls retry once by themselves
  CHECK(h.emu.counters().at("connections").to_number<int>() >= 3);
}

TEST_CASE("the CA's temp directory is removed on a clean exit (no --state-dir)") {
  std::string ca;
  {
    a0::test::emulator emu(test_seed());
    ca = emu.ca_file();
    CHECK(std::ifstream(ca).good());
    CHECK(emu.terminate() == 0);
  }
  CHECK_FALSE(std::ifstream(ca).good());
}
