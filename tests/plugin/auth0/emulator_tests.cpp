// The Management API client against the real auth0-emulator (a spawned child over
// HTTPS, tests/support/emulator_fixture.hpp): what the scripted server of
// transport_tests.cpp cannot show, because here the other side is a stateful tenant that
// checks tokens, applies links, pages connections and rate-limits with Auth0's headers.
// The emulator's request log (method, path as sent, status, whether a bearer was sent)
// is the witness for what went over the wire.
#include "auth0/management_client.hpp"
#include "emulator_fixture.hpp"
#include "run_helpers.hpp"

#include <boost/asio/thread_pool.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_to.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace a0;
using namespace a0::auth0;
using namespace a0::test;
namespace net = boost::asio;
namespace json = boost::json;

namespace {

constexpr const char* k_primary = "google-oauth2|115015401343387192604";
constexpr const char* k_secondary = "auth0|5f7c8ec7c33c6c004bbafe82";
constexpr const char* k_secondary_bare = "5f7c8ec7c33c6c004bbafe82";

// The config as a user writes it (the manifest's connection object), so the default
// audience https://127.0.0.1:PORT/api/v2/ is the one the client derives itself.
client_config config_for(const emulator& emu, json::object extra = {}) {
  json::object o{{"domain", emu.domain()},
                 {"client_id", emulator::demo_client_id},
                 {"client_secret", emulator::demo_client_secret},
                 {"ca_file", emu.ca_file()},
                 {"max_backoff_ms", 3000}};
  for (auto& kv : extra) o[kv.key()] = kv.value();
  return client_config::from_json(o);
}

// The client's executor: two threads, as in transport_tests.cpp (strand confinement).
struct env {
  net::thread_pool threads{2};
  net::any_io_executor ex = threads.get_executor();

  template <class T>
  T run(net::awaitable<T> aw) {
    return start(ex, std::move(aw)).get();
  }
};

// Collects the client's log lines (written from the io threads).
struct log_sink {
  std::mutex m;
  std::vector<std::string> lines;
  log_fn fn() {
    return [this](a0::auth0::log_level, std::string_view msg) {
      std::lock_guard lk(m);
      lines.emplace_back(msg);
    };
  }
  std::string all() {
    std::lock_guard lk(m);
    std::string s;
    for (const auto& l : lines) s += l + "\n";
    return s;
  }
};

template <class F>
api_error expect_error(F&& f) {
  try {
    f();
  } catch (const api_exception& e) {
    return e.error();
  }
  FAIL("expected an api_exception");
  return {};
}

struct log_entry {
  std::string method, path;
  long status = 0;
  bool bearer = false;
};

std::vector<log_entry> wire_log(emulator& emu) {
  std::vector<log_entry> out;
  for (const auto& v : emu.request_log()) {
    const auto& o = v.as_object();
    out.push_back({json::value_to<std::string>(o.at("method")), json::value_to<std::string>(o.at("path")),
                   o.at("status").to_number<long>(), o.at("token").as_bool()});
  }
  return out;
}

// "METHOD path status" per request, for readable comparisons.
std::vector<std::string> wire_lines(emulator& emu) {
  std::vector<std::string> out;
  for (const auto& e : wire_log(emu)) out.push_back(e.method + " " + e.path + " " + std::to_string(e.status));
  return out;
}

long count_path(emulator& emu, const std::string& method, const std::string& prefix) {
  long n = 0;
  for (const auto& e : wire_log(emu))
    if (e.method == method && e.path.rfind(prefix, 0) == 0) ++n;
  return n;
}

json::object stored_user(emulator& emu, const std::string& id) {
  const auto state = emu.dump();
  for (const auto& u : state.at("users").as_array())
    if (u.at("user_id").as_string() == id) return u.as_object();
  return {};
}

bool has_identity(const json::array& ids, const std::string& provider, const std::string& user_id) {
  for (const auto& i : ids) {
    const auto& o = i.as_object();
    if (o.at("provider").as_string() == provider && json::value_to<std::string>(o.at("user_id")) == user_id)
      return true;
  }
  return false;
}

json::object demo_seed() {
  std::ifstream in(emulator::default_seed());
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str()).as_object();
}

}  // namespace

