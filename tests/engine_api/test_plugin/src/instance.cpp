#include "instance.hpp"

#include <boost/asio/post.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <cstddef>

namespace asio = boost::asio;
namespace json = boost::json;

namespace wfa_test {

namespace {

// Worker threads per instance: two, so that operations really run concurrently.
constexpr int k_workers = 2;
// Strands per instance, shared by the ops (by handle). Made once, with the instance:
// Boost.Asio's make_strand is not exception-safe (when its mutex pool cannot grow, the
// half-made strand's destructor follows a null pointer), so no op creates one.
constexpr std::size_t k_strands = 8;

}  // namespace

instance::op_data::op_data(instance& self, wfa_op id, const wfa::plugin::call& c)
    : strand(self.strands_[id % k_strands]), timer(strand), n(++self.executions_) {
  too_small = !c.has_action_id;
  action = c.action_id;
  options = c.options_json;
  inputs = c.inputs_json;
  timeout_ms = c.timeout_ms;
  label = "op " + std::to_string(id) + " " + action + " (run '" + std::string(c.run_id) + "', step '" +
          std::string(c.step_id) + "')";
}

instance::op_data::op_data(instance& self, wfa_op id, const wfa::plugin::options_call& c)
    : strand(self.strands_[id % k_strands]), timer(strand), is_options(true) {
  too_small = !c.has_action_id;
  action = c.action_id;
  field = c.field;
  context = c.context_json;
  page_token = c.page_token;
  label = "op " + std::to_string(id) + " list_options " + action + " " + field;
}

wfa::plugin::result instance::error_from(std::exception_ptr e) noexcept {
  try {
    try {
      std::rethrow_exception(e);
    } catch (const input_error& x) {
      // Config errors name the field only, never its value: the token cannot leak (WFA-8).
      return outcome::failure(WFA_INVALID_INPUT, x.what());
    } catch (const std::exception& x) {
      return outcome::failure(WFA_INTERNAL, std::string("cannot create the instance: ") + x.what());
    }
  } catch (...) {
    return outcome::failure(WFA_INTERNAL, "cannot create the instance");
  }
}

instance::instance(wfa::plugin::host_log logger, std::string_view config_json)
    : config_(parse_config(config_json)), log_(logger), work_(asio::make_work_guard(io_)) {
  if (config_.fail_create)
    throw wfa::plugin::error(WFA_INVALID_INPUT, "config.fail_create: this connection is set up to fail on create");
  try {
    strands_.reserve(k_strands);
    for (std::size_t i = 0; i < k_strands; ++i) strands_.push_back(asio::make_strand(io_));
    for (int i = 0; i < k_workers; ++i)
      workers_.emplace_back([this] {
        // Handlers catch their own exceptions; this keeps a worker alive whatever happens.
        for (;;) {
          try {
            io_.run();
            return;
          } catch (...) {}
        }
      });
    // Log lines, like done callbacks, come from a worker, never from inside the host's call (WFA-4).
    asio::post(io_, [this] {
      log(WFA_LOG_INFO, [&] {
        return "instance created (prefix '" + config_.prefix + "', " +
               (config_.token.empty() ? "no token" : "token set") + ")";
      });
    });
  } catch (...) {
    work_.reset();
    for (auto& t : workers_) t.join();
    throw;
  }
}

instance::~instance() {
  // Every done callback has returned (the SDK waited). The last log line goes out on a
  // worker (WFA-4); then run() drains it and the aborted timer waits, and ends.
  try {
    asio::post(io_, [this] { log(WFA_LOG_INFO, [] { return std::string("instance destroyed"); }); });
  } catch (...) {
    // Out of memory: no last log line.
  }
  work_.reset();
  for (auto& t : workers_) t.join();
}

// Never inside the host's call (WFA-4): even an unknown action completes on a worker.
void instance::execute(const op_ptr& o, const wfa::plugin::call&) {
  asio::post(o->data.strand, [this, o] { run(o); });
}

void instance::list_options(const op_ptr& o, const wfa::plugin::options_call&) {
  asio::post(o->data.strand, [this, o] { run(o); });
}

// On the strand: after a start that is already queued, so a timer it set is cancelled too.
void instance::cancel(const op_ptr& o, wfa::plugin::stop why) {
  asio::post(o->data.strand, [this, o, why] {
    finish(o, error(WFA_CANCELLED,
                    why == wfa::plugin::stop::destroy ? "cancelled: the instance is being destroyed" : "cancelled"));
  });
}

void instance::run(const op_ptr& o) {
  if (o->finished()) return;  // cancelled before it started
  const op_data& c = o->data;
  try {
    log(WFA_LOG_DEBUG, [&] { return c.label + ": started"; });
    if (c.too_small) throw input_error("the call struct is too small (struct_size)");
    if (c.is_options) {
      finish(o, wfa_test::list_options(c.action, c.field, c.context, c.page_token, config_));
      return;
    }
    json::object options = parse_object(c.options, "options");
    json::object inputs = parse_object(c.inputs, "inputs");
    // Inputs may carry anything, also the token: log() redacts the line.
    log(WFA_LOG_TRACE, [&] { return c.label + ": inputs " + json::serialize(inputs); });
    if (c.action == "test.echo") {
      finish(o, echo(options, inputs, config_, c.n));
    } else if (c.action == "test.fail") {
      finish(o, fail(options, inputs));
    } else if (c.action == "test.delay") {
      delay_request req = parse_delay(options, inputs);
      // One timer: it ends the wait at ms, or at the deadline when that comes first.
      bool times_out = c.timeout_ms != 0 && c.timeout_ms < req.ms;
      o->data.timer.expires_after(std::chrono::milliseconds(times_out ? c.timeout_ms : req.ms));
      o->data.timer.async_wait(
          [this, o, req = std::move(req), times_out, limit = c.timeout_ms](boost::system::error_code ec) {
            if (ec) return;  // cancelled: whoever cancelled it completes the op
            try {
              finish(o, times_out
                            ? error(WFA_TIMEOUT, "test.delay: the deadline of " + std::to_string(limit) + " ms passed")
                            : delay_done(req));
            } catch (...) {
              finish(o, error(WFA_INTERNAL, "test.delay: out of memory"));
            }
          });
    } else {
      finish(o, error(WFA_INVALID_INPUT, "unknown action '" + c.action + "'"));
    }
  } catch (const input_error& e) {
    finish(o, error(WFA_INVALID_INPUT, e.what()));
  } catch (const std::exception& e) {
    finish(o, error(WFA_INTERNAL, std::string("internal error: ") + e.what()));
  }
}

void instance::finish(const op_ptr& o, outcome result) noexcept {
  o->complete(std::move(result), [&](outcome& r) {
    o->data.timer.cancel();
    // WFA-8: a message may quote what the host sent, which may hold the token. Out of
    // memory here: the callback still fires, with what could be kept.
    r.message = redact(std::move(r.message), config_.token);
    if (r.code == WFA_OK)
      log(WFA_LOG_DEBUG, [&] { return o->data.label + ": ok"; });
    else
      log(r.code == WFA_CANCELLED ? WFA_LOG_DEBUG : WFA_LOG_WARN,
          [&] { return o->data.label + ": " + code_name(r.code) + ": " + r.message; });
  });
}

}  // namespace wfa_test
