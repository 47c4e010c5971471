#include "http/rate_gate.hpp"
#include "http/wake_signal.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <atomic>
#include <deque>
#include <map>

namespace a0::http {

namespace net = boost::asio;

namespace {
struct waiter {
  explicit waiter(const net::any_io_executor& ex) : wake(ex) {}
  wake_signal wake;  // sleeps until the pacer's time, or until woken
};
using queue = std::deque<std::shared_ptr<waiter>>;
}  // namespace

struct rate_gate::state {
  state(net::any_io_executor e, std::chrono::milliseconds max_wait) : ex(std::move(e)), pacer(max_wait) {}
  net::any_io_executor ex;
  rate_pacer pacer;
  std::map<std::uint64_t, queue> queues;  // by rate_pacer::queue_of
  bool closed = false;
  std::atomic<std::uint64_t> held{0};

  static void wake(queue& q) {
    if (!q.empty()) q.front()->wake.notify();
  }
  void wake_heads() {
    for (auto& [line, q] : queues) wake(q);
  }
  // Leaves the queue; the next in line gets its turn when the leaver was at the front.
  void leave(std::uint64_t line, const std::shared_ptr<waiter>& w) {
    const auto it = queues.find(line);
    if (it == queues.end()) return;
    auto& q = it->second;
    const bool was_head = !q.empty() && q.front() == w;
    std::erase(q, w);
    if (q.empty())
      queues.erase(it);
    else if (was_head)
      wake(q);
  }
};

rate_gate::rate_gate(net::any_io_executor ex, std::chrono::milliseconds max_wait)
    : st_(std::make_shared<state>(std::move(ex), max_wait)) {}

rate_gate::~rate_gate() { shutdown(); }

net::awaitable<std::uint64_t> rate_gate::admit(rate_pacer::route r) {
  auto st = st_;
  std::shared_ptr<waiter> me;
  std::uint64_t queued_in = 0;  // the line whose queue holds `me`, 0 = none
  struct unqueue {              // on every exit, including a throw on cancellation
    state& s;
    std::shared_ptr<waiter>& me;
    std::uint64_t& line;
    ~unqueue() {
      if (line) s.leave(line, me);
    }
  } guard{*st, me, queued_in};
  for (;;) {
    if (st->closed) co_return 0;
    const auto line = st->pacer.queue_of(r);
    if (queued_in != line && queued_in != 0) {  // the route's line changed (bucket learnt)
      st->leave(queued_in, me);
      queued_in = 0;
    }
    auto until = wake_signal::clock::time_point::max();
    const auto q = st->queues.find(line);
    if (q == st->queues.end() || q->second.front() == me) {  // first in line
      const auto d = st->pacer.try_admit(r, wake_signal::clock::now());
      if (d.admitted) co_return d.ticket;  // the guard passes the turn on
      until = d.retry_at;
    }
    if (!me) {
      me = std::make_shared<waiter>(st->ex);
      st->held.fetch_add(1);
    }
    if (queued_in == 0) {  // a refused request always has a line
      st->queues[line].push_back(me);
      queued_in = line;
    }
    (void)co_await me->wake.wait_until(until);
    const auto cs = co_await net::this_coro::cancellation_state;
    if (cs.cancelled() != net::cancellation_type::none)
      throw boost::system::system_error(net::error::operation_aborted);
  }
}

void rate_gate::set_budget(unsigned api, double per_second) {
  st_->pacer.set_budget(api, per_second, wake_signal::clock::now());
  st_->wake_heads();
}

void rate_gate::on_response(std::uint64_t ticket, const std::optional<rate_headers>& h, bool refused) {
  st_->pacer.on_response(ticket, net::steady_timer::clock_type::now(), h, refused);
  st_->wake_heads();
}

void rate_gate::on_failure(std::uint64_t ticket, bool may_have_reached_server) {
  st_->pacer.on_failure(ticket, may_have_reached_server);
  st_->wake_heads();
}

void rate_gate::shutdown() {
  st_->closed = true;
  st_->wake_heads();
}

std::uint64_t rate_gate::held() const noexcept { return st_->held.load(); }

}  // namespace a0::http
