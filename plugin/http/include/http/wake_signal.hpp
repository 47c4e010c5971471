// wake_signal: coroutines on one executor sleep until another party wakes them (a lock
// handed over, a pool slot freed, a run finished, a pacing turn), until a time, or until
// their own cancellation. It is Asio's idiom of a steady_timer that never expires and is
// cancelled to wake its waiters, written once.
//
// No memory: notify() wakes the coroutines waiting at that moment; a wait that starts
// later sleeps again. Callers therefore keep their own state (granted, done) set on the
// same executor before notify(), and test it before and after waiting. Not thread-safe:
// use it on one executor (or strand), like the timer it wraps.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace a0::http {

class wake_signal {
 public:
  using clock = boost::asio::steady_timer::clock_type;

  explicit wake_signal(const boost::asio::any_io_executor& ex) : timer_(ex, clock::time_point::max()) {}

  /// Sleeps until notify() or the awaiting coroutine's cancellation; never throws for
  /// either (co_await yields a tuple of the error code, which callers may ignore). Any
  /// number of coroutines may wait at once.
  auto wait() { return timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable)); }

  /// Sleeps until notify(), `until` (max: no time limit) or cancellation. Setting the time
  /// wakes the coroutines already waiting: for a signal with one waiter at a time.
  auto wait_until(clock::time_point until) {
    timer_.expires_at(until);
    return wait();
  }

  /// Wakes every coroutine waiting now.
  void notify() { timer_.cancel(); }

 private:
  boost::asio::steady_timer timer_;
};

}  // namespace a0::http
