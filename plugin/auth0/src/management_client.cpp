// The Management API client: a strand-confined core that owns the TLS pool, the token
// cache (single flight) and the rate-limit pacing (http::rate_gate); every public call
// hops onto the strand with co_spawn, which forwards the caller's cancellation.
#include "auth0/management_client.hpp"

#include "auth0/endpoints.hpp"
#include "auth0/errors.hpp"
#include "auth0/jobs.hpp"
#include "http/header_values.hpp"
#include "http/percent_encoding.hpp"
#include "http/rate_gate.hpp"
#include "http/retry_policy.hpp"
#include "http/secret_mask.hpp"
#include "http/single_flight.hpp"
#include "http/tls_pool.hpp"

#include <a0/version.h>
#include <wfa/wfa.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <atomic>
#include <random>

namespace a0 {
inline namespace v1 {

namespace net = boost::asio;
namespace json = boost::json;
namespace bhttp = boost::beast::http;
using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;
using auth0::endpoint_kind;
using auth0::make_error;

static_assert(max_user_depth == WFA_JSON_MAX_DEPTH - 3, "max_user_depth follows WFA_JSON_MAX_DEPTH");

namespace {

// The project version (project(VERSION) in CMakeLists.txt, through a0/version.h).
constexpr const char* user_agent = "a0-link-account/" A0_VERSION;
constexpr std::string_view jwks_path = "/.well-known/jwks.json";

[[noreturn]] void throw_cancelled(bool ambiguous = false) {
  throw api_exception(make_error(WFA_CANCELLED, "cancelled", false, ambiguous));
}

struct call {
  bhttp::verb verb;
  std::string target;
  std::string body;          // empty = no body
  std::string content_type;  // of body
  bool idempotent = true;
  endpoint_kind kind = endpoint_kind::management;
  bool authenticated = true;  // false: no bearer (the tenant's public JWKS)
};

const char* verb_name(bhttp::verb v) {
  return bhttp::to_string(v).data();  // Beast's verb strings are NUL-terminated literals
}

}  // namespace

struct client_core : std::enable_shared_from_this<client_core> {
  client_core(net::any_io_executor ex, client_config c, log_fn l)
      : strand(net::make_strand(ex)),
        cfg(std::move(c)),
        log(std::move(l)),
        hp(auth0::split_domain(cfg.domain)),
        pool(strand, http::origin{hp.host, hp.port, {}},
             http::pool_options{static_cast<std::size_t>(std::max(1, cfg.max_connections)), cfg.timeout, cfg.ca_file,
                                max_response_bytes, cfg.connect_timeout}),
        gate(strand, cfg.max_backoff),
        rng(std::random_device{}()) {
    if (cfg.audience.empty()) cfg.audience = auth0::default_audience(cfg.domain);
  }

  net::strand<net::any_io_executor> strand;
  client_config cfg;
  log_fn log;
  auth0::host_port hp;
  http::tls_pool pool;
  http::rate_gate gate;
  std::mt19937_64 rng;

  // Token cache (strand-confined).
  std::string token;
  clock_type::time_point refresh_at{};
  http::single_flight<std::string> token_fetch;  // one token request for every waiter

  bool closed = false;

  std::atomic<std::uint64_t> n_requests{0}, n_retries{0}, n_token_requests{0};

  void say(int32_t level, const std::string& msg) const {
    if (log) log(level, msg);
  }

  double unit_random() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); }

  // Waits before a request is (re)sent, so a cancellation there leaves nothing ambiguous,
  // not even for the link POST (it is only retried when it was not applied).
  net::awaitable<void> sleep_for(milliseconds d) {
    if (d <= milliseconds::zero()) co_return;
    net::steady_timer t(strand, d);
    auto [ec] = co_await t.async_wait(net::as_tuple(net::use_awaitable));
    if (ec) throw_cancelled();
  }

  net::awaitable<std::uint64_t> admit(const call& c) {
    try {
      co_return co_await gate.admit(route_of(c));
    } catch (const boost::system::system_error& e) {
      if (e.code() == net::error::operation_aborted) throw_cancelled();  // nothing was sent
      throw;
    }
  }