TEST_CASE("emulator client: one client-credentials token serves many calls, sequential and concurrent") {
  emulator emu;
  emu.reset_counters();  // opens the fixture's control connection before the client's
  env e;
  management_client client(e.ex, config_for(emu));

  for (int i = 0; i < 10; ++i) CHECK(e.run(client.get_user(k_primary)).at("user_id").as_string() == k_primary);
  std::vector<call_future<json::object>> calls;
  for (int i = 0; i < 16; ++i) calls.push_back(start(e.ex, client.get_user(i % 2 ? k_primary : k_secondary)));
  for (auto& f : calls) f.get();

  const auto log = wire_log(emu);
  REQUIRE(log.size() == 27);
  // The token request goes first and carries no bearer; every API call carries one.
  CHECK(log[0].method == "POST");
  CHECK(log[0].path == "/oauth/token");
  CHECK(log[0].status == 200);
  CHECK_FALSE(log[0].bearer);
  long api = 0;
  for (std::size_t i = 1; i < log.size(); ++i) {
    CHECK(log[i].path.rfind("/api/v2/users/", 0) == 0);
    CHECK(log[i].status == 200);
    CHECK(log[i].bearer);
    ++api;
  }
  CHECK(api == 26);
  CHECK(count_path(emu, "POST", "/oauth/token") == 1);
  const auto st = client.statistics();
  CHECK(st.token_requests == 1);
  CHECK(st.requests == 26);
  CHECK(st.retries == 0);
  // Keep-alive: the emulator saw as many TLS handshakes as the client made, no more than
  // the pool holds (max_connections = 16) for 27 requests.
  CHECK(emu.counters().at("tls_handshakes").to_number<long>() == static_cast<long>(st.tls_handshakes));
  CHECK(st.tls_handshakes <= static_cast<std::uint64_t>(client.config().max_connections));
}

TEST_CASE("emulator client: get user with fields, and 404 / 403 mapped with Auth0's message") {
  emulator emu;
  env e;
  management_client client(e.ex, config_for(emu));

  const auto u = e.run(client.get_user(k_primary, {"user_id", "email"}));
  CHECK(u.size() == 2);
  CHECK(u.at("email").as_string() == "jane.doe@example.com");
  CHECK(wire_lines(emu).back() ==
        "GET /api/v2/users/google-oauth2%7C115015401343387192604?fields=user_id,email&include_fields=true 200");

  auto err = expect_error([&] { e.run(client.get_user("auth0|does-not-exist")); });
  CHECK(err.code == a0::auth0::client_errc::not_found);
  CHECK(err.http_status == 404);
  CHECK(err.error_code == "inexistent_user");
  CHECK(err.message.find("The user does not exist.") != std::string::npos);
  CHECK_FALSE(err.retryable);

  // The read-only client has no update:users: a 403 with the scope named, not retried.
  management_client readonly(e.ex, config_for(emu, {{"client_id", "demo-readonly-client"},
                                                    {"client_secret", "demo-readonly-secret-not-a-real-secret"}}));
  emu.clear_log();
  err = expect_error([&] {
    e.run(readonly.patch_user(k_primary, json::object{{"user_metadata", json::object{{"a", 1}}}}));
  });
  CHECK(err.code == a0::auth0::client_errc::forbidden);
  CHECK(err.error_code == "insufficient_scope");
  CHECK(err.message.find("update:users") != std::string::npos);
  CHECK(count_path(emu, "PATCH", "/api/v2/users/") == 1);

  // A wrong secret: the token endpoint's refusal, never the secret itself.
  management_client wrong(e.ex, config_for(emu, {{"client_secret", "wrong-SECRET-value"}}));
  err = expect_error([&] { e.run(wrong.get_user(k_primary)); });
  CHECK(err.code == a0::auth0::client_errc::unauthorized);
  CHECK(err.message.find("wrong-SECRET-value") == std::string::npos);
  CHECK(count_path(emu, "GET", "/api/v2/") == 0);  // nothing sent without a token
}

