// libwfa_runner.so through its C API (wfa/runner.h) over libwfa_test_plugin.so: open's
// errors, ok / failed / invalid rows through done, the result lines byte for byte against
// flowrun's for the same rows, the options (log, no_step_outputs, max_retry_wait,
// acquire), cancel, and exactly-once delivery under concurrent run + cancel + close.
#include "../flow_scratch.hpp"
#include "subprocess.hpp"

#include <wfa/runner.h>

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

const std::string flowrun = WFA_FLOWRUN;
const std::string plugin = WFA_TEST_PLUGIN;
const std::string acquire_plugin = WFA_ACQUIRE_PLUGIN;

wfa_str str(const std::string& s) { return wfa_str{s.data(), s.size()}; }

struct scratch : wfa::test::flow_scratch {
  scratch() : flow_scratch(plugin, "wfa-runner-") {}
};

// A copy of a wfa_row_result (borrowed for the done call only).
struct row_copy {
  int32_t status = -1;
  std::string line;
  int32_t code = -1;
  uint32_t retryable = 0, retry_after_s = 0;
};

thread_local bool inside_run = false;  // set around wfa_runner_run: done must never run inside it

// The rows of a test: each one's done calls counted; waits for them.
struct rows {
  struct slot {
    rows* owner;
    std::size_t index;
  };
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::unique_ptr<slot>> slots;
  std::vector<row_copy> results;
  std::vector<int> calls;
  std::atomic<int> inside_calls{0};
  std::size_t finished = 0;

  static void done(void* user, const wfa_row_result* r) {
    auto* s = static_cast<slot*>(user);
    if (inside_run) s->owner->inside_calls++;
    std::lock_guard lock(s->owner->mu);
    row_copy& c = s->owner->results[s->index];
    c.status = r->status;
    c.line.assign(r->line.data, r->line.size);
    c.code = r->code;
    c.retryable = r->retryable;
    c.retry_after_s = r->retry_after_s;
    ++s->owner->calls[s->index];
    ++s->owner->finished;
    s->owner->cv.notify_all();
  }

  // A slot for the next row (before the run, so that done finds it).
  void* next_slot() {
    std::lock_guard lock(mu);
    slots.push_back(std::make_unique<slot>(slot{this, slots.size()}));
    results.emplace_back();
    calls.push_back(0);
    return slots.back().get();
  }

  wfa_runner_row run(wfa_runner_flow* f, const std::string& inputs, uint64_t row) {
    void* user = next_slot();
    inside_run = true;
    wfa_runner_row h = wfa_runner_run(f, str(inputs), row, &rows::done, user);
    inside_run = false;
    return h;
  }

  bool wait(std::size_t n, std::chrono::seconds limit = std::chrono::seconds(30)) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, limit, [&] { return finished >= n; });
  }

  // Runs one row and waits for it.
  row_copy one(wfa_runner_flow* f, const std::string& inputs, uint64_t row = 0) {
    std::size_t before;
    {
      std::lock_guard lock(mu);
      before = finished;
    }
    REQUIRE(run(f, inputs, row) != 0);
    REQUIRE(wait(before + 1));
    std::lock_guard lock(mu);
    return results.back();
  }
};

struct opened {
  wfa_runner_flow* flow = nullptr;
  wfa_error err{sizeof(wfa_error), 0, {}};
  opened(const std::string& path, const wfa_runner_options* o = nullptr, uint32_t major = WFA_RUNNER_MAJOR) {
    flow = wfa_runner_open(major, WFA_RUNNER_MINOR, str(path), o, &err);
  }
  ~opened() { wfa_runner_close(flow); }
  std::string message() const { return err.message; }
};

wfa_runner_options zeroed() {
  wfa_runner_options o{};
  o.struct_size = sizeof o;
  return o;
}

const char* echo_flow = R"({
  "inputs": {"name": {"type": "string"}},
  "steps": [{"id": "a", "action": "test.echo", "connection": "local", "inputs": {"value": "hi ${{ inputs.name }}"}}],
  "outputs": {"greeting": "${{ steps.a.outputs.value }}"}})";

}  // namespace

