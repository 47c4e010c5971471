// An async mutex per key (here: per primary user id), so that two links into the same
// primary within one instance cannot lose each other's merges (GET..PATCH is not atomic
// on Auth0: no If-Match). Waiters are served in arrival order; a waiter whose coroutine
// is cancelled leaves the queue. Not thread-safe: use from one io thread (the plugin
// instance runs a single io thread).
#pragma once

#include "http/wake_signal.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <deque>
#include <map>
#include <memory>
#include <string>

namespace a0::actions {

class key_lock {
 public:
  /// Releases the key when destroyed (also when the owning coroutine unwinds).
  class guard {
   public:
    guard() = default;
    guard(guard&& o) noexcept : lock_(o.lock_), key_(std::move(o.key_)) { o.lock_ = nullptr; }
    guard& operator=(guard&&) = delete;
    guard(const guard&) = delete;
    ~guard();

   private:
    friend class key_lock;
    guard(key_lock* l, std::string k) : lock_(l), key_(std::move(k)) {}
    key_lock* lock_ = nullptr;
    std::string key_;
  };

  /// Waits until `key` is free, then holds it. Throws system_error on cancellation.
  boost::asio::awaitable<guard> acquire(std::string key);

  /// Number of keys held or waited for (for tests).
  std::size_t size() const noexcept { return keys_.size(); }

 private:
  struct waiter {
    explicit waiter(const boost::asio::any_io_executor& ex) : wake(ex) {}
    http::wake_signal wake;
    bool granted = false;
  };
  struct entry {
    std::deque<std::shared_ptr<waiter>> queue;
  };
  void release(const std::string& key);
  std::map<std::string, entry> keys_;  ///< present = held
};

}  // namespace a0::actions
