// One run of an asynchronous fetch shared by every caller that needs its result while it
// runs (the Management API token, the tenant's JWKS).
#pragma once

#include "http/wake_signal.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include <exception>
#include <memory>
#include <optional>
#include <utility>

namespace a0::http {

/// The run is detached from its callers, so that one caller's cancellation does not fail
/// the others. Not thread-safe: every call, and the run, stay on one executor (a strand
/// or a single-threaded io_context). The flight holds its run only weakly: a finished run
/// (and its timer) lives no longer than its last waiter, so nothing of it outlasts the
/// io_context it ran on.
template <class T>
class single_flight {
 public:
  /// Joins the run in flight, or starts `start()` (an awaitable<T>) on `ex`; the result
  /// of that run, or what it threw. operation_aborted when this caller was cancelled.
  /// `start` must keep alive whatever the run uses (it outlives this call).
  template <class Start>
  boost::asio::awaitable<T> join(const boost::asio::any_io_executor& ex, Start start) {
    auto r = current_.lock();
    if (!r || r->done) {
      r = std::make_shared<run>(ex);
      current_ = r;
      auto d = drive(r, std::move(start));
      // The completion handler holds the run, so that its signal outlives the operation.
      auto token = boost::asio::bind_cancellation_slot(r->stop.slot(), [r](std::exception_ptr) {});
      boost::asio::co_spawn(ex, std::move(d), std::move(token));
    }
    // The run may already be over: co_spawn can run it inline up to its first suspension.
    if (!r->done) (void)co_await r->done_event.wait();
    if (!r->done) throw boost::system::system_error(boost::asio::error::operation_aborted);
    if (r->error) std::rethrow_exception(r->error);
    co_return *r->value;
  }

  bool in_flight() const noexcept {
    const auto r = current_.lock();
    return r && !r->done;
  }

  /// Wakes the waiters of the run in flight with `e` and cancels the run (shutdown: its
  /// I/O must not keep the owner's io_context busy). What it still brings is dropped;
  /// the next join starts afresh.
  void abandon(std::exception_ptr e) {
    const auto r = current_.lock();
    current_.reset();
    if (!r || r->done) return;
    finish(*r, std::move(e));
    r->stop.emit(boost::asio::cancellation_type::terminal);
  }

 private:
  struct run {
    explicit run(const boost::asio::any_io_executor& ex) : done_event(ex) {}
    wake_signal done_event;                 // notified when the run ends: wakes every waiter
    boost::asio::cancellation_signal stop;  // bound to the detached run: abandon() cancels it
    bool done = false;
    std::exception_ptr error;
    std::optional<T> value;
  };

  static void finish(run& r, std::exception_ptr e) {
    if (r.done) return;
    r.done = true;
    r.error = std::move(e);
    r.done_event.notify();
  }

  // Touches only the run (never this object), so the flight's owner may go first.
  template <class Start>
  static boost::asio::awaitable<void> drive(std::shared_ptr<run> r, Start start) {
    std::exception_ptr error;
    try {
      auto v = co_await start();
      if (!r->done) r->value.emplace(std::move(v));
    } catch (...) {
      error = std::current_exception();
    }
    finish(*r, std::move(error));
  }

  std::weak_ptr<run> current_;
};

}  // namespace a0::http