TEST_CASE("open: a missing flow file is invalid_input naming it; another major is incompatible") {
  scratch s;
  const std::string missing = (s.dir / "nope.flow.json").string();
  opened a(missing);
  CHECK(a.flow == nullptr);
  CHECK(a.err.code == WFA_INVALID_INPUT);
  CHECK(a.message().find("nope.flow.json") != std::string::npos);

  opened b(s.flow(echo_flow), nullptr, WFA_RUNNER_MAJOR + 1);
  CHECK(b.flow == nullptr);
  CHECK(b.err.code == WFA_INCOMPATIBLE);
  CHECK(b.message().find("2.0") != std::string::npos);
  CHECK(b.message().find("1.0") != std::string::npos);
  // No error struct: still refused, nothing written.
  CHECK(wfa_runner_open(WFA_RUNNER_MAJOR + 1, 0, str(s.flow(echo_flow)), nullptr, nullptr) == nullptr);
}

TEST_CASE("open: a flow that does not validate gives every error, one per line; a refused config the plugin's") {
  scratch s;
  opened a(s.flow(R"({
    "steps": [{"id": "a", "action": "test.nope", "connection": "local", "inputs": {}},
              {"id": "b", "action": "test.echo", "connection": "local", "inputs": {}}]})"));
  REQUIRE(a.flow == nullptr);
  CHECK(a.err.code == WFA_INVALID_INPUT);
  const std::string m = a.message();
  INFO(m);
  CHECK(m.find("step a: ") != std::string::npos);
  CHECK(m.find("test.nope") != std::string::npos);
  CHECK(m.find("step b: inputs.value: required") != std::string::npos);
  CHECK(m.find('\n') != std::string::npos);

  opened b(s.flow(R"({"connections": {"local": {"plugin": "t", "config": {"fail_create": true}}},
    "steps": [{"id": "a", "action": "test.echo", "connection": "local", "inputs": {"value": 1}}]})"));
  REQUIRE(b.flow == nullptr);
  CHECK(b.err.code == WFA_INVALID_INPUT);
  CHECK(b.message().find("connection local: config.fail_create") != std::string::npos);
}

TEST_CASE("run: ok, failed and invalid rows each end through done, never inside the call") {
  scratch s;
  opened f(s.flow(R"({
    "inputs": {"name": {"type": "string"}, "code": {"type": "string"}},
    "steps": [{"id": "a", "action": "test.fail", "connection": "local",
               "inputs": {"code": "${{ inputs.code }}", "message": "no ${{ inputs.name }}", "http_status": 404}}]})"));
  REQUIRE(f.flow != nullptr);
  rows r;
  row_copy failed = r.one(f.flow, R"({"name": "ada", "code": "not_found"})", 3);
  CHECK(failed.status == WFA_ROW_FAILED);
  CHECK(failed.code == WFA_NOT_FOUND);
  CHECK(failed.retryable == 0);
  auto line = json::parse(failed.line).as_object();
  CHECK(line.at("row") == 3);
  CHECK(line.at("steps").at("a").at("error").at("message") == "no ada");
  CHECK(line.at("steps").at("a").at("error").at("http_status") == 404);

  row_copy unavailable = r.one(f.flow, R"({"name": "ada", "code": "unavailable"})");
  CHECK(unavailable.code == WFA_UNAVAILABLE);
  CHECK(unavailable.retryable == 1);

  // Inputs that do not parse, or do not check: a failed row with a top-level error.
  for (const std::string& bad : {std::string("not json"), std::string("[1]"), std::string(R"({"nobody": 1})")}) {
    CAPTURE(bad);
    row_copy inv = r.one(f.flow, bad, 9);
    CHECK(inv.status == WFA_ROW_FAILED);
    CHECK(inv.code == WFA_INVALID_INPUT);
    auto l = json::parse(inv.line).as_object();
    CHECK(l.at("row") == 9);
    CHECK(l.at("status") == "failed");
    CHECK(l.at("steps").as_object().empty());
    CHECK(l.at("error").at("code") == "invalid_input");
  }
  wfa_error err{sizeof(wfa_error), 0, {}};
  CHECK(wfa_runner_check(f.flow, str(R"({"name": "x"})"), &err) == WFA_OK);
  CHECK(wfa_runner_check(f.flow, str(R"({"nobody": 1})"), &err) == WFA_INVALID_INPUT);
  CHECK(std::string(err.message).find("inputs.nobody: unknown input") != std::string::npos);
  CHECK(wfa_runner_check(f.flow, str("{"), &err) == WFA_INVALID_INPUT);

  opened ok(s.flow(echo_flow));
  REQUIRE(ok.flow != nullptr);
  row_copy good = r.one(ok.flow, R"({"name": "ada"})", 1);
  CHECK(good.status == WFA_ROW_OK);
  CHECK(good.code == WFA_OK);
  CHECK(json::parse(good.line).at("outputs") == json::parse(R"({"greeting": "hi ada"})"));
  CHECK(r.inside_calls == 0);
  // Not started: NULL flow or done; done never runs for them.
  CHECK(wfa_runner_run(nullptr, str("{}"), 0, &rows::done, r.next_slot()) == 0);
  CHECK(wfa_runner_run(ok.flow, str("{}"), 0, nullptr, nullptr) == 0);
}

