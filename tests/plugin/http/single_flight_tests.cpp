// http::single_flight on one io_context thread: waiters share one run and its result or
// its error, a cancelled waiter leaves the others and the run alone, abandon() wakes the
// waiters, and a finished run is not reused.
#include "http/single_flight.hpp"

#include <doctest/doctest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace asio = boost::asio;
using a0::http::single_flight;

namespace {

// A fetch that finishes when its gate timer is cancelled, counting how often it started.
struct fake_fetch {
  explicit fake_fetch(asio::io_context& i) : io(i) {}
  asio::io_context& io;
  int starts = 0;
  std::shared_ptr<asio::steady_timer> gate;
  std::string result = "value";
  bool fail = false;

  auto starter() {
    return [this] { return run(); };
  }
  asio::awaitable<std::string> run() {
    ++starts;
    gate = std::make_shared<asio::steady_timer>(io, asio::steady_timer::time_point::max());
    auto g = gate;
    (void)co_await g->async_wait(asio::as_tuple(asio::use_awaitable));
    if (fail) throw std::runtime_error("fetch failed");
    co_return result;
  }
  void release() { gate->cancel(); }
};

struct outcome {
  std::optional<std::string> value;
  std::string error;
};

// A waiter: joins the flight and records what it got. (A function, not a capturing
// lambda: the coroutine frame must not refer to a lambda object that is gone.)
asio::awaitable<void> waiter(asio::any_io_executor ex, single_flight<std::string>& f, fake_fetch& fetch, outcome& out) {
  auto start = fetch.starter();
  try {
    out.value = co_await f.join(ex, std::move(start));
  } catch (const boost::system::system_error& e) {
    out.error = e.code() == asio::error::operation_aborted ? "aborted" : e.what();
  } catch (const std::exception& e) {
    out.error = e.what();
  }
}

void spawn_waiter(asio::io_context& io, single_flight<std::string>& f, fake_fetch& fetch, outcome& out,
                  asio::cancellation_signal* cancel = nullptr) {
  auto w = waiter(io.get_executor(), f, fetch, out);
  if (cancel)
    asio::co_spawn(io, std::move(w), asio::bind_cancellation_slot(cancel->slot(), [](std::exception_ptr) {}));
  else
    asio::co_spawn(io, std::move(w), [](std::exception_ptr) {});
}

void settle(asio::io_context& io) {
  io.restart();
  io.poll();
}

// One waiter joined, its run started and suspended on the fetch's gate.
struct one_waiting {
  asio::io_context io;
  fake_fetch fetch{io};
  single_flight<std::string> f;
  outcome a;
  one_waiting() {
    spawn_waiter(io, f, fetch, a);
    settle(io);
    REQUIRE(fetch.gate);
  }
};

}  // namespace

TEST_CASE("single_flight: waiters while a run is in flight share it and its value, a later join starts anew") {
  asio::io_context io;
  fake_fetch fetch(io);
  single_flight<std::string> f;
  std::vector<outcome> outs(3);
  for (auto& o : outs) spawn_waiter(io, f, fetch, o);
  settle(io);
  CHECK(fetch.starts == 1);
  CHECK(f.in_flight());
  fetch.release();
  settle(io);
  CHECK_FALSE(f.in_flight());
  for (const auto& o : outs) CHECK(o.value == std::optional<std::string>("value"));

  outcome later;
  fetch.result = "second";
  spawn_waiter(io, f, fetch, later);
  settle(io);
  CHECK(fetch.starts == 2);
  fetch.release();
  settle(io);
  CHECK(later.value == std::optional<std::string>("second"));
}

TEST_CASE("single_flight: the run's error reaches every waiter") {
  asio::io_context io;
  fake_fetch fetch(io);
  fetch.fail = true;
  single_flight<std::string> f;
  outcome a, b;
  spawn_waiter(io, f, fetch, a);
  spawn_waiter(io, f, fetch, b);
  settle(io);
  fetch.release();
  settle(io);
  CHECK(fetch.starts == 1);
  CHECK(a.error == "fetch failed");
  CHECK(b.error == "fetch failed");
}

