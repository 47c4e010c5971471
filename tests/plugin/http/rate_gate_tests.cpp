// http::rate_gate, the Asio front of rate_pacer, on one io_context thread: held requests
// are admitted first come first served once an answer shows room, a cancelled waiter
// leaves the line (and passes its turn on), shutdown releases every waiter with ticket 0,
// and held() counts the requests that waited.
#include "http/rate_gate.hpp"

#include <doctest/doctest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <vector>

namespace asio = boost::asio;
using namespace a0::http;
using std::chrono::milliseconds;

namespace {

const rate_pacer::route reads{0, 0};

struct admission {
  std::optional<std::uint64_t> ticket;
  bool aborted = false;
};

asio::awaitable<void> ask(rate_gate& g, admission& out, std::vector<int>* order = nullptr, int id = 0) {
  try {
    out.ticket = co_await g.admit(reads);
    if (order) order->push_back(id);
  } catch (const boost::system::system_error& e) {
    out.aborted = e.code() == asio::error::operation_aborted;
  }
}

void spawn(asio::io_context& io, rate_gate& g, admission& out, std::vector<int>* order = nullptr, int id = 0,
           asio::cancellation_signal* cancel = nullptr) {
  auto a = ask(g, out, order, id);
  if (cancel)
    asio::co_spawn(io, std::move(a), asio::bind_cancellation_slot(cancel->slot(), [](std::exception_ptr) {}));
  else
    asio::co_spawn(io, std::move(a), [](std::exception_ptr) {});
}

void settle(asio::io_context& io) {
  io.restart();
  io.poll();
}

rate_headers room(long long remaining) { return rate_headers{50, remaining, milliseconds{1000}}; }

// A gate whose route has sent its first request (the probe that learns the bucket), not
// answered yet: every other request waits.
struct probed {
  asio::io_context io;
  rate_gate g{io.get_executor(), milliseconds{10000}};
  admission probe;
  probed() {
    spawn(io, g, probe);
    settle(io);
    REQUIRE(probe.ticket);
  }
};

}  // namespace

TEST_CASE("rate_gate: requests held behind the probe are admitted in the order they came") {
  probed t;
  auto& [io, g, probe] = t;
  std::vector<admission> held(5);
  std::vector<int> order;
  for (int i = 0; i < 5; ++i) spawn(io, g, held[i], &order, i);
  settle(io);
  for (const auto& h : held) CHECK_FALSE(h.ticket);  // until the probe is answered
  CHECK(g.held() == 5);
  g.on_response(*probe.ticket, room(40), false);
  settle(io);
  for (const auto& h : held) CHECK(h.ticket);
  CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
}

TEST_CASE("rate_gate: a cancelled waiter leaves the line, the one behind it still gets its turn") {
  probed t;
  auto& [io, g, probe] = t;
  admission first, second;
  asio::cancellation_signal cancel;
  spawn(io, g, first, nullptr, 0, &cancel);  // the head of the line
  spawn(io, g, second);
  settle(io);
  cancel.emit(asio::cancellation_type::terminal);
  settle(io);
  CHECK(first.aborted);
  CHECK_FALSE(first.ticket);
  CHECK_FALSE(second.ticket);
  g.on_response(*probe.ticket, room(10), false);
  settle(io);
  CHECK(second.ticket);
}

TEST_CASE("rate_gate: a drained bucket holds the next request until a later answer shows room") {
  probed t;
  auto& [io, g, probe] = t;
  admission a, b;
  g.on_response(*probe.ticket, room(1), false);
  spawn(io, g, a);
  settle(io);
  REQUIRE(a.ticket);  // the one token left
  spawn(io, g, b);
  settle(io);
  CHECK_FALSE(b.ticket);  // a is in flight and may take it: nothing is left
  g.on_response(*a.ticket, room(5), false);
  settle(io);
  CHECK(b.ticket);
}

TEST_CASE("rate_gate: shutdown releases every waiter with ticket 0, and later admits return at once") {
  probed t;
  auto& [io, g, probe] = t;
  std::vector<admission> held(3);
  for (auto& h : held) spawn(io, g, h);
  settle(io);
  g.shutdown();
  settle(io);
  for (const auto& h : held) CHECK(h.ticket == std::optional<std::uint64_t>(0));
  admission late;
  spawn(io, g, late);
  settle(io);
  CHECK(late.ticket == std::optional<std::uint64_t>(0));
}

TEST_CASE("rate_gate: a failed request completes its ticket, so the line behind it moves") {
  probed t;
  auto& [io, g, probe] = t;
  admission next;
  spawn(io, g, next);
  settle(io);
  CHECK_FALSE(next.ticket);
  g.on_failure(*probe.ticket, false);  // never reached the server: the next one probes
  settle(io);
  CHECK(next.ticket);
}