TEST_CASE("the result lines are flowrun's, byte for byte: secrets, secret outputs, failures, a rate-limit retry") {
  scratch s;
  // Two steps; the token (from the environment) is a secret; `secret` is an x-secret
  // output; test.fail fails the first call with its message and succeeds after, with a
  // retry_after_s of 1 s (both runners wait and run the step again).
  const std::string flow = s.flow(R"({
    "connections": {"local": {"plugin": "t", "config": {"token": "${{ env.WFA_RUNNER_TEST_TOKEN }}", "prefix": "p"}}},
    "inputs": {"name": {"type": "string"}, "code": {"type": "string"}, "message": {"type": "string"}},
    "steps": [{"id": "a", "action": "test.echo", "connection": "local",
               "inputs": {"value": {"name": "${{ inputs.name }}"}, "secret": "s3cr3t-${{ inputs.name }}"}},
              {"id": "b", "action": "test.fail", "connection": "local",
               "inputs": {"code": "${{ inputs.code }}", "message": "${{ inputs.message }}", "failures": 1,
                          "details": {"retry_after_s": 1}}}],
    "outputs": {"echo": "${{ steps.a.outputs.value }}", "copy": "${{ steps.a.outputs.secret }}"}})");
  const std::string token = "tok-0123456789abcdef";
  // The rate-limited row last: flowrun runs the next rows while a row waits, and the
  // rows here run one after the other.
  const std::vector<std::string> inputs = {
      R"({"name": "tok-0123456789abcdef", "code": "not_found", "message": "no tok-0123456789abcdef"})",
      R"j({"name": "bob", "code": "conflict", "message": "busy (runner test)"})j",
      R"j({"name": "ada", "code": "rate_limited", "message": "slow down (runner test)"})j",
  };
  std::string file;
  for (const auto& i : inputs) file += i + "\n";
  auto fr = wfa::test::run({flowrun, "run", flow, "--inputs-file", s.write("rows.jsonl", file), "--concurrency", "1"},
                           {{"WFA_RUNNER_TEST_TOKEN", token}});
  INFO(fr.out);
  INFO(fr.err);
  REQUIRE(fr.exit_code == 1);                   // the conflict row fails
  std::map<std::size_t, std::string> expected;  // flowrun prints in completion order
  for (std::size_t p = 0, nl; (nl = fr.out.find('\n', p)) != std::string::npos; p = nl + 1) {
    std::string line = fr.out.substr(p, nl - p);
    expected[json::parse(line).at("row").to_number<std::size_t>()] = line;
  }
  REQUIRE(expected.size() == inputs.size());
  CHECK(fr.err.find("rate limited, retrying in 1 s") != std::string::npos);

  // The same rows one at a time (test.echo counts its calls: the order matters).
  ::setenv("WFA_RUNNER_TEST_TOKEN", token.c_str(), 1);
  std::vector<std::string> logged;
  std::mutex mu;
  auto o = zeroed();
  o.ctx = &logged;
  o.log = [](void* ctx, int32_t, wfa_str line) {
    static_cast<std::vector<std::string>*>(ctx)->emplace_back(line.data, line.size);
  };
  opened f(flow, &o);
  ::unsetenv("WFA_RUNNER_TEST_TOKEN");
  REQUIRE(f.flow != nullptr);
  rows r;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    row_copy got = r.one(f.flow, inputs[i], i);
    CHECK(got.line == expected[i]);
    CHECK(got.line.find(token) == std::string::npos);
    CHECK(got.line.find("s3cr3t") == std::string::npos);
  }
  CHECK(r.results[0].status == WFA_ROW_FAILED);
  CHECK(r.results[0].code == WFA_NOT_FOUND);
  CHECK(r.results[1].code == WFA_CONFLICT);
  CHECK(r.results[2].status == WFA_ROW_OK);  // after the retry
  std::lock_guard lock(mu);
  CHECK(std::count(logged.begin(), logged.end(), "flowrun: row 2: step b: rate limited, retrying in 1 s") == 1);
}

