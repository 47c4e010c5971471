#include "signals.hpp"

#include <boost/asio/post.hpp>

#include <cstdlib>
#include <string_view>

#include <pthread.h>
#include <unistd.h>

namespace flowrun {

namespace {
sigset_t run_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}
}  // namespace

signal_watch::signal_watch(std::function<void()> on_first) : on_first_(std::move(on_first)), signals_(ioc_) {
  sigset_t set = run_signals();
  pthread_sigmask(SIG_BLOCK, &set, &old_mask_);
  signals_.add(SIGINT);
  signals_.add(SIGTERM);
  wait();
  thread_ = std::thread([this] {
    sigset_t set = run_signals();
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    ioc_.run();
  });
}

signal_watch::~signal_watch() {
  boost::asio::post(ioc_, [this] {
    boost::system::error_code ignored;
    signals_.cancel(ignored);
  });
  thread_.join();
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

void signal_watch::wait() {
  signals_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    if (signalled_.exchange(true)) {
      // A second signal: the plugin did not finish cancelling; give up at once.
      // Exit 1 like any run with rows that did not succeed (0/1/2 are the only codes).
      // Straight to fd 2: std::cerr may wait for a lock or (it is tied to std::cout)
      // for a full stdout pipe that the run thread is blocked on.
      static constexpr std::string_view bye = "\nflowrun: interrupted again, exiting without waiting\n";
      [[maybe_unused]] auto n = ::write(STDERR_FILENO, bye.data(), bye.size());
      std::_Exit(1);
    }
    // run_control::interrupt() only posts to the run thread, which prints the notice:
    // this thread must stay free for a second signal.
    on_first_();
    wait();
  });
}

}  // namespace flowrun