  // Which requests Auth0 may count against one bucket (its documented groups: the
  // Authentication API, Read Users, Write Users, DELETE, Read Connections); the gate
  // merges groups that report the same x-ratelimit-limit (one global Management bucket).
  static http::rate_pacer::route route_of(const call& c) {
    if (c.kind == endpoint_kind::token) return {1, 0};
    // The tenant's public JWKS is no Management API request: it must neither wait for
    // the Read Users bucket nor have its own headers (if any) taken for that bucket's.
    if (c.target == jwks_path) return {2, 0};
    if (c.target.starts_with("/api/v2/connections")) return {0, 3};
    if (c.verb == bhttp::verb::get) return {0, 0};
    if (c.verb == bhttp::verb::delete_) return {0, 2};
    return {0, 1};
  }

  void note_rate_limit(std::uint64_t ticket, const http::response& res) {
    gate.on_response(ticket,
                     http::read_rate_headers(res["x-ratelimit-limit"], res["x-ratelimit-remaining"],
                                             res["x-ratelimit-reset"], std::chrono::system_clock::now()),
                     res.result_int() == 429);
  }

  http::request build(const call& c, const std::string& bearer) const {
    // A bearer with CR/LF would add headers or smuggle a request (tls_pool refuses any
    // such request too; this says why). The value is never echoed.
    if (!bearer.empty() && !http::is_token68(bearer))
      throw api_exception(make_error(WFA_INTERNAL,
                                     "refused to send a bearer token that is not RFC 6750 token68 "
                                     "characters (CR, LF or other bytes a header must not hold)"));
    http::request req{c.verb, c.target, 11};
    req.set(bhttp::field::host, cfg.domain);
    req.set(bhttp::field::user_agent, user_agent);
    req.set(bhttp::field::accept, "application/json");
    if (!bearer.empty()) req.set(bhttp::field::authorization, "Bearer " + bearer);
    if (!c.body.empty() || c.verb == bhttp::verb::post || c.verb == bhttp::verb::patch) {
      req.set(bhttp::field::content_type, c.content_type);
      req.body() = c.body;
    }
    return req;
  }

  // --- tokens -------------------------------------------------------------------------

  net::awaitable<std::string> bearer() {
    if (!cfg.token.empty()) co_return cfg.token;
    if (closed) throw api_exception(make_error(WFA_CANCELLED, "client shut down"));
    if (!token.empty() && clock_type::now() < refresh_at) co_return token;
    // What the fetch we joined brought is used even if its lifetime is already spent
    // (expires_in 0): fetching again would loop.
    // Named, not temporaries in the co_await expression: GCC 12 destroys a lambda
    // temporary there twice (seen as heap corruption).
    const net::any_io_executor ex = strand;
    auto start = [self = shared_from_this()] { return fetch_token(self); };
    try {
      co_return co_await token_fetch.join(ex, std::move(start));
    } catch (const boost::system::system_error& e) {
      if (e.code() == net::error::operation_aborted) throw_cancelled();
      throw;
    }
  }

  // A 401 with this token: drop it unless another call already replaced it.
  void invalidate(const std::string& rejected) {
    if (token == rejected) token.clear();
  }

  static net::awaitable<std::string> fetch_token(std::shared_ptr<client_core> self) {
    call c;
    c.verb = bhttp::verb::post;
    c.target = "/oauth/token";
    c.content_type = "application/x-www-form-urlencoded";
    c.body = "grant_type=client_credentials&client_id=" + http::form_encode(self->cfg.client_id) +
             "&client_secret=" + http::form_encode(self->cfg.client_secret) +
             "&audience=" + http::form_encode(self->cfg.audience);
    c.idempotent = true;  // a second token is harmless
    c.kind = endpoint_kind::token;
    auto res = co_await self->perform(std::move(c));
    json::error_code ec;
    auto v = json::parse(res.body(), ec);
    const json::object* o = (!ec && v.is_object()) ? &v.get_object() : nullptr;
    const json::value* at = o ? o->if_contains("access_token") : nullptr;
    if (!at || !at->is_string() || at->get_string().empty())
      throw api_exception(make_error(WFA_INTERNAL, "token endpoint answered without an access_token"));
    // Checked before it is cached: a token with CR/LF would inject headers, or smuggle a
    // second request onto a pooled connection, in every later call.
    if (!http::is_token68(at->get_string()))
      throw api_exception(make_error(WFA_INTERNAL,
                                     "token endpoint answered an access_token that is not an "
                                     "RFC 6750 bearer token (token68 characters); refused"));
    std::int64_t lifetime_s = 86400;
    if (const auto* ei = o->if_contains("expires_in")) {
      if (ei->is_int64())
        lifetime_s = ei->get_int64();
      else if (ei->is_uint64())
        lifetime_s = static_cast<std::int64_t>(std::min<std::uint64_t>(ei->get_uint64(), 1u << 30));
      else if (ei->is_double())
        lifetime_s = static_cast<std::int64_t>(ei->get_double());
    }
    const milliseconds lifetime{std::max<std::int64_t>(lifetime_s, 0) * 1000};
    // Refresh early by max(10 s, 10%), but never more than half the lifetime, so that
    // short-lived tokens are still reused.
    const auto margin = std::min(std::max(milliseconds{10000}, lifetime / 10), lifetime / 2);
    self->token = std::string(at->get_string());
    self->refresh_at = clock_type::now() + lifetime - margin;
    co_return self->token;
  }

