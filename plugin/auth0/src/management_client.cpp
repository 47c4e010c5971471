// The Management API client: a strand-confined core that owns the TLS pool, the token
// cache (single flight) and the rate-limit pacing (http::rate_gate); every public call
// hops onto the strand with co_spawn, which forwards the caller's cancellation.
#include "auth0/management_client.hpp"

#include "auth0/call_decision.hpp"
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

#include <boost/asio/as_tuple.hpp>
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

namespace a0::auth0 {

namespace net = boost::asio;
namespace json = boost::json;
namespace bhttp = boost::beast::http;
using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;
using auth0::endpoint_kind;

namespace {

// The project version (project(VERSION) in CMakeLists.txt, through a0/version.h).
constexpr const char* user_agent = "a0-link-account/" A0_VERSION;
constexpr std::string_view jwks_path = "/.well-known/jwks.json";

// An Asio wait that failed: its cancellation as the client's error (the one translation,
// a0::auth0::cancellation), anything else as a system_error.
[[noreturn]] void throw_wait_error(const boost::system::error_code& ec) {
  if (auto c = cancellation(ec)) throw api_exception(std::move(*c));
  throw boost::system::system_error(ec);
}

api_error shut_down_error() { return make_error(client_errc::cancelled, "client shut down"); }
api_exception shut_down() { return api_exception(shut_down_error()); }

// Auth0's documented rate-limit groups, as the pacer's routes {api, group}: the
// Authentication API, the tenant's public JWKS (no Management API request), and the
// Management API's Read Users, Write Users (PATCH, the link POST), DELETE and Read
// Connections.
constexpr http::rate_pacer::route authentication_api{1, 0};
constexpr http::rate_pacer::route tenant_jwks{2, 0};
constexpr http::rate_pacer::route read_users{0, 0};
constexpr http::rate_pacer::route write_users{0, 1};
constexpr http::rate_pacer::route delete_requests{0, 2};
constexpr http::rate_pacer::route read_connections{0, 3};

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

std::string budget_bucket(std::string_view domain, bool authentication) {
  std::string b("auth0:");
  b.append(domain).append(authentication ? ":authentication" : ":management");
  return b;
}

struct client_core : std::enable_shared_from_this<client_core> {
  client_core(net::any_io_executor ex, client_config c, log_fn l, budget_fn b)
      : strand(net::make_strand(ex)),
        cfg(std::move(c)),
        log(std::move(l)),
        budget(std::move(b)),
        management_bucket(budget_bucket(cfg.domain, false)),
        authentication_bucket(budget_bucket(cfg.domain, true)),
        hp(auth0::split_domain(cfg.domain)),
        pool(strand, http::origin{hp.host, hp.port, {}},
             http::pool_options{static_cast<std::size_t>(std::max(1, cfg.max_connections)), cfg.timeout, cfg.ca_file,
                                max_response_bytes, cfg.connect_timeout}),
        gate(strand, cfg.max_backoff),
        rng(std::random_device{}()) {
    if (cfg.audience.empty()) cfg.audience = auth0::default_audience(cfg.domain);
    // Every Management API route shares the budget (the routes of api 0).
    if (cfg.max_requests_per_second > 0) gate.set_budget(read_users.api, cfg.max_requests_per_second);
  }

  net::strand<net::any_io_executor> strand;
  client_config cfg;
  log_fn log;
  budget_fn budget;
  const std::string management_bucket, authentication_bucket;
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

  void say(log_level level, const std::string& msg) const {
    if (log) log(level, msg);
  }

  double unit_random() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); }

  // Waits before a request is (re)sent, so a cancellation there leaves nothing ambiguous,
  // not even for the link POST (it is only retried when it was not applied).
  net::awaitable<void> sleep_for(milliseconds d) {
    if (d <= milliseconds::zero()) co_return;
    net::steady_timer t(strand, d);
    auto [ec] = co_await t.async_wait(net::as_tuple(net::use_awaitable));
    if (ec) throw_wait_error(ec);
  }

