#include "abi/instance.hpp"

#include "abi/outcome.hpp"
#include "actions/discover.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <atomic>
#include <cstddef>

namespace a0::abi {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

std::string_view view(wfa_str s) noexcept { return s.data ? std::string_view(s.data, s.size) : std::string_view(); }

// WFA-2: a field is read only when the writer's struct is large enough to hold it.
#define A0_HAS_FIELD(obj, type, field) ((obj).struct_size >= offsetof(type, field) + sizeof(decltype(type::field)))

json::object parse_object(wfa_str text, std::string_view what) {
  if (view(text).empty()) return {};
  boost::system::error_code ec;
  json::parse_options depth;  // WFA-11: the host's limit, not Boost.JSON's default 32
  depth.max_depth = WFA_JSON_MAX_DEPTH;
  auto v = json::parse(view(text), ec, {}, depth);
  if (ec == json::error::too_deep)
    throw std::invalid_argument(std::string(what) + ": nests deeper than " + std::to_string(WFA_JSON_MAX_DEPTH) +
                                " levels (WFA_JSON_MAX_DEPTH)");
  if (ec || !v.is_object()) throw std::invalid_argument(std::string(what) + ": must be a JSON object");
  return std::move(v.get_object());
}

}  // namespace

struct instance::op {
  wfa_op id = 0;
  wfa_done_fn done = nullptr;
  void* user = nullptr;
  std::string log_prefix;
  std::atomic<bool> finished{false};
  // Touched on the io thread only.
  asio::cancellation_signal signal;
  std::optional<asio::steady_timer> deadline;
  bool cancel_requested = false;
  bool timed_out = false;
  std::chrono::milliseconds timeout{0};
};

instance::instance(const wfa_host* host, a0::client_config cfg) : work_(io_.get_executor()) {
  if (host) {
    if (A0_HAS_FIELD(*host, wfa_host, ctx)) host_ctx_ = host->ctx;
    if (A0_HAS_FIELD(*host, wfa_host, log)) host_log_ = host->log;
    if (A0_HAS_FIELD(*host, wfa_host, log_enabled)) host_log_enabled_ = host->log_enabled;
  }
  client_ = std::make_unique<a0::management_client>(io_.get_executor(), std::move(cfg),
                                                    [this](std::int32_t level, std::string_view m) { log(level, m); });
  // secondary_token: iss https://CUSTOM_DOMAIN/ (users who sign in through a custom
  // domain get ID tokens issued by it), else https://DOMAIN/; aud = the azp of our Management tokens, which
  // Auth0 compares too: our client id, or the azp claim of a fixed token (none for an
  // opaque one: every secondary_token is then refused).
  const auto& c = client_->config();
  id_tokens_ = std::make_unique<actions::id_token_verifier>(
      [this] { return client_->get_jwks(); },
      actions::issuer_for_domain(c.custom_domain.empty() ? c.domain : c.custom_domain),
      actions::id_token_audience(c.client_id, c.token));
  ctx_ = std::make_unique<actions::context>(actions::context{
      *client_, locks_, *id_tokens_, [this](std::int32_t level, std::string_view m) { log(level, m); }});
  thread_ = std::thread([this] { io_.run(); });
}

instance::~instance() {
  std::vector<wfa_op> pending;
  {
    std::lock_guard lk(mu_);
    for (const auto& [id, o] : ops_) pending.push_back(id);
  }
  for (auto id : pending) cancel(id);
  {
    std::unique_lock lk(mu_);
    idle_.wait(lk, [this] { return ops_.empty(); });
  }
  asio::post(io_, [this] { client_->shutdown(); });
  work_.reset();
  thread_.join();
}

void instance::log(std::int32_t level, std::string_view message) const {
  if (!host_log_) return;
  if (host_log_enabled_ && !host_log_enabled_(host_ctx_, level)) return;
  host_log_(host_ctx_, level, wfa_str{message.data(), message.size()});
}

std::shared_ptr<instance::op> instance::register_op(wfa_done_fn done, void* user, std::string log_prefix) {
  auto o = std::make_shared<op>();
  o->done = done;
  o->user = user;
  o->log_prefix = std::move(log_prefix);
  std::lock_guard lk(mu_);
  o->id = next_op_++;
  ops_.emplace(o->id, o);
  return o;
}