TEST_CASE("single_flight: a cancelled waiter gets operation_aborted, the others still get the run's value") {
  asio::io_context io;
  fake_fetch fetch(io);
  single_flight<std::string> f;
  asio::cancellation_signal cancel;
  outcome first, second;
  spawn_waiter(io, f, fetch, first, &cancel);
  spawn_waiter(io, f, fetch, second);
  settle(io);
  cancel.emit(asio::cancellation_type::terminal);
  settle(io);
  CHECK(first.error == "aborted");
  CHECK(f.in_flight());  // the run goes on for the others
  fetch.release();
  settle(io);
  CHECK(second.value == std::optional<std::string>("value"));
  CHECK(fetch.starts == 1);
}

TEST_CASE("single_flight: abandon wakes the waiters with its error, the next join does not reuse the run") {
  one_waiting t;
  auto& [io, fetch, f, a] = t;
  auto abandoned_gate = fetch.gate;
  f.abandon(std::make_exception_ptr(std::runtime_error("shut down")));
  settle(io);
  CHECK(a.error == "shut down");
  CHECK_FALSE(f.in_flight());

  outcome b;
  spawn_waiter(io, f, fetch, b);
  settle(io);
  CHECK(fetch.starts == 2);
  abandoned_gate->cancel();  // the abandoned run ends; what it brings is dropped
  settle(io);
  CHECK_FALSE(b.value);
  fetch.release();
  settle(io);
  CHECK(b.value == std::optional<std::string>("value"));
}

namespace {
// A fetch that ends at once, without suspending: co_spawn may run it inline, before the
// joiner waits.
asio::awaitable<std::string> immediate_value() { co_return "now"; }
asio::awaitable<std::string> immediate_throw() {
  throw std::runtime_error("failed at once");
  co_return "";
}
template <class F>
asio::awaitable<void> join_with(asio::any_io_executor ex, single_flight<std::string>& f, F fn, outcome& out) {
  try {
    out.value = co_await f.join(ex, std::move(fn));
  } catch (const std::exception& e) {
    out.error = e.what();
  }
}
}  // namespace

TEST_CASE("single_flight: a run that ends before the joiner waits still completes the join") {
  asio::io_context io;
  single_flight<std::string> f;
  outcome a, b;
  auto ja = join_with(
      io.get_executor(), f, [] { return immediate_value(); }, a);
  asio::co_spawn(io, std::move(ja), [](std::exception_ptr) {});
  auto jb = join_with(
      io.get_executor(), f, [] { return immediate_throw(); }, b);
  asio::co_spawn(io, std::move(jb), [](std::exception_ptr) {});
  io.run_for(std::chrono::seconds(5));
  CHECK(io.stopped());  // nothing left waiting
  CHECK(a.value == std::optional<std::string>("now"));
  CHECK(b.error == "failed at once");
}

TEST_CASE("single_flight: a finished run outlives neither its waiters nor its io_context") {
  single_flight<std::string> f;
  {
    asio::io_context io;
    fake_fetch fetch(io);
    outcome a;
    spawn_waiter(io, f, fetch, a);
    settle(io);
    fetch.release();
    settle(io);
    REQUIRE(a.value == std::optional<std::string>("value"));
  }  // the first io_context is gone; the flight must not hold its timer
  asio::io_context io2;
  fake_fetch fetch2(io2);
  outcome b;
  spawn_waiter(io2, f, fetch2, b);  // under ASan: no use of the first context's timer
  settle(io2);
  fetch2.release();
  settle(io2);
  CHECK(b.value == std::optional<std::string>("value"));
  CHECK(fetch2.starts == 1);
}

TEST_CASE("single_flight: abandon cancels the run itself, so its I/O does not keep the context busy") {
  one_waiting t;
  auto& [io, fetch, f, a] = t;
  f.abandon(std::make_exception_ptr(std::runtime_error("shut down")));
  // Without the cancellation the run's gate waits for ever and run_for times out.
  io.restart();
  io.run_for(std::chrono::seconds(5));
  CHECK(io.stopped());
  CHECK(a.error == "shut down");
}
