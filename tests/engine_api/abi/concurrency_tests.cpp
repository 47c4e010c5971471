// The raw ABI under load and across threads: 1,000 operations at once, cancel, destroy
// with work in flight (WFA-9), execute and cancel from four host threads at once.
#include "raw_plugin.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

namespace json = boost::json;
using namespace abi_test;

TEST_CASE("1,000 concurrent executions: each completes exactly once, with unique handles and its own value") {
  wfa_instance* inst = create(R"({"prefix":"c"})");
  collector c;
  std::set<wfa_op> handles;
  for (int i = 0; i < 1000; ++i) {
    wfa_op op = i % 3 == 0
                    ? execute(inst, "test.delay", "{}",
                              R"({"ms":)" + std::to_string(i % 7) + R"(,"value":)" + std::to_string(i) + "}", c, i)
                    : execute(inst, "test.echo", "{}", R"({"value":)" + std::to_string(i) + "}", c, i);
    CHECK(op != 0);
    handles.insert(op);
  }
  CHECK(handles.size() == 1000);
  REQUIRE(c.wait(1000));
  plugin().destroy(inst);
  auto all = c.all();
  REQUIRE(all.size() == 1000);
  std::set<int64_t> ns;
  for (const auto& [i, r] : all) {
    CAPTURE(i);
    CHECK(r.calls == 1);
    REQUIRE(r.code == WFA_OK);
    json::value out = json::parse(r.outputs);
    CHECK(out.at("value") == i);
    if (i % 3 == 0) {
      CHECK(out.at("slept_ms") == i % 7);
    } else {
      CHECK(out.at("prefix") == "c");
      ns.insert(out.at("n").to_number<int64_t>());
    }
  }
  // n counts every execute() on the instance: the echoes got distinct counts in 1..1000.
  CHECK(ns.size() == 666);
  CHECK(*ns.begin() >= 1);
  CHECK(*ns.rbegin() <= 1000);
}

TEST_CASE("cancel: a delay completes once, as cancelled, and cancel again or after completion is harmless") {
  wfa_instance* inst = create();
  collector c;
  wfa_op op = execute(inst, "test.delay", "{}", R"({"ms":600000})", c, 0);
  plugin().cancel(inst, op);
  plugin().cancel(inst, op);  // idempotent
  REQUIRE(c.wait(1));
  completion r = c.get(0);
  CHECK(r.code == WFA_CANCELLED);
  CHECK(r.retryable == 0);
  CHECK(r.outputs.empty());
  plugin().cancel(inst, op);  // finished: ignored

  // An echo that completed, then cancelled: still one completion, with its outputs.
  wfa_op echo = execute(inst, "test.echo", "{}", R"({"value":"kept"})", c, 1);
  REQUIRE(c.wait(2));
  plugin().cancel(inst, echo);
  plugin().cancel(inst, 0);               // never a handle
  plugin().cancel(inst, echo + 1000000);  // not one yet
  // The instance still works, and no callback fired twice.
  execute(inst, "test.echo", "{}", R"({"value":3})", c, 2);
  REQUIRE(c.wait(3));
  plugin().destroy(inst);
  auto all = c.all();
  for (const auto& [key, done] : all) CHECK(done.calls == 1);
  CHECK(json::parse(all.at(1).outputs).at("value") == "kept");
  CHECK(all.at(1).code == WFA_OK);
}

TEST_CASE("destroy with 200 delays in flight: returns after every callback fired exactly once, none after") {
  wfa_instance* inst = create();
  collector c;
  for (int i = 0; i < 200; ++i) execute(inst, "test.delay", "{}", R"({"ms":600000})", c, i);
  // A few already finished ones in between, so that destroy meets both kinds.
  for (int i = 200; i < 210; ++i) execute(inst, "test.echo", "{}", R"({"value":0})", c, i);
  plugin().destroy(inst);
  c.close();
  // No waiting: everything must have happened by the time destroy returned.
  auto all = c.all();
  REQUIRE(all.size() == 210);
  for (const auto& [key, r] : all) {
    CAPTURE(key);
    CHECK(r.calls == 1);
    CHECK_FALSE(r.after_close);
    CHECK(r.code == (key < 200 ? WFA_CANCELLED : WFA_OK));
  }
}

TEST_CASE("destroy right after execute: operations not started yet still complete, as cancelled") {
  for (int round = 0; round < 20; ++round) {
    wfa_instance* inst = create();
    collector c;
    for (int i = 0; i < 20; ++i) execute(inst, "test.delay", "{}", R"({"ms":600000})", c, i);
    plugin().destroy(inst);
    c.close();
    auto all = c.all();
    REQUIRE(all.size() == 20);
    for (const auto& [key, r] : all) {
      CHECK(r.calls == 1);
      CHECK(r.code == WFA_CANCELLED);
    }
  }
}

TEST_CASE("execute and cancel from four host threads at once") {
  wfa_instance* inst = create();
  collector c;
  std::mutex mu;
  std::vector<wfa_op> started;  // every handle, from every thread
  constexpr int per_thread = 150;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int j = 0; j < per_thread; ++j) {
        int key = t * per_thread + j;
        wfa_op op = 0;
        switch (j % 3) {
          case 0: op = execute(inst, "test.delay", "{}", R"({"ms":600000})", c, key); break;  // cancelled below
          case 1: op = execute(inst, "test.delay", "{}", R"({"ms":0})", c, key); break;
          default: op = execute(inst, "test.echo", "{}", R"({"value":)" + std::to_string(key) + "}", c, key); break;
        }
        wfa_op other = 0;
        {
          std::lock_guard lock(mu);
          started.push_back(op);
          other =
              started[(static_cast<std::size_t>(key) * 7919u) % started.size()];  // someone's, maybe another thread's
        }
        plugin().cancel(inst, other);
        if (j % 3 == 0) plugin().cancel(inst, op);
      }
    });
  for (auto& th : threads) th.join();
  REQUIRE(c.wait(4 * per_thread));
  plugin().destroy(inst);
  auto all = c.all();
  REQUIRE(all.size() == 4 * per_thread);
  std::set<wfa_op> unique(started.begin(), started.end());
  CHECK(unique.size() == started.size());
  for (const auto& [key, r] : all) {
    CAPTURE(key);
    CHECK(r.calls == 1);
    int j = key % per_thread;
    if (j % 3 == 0)
      CHECK(r.code == WFA_CANCELLED);
    else  // finished first, or a cancel from some thread got there first
      CHECK((r.code == WFA_OK || r.code == WFA_CANCELLED));
    if (j % 3 == 2 && r.code == WFA_OK) CHECK(json::parse(r.outputs).at("value") == key);
  }
}