TEST_CASE("options: max_retry_wait_s UINT32_MAX fails a rate-limited row at once with retry_after_s") {
  scratch s;
  const std::string flow = s.flow(R"({
    "steps": [{"id": "a", "action": "test.fail", "connection": "local",
               "inputs": {"code": "rate_limited", "message": "wait", "http_status": 429,
                          "details": {"retry_after_s": 7}}}]})");
  auto o = zeroed();
  o.max_retry_wait_s = UINT32_MAX;
  opened f(flow, &o);
  REQUIRE(f.flow != nullptr);
  rows r;
  const auto start = std::chrono::steady_clock::now();
  row_copy got = r.one(f.flow, "{}");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  CHECK(got.status == WFA_ROW_FAILED);
  CHECK(got.code == WFA_RATE_LIMITED);
  CHECK(got.retryable == 1);
  CHECK(got.retry_after_s == 7);

  // A server asking for 0 s: not retried either (a retry would succeed here: failures 1).
  opened g(s.flow(R"j({
    "steps": [{"id": "a", "action": "test.fail", "connection": "local",
               "inputs": {"code": "rate_limited", "message": "now (runner never-wait test)", "failures": 1,
                          "details": {"retry_after_s": 0}}}]})j"),
           &o);
  REQUIRE(g.flow != nullptr);
  row_copy zero = r.one(g.flow, "{}");
  CHECK(zero.status == WFA_ROW_FAILED);
  CHECK(zero.code == WFA_RATE_LIMITED);
  CHECK(zero.retry_after_s == 0);
}

TEST_CASE("options: no_step_outputs leaves the steps' outputs out; log_threshold passes plugin lines through log") {
  scratch s;
  struct sink {
    std::mutex mu;
    std::vector<std::pair<int32_t, std::string>> lines;
  } logs;
  auto o = zeroed();
  o.no_step_outputs = 1;
  o.log_threshold = 1 + WFA_LOG_DEBUG;
  o.ctx = &logs;
  o.log = [](void* ctx, int32_t level, wfa_str line) {
    auto* l = static_cast<sink*>(ctx);
    std::lock_guard lock(l->mu);
    l->lines.emplace_back(level, std::string(line.data, line.size));
  };
  {
    opened f(s.flow(echo_flow), &o);
    REQUIRE(f.flow != nullptr);
    rows r;
    auto line = json::parse(r.one(f.flow, R"({"name": "x"})").line).as_object();
    CHECK(!line.at("steps").at("a").as_object().contains("outputs"));
    CHECK(line.at("outputs") == json::parse(R"({"greeting": "hi x"})"));
  }
  std::lock_guard lock(logs.mu);
  bool debug = false;
  for (const auto& [level, text] : logs.lines)
    if (level == WFA_LOG_DEBUG && text.find("[debug] local: wfa-test: op ") == 0) debug = true;
  CHECK(debug);
  for (const auto& [level, text] : logs.lines) CHECK(level >= WFA_LOG_DEBUG);
}

TEST_CASE("acquire: wfa_runner_options.acquire reaches the plugin as wfa_host.acquire") {
  scratch s;
  const std::string flow = s.flow(R"({"steps": [{"id": "a", "action": "fx.acquire", "connection": "local",
                                                  "inputs": {"bucket": "tenant:mgmt", "cost": 3}}],
                                      "outputs": {"answer": "${{ steps.a.outputs.answer }}"}})",
                                  acquire_plugin);
  struct budget {
    std::mutex mu;
    std::vector<std::pair<std::string, uint32_t>> asked;
  } b;
  auto o = zeroed();
  o.ctx = &b;
  o.acquire = [](void* ctx, wfa_str bucket, uint32_t cost) -> uint32_t {
    auto* bb = static_cast<budget*>(ctx);
    std::lock_guard lock(bb->mu);
    bb->asked.emplace_back(std::string(bucket.data, bucket.size), cost);
    return 250;
  };
  {
    opened f(flow, &o);
    REQUIRE(f.flow != nullptr);
    rows r;
    row_copy got = r.one(f.flow, "{}");
    CHECK(json::parse(got.line).at("outputs") == json::parse(R"({"answer": 250})"));
  }
  {
    std::lock_guard lock(b.mu);
    REQUIRE(b.asked.size() == 1);
    CHECK(b.asked[0].first == "tenant:mgmt");
    CHECK(b.asked[0].second == 3);
  }
  opened none(flow);  // no acquire: the plugin sees none
  REQUIRE(none.flow != nullptr);
  rows r;
  CHECK(json::parse(r.one(none.flow, "{}").line).at("outputs") == json::parse(R"({"answer": null})"));
}

