// key_lock: FIFO hand-over per key, independent keys, a cancelled waiter leaves the queue.
#include "actions/key_lock.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace asio = boost::asio;
using a0::actions::key_lock;

namespace {
asio::awaitable<void> hold(key_lock& lock, std::string key, std::vector<std::string>& trace, std::string name,
                           std::chrono::milliseconds for_) {
  try {
    auto g = co_await lock.acquire(key);
    trace.push_back(name + "+");
    asio::steady_timer t(co_await asio::this_coro::executor, for_);
    co_await t.async_wait(asio::use_awaitable);
    trace.push_back(name + "-");
  } catch (const boost::system::system_error&) {
    trace.push_back(name + " cancelled");
  }
}
}  // namespace

TEST_CASE("key_lock serialises one key in arrival order and lets other keys run") {
  asio::io_context io;
  key_lock lock;
  std::vector<std::string> trace;
  using namespace std::chrono_literals;
  asio::co_spawn(io, hold(lock, "p1", trace, "a", 20ms), asio::detached);
  asio::co_spawn(io, hold(lock, "p1", trace, "b", 1ms), asio::detached);
  asio::co_spawn(io, hold(lock, "p2", trace, "c", 5ms), asio::detached);
  io.run();
  CHECK(trace == std::vector<std::string>{"a+", "c+", "c-", "a-", "b+", "b-"});
  CHECK(lock.size() == 0);
}

TEST_CASE("a cancelled waiter leaves the queue and the key passes on") {
  asio::io_context io;
  key_lock lock;
  std::vector<std::string> trace;
  using namespace std::chrono_literals;
  asio::cancellation_signal sig;
  asio::co_spawn(io, hold(lock, "p", trace, "a", 20ms), asio::detached);
  asio::co_spawn(io, hold(lock, "p", trace, "b", 1ms), asio::bind_cancellation_slot(sig.slot(), asio::detached));
  asio::co_spawn(io, hold(lock, "p", trace, "c", 1ms), asio::detached);
  asio::steady_timer t(io, 5ms);
  t.async_wait([&](auto) { sig.emit(asio::cancellation_type::terminal); });
  io.run();
  CHECK(trace == std::vector<std::string>{"a+", "b cancelled", "a-", "c+", "c-"});
  CHECK(lock.size() == 0);
}