  // Every request the client sends passes here, each retry again: first the external
  // budget (ask_budget), then the client's own pacing (the gate), so that a long wait for
  // the budget holds no gate ticket (the pacer would count it in flight).
  net::awaitable<std::uint64_t> admit(const call& c) {
    co_await ask_budget(c);
    try {
      co_return co_await gate.admit(route_of(c));
    } catch (const boost::system::system_error& e) {
      throw_wait_error(e.code());  // nothing was sent
    }
  }

  // The external budget (budget_fn, the host's wfa_host.acquire): asked again after each
  // wait it names, on a timer of the strand, so no thread is held and the caller's
  // cancellation ends the wait at once (nothing sent, nothing taken). The tenant's public
  // JWKS is neither a Management API nor a token request: it is not counted.
  net::awaitable<void> ask_budget(const call& c) {
    if (!budget) co_return;
    const bool token_request = c.kind == endpoint_kind::token;
    if (!token_request && c.target == jwks_path) co_return;
    const std::string& bucket = token_request ? authentication_bucket : management_bucket;
    for (;;) {
      if (closed) throw shut_down();
      const milliseconds wait = budget(bucket, 1);
      if (wait <= milliseconds::zero()) co_return;
      co_await sleep_for(wait);
    }
  }

  // Which requests Auth0 may count against one bucket (its documented groups: the
  // Authentication API, Read Users, Write Users, DELETE, Read Connections); the gate
  // merges groups that report the same x-ratelimit-limit (one global Management bucket).
  static http::rate_pacer::route route_of(const call& c) {
    if (c.kind == endpoint_kind::token) return authentication_api;
    // The tenant's public JWKS is no Management API request: it must neither wait for
    // the Read Users bucket nor have its own headers (if any) taken for that bucket's.
    if (c.target == jwks_path) return tenant_jwks;
    if (c.target.starts_with("/api/v2/connections")) return read_connections;
    if (c.verb == bhttp::verb::get) return read_users;
    if (c.verb == bhttp::verb::delete_) return delete_requests;
    return write_users;
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
      throw api_exception(make_error(client_errc::unsafe_request,
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
    if (closed) throw shut_down();
    if (!token.empty() && clock_type::now() < refresh_at) co_return token;
    // What the fetch we joined brought is used even if its lifetime is already spent
    // (expires_in 0): fetching again would loop.
    // workaround(gcc12): named, not temporaries in the co_await expression: GCC destroys a lambda
    // temporary there twice (seen as heap corruption).
    const net::any_io_executor ex = strand;
    auto start = [self = shared_from_this()] { return fetch_token(self); };
    try {
      co_return co_await token_fetch.join(ex, std::move(start));
    } catch (const boost::system::system_error& e) {
      throw_wait_error(e.code());
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
      throw api_exception(make_error(client_errc::bad_response, "token endpoint answered without an access_token"));
    // Checked before it is cached: a token with CR/LF would inject headers, or smuggle a
    // second request onto a pooled connection, in every later call.
    if (!http::is_token68(at->get_string()))
      throw api_exception(make_error(client_errc::bad_response,
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
    auth0::call_traits traits;
    traits.kind = c.kind;
    traits.write = c.verb != bhttp::verb::get;
    traits.idempotent = c.idempotent;
    traits.refreshable = !is_token && c.authenticated && cfg.token.empty();  // a fixed token's 401 is final
    traits.max_retries = cfg.max_retries;
    traits.max_backoff = cfg.max_backoff;
    auth0::attempt_state state;
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

      auth0::attempt_result got;
      got.transport = r.kind;
      got.ec = r.ec;
      got.maybe_sent = r.maybe_sent;
      got.status = static_cast<int>(r.status);
      if (r.res) {
        got.status = static_cast<int>(r.res->result_int());
        got.retry_after = (*r.res)["retry-after"];
        got.ratelimit_reset = (*r.res)["x-ratelimit-reset"];
      }
      got.now = std::chrono::system_clock::now();
      got.unit_random = unit_random();
      const auto next = auth0::decide(traits, state, got);
      switch (next.next) {
        case auth0::step::kind::succeed: co_return std::move(*r.res);
        case auth0::step::kind::refresh_token:
          state.refreshed_after_401 = true;
          invalidate(used_token);
          say(log_level::info, "management API said 401: refreshing the token once");
          continue;
        case auth0::step::kind::retry:
          ++state.retries;
          n_retries.fetch_add(1);
          say(log_level::warn, std::string(verb_name(c.verb)) + " " + (is_token ? c.target : path_only(c.target)) +
                                   ": " + (r.res ? "HTTP " + std::to_string(got.status) : describe(r)) + "; retry " +
                                   std::to_string(state.retries) + " in " + std::to_string(next.wait.count()) + " ms");
          co_await sleep_for(next.wait);
          continue;
        case auth0::step::kind::fail: throw api_exception(error_of(next, c, r, used_token));
      }
    }
  }

  // The error a failed call ends with, from the decision and the facts of the attempt.
  api_error error_of(const auth0::step& d, const call& c, http::exchange_result& r,
                     const std::string& used_token) const {
    using auth0::error_source;
    switch (d.source) {
      case error_source::cancelled: return cancellation(net::error::operation_aborted, d.ambiguous).value();
      case error_source::shut_down: return shut_down_error();
      case error_source::refused:
        return make_error(client_errc::unsafe_request,
                          "refused to send a request whose target or a header holds "
                          "CR, LF, NUL or another control character");
      case error_source::too_large: return too_large(c, r.status, d.ambiguous);
      case error_source::transport:
        return make_error(*d.code,
                          describe(r) + (d.ambiguous ? " after the request was sent; its outcome is unknown" : ""),
                          d.retryable, d.ambiguous);
      case error_source::answer: break;
    }
    auto e = from_status(static_cast<int>(r.res->result_int()), std::move(r.res->body()), c, used_token);
    if (d.ambiguous) e.ambiguous = true;  // the server may have applied it before failing
    if (d.server_wait) e.retry_after_s = whole_seconds(*d.server_wait);
    if (d.over_max_backoff)
      e.message += "; the server asks to wait " + std::to_string(*e.retry_after_s) + " s, more than max_backoff_ms " +
                   std::to_string(cfg.max_backoff.count());
    return e;
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
  // `applied`: a 2xx to a write (auth0::decide says so).
  static api_error too_large(const call& c, unsigned status, bool applied) {
    const bool ok = status >= 200 && status <= 299;
    api_error e = ok ? make_error(client_errc::response_too_large, "")
                     : auth0::error_from_status(static_cast<int>(status), "", c.kind);
    e.http_status = static_cast<int>(status);
    e.retryable = false;
    e.ambiguous = applied;
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
      if (closed) throw shut_down();
      const bool write = c.verb != bhttp::verb::get;
      const auto target = path_only(c.target);
      auto res = co_await perform(std::move(c));
      json::error_code ec;
      // Reads are held to max_user_depth (WFA-11: what the outputs can carry); the answer
      // to a write is parsed with room to spare, so that its outcome is never lost to the
      // limit (the actions check their outputs' depth before emitting them).
      json::parse_options depth;
      depth.max_depth = write ? 4 * host_json_depth : max_user_depth;
      auto v = json::parse(res.body(), ec, {}, depth);
      if (ec == json::error::too_deep) {
        if (!write)
          throw api_exception(make_error(client_errc::too_deep,
                                         "the answer to GET " + target + " nests deeper than " +
                                             std::to_string(max_user_depth) +
                                             " levels, more than the outputs can carry (the host's WFA-11 limit " +
                                             std::to_string(host_json_depth) + "); refused"));
        throw api_exception(make_error(client_errc::bad_response,
                                       "the " + std::to_string(res.result_int()) + " answer to " + target +
                                           " nests too deep to read; the request was applied",
                                       false, true));
      }
      if (ec)
        throw api_exception(make_error(client_errc::bad_response,
                                       "unparseable JSON in a " + std::to_string(res.result_int()) + " response"));
      co_return v;
    } catch (const boost::system::system_error& e) {
      if (auto cancelled = cancellation(e.code(), ambiguous_if_cancelled)) throw api_exception(std::move(*cancelled));
      throw api_exception(make_error(client_errc::internal, std::string("unexpected: ") + e.what()));
    }
  }

  void do_shutdown() {
    closed = true;
    pool.shutdown();
    token_fetch.abandon(std::make_exception_ptr(shut_down()));
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
api_exception bad_input(std::string m) {
  return api_exception(make_error(client_errc::invalid_argument, std::move(m)));
}
// The target builders refuse an id that cannot be one path segment (std::invalid_argument).
template <class Make>
std::string target_of(Make make) {
  try {
    return make();
  } catch (const std::invalid_argument& e) {
    throw bad_input(e.what());
  }
}
api_exception unexpected(const char* what) {
  return api_exception(make_error(client_errc::bad_response, std::string("unexpected response: ") + what));
}
}  // namespace

management_client::management_client(net::any_io_executor ex, client_config cfg, log_fn log, budget_fn budget)
    : impl_(std::make_unique<impl>()) {
  impl_->core = std::make_shared<client_core>(std::move(ex), std::move(cfg), std::move(log), std::move(budget));
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
  call c{bhttp::verb::get,
         target_of([&] { return auth0::user_target(user_id, fields, include_fields); }),
         {},
         {},
         true,
         endpoint_kind::management};
  auto v = co_await impl_->run(std::move(c));
  if (!v.is_object()) throw unexpected("GET user did not return an object");
  co_return std::move(v.get_object());
}

net::awaitable<json::object> management_client::patch_user(std::string_view user_id, json::object body) {
  if (user_id.empty()) throw bad_input("user_id must not be empty");
  call c{bhttp::verb::patch,
         target_of([&] { return auth0::user_target(user_id); }),
         json::serialize(body),
         "application/json",
         true,
         endpoint_kind::management};
  auto v = co_await impl_->run(std::move(c));
  if (!v.is_object()) throw unexpected("PATCH user did not return an object");
  co_return std::move(v.get_object());
}

net::awaitable<json::array> management_client::link(std::string_view primary_user_id, json::object body) {
  if (primary_user_id.empty()) throw bad_input("primary_user_id must not be empty");
  if (body.empty()) throw bad_input("link body must not be empty");
  call c{bhttp::verb::post,
         target_of([&] { return auth0::identities_target(primary_user_id); }),
         json::serialize(body),
         "application/json",
         false,
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
  call c{bhttp::verb::delete_,
         target_of([&] { return auth0::identity_target(primary_user_id, provider, secondary_user_id); }),
         {},
         {},
         false,
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
  call c{bhttp::verb::get,         target_of([&] { return auth0::job_target(job_id); }), {}, {}, true,
         endpoint_kind::management};
  auto v = co_await impl_->run(std::move(c));
  if (!v.is_object()) throw unexpected("GET job did not return an object");
  co_return std::move(v.get_object());
}

net::awaitable<json::array> management_client::users_by_email(std::string_view email, std::vector<std::string> fields,
                                                              bool include_fields) {
  if (email.empty()) throw bad_input("email must not be empty");
  call c{bhttp::verb::get,
         target_of([&] { return auth0::users_by_email_target(email, fields, include_fields); }),
         {},
         {},
         true,
         endpoint_kind::management};
  auto v = co_await impl_->run(std::move(c));
  if (!v.is_array()) throw unexpected("users-by-email did not return an array");
  co_return std::move(v.get_array());
}

}  // namespace a0::auth0