TEST_CASE("emulator client: PATCH applies Auth0's top-level metadata rule") {
  emulator emu;
  env e;
  management_client client(e.ex, config_for(emu));
  const auto before = stored_user(emu, k_primary).at("user_metadata").as_object();
  REQUIRE(before.contains("language"));
  const auto u = e.run(client.patch_user(
      k_primary, json::object{{"user_metadata", json::object{{"color", "green"}, {"language", nullptr}}}}));
  const auto& md = u.at("user_metadata").as_object();
  CHECK(md.at("color").as_string() == "green");
  CHECK_FALSE(md.contains("language"));                     // null deletes the key
  CHECK(md.at("preferences") == before.at("preferences"));  // untouched keys stay
  CHECK(stored_user(emu, k_primary).at("user_metadata") == md);
}

TEST_CASE("emulator client: link, then 409 on a second link, then unlink") {
  emulator emu;
  env e;
  management_client client(e.ex, config_for(emu));

  const auto ids = e.run(client.link(k_primary, json::object{{"provider", "auth0"}, {"user_id", k_secondary_bare}}));
  CHECK(ids.size() == 2);
  CHECK(has_identity(ids, "auth0", k_secondary_bare));
  CHECK(stored_user(emu, k_secondary).empty());  // Auth0 drops the linked secondary
  CHECK(has_identity(stored_user(emu, k_primary).at("identities").as_array(), "auth0", k_secondary_bare));

  // The same link again: a 409, reported as a conflict and not ambiguous (not applied).
  const auto err = expect_error([&] {
    e.run(client.link(k_primary, json::object{{"provider", "auth0"}, {"user_id", k_secondary_bare}}));
  });
  CHECK(err.code == a0::auth0::client_errc::conflict);
  CHECK(err.http_status == 409);
  CHECK_FALSE(err.ambiguous);

  const auto left = e.run(client.unlink(k_primary, "auth0", k_secondary_bare));
  CHECK(left.size() == 1);
  CHECK_FALSE(has_identity(left, "auth0", k_secondary_bare));
  CHECK(stored_user(emu, k_secondary).at("user_id").as_string() == k_secondary);  // standalone again
  CHECK(wire_lines(emu).back() ==
        "DELETE /api/v2/users/google-oauth2%7C115015401343387192604/identities/auth0/5f7c8ec7c33c6c004bbafe82 200");
}

TEST_CASE("emulator client: database connections, every checkpoint page") {
  emulator emu;
  env e;
  management_client client(e.ex, config_for(emu));

  std::vector<std::string> ids;
  std::optional<std::string> from;
  int pages = 0;
  do {
    auto page = e.run(client.list_connections({"auth0"}, from, 2));
    ++pages;
    for (const auto& c : page.connections) ids.push_back(json::value_to<std::string>(c.at("id")));
    from = page.next;
  } while (from && pages < 10);
  CHECK(pages == 2);
  // Exactly the seed's auth0-strategy connections, each once.
  std::vector<std::string> expected;
  const auto seed = demo_seed();
  for (const auto& c : seed.at("connections").as_array())
    if (c.at("strategy").as_string() == "auth0") expected.push_back(json::value_to<std::string>(c.at("id")));
  std::sort(expected.begin(), expected.end());
  auto got = ids;
  std::sort(got.begin(), got.end());
  CHECK(got == expected);
  const auto lines = wire_lines(emu);
  REQUIRE(lines.size() == 3);
  CHECK(lines[1] == "GET /api/v2/connections?strategy=auth0&take=2 200");
  CHECK(lines[2].rfind("GET /api/v2/connections?strategy=auth0&from=", 0) == 0);
}

