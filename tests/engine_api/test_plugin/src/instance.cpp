#include "instance.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <cstddef>
#include <string_view>

namespace asio = boost::asio;
namespace json = boost::json;
using wfa_test::outcome;

namespace {

// Worker threads per instance: two, so that operations really run concurrently.
constexpr int k_workers = 2;
// Strands per instance, shared by the ops (by handle). Made once, with the instance:
// Boost.Asio's make_strand is not exception-safe (when its mutex pool cannot grow, the
// half-made strand's destructor follows a null pointer), so no op creates one.
constexpr std::size_t k_strands = 8;

std::string_view view(wfa_str s) { return s.data ? std::string_view(s.data, s.size) : std::string_view(); }

// Whether a struct the host filled (struct_size first) holds the field at offset (WFA-2).
template <class Struct, class Field>
bool has(const Struct& s, std::size_t offset, const Field&) {
  return s.struct_size >= offset + sizeof(Field);
}

}  // namespace

// One operation in flight. Its start, timer, cancel and completion run on one strand, so
// they never race; `finished` makes the completion exactly once.
struct wfa_instance::op {
  op(wfa_instance::strand_type strand_, wfa_op id_, wfa_done_fn done_, void* user_, std::string label_)
      : id(id_), done(done_), user(user_), label(std::move(label_)), strand(std::move(strand_)), timer(strand) {}
  const wfa_op id;
  const wfa_done_fn done;
  void* const user;
  const std::string label;  // "op 7 test.delay (run r, step s)", for log lines
  wfa_instance::strand_type strand;
  asio::steady_timer timer;
  std::atomic<bool> finished{false};
};

// What execute() / list_options() got, copied: the host's strings are borrowed only for
// the duration of the call (WFA-6). Fields past the host's struct_size stay empty (WFA-2).
struct wfa_instance::call_copy {
  bool is_options = false;
  std::string action, options, inputs, field, context, page_token;
  std::uint32_t timeout_ms = 0;
  bool too_small = false;  // the struct does not even hold action_id
};

