#include "control.hpp"

#include "util.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace emu {
namespace json = boost::json;
using steady = std::chrono::steady_clock;

namespace {

double num(const json::object& o, std::string_view k, double dflt) {
  auto it = o.find(k);
  if (it == o.end() || it->value().is_null()) return dflt;
  if (!it->value().is_number()) throw std::invalid_argument(std::string(k) + " must be a number");
  return it->value().to_number<double>();
}

std::string text(const json::object& o, std::string_view k, std::string dflt) {
  auto it = o.find(k);
  if (it == o.end() || it->value().is_null()) return dflt;
  if (!it->value().is_string()) throw std::invalid_argument(std::string(k) + " must be a string");
  return std::string(it->value().get_string());
}

long long epoch_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool method_matches(const std::vector<std::string>& ms, const std::string& m) {
  return ms.empty() || std::find(ms.begin(), ms.end(), m) != ms.end() ||
         std::find(ms.begin(), ms.end(), "*") != ms.end();
}

}  // namespace

// ---------------------------------------------------------------- rate limits

namespace {

bucket make_bucket(const std::string& name, const json::object& cfg) {
  if (name.empty()) throw std::invalid_argument("bucket name is required");
  if (name == rate_limiter::fallback_name)
    throw std::invalid_argument(std::string("bucket name \"") + rate_limiter::fallback_name +
                                "\" is reserved for the built-in fallback bucket");
  bucket b;
  b.name = name;
  b.burst = num(cfg, "burst", -1);
  b.per_second = num(cfg, "per_second", -1);
  if (b.burst < 1 || b.per_second < 0) throw std::invalid_argument("bucket needs burst >= 1 and per_second >= 0");
  b.path = text(cfg, "path", "/api/v2/*");
  if (auto m = cfg.find("methods"); m != cfg.end() && !m->value().is_null()) {
    if (!m->value().is_array()) throw std::invalid_argument("methods must be an array of strings");
    for (auto& x : m->value().get_array()) {
      if (!x.is_string()) throw std::invalid_argument("methods must be an array of strings");
      b.methods.emplace_back(x.get_string());
    }
  }
  b.tokens = b.burst;
  b.last = steady::now();
  return b;
}

json::object bucket_json(const bucket& b) {
  json::array ms;
  for (auto& m : b.methods) ms.emplace_back(m);
  return json::object{{"name", b.name},           {"burst", b.burst}, {"per_second", b.per_second},
                      {"methods", std::move(ms)}, {"path", b.path},   {"tokens", std::floor(b.tokens)}};
}

void refill(bucket& b, steady::time_point now) {
  const double dt = std::chrono::duration<double>(now - b.last).count();
  b.tokens = std::min(b.burst, b.tokens + dt * b.per_second);
  b.last = now;
}

}  // namespace

bucket rate_limiter::make_fallback() {
  // Generous, like the seedless defaults: headers everywhere without getting in the way.
  bucket b;
  b.name = fallback_name;
  b.burst = b.per_second = b.tokens = 100000;
  b.path = "*";
  b.last = steady::now();
  return b;
}

std::vector<bucket> rate_limiter::parse(const json::object& seed) {
  std::vector<bucket> out;
  auto it = seed.find("rate_limits");
  if (it == seed.end() || it->value().is_null()) {
    out.push_back(
        make_bucket("management", json::object{{"burst", 100000}, {"per_second", 100000}, {"path", "/api/v2/*"}}));
    out.push_back(
        make_bucket("token", json::object{{"burst", 100000}, {"per_second", 100000}, {"path", "/oauth/token"}}));
    return out;
  }
  if (!it->value().is_array()) throw std::invalid_argument("seed: \"rate_limits\" must be an array");
  std::size_t i = 0;
  for (auto& b : it->value().get_array()) {
    const std::string where = "seed: rate_limits[" + std::to_string(i++) + "]";
    if (!b.is_object()) throw std::invalid_argument(where + " must be an object");
    try {
      auto parsed = make_bucket(text(b.get_object(), "name", ""), b.get_object());
      for (auto& seen : out)
        if (seen.name == parsed.name) throw std::invalid_argument("duplicate bucket name \"" + parsed.name + "\"");
      out.push_back(std::move(parsed));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(where + ": " + e.what());
    }
  }
  return out;
}

