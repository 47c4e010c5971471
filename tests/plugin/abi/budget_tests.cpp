// The host's rate budget (ABI 1.1, wfa_host.acquire) as libauth0_actions.so uses it,
// against the auth0-emulator: the plugin asks before every request it sends (token
// requests, Management API requests, retries), sends nothing it was not granted, waits
// the milliseconds it is told on a timer, stays cancellable while it waits, and never
// reads acquire from a 1.0 host's shorter wfa_host. Then flowrun's
// --max-requests-per-second: one budget shared by every connection of a run, and the host
// library's rate_acquire (wfa::host::instance).
#include "demo_tenant.hpp"
#include "emulator_fixture.hpp"
#include "plugin_host.hpp"
#include "run_capture.hpp"

#include <wfa/host.hpp>
#include <wfa/plugin.hpp>

#include <boost/json/value_to.hpp>
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace a0::test;
using namespace a0::test::demo;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

const std::string k_get_primary = std::string(R"({"user_id":")") + k_primary + "\"}";

// A host budget the test opens and closes by hand: it grants `allow` asks in all, per
// bucket when `allow_bucket` names one, and answers every other ask with `wait_ms`.
struct test_budget {
  std::mutex mu;
  int allow = 0;                            // grants left (any bucket)
  std::map<std::string, int> allow_bucket;  // grants left for that bucket (unlimited: -1)
  std::uint32_t wait_ms = 20;
  std::map<std::string, int> asks, grants;
  int bad_costs = 0;

  plugin_host::acquire_fn fn() {
    return [this](std::string_view bucket, std::uint32_t cost) -> std::uint32_t {
      std::lock_guard lk(mu);
      const std::string b(bucket);
      ++asks[b];
      if (cost != 1) ++bad_costs;
      auto it = allow_bucket.find(b);
      if (it != allow_bucket.end() && it->second != 0) {
        if (it->second > 0) --it->second;
        ++grants[b];
        return 0;
      }
      if (allow > 0) {
        --allow;
        ++grants[b];
        return 0;
      }
      return wait_ms;
    };
  }
  int asked(const std::string& b) {
    std::lock_guard lk(mu);
    return asks[b];
  }
  int granted(const std::string& b) {
    std::lock_guard lk(mu);
    return grants[b];
  }
  void open(int n) {
    std::lock_guard lk(mu);
    allow += n;
  }
};

std::string management(const emulator& e) { return "auth0:" + e.domain() + ":management"; }
std::string authentication(const emulator& e) { return "auth0:" + e.domain() + ":authentication"; }

// Requests the emulator saw: (token requests, Management API requests).
std::pair<std::size_t, std::size_t> seen(emulator& e) {
  std::size_t tokens = 0, api = 0;
  for (const auto& r : e.request_log()) {
    const auto path = json::value_to<std::string>(r.at("path"));
    if (path.starts_with("/oauth/token")) ++tokens;
    if (path.starts_with("/api/v2/")) ++api;
  }
  return {tokens, api};
}

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 10s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

}  // namespace

