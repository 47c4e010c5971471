#include "actions/key_lock.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>

namespace a0::actions {

namespace asio = boost::asio;

key_lock::guard::~guard() {
  if (lock_) lock_->release(key_);
}

asio::awaitable<key_lock::guard> key_lock::acquire(std::string key) {
  auto [it, inserted] = keys_.try_emplace(key);
  if (inserted) co_return guard(this, std::move(key));
  auto w = std::make_shared<waiter>(co_await asio::this_coro::executor);
  it->second.queue.push_back(w);
  // Woken by release() (granted) or by cancellation of this coroutine.
  (void)co_await w->wake.wait();
  if (w->granted) co_return guard(this, std::move(key));
  auto& q = keys_[key].queue;
  q.erase(std::remove(q.begin(), q.end(), w), q.end());
  throw boost::system::system_error(asio::error::operation_aborted);
}

void key_lock::release(const std::string& key) {
  auto it = keys_.find(key);
  if (it == keys_.end()) return;
  auto& q = it->second.queue;
  if (q.empty()) {
    keys_.erase(it);
    return;
  }
  // Hand the key straight to the next waiter so nobody can overtake it.
  auto next = q.front();
  q.pop_front();
  next->granted = true;
  next->wake.notify();
}

}  // namespace a0::actions