void rate_limiter::set(const std::string& name, const json::object& cfg) {
  auto b = make_bucket(name, cfg);
  for (auto& old : buckets_)
    if (old.name == name) {
      old = std::move(b);
      return;
    }
  buckets_.push_back(std::move(b));
}

bool rate_limiter::remove(const std::string& name) {
  return std::erase_if(buckets_, [&](const bucket& b) { return b.name == name; }) > 0;
}

json::array rate_limiter::list() const {
  json::array out;
  for (auto& b : buckets_) out.push_back(bucket_json(b));
  auto fb = bucket_json(fallback_);
  fb["fallback"] = true;
  out.push_back(std::move(fb));
  return out;
}

std::vector<bucket*> rate_limiter::matching(const std::string& method, const std::string& path) {
  const auto now = steady::now();
  std::vector<bucket*> hit;
  for (auto& b : buckets_)
    if (method_matches(b.methods, method) && glob_match(b.path, path)) hit.push_back(&b);
  // A route no configured bucket covers still counts against (and reports) one bucket.
  if (hit.empty()) hit.push_back(&fallback_);
  for (auto* b : hit) refill(*b, now);
  return hit;
}

namespace {
/// The tightest of the buckets, as a client must obey that one.
rate_limiter::verdict report(const std::vector<bucket*>& hit, bool allowed) {
  const bucket* worst = hit.front();
  for (auto* b : hit)
    if (b->tokens < worst->tokens) worst = b;
  rate_limiter::verdict v;
  v.allowed = allowed;
  v.bucket = worst->name;
  v.limit = static_cast<long long>(worst->burst);
  v.remaining = static_cast<long long>(std::floor(std::max(0.0, worst->tokens)));
  // Reset = when the next token arrives (now while one is left).
  const double until_one =
      worst->tokens >= 1 || worst->per_second <= 0 ? 0.0 : (1.0 - worst->tokens) / worst->per_second;
  v.reset_epoch = epoch_now() + static_cast<long long>(std::ceil(until_one));
  if (worst->per_second <= 0 && worst->tokens < 1) v.reset_epoch = epoch_now() + 3600;
  return v;
}
}  // namespace

rate_limiter::verdict rate_limiter::take(const std::string& method, const std::string& path) {
  auto hit = matching(method, path);
  const bool allowed = std::all_of(hit.begin(), hit.end(), [](const bucket* b) { return b->tokens >= 1; });
  if (allowed)
    for (auto* b : hit) b->tokens -= 1;
  return report(hit, allowed);
}

rate_limiter::verdict rate_limiter::peek(const std::string& method, const std::string& path) {
  auto hit = matching(method, path);
  return report(hit, std::all_of(hit.begin(), hit.end(), [](const bucket* b) { return b->tokens >= 1; }));
}

void add_rate_headers(response& r, const rate_limiter::verdict& v) {
  r.headers.emplace_back("x-ratelimit-limit", std::to_string(v.limit));
  r.headers.emplace_back("x-ratelimit-remaining", std::to_string(v.remaining));
  r.headers.emplace_back("x-ratelimit-reset", std::to_string(v.reset_epoch));
}

response too_many_requests(const std::string& path, const rate_limiter::verdict& v) {
  response r = path == "/oauth/token" ? oauth_error(429, "too_many_requests", "Rate limit exceeded")
                                      : mgmt_error(429, "Global limit has been reached", "too_many_requests");
  add_rate_headers(r, v);
  return r;
}

// ---------------------------------------------------------------- faults