TEST_CASE("budget: the plugin asks the host before each request, sends nothing ungranted, asks again after the wait") {
  emulator emu;
  plugin_host host;
  test_budget budget;
  host.set_acquire(budget.fn());
  plugin_instance inst(host, config(emu));
  REQUIRE(inst.get());
  emu.clear_log();

  // Closed: the token request waits; it asks again every wait_ms, and nothing is sent.
  auto p = inst.start("auth0.get-user", "{}", k_get_primary);
  REQUIRE(eventually([&] { return budget.asked(authentication(emu)) >= 5; }));
  CHECK_FALSE(p.done());
  CHECK(seen(emu) == std::pair<std::size_t, std::size_t>{0, 0});
  CHECK(budget.asked(management(emu)) == 0);  // the GET waits for its token first

  // One grant: the token request goes, the GET asks and waits.
  budget.open(1);
  REQUIRE(eventually([&] { return budget.asked(management(emu)) >= 3; }));
  CHECK_FALSE(p.done());
  CHECK(seen(emu) == std::pair<std::size_t, std::size_t>{1, 0});

  budget.open(1000);
  const auto r = p.wait();
  REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
  CHECK(seen(emu) == std::pair<std::size_t, std::size_t>{1, 1});
  CHECK(budget.granted(authentication(emu)) == 1);
  CHECK(budget.granted(management(emu)) == 1);

  // A retry is a request too: a 503 answered GET and its retry, two grants.
  emu.add_fault({{"method", "GET"}, {"path", "/api/v2/users/*"}, {"action", "status"}, {"status", 503}, {"times", 1}});
  emu.clear_log();
  const auto again = inst.run("auth0.get-user", "{}", k_get_primary);
  REQUIRE_MESSAGE(again.code == WFA_OK, again.message);
  CHECK(seen(emu) == std::pair<std::size_t, std::size_t>{0, 2});
  CHECK(budget.granted(management(emu)) == 3);

  // The link with the merge: two GETs, the PATCH, the link; one grant each.
  emu.clear_log();
  const auto link = inst.run("auth0.link-account", R"({"merge_metadata":true})", k_inputs);
  REQUIRE_MESSAGE(link.code == WFA_OK, link.message);
  CHECK(seen(emu) == std::pair<std::size_t, std::size_t>{0, 4});
  CHECK(budget.granted(management(emu)) == 7);
  CHECK(budget.granted(authentication(emu)) == 1);
  std::lock_guard lk(budget.mu);
  CHECK(budget.bad_costs == 0);
  // The bucket names carry the tenant and the API, nothing else (no secret).
  for (const auto& [name, n] : budget.asks) {
    CHECK((name == management(emu) || name == authentication(emu)));
    CHECK(name.find(emulator::demo_client_secret) == std::string::npos);
  }
}

TEST_CASE("budget: the waits the host names are waited (a 40 ms answer to every other ask)") {
  emulator emu;
  plugin_host host;
  std::mutex mu;
  int asks = 0;
  host.set_acquire([&](std::string_view, std::uint32_t) -> std::uint32_t {
    std::lock_guard lk(mu);
    return ++asks % 2 == 1 ? 40 : 0;
  });
  plugin_instance inst(host, config(emu));
  REQUIRE(inst.get());
  // Token, then the GET: each refused once, so at least 2 x 40 ms pass, one after the other.
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = inst.run("auth0.get-user", "{}", k_get_primary);
  const auto took = std::chrono::steady_clock::now() - t0;
  REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
  CHECK(took >= 80ms);
  std::lock_guard lk(mu);
  CHECK(asks == 4);
}

TEST_CASE("budget: an op waiting for the budget is cancelled promptly, times out, and destroy does not wait for it") {
  emulator emu;
  plugin_host host;
  test_budget budget;
  budget.wait_ms = 60000;  // a minute: only cancellation ends these waits
  host.set_acquire(budget.fn());
  emu.clear_log();

  // Waiting for the token request's grant (the token fetch is shared by the instance's
  // ops and outlives a cancelled one: destroying the instance ends it).
  {
    plugin_instance inst(host, config(emu));
    REQUIRE(inst.get());
    auto p = inst.start("auth0.get-user", "{}", k_get_primary);
    REQUIRE(eventually([&] { return budget.asked(authentication(emu)) >= 1; }));
    const auto t0 = std::chrono::steady_clock::now();
    inst.cancel(p.op);
    const auto r = p.wait(5s);
    CHECK(r.code == WFA_CANCELLED);
    CHECK(r.calls == 1);
    CHECK(std::chrono::steady_clock::now() - t0 < 2s);
    const auto d0 = std::chrono::steady_clock::now();
    inst.destroy();
    CHECK(std::chrono::steady_clock::now() - d0 < 2s);
  }
  CHECK(seen(emu) == std::pair<std::size_t, std::size_t>{0, 0});

  // Waiting for a Management API request's grant (the token granted).
  {
    std::lock_guard lk(budget.mu);
    budget.allow_bucket[authentication(emu)] = -1;
  }
  plugin_instance inst(host, config(emu));
  REQUIRE(inst.get());
  auto q = inst.start("auth0.get-user", "{}", k_get_primary);
  REQUIRE(eventually([&] { return budget.asked(management(emu)) >= 1; }));
  auto t0 = std::chrono::steady_clock::now();
  inst.cancel(q.op);
  auto r = q.wait(5s);
  CHECK(r.code == WFA_CANCELLED);
  CHECK(std::chrono::steady_clock::now() - t0 < 2s);

  // The whole-operation deadline ends a wait too: timeout, retryable.
  const auto timed = inst.run("auth0.get-user", "{}", k_get_primary, 300);
  CHECK(timed.code == WFA_TIMEOUT);
  CHECK(timed.retryable);

  // destroy cancels an op that waits, and returns without waiting out the minute.
  const int before = budget.asked(management(emu));
  auto w = inst.start("auth0.get-user", "{}", k_get_primary);
  REQUIRE(eventually([&] { return budget.asked(management(emu)) > before; }));
  t0 = std::chrono::steady_clock::now();
  inst.destroy();
  CHECK(std::chrono::steady_clock::now() - t0 < 2s);
  CHECK(w.wait(1s).code == WFA_CANCELLED);
  // Only the second instance's token went out; no Management API request was sent.
  CHECK(seen(emu) == std::pair<std::size_t, std::size_t>{1, 0});
}