  // --- the retry engine ----------------------------------------------------------------

  // Runs one logical call until a 2xx response (returned) or a final error (thrown).
  net::awaitable<http::response> perform(call c) {
    // This frame's ticket guard touches the gate on the way out, also when the frame is
    // destroyed at teardown: the core must outlive it.
    const auto self = shared_from_this();
    const bool is_token = c.kind == endpoint_kind::token;
    bool refreshed_after_401 = false;
    int attempt = 0;
    auto retry_in = [&](milliseconds wait, const std::string& why) {
      ++attempt;
      n_retries.fetch_add(1);
      say(WFA_LOG_WARN, std::string(verb_name(c.verb)) + " " + (is_token ? c.target : path_only(c.target)) + ": " +
                            why + "; retry " + std::to_string(attempt) + " in " + std::to_string(wait.count()) + " ms");
      return wait;
    };
    for (;;) {
      std::string used_token;
      if (!is_token && c.authenticated) used_token = co_await bearer();
      const auto ticket = co_await admit(c);
      // Whatever leaves this attempt early (an allocation failure building the request,
      // say) still completes its ticket: the gate would otherwise count it in flight
      // for ever, and pace every later request of its bucket against it.
      struct ticket_guard {
        http::rate_gate& gate;
        std::uint64_t ticket;
        bool sending = false;  // from here on the server may have seen it
        bool reported = false;
        ~ticket_guard() {
          if (reported) return;
          try {
            gate.on_failure(ticket, sending);
          } catch (...) {  // out of memory in the pacer's books: nothing better to do here
          }
        }
      } guard{gate, ticket};
      (is_token ? n_token_requests : n_requests).fetch_add(1);
      auto req = build(c, used_token);
      guard.sending = true;
      auto r = co_await pool.exchange(std::move(req), c.idempotent);
      guard.reported = true;
      if (r.kind == http::failure::none)
        note_rate_limit(ticket, *r.res);
      else
        gate.on_failure(ticket, r.maybe_sent);

      if (r.kind != http::failure::none) {
        if (r.kind == http::failure::cancelled) throw_cancelled(r.maybe_sent && !c.idempotent);
        if (r.kind == http::failure::closed) throw api_exception(make_error(WFA_CANCELLED, "client shut down"));
        if (r.kind == http::failure::refused)
          throw api_exception(make_error(WFA_INTERNAL,
                                         "refused to send a request whose target or a header holds "
                                         "CR, LF, NUL or another control character"));
        if (r.kind == http::failure::too_large) throw api_exception(too_large(c, r.status));
        const bool timed_out = r.kind == http::failure::timeout || r.kind == http::failure::connect_timeout;
        const int code = timed_out ? WFA_TIMEOUT : WFA_UNAVAILABLE;
        std::string what = describe(r);
        if (r.kind == http::failure::tls && r.ec.category() == net::error::get_ssl_category())
          throw api_exception(make_error(WFA_UNAVAILABLE, what));  // a bad certificate does not heal
        if (!c.idempotent && r.maybe_sent)
          throw api_exception(
              make_error(code, what + " after the request was sent; its outcome is unknown", true, true));
        if (attempt < cfg.max_retries) {
          co_await sleep_for(
              retry_in(http::backoff_delay(attempt, unit_random(), milliseconds{250}, cfg.max_backoff), what));
          continue;
        }
        throw api_exception(make_error(code, what, true));
      }

      auto& res = *r.res;
      const int status = static_cast<int>(res.result_int());
      if (status >= 200 && status <= 299) co_return std::move(res);

      if (status == 401 && !is_token && c.authenticated && cfg.token.empty() && !refreshed_after_401) {
        refreshed_after_401 = true;  // expired or revoked token: one refresh, one retry
        invalidate(used_token);
        say(WFA_LOG_INFO, "management API said 401: refreshing the token once");
        continue;
      }
      // What the server asks for, uncapped: a custom rate-limit policy may ask for minutes or hours.
      std::optional<milliseconds> asked;
      if (http::is_retryable_status(status))
        asked = http::server_wait_hint(res["retry-after"], res["x-ratelimit-reset"], std::chrono::system_clock::now(),
                                       milliseconds::max());
      if (http::is_retryable_status(status)) {
        if (!c.idempotent && status != 429) {
          auto e = from_status(status, res.body(), c, used_token);
          e.ambiguous = true;  // the server may have applied it before failing
          throw api_exception(std::move(e));
        }
        // Longer than this client waits: fail now (nothing was applied), and say when, so
        // that a runner can schedule the retry instead of spending the retries in vain.
        if (status == 429 && asked && *asked > cfg.max_backoff) {
          auto e = auth0::error_from_status(status, res.body(), c.kind);
          e.retry_after_s = whole_seconds(*asked);
          e.message += "; the server asks to wait " + std::to_string(*e.retry_after_s) +
                       " s, more than max_backoff_ms " + std::to_string(cfg.max_backoff.count());
          throw api_exception(std::move(e));
        }
        if (attempt < cfg.max_retries) {
          const auto wait =
              asked ? *asked : http::backoff_delay(attempt, unit_random(), milliseconds{250}, cfg.max_backoff);
          co_await sleep_for(retry_in(std::min(wait, cfg.max_backoff), "HTTP " + std::to_string(status)));
          continue;
        }
      }
      auto e = from_status(status, res.body(), c, used_token);
      if (status == 429 && asked) e.retry_after_s = whole_seconds(*asked);
      throw api_exception(std::move(e));
    }
  }