TEST_CASE("cancel: a step in flight and a retry wait end cancelled at once") {
  scratch s;
  opened f(s.flow(R"({"inputs": {"ms": {"type": "integer"}},
    "steps": [{"id": "a", "action": "test.delay", "connection": "local", "inputs": {"ms": "${{ inputs.ms }}"}}]})"));
  REQUIRE(f.flow != nullptr);
  rows r;
  const auto start = std::chrono::steady_clock::now();
  wfa_runner_row h = r.run(f.flow, R"({"ms": 60000})", 0);
  REQUIRE(h != 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  wfa_runner_cancel(f.flow, h);
  wfa_runner_cancel(f.flow, h);       // idempotent
  wfa_runner_cancel(f.flow, 999999);  // unknown: ignored
  REQUIRE(r.wait(1));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
  CHECK(r.results[0].status == WFA_ROW_CANCELLED);
  CHECK(r.results[0].code == WFA_CANCELLED);
  CHECK(json::parse(r.results[0].line).at("status") == "cancelled");

  opened g(s.flow(R"({"steps": [{"id": "a", "action": "test.fail", "connection": "local",
    "inputs": {"code": "rate_limited", "message": "m", "details": {"retry_after_s": 60}}}]})"));
  REQUIRE(g.flow != nullptr);
  wfa_runner_row w = r.run(g.flow, "{}", 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the first try failed: it waits
  wfa_runner_cancel(g.flow, w);
  REQUIRE(r.wait(2));
  CHECK(r.results[1].status == WFA_ROW_CANCELLED);
  CHECK(json::parse(r.results[1].line).at("steps").at("a").at("error").at("message") == "the row was cancelled");
}

TEST_CASE("close: rows in flight end cancelled, each done once, before close returns") {
  scratch s;
  rows r;
  {
    opened f(
        s.flow(R"({"steps": [{"id": "a", "action": "test.delay", "connection": "local", "inputs": {"ms": 60000}}]})"));
    REQUIRE(f.flow != nullptr);
    for (int i = 0; i < 20; ++i) REQUIRE(r.run(f.flow, "{}", i) != 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto start = std::chrono::steady_clock::now();
    wfa_runner_close(f.flow);
    f.flow = nullptr;
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
    std::lock_guard lock(r.mu);
    CHECK(r.finished == 20);  // every done returned before close did
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::lock_guard lock(r.mu);
  CHECK(r.finished == 20);  // and none came after
  for (std::size_t i = 0; i < 20; ++i) {
    CHECK(r.calls[i] == 1);
    CHECK(r.results[i].status == WFA_ROW_CANCELLED);
  }
}

TEST_CASE("exactly once: many rows, a thread cancelling at random, then close while rows are in flight") {
  scratch s;
  opened f(s.flow(R"({"inputs": {"ms": {"type": "integer"}},
    "steps": [{"id": "a", "action": "test.delay", "connection": "local", "inputs": {"ms": "${{ inputs.ms }}"}},
              {"id": "b", "action": "test.echo", "connection": "local", "inputs": {"value": 1}}]})"));
  REQUIRE(f.flow != nullptr);
  rows r;
  constexpr int n = 600;
  std::vector<std::atomic<wfa_runner_row>> handles(n);
  std::atomic<int> started{0};
  std::atomic<bool> stop{false};
  std::thread hammer([&] {
    std::mt19937 rng(7);
    while (!stop) {
      const int k = started.load();
      if (k > 0) wfa_runner_cancel(f.flow, handles[rng() % k].load());
      if (rng() % 64 == 0) std::this_thread::yield();
    }
  });
  std::mt19937 rng(11);
  for (int i = 0; i < n; ++i) {
    // Some rows invalid, most short, a few long (still in flight at close).
    std::string in =
        i % 50 == 0 ? "{\"ms\": \"x\"}" : "{\"ms\": " + std::to_string(i % 97 == 0 ? 60000 : rng() % 3) + "}";
    handles[i] = r.run(f.flow, in, i);
    REQUIRE(handles[i] != 0);
    started = i + 1;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop = true;
  hammer.join();
  wfa_runner_close(f.flow);
  f.flow = nullptr;
  std::lock_guard lock(r.mu);
  CHECK(r.finished == n);
  int ok = 0, cancelled = 0, failed = 0;
  for (int i = 0; i < n; ++i) {
    CHECK(r.calls[i] == 1);
    ok += r.results[i].status == WFA_ROW_OK;
    cancelled += r.results[i].status == WFA_ROW_CANCELLED;
    failed += r.results[i].status == WFA_ROW_FAILED;
    CHECK(json::parse(r.results[i].line).at("row") == i);
  }
  CHECK(failed == n / 50);
  CHECK(ok + cancelled + failed == n);
  CHECK(r.inside_calls == 0);
}