TEST_CASE("budget: a 1.0 host's wfa_host is not read past its end (acquire is never called)") {
  std::atomic<int> trap_calls{0};
  auto trap = [&](std::string_view, std::uint32_t) -> std::uint32_t {
    ++trap_calls;
    return 0;
  };

  // The SDK on its own: a host struct that ends where acquire would start.
  wfa_host old{};
  old.struct_size = offsetof(wfa_host, acquire);
  old.acquire = [](void*, wfa_str, std::uint32_t) -> std::uint32_t { throw 1; };  // must never be called
  const wfa::plugin::host_budget none(&old);
  CHECK_FALSE(static_cast<bool>(none));
  CHECK(none.acquire("auth0:x:management") == 0);
  old.struct_size = offsetof(wfa_host, acquire) + sizeof(old.acquire) - 1;  // one byte short
  CHECK_FALSE(static_cast<bool>(wfa::plugin::host_budget(&old)));
  CHECK_FALSE(static_cast<bool>(wfa::plugin::host_budget(nullptr)));

  // The real plugin against the emulator: a 1.0-sized wfa_host whose memory past its
  // end holds an acquire: the plugin runs unbudgeted and never calls it.
  emulator emu;
  plugin_host host;
  host.set_acquire(trap);
  host.set_host_struct_size(offsetof(wfa_host, acquire));
  {
    plugin_instance inst(host, config(emu));
    REQUIRE(inst.get());
    const auto r = inst.run("auth0.get-user", "{}", k_get_primary);
    REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
  }
  CHECK(trap_calls == 0);
  // The same host at its 1.1 size: now the plugin asks (the trap is a real one).
  host.set_host_struct_size(sizeof(wfa_host));
  {
    plugin_instance inst(host, config(emu));
    REQUIRE(inst.get());
    const auto r = inst.run("auth0.get-user", "{}", k_get_primary);
    REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
  }
  CHECK(trap_calls == 2);  // the token request and the GET
}

TEST_CASE("budget: the host library hands its rate_acquire to the plugin, and a limiter that throws lets requests go") {
  emulator emu;
  const auto lib = wfa::host::library::open(A0_PLUGIN_PATH);
  auto get_user = [&](wfa::host::instance& inst) {
    std::promise<wfa::host::op_result> done;
    auto f = done.get_future();
    inst.execute("auth0.get-user", "{}", k_get_primary, [&done](wfa::host::op_result r) { done.set_value(r); });
    REQUIRE(f.wait_for(30s) == std::future_status::ready);
    return f.get();
  };
  std::mutex mu;
  std::vector<std::string> asked;
  {
    wfa::host::instance inst(lib, config(emu), {}, WFA_LOG_WARN, [&](std::string_view bucket, std::uint32_t cost) {
      std::lock_guard lk(mu);
      asked.emplace_back(std::string(bucket) + " " + std::to_string(cost));
      return std::uint32_t{0};
    });
    const auto r = get_user(inst);
    REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
  }
  {
    std::lock_guard lk(mu);
    CHECK(asked == std::vector<std::string>{authentication(emu) + " 1", management(emu) + " 1"});
  }
  // WFA-3: nothing thrown reaches the plugin's thread; a broken limiter counts as "go".
  wfa::host::instance throwing(lib, config(emu), {}, WFA_LOG_WARN,
                               [](std::string_view, std::uint32_t) -> std::uint32_t { throw std::runtime_error("x"); });
  const auto r = get_user(throwing);
  CHECK_MESSAGE(r.code == WFA_OK, r.message);
}