  // Every error built from a server's text: the secrets this client holds are masked in
  // all the forms they were sent in (a server may reflect the request into its message).
  // The body is masked before it is parsed and clipped, the message again after (JSON
  // escapes undone).
  api_error from_status(int status, std::string body, const call& c, const std::string& used_token) const {
    std::vector<std::string> forms;
    http::add_secret_forms(forms, used_token);
    http::add_secret_forms(forms, token);
    http::add_secret_forms(forms, cfg.token);
    http::add_secret_forms(forms, cfg.client_secret);
    if (!cfg.client_secret.empty()) {
      const std::string basic = http::base64(cfg.client_id + ":" + cfg.client_secret);
      forms.push_back(basic);
      forms.push_back(basic.substr(0, basic.find('=')));
      const std::string form_basic =
          http::base64(http::form_encode(cfg.client_id) + ":" + http::form_encode(cfg.client_secret));
      forms.push_back(form_basic);
    }
    auto e = auth0::error_from_status(status, http::mask_secrets(std::move(body), forms), c.kind);
    e.message = http::mask_secrets(std::move(e.message), forms);
    e.error_code = http::mask_secrets(std::move(e.error_code), forms);
    return e;
  }

  // An answer whose body is over max_response_bytes: the server processed the request,
  // so it is never resent. After a 2xx to a write the write was applied, but what it
  // wrote cannot be read from the answer: ambiguous, the caller re-reads what it needs.
  // Not retryable: the same call gets the same answer.
  static api_error too_large(const call& c, unsigned status) {
    const bool ok = status >= 200 && status <= 299;
    api_error e = ok ? make_error(WFA_UNAVAILABLE, "") : auth0::error_from_status(static_cast<int>(status), "", c.kind);
    e.http_status = static_cast<int>(status);
    e.retryable = false;
    e.ambiguous = ok && c.verb != bhttp::verb::get;
    e.error_code = "response_too_large";
    e.message = std::to_string(status) + " answer to " + verb_name(c.verb) + " " + path_only(c.target) +
                " is larger than the client reads (" + std::to_string(max_response_bytes / (1024 * 1024)) +
                " MB body limit)" + (e.ambiguous ? "; the request was applied" : "");
    return e;
  }

  std::string describe(const http::exchange_result& r) const {
    switch (r.kind) {
      case http::failure::connect_timeout:
        return "connect timed out: no TLS connection within connect_timeout_ms " +
               std::to_string(cfg.connect_timeout.count()) + " (resolve, TCP connect, handshake)";
      case http::failure::timeout:
        return "request timed out: no complete response within timeout_ms " + std::to_string(cfg.timeout.count());
      case http::failure::tls: return "TLS handshake failed: " + r.ec.message();
      case http::failure::connect: return "cannot connect: " + r.ec.message();
      default: return "connection failed: " + r.ec.message();
    }
  }