wfa_instance::wfa_instance(const wfa_host* host, wfa_test::connection_config config)
    : config_(std::move(config)), log_(host, config_.token), work_(asio::make_work_guard(io_)) {
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
      log_(WFA_LOG_INFO, [&] {
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

wfa_instance::~wfa_instance() {
  std::vector<std::shared_ptr<op>> live;
  {
    std::lock_guard lock(mu_);
    live.reserve(ops_.size());
    for (const auto& [id, o] : ops_) live.push_back(o);
  }
  for (const auto& o : live)
    asio::post(o->strand,
               [this, o] { finish(o, outcome::error(WFA_CANCELLED, "cancelled: the instance is being destroyed")); });
  {
    std::unique_lock lock(mu_);
    idle_.wait(lock, [&] { return ops_.empty(); });
  }
  // Every done callback has returned. The last log line goes out on a worker (WFA-4); then
  // run() drains it and the aborted timer waits, and ends.
  try {
    asio::post(io_, [this] { log_(WFA_LOG_INFO, [] { return std::string("instance destroyed"); }); });
  } catch (...) {
    // Out of memory: no last log line.
  }
  work_.reset();
  for (auto& t : workers_) t.join();
}

std::shared_ptr<wfa_instance::op> wfa_instance::new_op(wfa_done_fn done, void* user, const std::string& label) {
  wfa_op id = ++next_id_;  // non-zero, unique per instance
  return std::make_shared<op>(strands_[id % k_strands], id, done, user, "op " + std::to_string(id) + " " + label);
}

// Registered before the post, so that a start running at once finds it registered; when
// the post throws (out of memory) it is taken out again, or ~wfa_instance would wait for
// an op that can never finish. The caller then returns 0 (WFA-5).
template <class Start>
wfa_op wfa_instance::launch(const std::shared_ptr<op>& o, Start&& start) {
  {
    std::lock_guard lock(mu_);
    ops_.emplace(o->id, o);
  }
  try {
    asio::post(o->strand, std::forward<Start>(start));
  } catch (...) {
    // A cancel() that guessed the handle may have completed it meanwhile: then done
    // has fired and the op counts as started.
    if (o->finished.exchange(true)) return o->id;
    std::lock_guard lock(mu_);
    ops_.erase(o->id);
    if (ops_.empty()) idle_.notify_all();
    throw;
  }
  return o->id;
}

wfa_op wfa_instance::execute(const wfa_call* call, wfa_done_fn done, void* user) {
  if (!call || !done) return 0;  // WFA-5: nothing can be started, nobody is called back
  call_copy c;
  std::string run_id, step_id;
  if (!has(*call, offsetof(wfa_call, action_id), call->action_id)) {
    c.too_small = true;
  } else {
    c.action = view(call->action_id);
    if (has(*call, offsetof(wfa_call, options_json), call->options_json)) c.options = view(call->options_json);
    if (has(*call, offsetof(wfa_call, inputs_json), call->inputs_json)) c.inputs = view(call->inputs_json);
    if (has(*call, offsetof(wfa_call, run_id), call->run_id)) run_id = view(call->run_id);
    if (has(*call, offsetof(wfa_call, step_id), call->step_id)) step_id = view(call->step_id);
    if (has(*call, offsetof(wfa_call, timeout_ms), call->timeout_ms)) c.timeout_ms = call->timeout_ms;
  }
  std::uint64_t n = ++executions_;
  auto o = new_op(done, user, c.action + " (run '" + run_id + "', step '" + step_id + "')");
  // Never inside this call (WFA-4): even an unknown action completes on a worker.
  return launch(o, [this, o, c = std::move(c), n] { run(o, c, n); });
}

wfa_op wfa_instance::list_options(const wfa_options_call* call, wfa_done_fn done, void* user) {
  if (!call || !done) return 0;
  call_copy c;
  c.is_options = true;
  if (!has(*call, offsetof(wfa_options_call, action_id), call->action_id)) {
    c.too_small = true;
  } else {
    c.action = view(call->action_id);
    if (has(*call, offsetof(wfa_options_call, field), call->field)) c.field = view(call->field);
    if (has(*call, offsetof(wfa_options_call, context_json), call->context_json)) c.context = view(call->context_json);
    if (has(*call, offsetof(wfa_options_call, page_token), call->page_token)) c.page_token = view(call->page_token);
  }
  auto o = new_op(done, user, "list_options " + c.action + " " + c.field);
  return launch(o, [this, o, c = std::move(c)] { run(o, c, 0); });
}

void wfa_instance::cancel(wfa_op id) {
  std::shared_ptr<op> o;
  {
    std::lock_guard lock(mu_);
    auto it = ops_.find(id);
    if (it == ops_.end()) return;  // unknown or finished
    o = it->second;
  }
  // On the strand: after a start that is already queued, so a timer it set is cancelled too.
  asio::post(o->strand, [this, o] { finish(o, outcome::error(WFA_CANCELLED, "cancelled")); });
}

void wfa_instance::run(const std::shared_ptr<op>& o, const call_copy& c, std::uint64_t n) {
  if (o->finished.load()) return;  // cancelled before it started
  try {
    log_(WFA_LOG_DEBUG, [&] { return o->label + ": started"; });
    if (c.too_small) throw wfa_test::input_error("the call struct is too small (struct_size)");
    if (c.is_options) {
      finish(o, wfa_test::list_options(c.action, c.field, c.context, c.page_token, config_));
      return;
    }
    json::object options = wfa_test::parse_object(c.options, "options");
    json::object inputs = wfa_test::parse_object(c.inputs, "inputs");
    // Inputs may carry anything, also the token: the line is redacted by host_log.
    log_(WFA_LOG_TRACE, [&] { return o->label + ": inputs " + json::serialize(inputs); });
    if (c.action == "test.echo") {
      finish(o, wfa_test::echo(options, inputs, config_, n));
    } else if (c.action == "test.fail") {
      finish(o, wfa_test::fail(options, inputs));
    } else if (c.action == "test.delay") {
      wfa_test::delay_request req = wfa_test::parse_delay(options, inputs);
      // One timer: it ends the wait at ms, or at the deadline when that comes first.
      bool times_out = c.timeout_ms != 0 && c.timeout_ms < req.ms;
      o->timer.expires_after(std::chrono::milliseconds(times_out ? c.timeout_ms : req.ms));
      o->timer.async_wait([this, o, req = std::move(req), times_out,
                           limit = c.timeout_ms](boost::system::error_code ec) {
        if (ec) return;  // cancelled: whoever cancelled it completes the op
        try {
          finish(o, times_out ? outcome::error(WFA_TIMEOUT,
                                               "test.delay: the deadline of " + std::to_string(limit) + " ms passed")
                              : wfa_test::delay_done(req));
        } catch (...) {
          finish(o, outcome::error(WFA_INTERNAL, "test.delay: out of memory"));
        }
      });
    } else {
      finish(o, outcome::error(WFA_INVALID_INPUT, "unknown action '" + c.action + "'"));
    }
  } catch (const wfa_test::input_error& e) {
    finish(o, outcome::error(WFA_INVALID_INPUT, e.what()));
  } catch (const std::exception& e) {
    finish(o, outcome::error(WFA_INTERNAL, std::string("internal error: ") + e.what()));
  }
}

void wfa_instance::finish(const std::shared_ptr<op>& o, outcome r) {
  if (o->finished.exchange(true)) return;
  o->timer.cancel();
  // WFA-8: a message may quote what the host sent, which may hold the token.
  std::string message;
  try {
    message = wfa_test::redact(std::move(r.message), config_.token);
    if (r.code == WFA_OK)
      log_(WFA_LOG_DEBUG, [&] { return o->label + ": ok"; });
    else
      log_(r.code == WFA_CANCELLED ? WFA_LOG_DEBUG : WFA_LOG_WARN,
           [&] { return o->label + ": " + wfa_test::code_name(r.code) + ": " + message; });
  } catch (...) {
    // Out of memory: the callback below still fires, with what could be kept.
  }
  wfa_result res{};
  res.struct_size = sizeof res;
  res.code = r.code;
  res.outputs_json = {r.outputs.data(), r.outputs.size()};
  res.message = {message.data(), message.size()};
  res.http_status = r.http_status;
  res.retryable = r.retryable ? 1u : 0u;
  res.details_json = {r.details.data(), r.details.size()};
  try {
    o->done(o->user, &res);
  } catch (...) {
    // WFA-3: a host callback must not throw; if one does, it stops here.
  }
  std::lock_guard lock(mu_);
  ops_.erase(o->id);
  if (ops_.empty()) idle_.notify_all();
}