TEST_CASE("emulator client: 429 with Retry-After, then success after the advertised wait") {
  emulator emu;
  env e;
  log_sink logs;
  management_client client(e.ex, config_for(emu), logs.fn());
  e.run(client.get_user(k_primary));  // token first: the fault is for the Management call
  emu.clear_log();
  emu.add_fault({{"method", "GET"},
                 {"path", "/api/v2/users/*"},
                 {"action", "rate_limit"},
                 {"retry_after_s", 2},
                 {"reset_in_s", 1},
                 {"times", 1}});

  CHECK(e.run(client.get_user(k_primary)).at("user_id").as_string() == k_primary);
  const auto lines = wire_lines(emu);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "GET /api/v2/users/google-oauth2%7C115015401343387192604 429");
  CHECK(lines[1] == "GET /api/v2/users/google-oauth2%7C115015401343387192604 200");
  CHECK(client.statistics().retries == 1);
  // Retry-After (2 s) wins over x-ratelimit-reset (1 s) and over the backoff (~250 ms).
  CHECK_MESSAGE(logs.all().find("HTTP 429; retry 1 in 2000 ms") != std::string::npos, logs.all());
}

TEST_CASE("emulator client: a real 50/16-style bucket: the client paces and retries, every call succeeds") {
  emulator emu;
  env e;
  management_client client(e.ex, config_for(emu));
  e.run(client.get_user(k_primary));
  // A small bucket: 3 at once, 4 per second. 12 quick calls drain it three times over.
  emu.set_bucket("management", 3, 4, {{"path", "/api/v2/*"}});
  emu.clear_log();
  emu.reset_counters();
  for (int i = 0; i < 12; ++i) CHECK(e.run(client.get_user(k_primary)).at("user_id").as_string() == k_primary);
  long ok = 0, limited = 0;
  for (const auto& l : wire_log(emu)) (l.status == 200 ? ok : limited) += 1;
  CHECK(ok == 12);
  // Without pacing on x-ratelimit-remaining, 12 back-to-back calls against 3 + 4/s would
  // meet a 429 on most calls after the burst; pacing keeps them to the odd one at a
  // second boundary (x-ratelimit-reset has one-second resolution).
  CHECK_MESSAGE(limited <= 3, "429s: ", limited);
  CHECK(emu.counters().at("rate_limited").to_number<long>() == limited);
}

TEST_CASE("emulator client: the JWKS GET is not paced by an empty Read Users bucket") {
  emulator emu;
  env e;
  management_client client(e.ex, config_for(emu));
  // One request per 10 s on the Management API: after one GET its answer says none is
  // left and the next comes in about 10 s (x-ratelimit-reset), far longer than any GET.
  emu.set_bucket("management", 1, 0.1, {{"path", "/api/v2/*"}});
  e.run(client.get_user(k_primary));
  const auto paced_before = client.statistics().paced;
  const auto jwks = e.run(client.get_jwks());
  CHECK(jwks.at("keys").as_array().size() >= 1);
  // Counted with the Read Users GETs, it would have been held until the bucket refilled
  // (the held-request counter covers what the pacer tests show: a drained bucket holds).
  CHECK(client.statistics().paced == paced_before);
}

TEST_CASE("emulator client: 40 concurrent calls against a 5 burst / 10 per second bucket: pacing keeps 429s rare") {
  emulator emu;
  env e;
  // Room for every call at once and enough retries that none fails (both before and
  // after pacing): the 429 count is what differs.
  management_client client(e.ex, config_for(emu, {{"max_connections", 40}, {"max_retries", 10}}));
  emu.set_bucket("management", 5, 10, {{"path", "/api/v2/*"}});
  e.run(client.get_user(k_primary));                             // token, and the bucket's first x-ratelimit-* headers
  emu.set_bucket("management", 5, 10, {{"path", "/api/v2/*"}});  // full again
  emu.reset_counters();
  std::vector<call_future<json::object>> calls;
  for (int i = 0; i < 40; ++i) calls.push_back(start(e.ex, client.get_user(i % 2 ? k_primary : k_secondary)));
  for (auto& f : calls) CHECK(f.get().contains("user_id"));
  const auto counters = emu.counters();
  const long limited = counters.at("rate_limited").to_number<long>();
  const long requests = counters.at("requests").to_number<long>();
  CHECK(requests == 40 + limited);
  // Without pacing on what is left in flight, about every second request met a 429 here
  // (about 139 of 179 requests with the previous rule, which paced only at
  // x-ratelimit-remaining <= 1); now a rare one at most.
  CHECK_MESSAGE(limited <= 4, "429s: ", limited, " of ", requests);
  CHECK(client.statistics().paced > 0);
}

