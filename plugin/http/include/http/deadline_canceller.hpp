// Deadline and caller cancellation for asynchronous operations that support neither (the
// resolver: getaddrinfo runs on a helper thread and only resolver::cancel() ends the wait).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <utility>

namespace a0::http {

/// While alive, calls `cancel` once when `deadline` passes or when `slot` (the awaiting
/// coroutine's: this_coro::cancellation_state.slot()) is emitted. Create it right before
/// awaiting the operation (the operation must not install its own handler in the slot),
/// and on the operation's executor, which `cancel` and the destructor must run on.
class deadline_canceller {
 public:
  deadline_canceller(const boost::asio::any_io_executor& ex, boost::asio::steady_timer::time_point deadline,
                     boost::asio::cancellation_slot slot, std::function<void()> cancel)
      : st_(std::make_shared<state>(std::move(cancel))), timer_(ex, deadline), slot_(slot) {
    timer_.async_wait([st = st_](const boost::system::error_code& ec) {
      if (!ec) st->fire(true);
    });
    if (slot_.is_connected()) slot_.assign([st = st_](boost::asio::cancellation_type) { st->fire(false); });
  }
  ~deadline_canceller() {
    st_->armed = false;  // a timer handler already queued finds it disarmed
    timer_.cancel();
    if (slot_.is_connected() && slot_.has_handler()) slot_.clear();
  }
  deadline_canceller(const deadline_canceller&) = delete;
  deadline_canceller& operator=(const deadline_canceller&) = delete;

  /// The deadline (not the caller) ended the operation.
  bool expired() const noexcept { return st_->expired; }

 private:
  struct state {
    explicit state(std::function<void()> c) : cancel(std::move(c)) {}
    std::function<void()> cancel;
    bool armed = true, expired = false;
    void fire(bool by_deadline) {
      if (!armed) return;
      armed = false;
      expired = by_deadline;
      cancel();
    }
  };
  std::shared_ptr<state> st_;
  boost::asio::steady_timer timer_;
  boost::asio::cancellation_slot slot_;
};

}  // namespace a0::http