namespace {

struct flowrun_result {
  std::string out;
  double seconds = 0;
};

// flowrun over a flow with two connections to the emulator's tenant, each row reading the
// primary through both; `extra` are more flowrun arguments.
flowrun_result run_two_connections(emulator& emu, const std::filesystem::path& dir, int rows,
                                   const std::string& extra) {
  const auto flow = dir / "two.flow.json";
  std::ofstream(flow) << R"({"name":"two-connections","plugins":[{"id":"auth0","path":")" A0_PLUGIN_PATH R"("}],
    "connections":{"a":{"plugin":"auth0","config":{}},"b":{"plugin":"auth0","config":{}}},
    "inputs":{"u":{"type":"string"}},
    "steps":[{"id":"via_a","action":"auth0.get-user","connection":"a","inputs":{"user_id":"${{ inputs.u }}"}},
             {"id":"via_b","action":"auth0.get-user","connection":"b","inputs":{"user_id":"${{ inputs.u }}"}}]})";
  const auto rows_file = dir / "rows.jsonl";
  {
    std::ofstream f(rows_file);
    for (int i = 0; i < rows; ++i) f << R"({"u":")" << k_primary << "\"}\n";
  }
  const std::string cmd = "AUTH0_DOMAIN='" + emu.domain() + "' AUTH0_CLIENT_ID='" + emulator::demo_client_id +
                          "' AUTH0_CLIENT_SECRET='" + emulator::demo_client_secret + "' AUTH0_CA_FILE='" +
                          emu.ca_file() + "' '" A0_FLOWRUN_PATH "' run '" + flow.string() + "' --inputs-file '" +
                          rows_file.string() + "' --no-step-outputs " + extra + " 2>&1; echo \"rc=$?\"";
  const auto t0 = std::chrono::steady_clock::now();
  flowrun_result r;
  r.out = run_capture(cmd);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace

TEST_CASE("flowrun --max-requests-per-second: one budget for every connection of the run") {
  emulator emu;
  const auto dir = std::filesystem::temp_directory_path() / ("a0-budget-" + std::to_string(emu.port()));
  std::filesystem::create_directories(dir);
  emu.clear_log();
  // 40 rows x 2 connections = 80 GETs at 20/s with a burst of 20: at least 3 s, however
  // many rows run at once. Two budgets of 20/s (one per connection) would take 1.5 s.
  const auto r = run_two_connections(emu, dir, 40, "--concurrency 16 --max-requests-per-second 20");
  std::filesystem::remove_all(dir);
  CAPTURE(r.out);
  CHECK(r.out.find("rc=0") != std::string::npos);
  const auto [tokens, api] = seen(emu);
  CHECK(tokens == 2);  // one per connection (their own bucket, well within its budget)
  CHECK(api == 80);
  std::size_t refused = 0;
  for (const auto& e : emu.request_log())
    if (e.at("status") == 429) ++refused;
  CHECK(refused == 0);
  // burst + rate x time >= requests: the run cannot be shorter than (80 - 20) / 20 s.
  MESSAGE("80 GETs through 2 connections at --max-requests-per-second 20 took ", r.seconds,
          " s: ", (api - 20) / r.seconds, " requests/s after the burst");
  CHECK(r.seconds >= 2.9);
  CHECK(r.seconds < 20);  // the budget is used, not merely respected (loose: a loaded machine)
}

TEST_CASE("flowrun --max-requests-per-second refuses a value that is not a positive rate") {
  for (const char* bad : {"0", "-1", "abc", "1e7", "nan", "2x", ""}) {
    CAPTURE(bad);
    const std::string out = run_capture("'" A0_FLOWRUN_PATH "' run /nonexistent.flow.json --max-requests-per-second '" +
                                        std::string(bad) + "' 2>&1; echo \"rc=$?\"");
    CAPTURE(out);
    CHECK(out.find("rc=2") != std::string::npos);
    CHECK(out.find("--max-requests-per-second needs a number") != std::string::npos);
  }
  const std::string missing =
      run_capture("'" A0_FLOWRUN_PATH "' run /nonexistent.flow.json --max-requests-per-second 2>&1; echo \"rc=$?\"");
  CHECK(missing.find("--max-requests-per-second needs a number") != std::string::npos);
}