TEST_CASE("emulator client: a cold start with 40 calls at once on a 5 burst bucket: one probe first, then paced") {
  emulator emu;
  env e;
  emu.set_bucket("management", 5, 10, {{"path", "/api/v2/*"}});
  emu.reset_counters();
  management_client client(e.ex, config_for(emu, {{"max_connections", 40}, {"max_retries", 10}}));
  std::vector<call_future<json::object>> calls;
  for (int i = 0; i < 40; ++i) calls.push_back(start(e.ex, client.get_user(i % 2 ? k_primary : k_secondary)));
  for (auto& f : calls) CHECK(f.get().contains("user_id"));
  const long limited = emu.counters().at("rate_limited").to_number<long>();
  const long gets = count_path(emu, "GET", "/api/v2/users/");
  CHECK(gets == 40 + limited);
  // Sent all at once before any answer told the bucket, 35 of the first 40 would meet a 429.
  CHECK_MESSAGE(limited <= 4, "429s: ", limited, " of ", gets);
}

TEST_CASE("emulator client: 503 then success for GET and PATCH, the link POST is never resent") {
  emulator emu;
  env e;
  management_client client(e.ex, config_for(emu, {{"max_backoff_ms", 200}}));
  e.run(client.get_user(k_primary));
  emu.clear_log();

  emu.add_fault({{"method", "GET"}, {"path", "/api/v2/users/*"}, {"action", "status"}, {"status", 503}, {"times", 2}});
  CHECK(e.run(client.get_user(k_primary)).at("user_id").as_string() == k_primary);
  auto lines = wire_lines(emu);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].ends_with(" 503"));
  CHECK(lines[1].ends_with(" 503"));
  CHECK(lines[2].ends_with(" 200"));

  emu.clear_log();
  emu.add_fault(
      {{"method", "PATCH"}, {"path", "/api/v2/users/*"}, {"action", "status"}, {"status", 503}, {"times", 1}});
  const auto u = e.run(client.patch_user(k_primary, json::object{{"user_metadata", json::object{{"step", 1}}}}));
  CHECK(u.at("user_metadata").at("step").as_int64() == 1);
  CHECK(count_path(emu, "PATCH", "/api/v2/users/") == 2);

  // Retries run out: UNAVAILABLE, retryable, after 1 + max_retries attempts.
  emu.clear_log();
  emu.add_fault({{"method", "GET"}, {"path", "/api/v2/users/*"}, {"action", "status"}, {"status", 503}, {"times", 10}});
  auto err = expect_error([&] { e.run(client.get_user(k_primary)); });
  CHECK(err.code == a0::auth0::client_errc::server_error);
  CHECK(err.retryable);
  CHECK(count_path(emu, "GET", "/api/v2/users/") == 1 + client.config().max_retries);
  emu.clear_faults();

  // A 503 on the link: it may have been applied, so it is ambiguous and sent once.
  emu.clear_log();
  emu.add_fault({{"method", "POST"},
                 {"path", "/api/v2/users/*/identities"},
                 {"action", "status"},
                 {"status", 503},
                 {"times", 1}});
  err = expect_error([&] {
    e.run(client.link(k_primary, json::object{{"provider", "auth0"}, {"user_id", k_secondary_bare}}));
  });
  CHECK(err.ambiguous);
  CHECK(err.code == a0::auth0::client_errc::server_error);
  CHECK(count_path(emu, "POST", "/api/v2/users/") == 1);

  // A reset after the link was applied: ambiguous, sent once, and the tenant shows it linked.
  emu.clear_log();
  emu.add_fault({{"method", "POST"}, {"path", "/api/v2/users/*/identities"}, {"action", "reset_after"}, {"times", 1}});
  err = expect_error([&] {
    e.run(client.link(k_primary, json::object{{"provider", "auth0"}, {"user_id", k_secondary_bare}}));
  });
  CHECK(err.ambiguous);
  CHECK(count_path(emu, "POST", "/api/v2/users/") == 1);
  CHECK(has_identity(stored_user(emu, k_primary).at("identities").as_array(), "auth0", k_secondary_bare));
}

