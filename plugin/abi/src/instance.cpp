#include "instance.hpp"

#include "outcome.hpp"
#include "actions/discover.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <stdexcept>

namespace a0::abi {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

json::object parse_object(std::string_view text, std::string_view what) {
  if (text.empty()) return {};
  boost::system::error_code ec;
  json::parse_options depth;  // WFA-11: the host's limit, not Boost.JSON's default 32
  depth.max_depth = WFA_JSON_MAX_DEPTH;
  auto v = json::parse(text, ec, {}, depth);
  if (ec == json::error::too_deep)
    throw actions::input_error(std::string(what) + ": nests deeper than " + std::to_string(WFA_JSON_MAX_DEPTH) +
                               " levels (WFA_JSON_MAX_DEPTH)");
  if (ec || !v.is_object()) throw actions::input_error(std::string(what) + ": must be a JSON object");
  return std::move(v.get_object());
}

a0::auth0::client_config parse_config(std::string_view text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) throw wfa::plugin::error(WFA_INVALID_INPUT, "config: must be a JSON object");
  // from_json names the field and never echoes a secret (WFA-8).
  try {
    return a0::auth0::client_config::from_json(v.get_object());
  } catch (const std::invalid_argument& e) {  // the config's own checks: the user's input
    throw wfa::plugin::error(WFA_INVALID_INPUT, std::string("config: ") + e.what());
  }
}

// create()'s error: a bad config names the field ("config: domain: ..."), anything else
// says that the instance could not be made.
[[noreturn]] void throw_create_error(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const wfa::plugin::error&) {
    throw;
  } catch (...) {
    auto o = from_exception(std::current_exception());
    throw wfa::plugin::error(o.code, (o.code == WFA_INVALID_INPUT ? "config: " : "create failed: ") + o.message);
  }
}

}  // namespace

wfa::plugin::result instance::error_from(std::exception_ptr e) noexcept { return from_exception(e); }

instance::instance(wfa::plugin::host_log logger, wfa::plugin::host_budget budget, std::string_view config_json) try
    : log_(logger), work_(io_.get_executor()) {
  a0::auth0::budget_fn ask;
  if (budget)
    ask = [budget](std::string_view bucket, std::uint32_t cost) {
      return std::chrono::milliseconds(budget.acquire(bucket, cost));
    };
  client_ = std::make_unique<a0::auth0::management_client>(
      io_.get_executor(), parse_config(config_json),
      [this](a0::auth0::log_level level, std::string_view m) { log(wfa_log_level(level), m); }, std::move(ask));
  // secondary_token: iss https://CUSTOM_DOMAIN/ (users who sign in through a custom
  // domain get ID tokens issued by it), else https://DOMAIN/; aud = the azp of our Management tokens, which
  // Auth0 compares too: our client id, or the azp claim of a fixed token (none for an
  // opaque one: every secondary_token is then refused).
  const auto& c = client_->config();
  id_tokens_ = std::make_unique<auth0::id_token_verifier>(
      [this] { return client_->get_jwks(); },
      auth0::issuer_for_domain(c.custom_domain.empty() ? c.domain : c.custom_domain),
      auth0::id_token_audience(c.client_id, c.token));
  ctx_ = std::make_unique<actions::context>(
      actions::context{*client_, locks_, *id_tokens_,
                       [this](a0::auth0::log_level level, std::string_view m) { log(wfa_log_level(level), m); }});
  thread_ = std::thread([this] { io_.run(); });
} catch (...) {
  throw_create_error(std::current_exception());
}

instance::~instance() {
  asio::post(io_, [this] { client_->shutdown(); });
  work_.reset();
  thread_.join();
}

void instance::log(std::int32_t level, std::string_view message) const { log_.write(level, message); }

