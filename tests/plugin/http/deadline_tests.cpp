// deadline_canceller: a deadline and the caller's cancellation for an operation that has
// neither (the resolver). The stand-in operation is a timer that never expires and whose
// wait is bound to no cancellation slot, so only an explicit cancel() ends it.
#include "http/deadline_canceller.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <doctest/doctest.h>

namespace net = boost::asio;
using a0::http::deadline_canceller;
using namespace std::chrono_literals;

namespace {

struct result {
  bool finished = false, cancel_called = false, expired = false;
  boost::system::error_code ec;
};

// Awaits a never-expiring timer that ignores per-operation cancellation, under a
// deadline_canceller whose cancel() cancels the timer.
net::awaitable<void> stubborn_wait(net::steady_timer::duration deadline_in, result& out) {
  auto ex = co_await net::this_coro::executor;
  const auto cs = co_await net::this_coro::cancellation_state;
  net::steady_timer op(ex, net::steady_timer::time_point::max());
  deadline_canceller stop(ex, net::steady_timer::clock_type::now() + deadline_in, cs.slot(), [&] {
    out.cancel_called = true;
    op.cancel();
  });
  auto [ec] =
      co_await op.async_wait(net::bind_cancellation_slot(net::cancellation_slot(), net::as_tuple(net::use_awaitable)));
  out.ec = ec;
  out.expired = stop.expired();
  out.finished = true;
}

}  // namespace

TEST_CASE("deadline_canceller: the deadline cancels an operation that ignores cancellation") {
  net::io_context ioc;
  result r;
  net::co_spawn(ioc, stubborn_wait(50ms, r), net::detached);
  ioc.run_for(10s);
  CHECK(r.finished);
  CHECK(r.cancel_called);
  CHECK(r.expired);
  CHECK(r.ec == net::error::operation_aborted);
}

TEST_CASE("deadline_canceller: the caller's cancellation cancels it too, and is not a timeout") {
  net::io_context ioc;
  result r;
  net::cancellation_signal sig;
  net::co_spawn(ioc, stubborn_wait(1h, r), net::bind_cancellation_slot(sig.slot(), net::detached));
  ioc.poll();  // the coroutine now waits
  REQUIRE_FALSE(r.finished);
  sig.emit(net::cancellation_type::terminal);
  ioc.run_for(10s);
  CHECK(r.finished);
  CHECK(r.cancel_called);
  CHECK_FALSE(r.expired);
}

TEST_CASE("deadline_canceller: once destroyed it cancels nothing") {
  net::io_context ioc;
  bool called = false;
  {
    deadline_canceller stop(ioc.get_executor(), net::steady_timer::clock_type::now(), net::cancellation_slot(),
                            [&] { called = true; });
  }  // destroyed with the deadline already due: its handler finds it disarmed
  ioc.run_for(1s);
  CHECK_FALSE(called);
}