TEST_CASE("emulator client: a token that expires mid-run: one 401, one refresh, one retry") {
  emulator emu;
  env e;
  emu.set_token_lifetime(2);
  management_client client(e.ex, config_for(emu));
  // The second user's GET is held 2.5 s before the emulator looks at it: whatever token
  // it carries (at most 2 s of life) has expired by then, so the emulator's own expiry
  // check answers 401, as a real tenant does for a token that ran out in flight.
  emu.add_fault({{"method", "GET"},
                 {"path", std::string("/api/v2/users/") + k_secondary},
                 {"action", "latency"},
                 {"latency_ms", 2500},
                 {"times", 1}});
  CHECK(e.run(client.get_user(k_primary)).at("user_id").as_string() == k_primary);
  CHECK(e.run(client.get_user(k_secondary)).at("user_id").as_string() == k_secondary);

  const auto lines = wire_lines(emu);
  REQUIRE(lines.size() == 5);
  CHECK(lines[0] == "POST /oauth/token 200");
  CHECK(lines[1].ends_with(" 200"));
  CHECK(lines[2] == "GET /api/v2/users/auth0%7C5f7c8ec7c33c6c004bbafe82 401");
  CHECK(lines[3] == "POST /oauth/token 200");
  CHECK(lines[4] == "GET /api/v2/users/auth0%7C5f7c8ec7c33c6c004bbafe82 200");
  CHECK(client.statistics().token_requests == 2);
  CHECK(client.statistics().requests == 3);
}

TEST_CASE("emulator client: a short-lived token is refreshed before it expires (no 401)") {
  emulator emu;
  env e;
  emu.set_token_lifetime(2);
  management_client client(e.ex, config_for(emu));
  e.run(client.get_user(k_primary));
  // Past half of the 2 s lifetime: the client refreshes first instead of sending a token
  // that is about to run out.
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  e.run(client.get_user(k_primary));
  const auto lines = wire_lines(emu);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] == "POST /oauth/token 200");
  CHECK(lines[1].ends_with(" 200"));
  CHECK(lines[2] == "POST /oauth/token 200");
  CHECK(lines[3].ends_with(" 200"));
}

TEST_CASE("emulator client: an untrusted CA is refused before any token is sent") {
  emulator emu;
  emu.reset_counters();  // the fixture's control connection is counted before this point
  env e;
  auto cfg = config_for(emu);
  cfg.ca_file.clear();  // system store only: the emulator's CA is not in it
  cfg.max_retries = 0;
  management_client client(e.ex, cfg);
  const auto err = expect_error([&] { e.run(client.get_user(k_primary)); });
  CHECK(err.code == a0::auth0::client_errc::connection_failed);
  CHECK(err.message.find("TLS") != std::string::npos);
  CHECK(err.message.find(emulator::demo_client_secret) == std::string::npos);
  CHECK(emu.request_log().empty());
  const auto c = emu.counters();
  CHECK(c.at("connections").to_number<long>() >= 1);  // it did reach the emulator
  CHECK(c.at("tls_handshakes").to_number<long>() == 0);
  CHECK(c.at("requests").to_number<long>() == 0);
}

