// http::wake_signal on one io_context thread: notify() wakes every coroutine waiting at
// that moment (and only those), wait_until() also ends at its time, and the awaiting
// coroutine's cancellation ends a wait without a notify.
#include "http/wake_signal.hpp"

#include <doctest/doctest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <chrono>

namespace asio = boost::asio;
using a0::http::wake_signal;
using namespace std::chrono_literals;

namespace {

// Waits once (until `until`, max = only a notify or cancellation) and counts the wake-up.
asio::awaitable<void> sleeper(wake_signal& s, int& woken, wake_signal::clock::time_point until) {
  if (until == wake_signal::clock::time_point::max())
    (void)co_await s.wait();
  else
    (void)co_await s.wait_until(until);
  ++woken;
}

// Runs the ready handlers only: what has woken by now, without waiting for any timer.
void settle(asio::io_context& io) {
  io.restart();
  io.poll();
}

}  // namespace

TEST_CASE("wake_signal: notify wakes every coroutine waiting then, and only those") {
  asio::io_context io;
  wake_signal s(io.get_executor());
  int woken = 0;
  const auto forever = wake_signal::clock::time_point::max();
  asio::co_spawn(io, sleeper(s, woken, forever), asio::detached);
  asio::co_spawn(io, sleeper(s, woken, forever), asio::detached);
  settle(io);
  CHECK(woken == 0);  // nothing wakes them but a notify
  s.notify();
  settle(io);
  CHECK(woken == 2);
  // No memory: a notify with nobody waiting is lost; a later waiter sleeps.
  s.notify();
  asio::co_spawn(io, sleeper(s, woken, forever), asio::detached);
  settle(io);
  CHECK(woken == 2);
  s.notify();
  settle(io);
  CHECK(woken == 3);
}

TEST_CASE("wake_signal: wait_until ends at its time without a notify, or earlier with one") {
  asio::io_context io;
  wake_signal s(io.get_executor());
  int woken = 0;
  const auto start = wake_signal::clock::now();
  asio::co_spawn(io, sleeper(s, woken, start + 30ms), asio::detached);
  io.run();
  CHECK(woken == 1);
  CHECK(wake_signal::clock::now() - start >= 30ms);

  io.restart();
  asio::co_spawn(io, sleeper(s, woken, wake_signal::clock::now() + 1h), asio::detached);
  settle(io);
  CHECK(woken == 1);
  s.notify();
  io.run();  // returns at once: the hour-long wait ended with the notify
  CHECK(woken == 2);
}

TEST_CASE("wake_signal: cancelling the awaiting coroutine ends its wait, the other waiters stay") {
  asio::io_context io;
  wake_signal s(io.get_executor());
  int woken = 0;
  const auto forever = wake_signal::clock::time_point::max();
  asio::cancellation_signal cancel;
  asio::co_spawn(io, sleeper(s, woken, forever), asio::bind_cancellation_slot(cancel.slot(), asio::detached));
  asio::co_spawn(io, sleeper(s, woken, forever), asio::detached);
  settle(io);
  cancel.emit(asio::cancellation_type::terminal);
  settle(io);
  CHECK(woken == 1);
  s.notify();
  settle(io);
  CHECK(woken == 2);
}