  static std::int64_t whole_seconds(milliseconds d) {
    return static_cast<std::int64_t>(std::chrono::ceil<std::chrono::seconds>(d).count());
  }

  static std::string path_only(const std::string& target) { return target.substr(0, target.find('?')); }

  // Entry for every public call: runs on the strand, maps cancellation.
  net::awaitable<json::value> run_json(call c) {
    co_await net::this_coro::reset_cancellation_state(net::enable_total_cancellation());
    const bool ambiguous_if_cancelled = !c.idempotent;
    try {
      if (closed) throw api_exception(make_error(WFA_CANCELLED, "client shut down"));
      const bool write = c.verb != bhttp::verb::get;
      const auto target = path_only(c.target);
      auto res = co_await perform(std::move(c));
      json::error_code ec;
      // Reads are held to max_user_depth (WFA-11: what the outputs can carry); the answer
      // to a write is parsed with room to spare, so that its outcome is never lost to the
      // limit (the actions check their outputs' depth before emitting them).
      json::parse_options depth;
      depth.max_depth = write ? 4 * WFA_JSON_MAX_DEPTH : max_user_depth;
      auto v = json::parse(res.body(), ec, {}, depth);
      if (ec == json::error::too_deep) {
        if (!write)
          throw api_exception(make_error(
              WFA_CONFLICT, "the answer to GET " + target + " nests deeper than " + std::to_string(max_user_depth) +
                                " levels, more than the outputs can carry (WFA_JSON_MAX_DEPTH " +
                                std::to_string(WFA_JSON_MAX_DEPTH) + "); refused"));
        throw api_exception(make_error(WFA_INTERNAL,
                                       "the " + std::to_string(res.result_int()) + " answer to " + target +
                                           " nests too deep to read; the request was applied",
                                       false, true));
      }
      if (ec)
        throw api_exception(
            make_error(WFA_INTERNAL, "unparseable JSON in a " + std::to_string(res.result_int()) + " response"));
      co_return v;
    } catch (const boost::system::system_error& e) {
      if (e.code() == net::error::operation_aborted) throw_cancelled(ambiguous_if_cancelled);
      throw api_exception(make_error(WFA_INTERNAL, std::string("unexpected: ") + e.what()));
    }
  }

  void do_shutdown() {
    closed = true;
    pool.shutdown();
    token_fetch.abandon(std::make_exception_ptr(api_exception(make_error(WFA_CANCELLED, "client shut down"))));
    gate.shutdown();
  }
};

struct management_client::impl {
  std::shared_ptr<client_core> core;

  net::awaitable<json::value> run(call c) {
    auto k = core;
    co_return co_await net::co_spawn(k->strand, k->run_json(std::move(c)), net::use_awaitable);
  }
};

namespace {
api_exception bad_input(std::string m) { return api_exception(make_error(WFA_INVALID_INPUT, std::move(m))); }
api_exception unexpected(const char* what) {
  return api_exception(make_error(WFA_INTERNAL, std::string("unexpected response: ") + what));
}
}  // namespace

management_client::management_client(net::any_io_executor ex, client_config cfg, log_fn log)
    : impl_(std::make_unique<impl>()) {
  impl_->core = std::make_shared<client_core>(std::move(ex), std::move(cfg), std::move(log));
}

management_client::~management_client() { shutdown(); }

const client_config& management_client::config() const noexcept { return impl_->core->cfg; }

void management_client::shutdown() {
  // The core lives on its strand; the posted handler keeps it alive until it ran.
  net::dispatch(impl_->core->strand, [core = impl_->core] { core->do_shutdown(); });
}

management_client::stats management_client::statistics() const {
  const auto& c = *impl_->core;
  return stats{c.n_requests.load(), c.n_retries.load(), c.n_token_requests.load(), c.pool.handshakes(), c.gate.held()};
}

net::awaitable<json::object> management_client::get_user(std::string_view user_id, std::vector<std::string> fields,
                                                         bool include_fields) {
  if (user_id.empty()) throw bad_input("user_id must not be empty");
  call c{bhttp::verb::get,         auth0::user_target(user_id, fields, include_fields), {}, {}, true,
         endpoint_kind::management};
  auto v = co_await impl_->run(std::move(c));
  if (!v.is_object()) throw unexpected("GET user did not return an object");
  co_return std::move(v.get_object());
}

