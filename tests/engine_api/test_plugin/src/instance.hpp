// wfa_instance: one configured test connection. One io_context and its worker threads
// per instance; every operation has its own timer and exactly-once flag, and runs on one
// of the instance's strands.
#pragma once

#include "actions.hpp"
#include "host_log.hpp"

#include <wfa/wfa.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

struct wfa_instance {
 public:
  // Starts the worker threads. The config was checked by wfa_test::parse_config.
  wfa_instance(const wfa_host* host, wfa_test::connection_config config);
  // WFA-9: cancels what is in flight, waits for every done callback, joins the workers.
  ~wfa_instance();
  wfa_instance(const wfa_instance&) = delete;
  wfa_instance& operator=(const wfa_instance&) = delete;

  // Both return at once; done fires exactly once on a worker thread (WFA-4, WFA-5).
  // NULL call or done: 0 and no callback. They throw (out of memory) only before
  // anything was registered; the entry turns that into 0.
  wfa_op execute(const wfa_call* call, wfa_done_fn done, void* user);
  wfa_op list_options(const wfa_options_call* call, wfa_done_fn done, void* user);
  // Thread-safe; unknown or finished handles are ignored.
  void cancel(wfa_op id);

  const wfa_test::host_log& log() const { return log_; }

  using strand_type = boost::asio::strand<boost::asio::io_context::executor_type>;

 private:
  struct op;
  struct call_copy;

  std::shared_ptr<op> new_op(wfa_done_fn done, void* user, const std::string& label);
  // Registers o and posts start to its strand, exception-safe: returns o's handle.
  template <class Start>
  wfa_op launch(const std::shared_ptr<op>& o, Start&& start);
  void run(const std::shared_ptr<op>& o, const call_copy& call, std::uint64_t n);
  // On the op's strand: the first call completes the op, later ones do nothing.
  void finish(const std::shared_ptr<op>& o, wfa_test::outcome result);

  const wfa_test::connection_config config_;
  const wfa_test::host_log log_;

  boost::asio::io_context io_;
  std::vector<strand_type> strands_;  // made before the workers start, never changed
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::vector<std::thread> workers_;

  std::atomic<std::uint64_t> next_id_{0};
  std::atomic<std::uint64_t> executions_{0};

  std::mutex mu_;
  std::condition_variable idle_;  // ops_ became empty
  std::unordered_map<wfa_op, std::shared_ptr<op>> ops_;
};
