// One plugin instance = one connection config (one Auth0 tenant): a single io thread,
// the Management API client and the actions (the registry of operations in flight is the
// SDK's, wfa/plugin.hpp).
//
// Every done callback runs on the io thread (WFA-4), exactly once per op (WFA-5,
// enforced by the SDK, wfa/plugin.hpp), never inside execute()/list_options(). All action
// coroutines run on that one thread, which is what makes the per-primary lock and the
// per-op cancellation signals safe without further locking.
#pragma once

#include "actions/actions.hpp"
#include "actions/key_lock.hpp"

#include <auth0/management_client.hpp>
#include <wfa/plugin.hpp>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace a0::abi {

using outcome = wfa::plugin::result;  // outcome.hpp

// The instance class of wfa/plugin.hpp: the SDK owns the C entry points, the op
// registry, exactly-once delivery and the wait of destroy(); this class owns the io
// thread and the actions.
class instance {
 public:
  // One operation's state, touched on the io thread only (log_prefix and timeout are
  // set before the op is posted there).
  struct op_data {
    boost::asio::cancellation_signal signal;
    std::optional<boost::asio::steady_timer> deadline;
    bool cancel_requested = false;
    bool timed_out = false;
    std::chrono::milliseconds timeout{0};
    std::string log_prefix;
  };
  using op_ptr = wfa::plugin::op_ptr<op_data>;

  static wfa::plugin::info describe() noexcept;
  /// from_exception (outcome.hpp): the one mapping of C++ failures to ABI codes.
  static wfa::plugin::result error_from(std::exception_ptr e) noexcept;

  /// Parses the connection config; throws wfa::plugin::error naming the field. `budget`:
  /// the host's rate budget (ABI 1.1; empty for a 1.0 host or a host without one), asked
  /// by the client before each Management API and token request.
  instance(wfa::plugin::host_log logger, wfa::plugin::host_budget budget, std::string_view config_json);
  /// WFA-9: the SDK has completed every op; shuts the client down, joins the io thread.
  ~instance();
  instance(const instance&) = delete;
  instance& operator=(const instance&) = delete;

  void execute(const op_ptr& o, const wfa::plugin::call& call);
  void list_options(const op_ptr& o, const wfa::plugin::options_call& call);
  void cancel(const op_ptr& o, wfa::plugin::stop why);

  /// Whole-operation deadline when wfa_call.timeout_ms is 0.
  static constexpr std::chrono::milliseconds default_timeout{120000};

 private:
  void start(const op_ptr& o, std::optional<actions::runner> run, outcome early);
  void complete(const op_ptr& o, outcome result) noexcept;
  void log(std::int32_t level, std::string_view message) const;

  const wfa::plugin::host_log log_;

  // Declaration order is destruction order in reverse: the lock outlives the
  // io_context (coroutine frames hold guards), the client dies before its io_context.
  actions::key_lock locks_;
  boost::asio::io_context io_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::unique_ptr<a0::auth0::management_client> client_;
  std::unique_ptr<auth0::id_token_verifier> id_tokens_;
  std::unique_ptr<actions::context> ctx_;

  std::thread thread_;
};

}  // namespace a0::abi