net::awaitable<json::object> management_client::patch_user(std::string_view user_id, json::object body) {
  if (user_id.empty()) throw bad_input("user_id must not be empty");
  call c{bhttp::verb::patch,       auth0::user_target(user_id), json::serialize(body), "application/json", true,
         endpoint_kind::management};
  auto v = co_await impl_->run(std::move(c));
  if (!v.is_object()) throw unexpected("PATCH user did not return an object");
  co_return std::move(v.get_object());
}

net::awaitable<json::array> management_client::link(std::string_view primary_user_id, json::object body) {
  if (primary_user_id.empty()) throw bad_input("primary_user_id must not be empty");
  if (body.empty()) throw bad_input("link body must not be empty");
  call c{
      bhttp::verb::post,  auth0::identities_target(primary_user_id), json::serialize(body), "application/json", false,
      endpoint_kind::link};
  auto v = co_await impl_->run(std::move(c));
  if (!v.is_array()) throw unexpected("link did not return an identities array");
  co_return std::move(v.get_array());
}

net::awaitable<json::array> management_client::unlink(std::string_view primary_user_id, std::string_view provider,
                                                      std::string_view secondary_user_id) {
  if (primary_user_id.empty() || provider.empty() || secondary_user_id.empty())
    throw bad_input("unlink needs primary_user_id, provider and secondary user_id");
  // Not idempotent for retries: what Auth0 answers to unlinking an identity that is no
  // longer linked is unknown (auth0-api.md Unknowns #3), so an ambiguous failure is
  // reported, not resent; the caller re-reads the primary.
  call c{bhttp::verb::delete_,     auth0::identity_target(primary_user_id, provider, secondary_user_id), {}, {}, false,
         endpoint_kind::management};
  auto v = co_await impl_->run(std::move(c));
  if (!v.is_array()) throw unexpected("unlink did not return an identities array");
  co_return std::move(v.get_array());
}

net::awaitable<json::object> management_client::get_jwks() {
  call c{bhttp::verb::get, std::string(jwks_path), {}, {}, true, endpoint_kind::management, false};
  auto v = co_await impl_->run(std::move(c));
  if (!v.is_object()) throw unexpected("the JWKS is not a JSON object");
  co_return std::move(v.get_object());
}

net::awaitable<connections_page> management_client::list_connections(std::vector<std::string> strategies,
                                                                     std::optional<std::string> from, int take) {
  if (take < 1 || take > 100) throw bad_input("take must be in 1..100");
  call c{bhttp::verb::get, auth0::connections_target(strategies, from, take), {}, {}, true, endpoint_kind::management};
  auto v = co_await impl_->run(std::move(c));
  connections_page page;
  if (v.is_array()) {  // offset-paging shape: everything at once
    page.connections = std::move(v.get_array());
    co_return page;
  }
  if (!v.is_object()) throw unexpected("connections: neither an array nor an object");
  auto& o = v.get_object();
  auto* list = o.if_contains("connections");
  if (!list || !list->is_array()) throw unexpected("connections: no connections array");
  page.connections = std::move(list->get_array());
  if (const auto* next = o.if_contains("next"); next && next->is_string() && !next->get_string().empty())
    page.next = std::string(next->get_string());
  co_return page;
}

// Issue 13: the users export job and users by email (targets in jobs.cpp).

net::awaitable<json::object> management_client::create_users_export(json::object body) {
  call c{bhttp::verb::post,        "/api/v2/jobs/users-exports", json::serialize(body), "application/json", true,
         endpoint_kind::management};
  auto v = co_await impl_->run(std::move(c));
  if (!v.is_object()) throw unexpected("the users export job is not an object");
  co_return std::move(v.get_object());
}

net::awaitable<json::object> management_client::get_job(std::string_view job_id) {
  call c{bhttp::verb::get, auth0::job_target(job_id), {}, {}, true, endpoint_kind::management};
  auto v = co_await impl_->run(std::move(c));
  if (!v.is_object()) throw unexpected("GET job did not return an object");
  co_return std::move(v.get_object());
}

net::awaitable<json::array> management_client::users_by_email(std::string_view email, std::vector<std::string> fields,
                                                              bool include_fields) {
  if (email.empty()) throw bad_input("email must not be empty");
  call c{bhttp::verb::get,         auth0::users_by_email_target(email, fields, include_fields), {}, {}, true,
         endpoint_kind::management};
  auto v = co_await impl_->run(std::move(c));
  if (!v.is_array()) throw unexpected("users-by-email did not return an array");
  co_return std::move(v.get_array());
}

}  // namespace v1
}  // namespace a0