TEST_CASE("emulator client: a certificate for another host name is refused before any token is sent") {
  emulator emu;
  emu.reset_counters();  // the fixture's control connection is counted before this point
  env e;
  const auto port = std::to_string(emu.port());
  {
    // "127.1" reaches the emulator (inet_aton's short form of 127.0.0.1) but is a name the
    // certificate (DNS:localhost, IP:127.0.0.1) does not hold; the CA is trusted.
    management_client client(e.ex, config_for(emu, {{"domain", "127.1:" + port}, {"max_retries", 0}}));
    const auto err = expect_error([&] { e.run(client.get_user(k_primary)); });
    CHECK(err.code == a0::auth0::client_errc::connection_failed);
    CHECK(emu.request_log().empty());
    CHECK(emu.counters().at("connections").to_number<long>() >= 1);
  }
  {
    // The certificate's DNS name (SNI + name check) works with the same CA.
    management_client client(e.ex, config_for(emu, {{"domain", "localhost:" + port}}));
    CHECK(e.run(client.get_user(k_primary)).at("user_id").as_string() == k_primary);
    CHECK(wire_lines(emu).size() == 2);
  }
}

TEST_CASE("emulator client: ids with reserved characters are percent-encoded, one path segment each") {
  emulator emu;
  // A SAML user whose bare id holds a pipe, a slash, '?', '#', '%', '+' and a space.
  const std::string bare = "Neo Link|4081/a?b#c%d+e";
  const std::string secondary = "samlp|" + bare;
  auto seed = demo_seed();
  seed["users"].as_array().push_back(json::object{{"user_id", secondary}, {"email", "neo@example.com"}});
  emu.seed(seed);

  env e;
  management_client client(e.ex, config_for(emu));
  CHECK(e.run(client.get_user(secondary)).at("user_id").as_string() == secondary);
  const auto ids = e.run(client.link(k_primary, json::object{{"provider", "samlp"}, {"user_id", bare}}));
  CHECK(has_identity(ids, "samlp", bare));
  const auto left = e.run(client.unlink(k_primary, "samlp", bare));
  CHECK_FALSE(has_identity(left, "samlp", bare));
  CHECK(stored_user(emu, secondary).at("user_id").as_string() == secondary);

  const auto lines = wire_lines(emu);
  REQUIRE(lines.size() == 4);
  CHECK(lines[1] == "GET /api/v2/users/samlp%7CNeo%20Link%7C4081%2Fa%3Fb%23c%25d%2Be 200");
  CHECK(lines[2] == "POST /api/v2/users/google-oauth2%7C115015401343387192604/identities 201");
  CHECK(lines[3] ==
        "DELETE /api/v2/users/google-oauth2%7C115015401343387192604/identities/samlp/"
        "Neo%20Link%7C4081%2Fa%3Fb%23c%25d%2Be 200");
}

TEST_CASE("emulator client: max_requests_per_second caps the pace below a generous bucket, with no 429") {
  emulator emu;
  env e;
  // The tenant would take 1,000 a second; the budget says 20 (a burst of 20).
  management_client client(e.ex, config_for(emu, {{"max_connections", 40}, {"max_requests_per_second", 20}}));
  emu.set_bucket("management", 1000, 1000, {{"path", "/api/v2/*"}});
  e.run(client.get_user(k_primary));  // the token; one request of the budget
  emu.reset_counters();
  const auto started = std::chrono::steady_clock::now();
  std::vector<call_future<json::object>> calls;
  for (int i = 0; i < 60; ++i) calls.push_back(start(e.ex, client.get_user(i % 2 ? k_primary : k_secondary)));
  for (auto& f : calls) CHECK(f.get().contains("user_id"));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  // 61 requests at 20 a second with a burst of 20: at least (61 - 20) / 20 = 2.05 s. A
  // lower bound only (a slow machine takes longer, never shorter).
  CHECK_MESSAGE(seconds >= 1.9, "60 reads took ", seconds, " s");
  CHECK(emu.counters().at("rate_limited").to_number<long>() == 0);
  CHECK(emu.counters().at("requests").to_number<long>() == 60);
  CHECK(client.statistics().paced > 0);
}