void instance::execute(const op_ptr& o, const wfa::plugin::call& call) {
  // workaround(gcc12): appended piece by piece, -O2 reports a false -Wrestrict on "[" + string.
  std::string prefix("[");
  prefix.append(call.action_id);
  if (!call.run_id.empty()) prefix.append(" run ").append(call.run_id);
  if (!call.step_id.empty()) prefix.append(" step ").append(call.step_id);
  prefix.append("] ");
  std::optional<actions::runner> run;
  outcome early;
  // Validation happens here, synchronously, so that nothing is sent for bad input; the
  // result still travels through the io thread (WFA-4/5).
  try {
    auto options = parse_object(call.options_json, "options_json");
    auto inputs = parse_object(call.inputs_json, "inputs_json");
    run = actions::prepare_action(call.action_id, options, inputs);
  } catch (...) {
    early = from_exception(std::current_exception());
  }
  o->data.log_prefix = std::move(prefix);
  // An action may need longer than the default when the host sets no deadline (a users
  // export runs for hours).
  o->data.timeout = call.timeout_ms ? std::chrono::milliseconds(call.timeout_ms)
                                    : actions::default_timeout_of(call.action_id).value_or(default_timeout);
  start(o, std::move(run), std::move(early));
}

void instance::list_options(const op_ptr& o, const wfa::plugin::options_call& call) {
  std::string prefix("[");
  prefix.append(call.action_id).append(" options] ");
  std::optional<actions::runner> run;
  outcome early;
  try {
    run = actions::prepare_list_options(call.action_id, call.field, call.page_token);
  } catch (...) {
    early = from_exception(std::current_exception());
  }
  o->data.log_prefix = std::move(prefix);
  o->data.timeout = default_timeout;
  start(o, std::move(run), std::move(early));
}

// A post that throws (bad_alloc) never runs the op: the SDK then takes it out again and
// answers 0 (WFA-5: not started, no callback).
void instance::start(const op_ptr& o, std::optional<actions::runner> run, outcome early) {
  asio::post(io_, [this, o, run = std::move(run), early = std::move(early)]() mutable {
    if (!run) {
      complete(o, std::move(early));
      return;
    }
    if (o->data.cancel_requested) {
      complete(o, outcome::failure(WFA_CANCELLED, "cancelled"));
      return;
    }
    // Nothing may escape into io_context::run (it would end the io thread).
    std::optional<asio::awaitable<json::object>> work;
    try {
      o->data.deadline.emplace(io_, o->data.timeout);
      work.emplace((*run)(*ctx_));
    } catch (...) {
      complete(o, from_exception(std::current_exception()));
      return;
    }
    o->data.deadline->async_wait([o](boost::system::error_code ec) {
      if (ec || o->finished()) return;
      o->data.timed_out = true;
      o->data.signal.emit(asio::cancellation_type::terminal);
    });
    asio::co_spawn(
        io_, std::move(*work),
        asio::bind_cancellation_slot(o->data.signal.slot(), [this, o](std::exception_ptr e, json::object outputs) {
          o->data.deadline->cancel();
          if (!e) {
            complete(o, outcome::ok(json::serialize(outputs)));
            return;
          }
          auto r = from_exception(e);
          if (o->data.timed_out) {
            r.code = WFA_TIMEOUT;
            r.retryable = true;
            r.message = "timed out after " + std::to_string(o->data.timeout.count()) + " ms: " + r.message;
          } else if (o->data.cancel_requested) {
            r.code = WFA_CANCELLED;
            r.retryable = false;
          }
          complete(o, std::move(r));
        }));
  });
}

void instance::complete(const op_ptr& o, outcome result) noexcept {
  o->complete(std::move(result), [&](const wfa::plugin::result& r) {
    if (r.code != WFA_OK)
      log(r.code == WFA_INVALID_INPUT || r.code == WFA_CANCELLED ? WFA_LOG_DEBUG : WFA_LOG_WARN,
          o->data.log_prefix + "failed (" + std::to_string(r.code) + "): " + r.message);
  });
}

// cancel() and destroy() alike: the action's coroutine sees a terminal cancellation and
// completes the op with WFA_CANCELLED (after a queued start, which sees the flag).
void instance::cancel(const op_ptr& o, wfa::plugin::stop) {
  asio::post(io_, [o] {
    if (o->finished()) return;
    o->data.cancel_requested = true;
    o->data.signal.emit(asio::cancellation_type::terminal);
  });
}

}  // namespace a0::abi
