// flowrun's Ctrl-C: SIGINT and SIGTERM interrupt a run (wfa::host::run_control), a
// second one exits at once.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <atomic>
#include <functional>
#include <thread>

#include <signal.h>

namespace flowrun {

/// While it lives, SIGINT and SIGTERM go to a thread of its own: the constructing thread
/// and every thread it creates afterwards (the run's reader, the plugin's, which inherit
/// the mask) block them, so a blocked write is not cut short (EINTR) and a signal never
/// waits for a busy thread. The first signal calls `on_first` on that thread; the second
/// writes a line to fd 2 and exits 1 at once (a plugin that does not finish cancelling).
/// Construct it before the instances are created; the destructor restores the mask.
class signal_watch {
 public:
  explicit signal_watch(std::function<void()> on_first);
  ~signal_watch();
  signal_watch(const signal_watch&) = delete;
  signal_watch& operator=(const signal_watch&) = delete;

 private:
  void wait();

  std::function<void()> on_first_;
  boost::asio::io_context ioc_;  // run by thread_
  boost::asio::signal_set signals_;
  std::atomic<bool> signalled_{false};
  sigset_t old_mask_{};
  std::thread thread_;
};

}  // namespace flowrun