json::object fault_rule::to_json() const {
  json::object o{{"id", id},           {"method", method},           {"action", action},
                 {"times", remaining}, {"probability", probability}, {"fired", fired}};
  if (regex_src.empty())
    o["path"] = path;
  else
    o["path_regex"] = regex_src;
  if (latency_ms) o["latency_ms"] = latency_ms;
  if (action == "status") {
    o["status"] = status;
    if (!message.empty()) o["message"] = message;
    if (!error_code.empty()) o["error_code"] = error_code;
    if (body) o["body"] = *body;
  }
  if (action == "rate_limit") {
    o["reset_in_s"] = reset_in_s;
    if (retry_after_s) o["retry_after_s"] = *retry_after_s;
  }
  return o;
}

long fault_rules::add(const json::object& in) {
  fault_rule r;
  r.action = text(in, "action", "");
  static const std::vector<std::string> actions = {"latency", "status", "rate_limit", "reset_before", "reset_after"};
  if (std::find(actions.begin(), actions.end(), r.action) == actions.end())
    throw std::invalid_argument("action must be one of latency, status, rate_limit, reset_before, reset_after");
  r.method = text(in, "method", "*");
  r.path = text(in, "path", "*");
  r.regex_src = text(in, "path_regex", "");
  if (!r.regex_src.empty()) {
    try {
      r.regex.emplace(r.regex_src, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw std::invalid_argument(std::string("path_regex: ") + e.what());
    }
  }
  r.latency_ms = static_cast<long>(num(in, "latency_ms", 0));
  if (r.latency_ms < 0 || (r.action == "latency" && r.latency_ms == 0))
    throw std::invalid_argument("latency_ms must be > 0 for latency rules");
  r.status = static_cast<unsigned>(num(in, "status", 500));
  if (r.status < 100 || r.status > 599) throw std::invalid_argument("status must be 100..599");
  r.message = text(in, "message", "");
  r.error_code = text(in, "error_code", "");
  if (auto b = in.find("body"); b != in.end()) r.body = b->value();
  r.reset_in_s = static_cast<long>(num(in, "reset_in_s", 1));
  if (in.contains("retry_after_s")) r.retry_after_s = static_cast<long>(num(in, "retry_after_s", 0));
  r.remaining = static_cast<long>(num(in, "times", -1));
  r.probability = num(in, "probability", 1.0);
  if (r.probability < 0 || r.probability > 1) throw std::invalid_argument("probability must be within 0..1");
  r.id = next_id_++;
  rules_.push_back(std::move(r));
  return rules_.back().id;
}

bool fault_rules::remove(long id) {
  return std::erase_if(rules_, [&](const fault_rule& r) { return r.id == id; }) > 0;
}

json::array fault_rules::list() const {
  json::array out;
  for (auto& r : rules_) out.push_back(r.to_json());
  return out;
}

fault_plan fault_rules::match(const std::string& method, const std::string& path) {
  fault_plan plan;
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  for (auto& r : rules_) {
    if (r.remaining == 0) continue;
    if (r.method != "*" && r.method != method) continue;
    if (r.regex ? !std::regex_search(path, *r.regex) : !glob_match(r.path, path)) continue;
    const bool terminal = r.action != "latency";
    if (terminal && (plan.reply || plan.rate_limit || plan.reset_before || plan.reset_after)) continue;
    if (r.probability < 1.0 && coin(rng_) >= r.probability) continue;
    if (r.remaining > 0) --r.remaining;
    ++r.fired;
    if (!plan.fired.empty()) plan.fired += ',';
    plan.fired += std::to_string(r.id);
    plan.latency_ms += r.latency_ms;
    if (r.action == "status") {
      if (r.body) {
        plan.reply = json_response(r.status, *r.body);
      } else {
        plan.reply = mgmt_error(r.status, r.message.empty() ? reason(r.status) : r.message, r.error_code);
      }
    } else if (r.action == "rate_limit") {
      plan.rate_limit = fault_plan::too_many{r.reset_in_s, r.retry_after_s};
    } else if (r.action == "reset_before") {
      plan.reset_before = true;
    } else if (r.action == "reset_after") {
      plan.reset_after = true;
    }
  }
  return plan;
}

// ---------------------------------------------------------------- state + control API

namespace {
const json::object& seed_object(const json::value& seed) {
  if (!seed.is_object()) throw std::invalid_argument("seed must be a JSON object");
  return seed.get_object();
}
}  // namespace

// A bad seed at start throws out of the constructor: there is no state to keep.
emulator_state::emulator_state(const json::value& seed) : api(seed) {
  limits.replace(rate_limiter::parse(seed.get_object()));
}

void emulator_state::load_seed(const json::value& seed) {
  // Everything that can refuse the seed runs before anything is replaced.
  auto buckets = rate_limiter::parse(seed_object(seed));
  api.load(seed);  // validates first; untouched (and its last seed kept) when it throws
  limits.replace(std::move(buckets));
}

void emulator_state::reset() {
  api.reset();
  limits.replace(rate_limiter::parse(api.seed()));  // the seed was validated when loaded
}

response emulator_state::dispatch(const request& req, const std::string& path, const fault_plan& plan) {
  // A rate_limit fault plays the limiter's own 429, which takes no token; every other
  // answer counts as a request that reached the tenant (also an injected status).
  const auto verdict = plan.rate_limit ? limits.peek(req.method, path) : limits.take(req.method, path);
  if (plan.rate_limit) {
    auto v = verdict;
    v.remaining = 0;
    v.reset_epoch = epoch_now() + plan.rate_limit->reset_in_s;
    auto r = too_many_requests(path, v);
    if (plan.rate_limit->retry_after_s)
      r.headers.emplace_back("retry-after", std::to_string(*plan.rate_limit->retry_after_s));
    return r;
  }
  response r;
  if (plan.reply) {
    r = *plan.reply;  // the injected answer wins, even over an empty bucket
  } else if (!verdict.allowed) {
    ++count.rate_limited;
    return too_many_requests(path, verdict);
  } else {
    r = api.handle(req);
  }
  add_rate_headers(r, verdict);
  return r;
}

void emulator_state::log_request(const request& req, unsigned status, const std::string& fault) {
  if (log.size() >= max_log) log.erase(log.begin(), log.begin() + static_cast<std::ptrdiff_t>(max_log / 10));
  json::object e{
      {"method", req.method}, {"path", req.target}, {"status", status}, {"token", !req.authorization.empty()}};
  if (!fault.empty()) e["fault"] = fault;
  log.push_back(std::move(e));
}

bool is_control(const std::string& target) { return target.rfind("/__emulator/", 0) == 0; }

response handle_control(emulator_state& st, const request& req) {
  auto segs = path_segments(req.target);
  const auto& m = req.method;
  const std::string what = segs.size() > 1 ? segs[1] : "";
  json::value body;
  if (!req.body.empty()) {
    boost::system::error_code ec;
    body = json::parse(req.body, ec);
    if (ec) return mgmt_error(400, "control API: body is not JSON: " + ec.message());
  }
  auto ok = [] { return json_response(200, json::object{{"ok", true}}); };
  try {
    if (what == "health" && m == "GET") return ok();
    if (what == "seed" && m == "POST") {
      st.load_seed(body);
      return ok();
    }
    if (what == "reset" && m == "POST") {
      st.reset();
      return ok();
    }
    if (what == "exports" && m == "PUT") {
      if (!body.is_object())
        return mgmt_error(
            400, "control API: expected {duration_ms?, url_ttl_s?, fail_next?, corrupt_next?, download_stall_ms?}");
      st.api.set_export_behaviour(body.get_object());
      return ok();
    }
    if (what == "state" && m == "GET") {
      auto d = st.api.dump();
      d["rate_limits"] = st.limits.list();
      return json_response(200, d);
    }
    if (what == "log") {
      if (m == "GET") return json_response(200, st.log);
      if (m == "DELETE") {
        st.log.clear();
        return ok();
      }
    }
    if (what == "counters") {
      if (m == "GET")
        return json_response(200, json::object{{"requests", st.count.requests},
                                               {"control_requests", st.count.control_requests},
                                               {"connections", st.count.connections},
                                               {"tls_handshakes", st.count.tls_handshakes},
                                               {"faults_fired", st.count.faults_fired},
                                               {"rate_limited", st.count.rate_limited}});
      if (m == "DELETE") {
        st.count = counters{};
        return ok();
      }
    }
    if (what == "faults") {
      if (m == "GET" && segs.size() == 2) return json_response(200, st.faults.list());
      if (m == "POST" && segs.size() == 2) {
        if (!body.is_object()) return mgmt_error(400, "control API: fault rule must be an object");
        return json_response(201, json::object{{"id", st.faults.add(body.get_object())}});
      }
      if (m == "DELETE" && segs.size() == 2) {
        st.faults.clear();
        return ok();
      }
      if (m == "PUT" && segs.size() == 3 && segs[2] == "random") {
        if (!body.is_object() || !body.get_object().contains("seed") || !body.at("seed").is_number() ||
            body.at("seed").to_number<double>() < 0)
          return mgmt_error(400, "control API: expected {\"seed\": N >= 0}");
        st.faults.seed_random(body.at("seed").to_number<std::uint64_t>());
        return ok();
      }
      if (m == "DELETE" && segs.size() == 3) {
        if (!st.faults.remove(std::atol(segs[2].c_str()))) return mgmt_error(404, "no such fault rule");
        return ok();
      }
    }
    if (what == "rate-limits") {
      if (m == "GET" && segs.size() == 2) return json_response(200, st.limits.list());
      if (m == "PUT" && segs.size() == 3) {
        if (!body.is_object()) return mgmt_error(400, "control API: bucket must be an object");
        st.limits.set(segs[2], body.get_object());
        return ok();
      }
      if (m == "DELETE" && segs.size() == 3) {
        if (!st.limits.remove(segs[2])) return mgmt_error(404, "no such bucket");
        return ok();
      }
    }
    if (what == "latency") {
      if (m == "GET") return json_response(200, json::object{{"ms", st.global_latency_ms}});
      if (m == "PUT") {
        if (!body.is_object() || !body.get_object().contains("ms") || !body.at("ms").is_number() ||
            body.at("ms").to_number<double>() < 0)
          return mgmt_error(400, "control API: expected {\"ms\": N >= 0}");
        st.global_latency_ms = body.at("ms").to_number<long>();
        return ok();
      }
    }
    if (what == "behaviour") {
      if (m == "GET") return json_response(200, st.api.behaviour_json());
      if (m == "PUT") {
        if (!body.is_object()) return mgmt_error(400, "control API: behaviour must be an object");
        st.api.set_behaviour(body.get_object());
        return json_response(200, st.api.behaviour_json());
      }
    }
    if (what == "id-token" && m == "POST") return st.api.mint_id_token(body, req);
    if (what == "token-lifetime" && m == "PUT") {
      if (!body.is_object() || !body.get_object().contains("seconds"))
        return mgmt_error(400, "control API: expected {\"seconds\": N or null}");
      const auto& s = body.at("seconds");
      if (s.is_null())
        st.api.set_token_lifetime(std::nullopt);
      else if (s.is_number() && s.to_number<double>() >= 0)
        st.api.set_token_lifetime(s.to_number<long>());
      else
        return mgmt_error(400, "control API: seconds must be >= 0 or null");
      return ok();
    }
  } catch (const std::exception& e) {
    return mgmt_error(400, std::string("control API: ") + e.what());
  }
  return mgmt_error(404, "control API: no such endpoint " + m + " " + req.target);
}

}  // namespace emu
