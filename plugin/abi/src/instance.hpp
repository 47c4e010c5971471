// One plugin instance = one connection config (one Auth0 tenant): a single io thread,
// the Management API client, and the registry of operations in flight.
//
// Every done callback runs on the io thread (WFA-4), exactly once per op (WFA-5,
// enforced by an atomic flag per op), never inside execute()/list_options(). All action
// coroutines run on that one thread, which is what makes the per-primary lock and the
// per-op cancellation signals safe without further locking.
#pragma once

#include "actions/actions.hpp"
#include "actions/key_lock.hpp"

#include <auth0/management_client.hpp>
#include <wfa/wfa.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace a0::abi {

struct outcome;

class instance {
 public:
  /// Copies what it keeps of *host (may be null). Throws std::invalid_argument for a bad config.
  instance(const wfa_host* host, a0::auth0::client_config cfg);
  /// WFA-9: cancels every op, waits for their callbacks, joins the io thread.
  ~instance();
  instance(const instance&) = delete;
  instance& operator=(const instance&) = delete;

  wfa_op execute(const wfa_call& call, wfa_done_fn done, void* user);
  wfa_op list_options(const wfa_options_call& call, wfa_done_fn done, void* user);
  void cancel(wfa_op op);

  /// Whole-operation deadline when wfa_call.timeout_ms is 0.
  static constexpr std::chrono::milliseconds default_timeout{120000};

 private:
  struct op;
  std::shared_ptr<op> register_op(wfa_done_fn done, void* user, std::string log_prefix);
  void unregister_op(wfa_op id);
  void start(std::shared_ptr<op> o, std::optional<actions::runner> run, outcome early,
             std::chrono::milliseconds timeout);
  void post_start(const std::shared_ptr<op>& o, std::optional<actions::runner> run, outcome early);
  void complete(const std::shared_ptr<op>& o, const outcome& result);
  void log(std::int32_t level, std::string_view message) const;

  // Copied from the host's wfa_host (WFA-2: fields read only when present).
  void* host_ctx_ = nullptr;
  void (*host_log_)(void*, std::int32_t, wfa_str) = nullptr;
  std::uint32_t (*host_log_enabled_)(void*, std::int32_t) = nullptr;

  // Declaration order is destruction order in reverse: the lock outlives the
  // io_context (coroutine frames hold guards), the client dies before its io_context.
  actions::key_lock locks_;
  boost::asio::io_context io_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::unique_ptr<a0::auth0::management_client> client_;
  std::unique_ptr<auth0::id_token_verifier> id_tokens_;
  std::unique_ptr<actions::context> ctx_;

  std::mutex mu_;
  std::condition_variable idle_;
  std::map<wfa_op, std::shared_ptr<op>> ops_;
  wfa_op next_op_ = 1;

  std::thread thread_;
};

}  // namespace a0::abi