wfa_op instance::execute(const wfa_call& call, wfa_done_fn done, void* user) {
  const auto action = A0_HAS_FIELD(call, wfa_call, action_id) ? view(call.action_id) : std::string_view();
  // Appended piece by piece: GCC 12 -O2 reports a false -Wrestrict on "[" + string.
  std::string prefix("[");
  prefix.append(action);
  if (A0_HAS_FIELD(call, wfa_call, run_id) && !view(call.run_id).empty())
    prefix.append(" run ").append(view(call.run_id));
  if (A0_HAS_FIELD(call, wfa_call, step_id) && !view(call.step_id).empty())
    prefix.append(" step ").append(view(call.step_id));
  prefix.append("] ");
  std::optional<actions::runner> run;
  outcome early;
  // Validation happens here, synchronously, so that nothing is sent for bad input; the
  // result still travels through the io thread (WFA-4/5).
  try {
    auto options =
        parse_object(A0_HAS_FIELD(call, wfa_call, options_json) ? call.options_json : wfa_str{}, "options_json");
    auto inputs = parse_object(A0_HAS_FIELD(call, wfa_call, inputs_json) ? call.inputs_json : wfa_str{}, "inputs_json");
    run = actions::prepare_action(action, options, inputs);
  } catch (...) {
    early = outcome::from_exception(std::current_exception());
  }
  const std::uint32_t ms = A0_HAS_FIELD(call, wfa_call, timeout_ms) ? call.timeout_ms : 0;
  auto o = register_op(done, user, std::move(prefix));
  start(o, std::move(run), std::move(early),
        ms ? std::chrono::milliseconds(ms) : actions::default_timeout_of(action).value_or(default_timeout));
  return o->id;
}

wfa_op instance::list_options(const wfa_options_call& call, wfa_done_fn done, void* user) {
  const auto action = A0_HAS_FIELD(call, wfa_options_call, action_id) ? view(call.action_id) : std::string_view();
  std::string prefix("[");
  prefix.append(action).append(" options] ");
  std::optional<actions::runner> run;
  outcome early;
  try {
    run = actions::prepare_list_options(
        action, A0_HAS_FIELD(call, wfa_options_call, field) ? view(call.field) : std::string_view(),
        A0_HAS_FIELD(call, wfa_options_call, page_token) ? view(call.page_token) : std::string_view());
  } catch (...) {
    early = outcome::from_exception(std::current_exception());
  }
  auto o = register_op(done, user, std::move(prefix));
  start(o, std::move(run), std::move(early), default_timeout);
  return o->id;
}

void instance::unregister_op(wfa_op id) {
  std::lock_guard lk(mu_);
  ops_.erase(id);
  if (ops_.empty()) idle_.notify_all();
}

void instance::start(std::shared_ptr<op> o, std::optional<actions::runner> run, outcome early,
                     std::chrono::milliseconds timeout) {
  o->timeout = timeout;
  // A post that throws (bad_alloc) never runs the op: unregister it, so that destroy does
  // not wait for it, and let the entry point answer 0 (WFA-5: not started, no callback).
  try {
    post_start(o, std::move(run), std::move(early));
  } catch (...) {
    unregister_op(o->id);
    throw;
  }
}

void instance::post_start(const std::shared_ptr<op>& o, std::optional<actions::runner> run, outcome early) {
  asio::post(io_, [this, o, run = std::move(run), early = std::move(early)]() mutable {
    if (!run) {
      complete(o, early);
      return;
    }
    if (o->cancel_requested) {
      complete(o, outcome::error(WFA_CANCELLED, "cancelled"));
      return;
    }
    // Nothing may escape into io_context::run (it would end the io thread).
    std::optional<asio::awaitable<json::object>> work;
    try {
      o->deadline.emplace(io_, o->timeout);
      work.emplace((*run)(*ctx_));
    } catch (...) {
      complete(o, outcome::from_exception(std::current_exception()));
      return;
    }
    o->deadline->async_wait([o](boost::system::error_code ec) {
      if (ec || o->finished) return;
      o->timed_out = true;
      o->signal.emit(asio::cancellation_type::terminal);
    });
    asio::co_spawn(
        io_, std::move(*work),
        asio::bind_cancellation_slot(o->signal.slot(), [this, o](std::exception_ptr e, json::object outputs) {
          o->deadline->cancel();
          if (!e) {
            complete(o, outcome::ok(json::serialize(outputs)));
            return;
          }
          auto r = outcome::from_exception(e);
          if (o->timed_out) {
            r.code = WFA_TIMEOUT;
            r.retryable = true;
            r.message = "timed out after " + std::to_string(o->timeout.count()) + " ms: " + r.message;
          } else if (o->cancel_requested) {
            r.code = WFA_CANCELLED;
            r.retryable = false;
          }
          complete(o, r);
        }));
  });
}

void instance::complete(const std::shared_ptr<op>& o, const outcome& result) {
  if (o->finished.exchange(true)) return;  // WFA-5: exactly once
  if (result.code != WFA_OK)
    log(result.code == WFA_INVALID_INPUT || result.code == WFA_CANCELLED ? WFA_LOG_DEBUG : WFA_LOG_WARN,
        o->log_prefix + "failed (" + std::to_string(result.code) + "): " + result.message);
  if (o->done) {
    const wfa_result r = result.view();
    try {
      o->done(o->user, &r);
    } catch (...) {
      // WFA-4 forbids throwing callbacks; a C++ host that does must not kill our thread.
    }
  }
  unregister_op(o->id);
}

void instance::cancel(wfa_op id) {
  std::shared_ptr<op> o;
  {
    std::lock_guard lk(mu_);
    auto it = ops_.find(id);
    if (it == ops_.end()) return;
    o = it->second;
  }
  asio::post(io_, [o] {
    if (o->finished) return;
    o->cancel_requested = true;
    o->signal.emit(asio::cancellation_type::terminal);
  });
}

}  // namespace a0::abi
