// The Asio front of rate_pacer: held-back requests wait in one FIFO queue per line
// (rate_pacer::queue_of: a bucket, or a route whose bucket is being learnt); only the
// head asks the pacer, sleeping until the time the pacer names; every completion wakes
// the heads (a response may show capacity back) and each admission wakes the next.
// Like tls_pool, every member must be called on one executor (a strand): no locks.
#pragma once

#include "http/rate_pacer.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

namespace a0::http {

class rate_gate {
 public:
  /// `max_wait` caps one wait of the head (rate_pacer); 0 = no pacing.
  rate_gate(boost::asio::any_io_executor ex, std::chrono::milliseconds max_wait);
  ~rate_gate();
  rate_gate(const rate_gate&) = delete;
  rate_gate& operator=(const rate_gate&) = delete;

  /// Waits until a request of route `r` may go out; returns its ticket. Throws
  /// system_error(operation_aborted) when the awaiting coroutine is cancelled. After
  /// shutdown() it returns ticket 0 at once (the transport then refuses the request).
  boost::asio::awaitable<std::uint64_t> admit(rate_pacer::route r);

  /// rate_pacer::set_budget: at most `per_second` requests a second on the routes of `api`.
  void set_budget(unsigned api, double per_second);

  void on_response(std::uint64_t ticket, const std::optional<rate_headers>& h, bool refused);
  void on_failure(std::uint64_t ticket, bool may_have_reached_server);

  /// Releases every waiter (see admit).
  void shutdown();

  /// Requests that were held back at least once (thread-safe read).
  std::uint64_t held() const noexcept;

  struct state;  ///< internal; shared with waiting coroutines

 private:
  std::shared_ptr<state> st_;
};

}  // namespace a0::http
