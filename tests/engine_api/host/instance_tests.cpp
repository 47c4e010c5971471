// wfa::host::instance over the test plugin: completions exactly once on plugin threads,
// concurrent execute from several threads, cancel, destroy with work in flight.
#include <wfa/host.hpp>

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace json = boost::json;
using namespace wfa::host;

namespace {

library test_plugin() { return library::open(WFA_TEST_PLUGIN); }

// Collects completions by a caller-chosen key; counts how often each one ran.
class collector {
 public:
  completion make(int key) {
    return [this, key](op_result r) {
      std::lock_guard lock(mu_);
      ++calls_[key];
      results_[key] = std::move(r);
      threads_[key] = std::this_thread::get_id();
      cv_.notify_all();
    };
  }
  bool wait(std::size_t n, std::chrono::seconds limit = std::chrono::seconds(60)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return results_.size() >= n; });
  }
  std::map<int, int> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  op_result result(int key) const {
    std::lock_guard lock(mu_);
    return results_.at(key);
  }
  std::thread::id thread(int key) const {
    std::lock_guard lock(mu_);
    return threads_.at(key);
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<int, int> calls_;
  std::map<int, op_result> results_;
  std::map<int, std::thread::id> threads_;
};

}  // namespace

TEST_CASE("the test plugin loads and describes itself") {
  library lib = test_plugin();
  CHECK(lib.plugin().abi_major == WFA_ABI_MAJOR);
  CHECK(lib.find("test.echo") != nullptr);
  CHECK(lib.find("test.delay") != nullptr);
  CHECK(lib.find("test.fail") != nullptr);
  CHECK(lib.find("test.nope") == nullptr);
}

TEST_CASE("execute: one completion with the outputs, on a plugin thread") {
  library lib = test_plugin();
  collector c;
  {
    instance inst(lib, "{}");
    wfa_op op = inst.execute("test.echo", "{}", R"({"value":{"a":[1,2]}})", c.make(1));
    CHECK(op != 0);
    REQUIRE(c.wait(1));
    op_result r = c.result(1);
    CHECK(r.code == WFA_OK);
    CHECK(json::parse(r.outputs_json).at("value") == json::parse(R"({"a":[1,2]})"));
    CHECK(c.thread(1) != std::this_thread::get_id());
  }
  CHECK(c.calls() == std::map<int, int>{{1, 1}});
}

TEST_CASE("errors arrive with code, message and HTTP status") {
  library lib = test_plugin();
  collector c;
  instance inst(lib, "{}");
  inst.execute("test.fail", "{}", R"({"code":"conflict","message":"exists","http_status":409})", c.make(1));
  inst.execute("test.nope", "{}", "{}", c.make(2));  // unknown action: still one completion
  REQUIRE(c.wait(2));
  CHECK(c.result(1).code == WFA_CONFLICT);
  CHECK(c.result(1).message == "exists");
  CHECK(c.result(1).http_status == 409);
  CHECK(c.result(2).code != WFA_OK);
  CHECK(std::string(code_name(c.result(1).code)) == "conflict");
}

TEST_CASE("1,000 executions from four threads on one instance: each completes exactly once") {
  library lib = test_plugin();
  collector c;
  {
    instance inst(lib, "{}");
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&, t] {
        for (int i = t * 250; i < (t + 1) * 250; ++i)
          inst.execute(i % 2 ? "test.echo" : "test.delay", "{}",
                       i % 2 ? "{\"value\":" + std::to_string(i) + "}" : std::string(R"({"ms":1})"), c.make(i));
      });
    for (auto& th : threads) th.join();
    REQUIRE(c.wait(1000));
  }
  auto calls = c.calls();
  REQUIRE(calls.size() == 1000);
  for (const auto& [key, n] : calls) CHECK(n == 1);
  for (int i = 1; i < 1000; i += 2) CHECK(json::parse(c.result(i).outputs_json).at("value") == i);
}

TEST_CASE("cancel: the operation completes once, as cancelled") {
  library lib = test_plugin();
  collector c;
  instance inst(lib, "{}");
  wfa_op op = inst.execute("test.delay", "{}", R"({"ms":60000})", c.make(1));
  inst.cancel(op);
  inst.cancel(op);  // idempotent
  REQUIRE(c.wait(1, std::chrono::seconds(30)));
  CHECK(c.result(1).code == WFA_CANCELLED);
  inst.cancel(op);  // finished: ignored
  CHECK(c.calls().at(1) == 1);
}

TEST_CASE("destroy with work in flight: every completion has run when the destructor returns") {
  library lib = test_plugin();
  collector c;
  {
    instance inst(lib, "{}");
    for (int i = 0; i < 50; ++i) inst.execute("test.delay", "{}", R"({"ms":60000})", c.make(i));
  }  // ~instance: destroy (WFA-9)
  auto calls = c.calls();
  REQUIRE(calls.size() == 50);
  for (const auto& [key, n] : calls) {
    CHECK(n == 1);
    CHECK(c.result(key).code == WFA_CANCELLED);
  }
}

TEST_CASE("a completion that throws does not escape into the plugin") {
  library lib = test_plugin();
  std::atomic<int> ran{0};
  {
    instance inst(lib, "{}");
    inst.execute("test.echo", "{}", R"({"value":1})", [&](op_result) {
      ++ran;
      throw std::runtime_error("host bug");
    });
  }
  CHECK(ran == 1);
}

TEST_CASE("moving an instance keeps its operations") {
  library lib = test_plugin();
  collector c;
  instance a(lib, "{}");
  a.execute("test.delay", "{}", R"({"ms":1})", c.make(1));
  instance b(std::move(a));
  REQUIRE(c.wait(1));
  CHECK(c.result(1).code == WFA_OK);
  b.execute("test.echo", "{}", R"({"value":2})", c.make(2));
  REQUIRE(c.wait(2));
}
