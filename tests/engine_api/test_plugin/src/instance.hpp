// wfa_test::instance: one configured test connection, the instance class of the SDK
// (wfa/plugin.hpp: the SDK owns the C entry points, the op registry, exactly-once
// delivery and destroy's wait). One io_context and its worker threads per instance;
// every operation has its own timer and runs on one of the instance's strands.
#pragma once

#include "actions.hpp"

#include <wfa/plugin.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace wfa_test {

class instance {
 public:
  using strand_type = boost::asio::strand<boost::asio::io_context::executor_type>;

  // One operation: a copy of its call (the host's strings are borrowed for the call only,
  // WFA-6), its strand (by handle) and timer. Made before the op is registered, so a
  // cancel() from another thread finds it whole; afterwards touched on the strand only.
  struct op_data {
    op_data(instance& self, wfa_op id, const wfa::plugin::call& c);
    op_data(instance& self, wfa_op id, const wfa::plugin::options_call& c);
    strand_type strand;
    boost::asio::steady_timer timer;
    std::string label;  // "op 7 test.delay (run 'r', step 's')", for log lines
    bool is_options = false;
    bool too_small = false;  // the call struct does not even hold action_id
    std::string action, options, inputs, field, context, page_token;
    std::uint32_t timeout_ms = 0;
    std::uint64_t n = 0;  // execute() calls so far, this one included
  };
  using op_ptr = wfa::plugin::op_ptr<op_data>;

  static wfa::plugin::info describe() noexcept;
  // create()'s errors: input_error -> invalid_input; anything else -> internal.
  static wfa::plugin::result error_from(std::exception_ptr e) noexcept;

  // Checks the config (wfa_test::parse_config), starts the worker threads.
  instance(wfa::plugin::host_log logger, std::string_view config_json);
  // WFA-9: the SDK has completed every op; logs the last line, joins the workers.
  ~instance();
  instance(const instance&) = delete;
  instance& operator=(const instance&) = delete;

  void execute(const op_ptr& o, const wfa::plugin::call& c);
  void list_options(const op_ptr& o, const wfa::plugin::options_call& c);
  void cancel(const op_ptr& o, wfa::plugin::stop why);

 private:
  void run(const op_ptr& o);
  // On the op's strand; the SDK lets the first call complete the op.
  void finish(const op_ptr& o, outcome result) noexcept;
  // Through the host's log: "wfa-test: " and the line, the token replaced by "***" (WFA-8).
  template <class Make>
  void log(std::int32_t level, Make&& make) const noexcept {
    log_(level, [&] { return redact("wfa-test: " + make(), config_.token); });
  }

  const connection_config config_;
  const wfa::plugin::host_log log_;

  boost::asio::io_context io_;
  std::vector<strand_type> strands_;  // made before the workers start, never changed
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::vector<std::thread> workers_;

  std::atomic<std::uint64_t> executions_{0};
};

}  // namespace wfa_test
