#include "generator.hpp"

#include <boost/json/array.hpp>
#include <boost/json/string.hpp>

#include <array>
#include <cmath>
#include <limits>
#include <string_view>

namespace merge_test {
namespace json = boost::json;

namespace {

// The first four are drawn most of the time, so siblings collide often; the rest are the
// keys a naive implementation gets wrong (pointer escaping, prototype names, unicode).
constexpr std::array<std::string_view, 13> key_alphabet{
    "a", "b", "", "__proto__", "a/b", "~", "~1", "c", "\u00fc", "\u65e5\u672c", "0", "/~", "x y"};
constexpr std::size_t frequent_keys = 4;

constexpr std::array<std::string_view, 8> string_pool{"x", "y", "", "1", "null", "\u00fc", "a/b", "~0"};

constexpr double two53 = 9007199254740992.0;
constexpr double two63 = 9223372036854775808.0;
constexpr double two64 = 18446744073709551616.0;

}  // namespace

std::uint64_t next_seed(std::uint64_t seed) noexcept {
  std::uint64_t z = seed + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

generator::generator(std::uint64_t seed, gen_config config) : rng_(seed), config_(config) {}

std::size_t generator::below(std::size_t n) { return static_cast<std::size_t>(rng_() % n); }

bool generator::chance(unsigned percent) { return below(100) < percent; }

std::string generator::key() {
  const std::size_t i = chance(60) ? below(frequent_keys) : below(key_alphabet.size());
  return std::string(key_alphabet[i]);
}

json::value generator::number() {
  constexpr auto i64max = std::numeric_limits<std::int64_t>::max();
  constexpr auto i64min = std::numeric_limits<std::int64_t>::min();
  constexpr auto u64max = std::numeric_limits<std::uint64_t>::max();
  switch (below(27)) {
    // Small integers, each also present as a double below: 1 vs 1.0.
    case 0: return json::value(std::int64_t{0});
    case 1: return json::value(std::int64_t{1});
    case 2: return json::value(std::int64_t{-1});
    case 3: return json::value(std::int64_t{2});
    case 4: return json::value(1.0);
    case 5: return json::value(-0.0);
    case 6: return json::value(2.0);
    case 7: return json::value(-1.0);
    case 8: return json::value(0.5);
    // The edges of the integer kinds, and where double stops being exact.
    case 9: return json::value(i64max);
    case 10: return json::value(i64min);
    case 11: return json::value(std::int64_t{9007199254740992});  // 2^53
    case 12: return json::value(std::int64_t{9007199254740993});  // 2^53 + 1: no double
    case 13: return json::value(two53);
    case 14: return json::value(std::uint64_t{9223372036854775808ULL});  // 2^63
    case 15: return json::value(two63);
    case 16: return json::value(u64max);
    case 17: return json::value(two64);   // integral, but beyond every integer kind
    case 18: return json::value(-two63);  // == INT64_MIN
    case 19: return json::value(1e300);
    // Random ones of each kind.
    case 20: return json::value(static_cast<std::int64_t>(rng_()));
    case 21: return json::value((rng_() | (std::uint64_t{1} << 63)));  // > INT64_MAX
    case 22: return json::value(static_cast<double>(static_cast<std::int64_t>(rng_() >> 11)) / 1024.0);
    case 23:
    case 24:
    case 25: return json::value(std::uint64_t{9223372036854775808ULL} + below(3));  // 2^63 (+1, +2)
    default: return json::value(static_cast<std::int64_t>(below(7)) - 3);
  }
}

json::value generator::scalar() {
  switch (below(5)) {
    case 0: return json::value(chance(50));
    case 1:
    case 2: return number();
    case 3: return json::value(string_pool[below(string_pool.size())]);
    default: {
      std::string s;
      const std::size_t n = below(6);
      for (std::size_t i = 0; i < n; ++i) s += static_cast<char>('a' + below(26));
      return json::value(s);
    }
  }
}

json::array generator::array(int depth) {
  json::array a;
  const std::size_t n = below(config_.max_elements + 1);
  // Arrays of objects are common in metadata (e.g. linked devices); so are scalar lists.
  const bool of_objects = depth > 0 && chance(35);
  for (std::size_t i = 0; i < n; ++i) {
    if (of_objects && !chance(15)) {
      a.push_back(json::value(object(depth - 1)));
    } else {
      a.push_back(value(depth - 1));
    }
  }
  return a;
}

json::object generator::object(int depth) {
  json::object o;
  const std::size_t n = below(config_.max_members + 1);
  for (std::size_t i = 0; i < n; ++i) o[key()] = value(depth - 1);
  return o;
}

json::value generator::any_kind(int depth) {
  switch (below(8)) {
    case 0: return nullptr;
    case 1: return json::value(chance(50));
    case 2: return json::value(static_cast<std::int64_t>(below(7)) - 3);
    case 3: return json::value(std::uint64_t{9223372036854775808ULL} + below(3));
    case 4: return json::value(chance(50) ? 1.0 : 0.5);
    case 5: return json::value(string_pool[below(string_pool.size())]);
    case 6: return depth < 1 ? json::value(json::array{}) : json::value(array(depth));
    default: return depth < 1 ? json::value(json::object{}) : json::value(object(depth));
  }
}

json::value generator::value(int depth) {
  if (chance(config_.null_percent)) return nullptr;
  if (chance(10)) return any_kind(depth);
  if (depth <= 0) return scalar();
  const std::size_t r = below(100);
  if (r < 50) return scalar();
  if (r < 78) return json::value(object(depth));
  return json::value(array(depth));
}

json::value generator::respell(const json::value& v) {
  switch (v.kind()) {
    case json::kind::int64: {
      const std::int64_t i = v.get_int64();
      if (i >= 0 && chance(30)) return json::value(static_cast<std::uint64_t>(i));
      // Only where the double is exact: 2^53 + 1 must not become 2^53.
      const double d = static_cast<double>(i);
      if (d >= -two63 && d < two63 && static_cast<std::int64_t>(d) == i && chance(70)) {
        return json::value(d);
      }
      return v;
    }
    case json::kind::uint64: {
      const std::uint64_t u = v.get_uint64();
      const double d = static_cast<double>(u);
      if (d < two64 && static_cast<std::uint64_t>(d) == u && chance(70)) return json::value(d);
      return v;
    }
    case json::kind::double_: {
      const double d = v.get_double();
      if (std::trunc(d) != d || !chance(70)) return v;
      if (d >= -two63 && d < two63) return json::value(static_cast<std::int64_t>(d));
      if (d >= two63 && d < two64) return json::value(static_cast<std::uint64_t>(d));
      return v;
    }
    case json::kind::array: {
      json::array out;
      for (const auto& e : v.get_array()) out.push_back(respell(e));
      return out;
    }
    case json::kind::object: {
      const auto& o = v.get_object();
      std::vector<std::size_t> order(o.size());
      for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
      for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[below(i)]);
      json::object out;
      for (const std::size_t i : order) {
        const auto& kv = o.begin()[i];
        out.emplace(kv.key(), respell(kv.value()));
      }
      return out;
    }
    default: return v;
  }
}

json::value generator::perturb(const json::value& v) {
  json::value out = v;
  json::value* node = &out;
  // Walk down a random path and change the node where the walk stops.
  for (;;) {
    if (node->is_object() && !node->get_object().empty() && chance(65)) {
      auto& o = node->get_object();
      node = &o.begin()[below(o.size())].value();
    } else if (node->is_array() && !node->get_array().empty() && chance(65)) {
      auto& a = node->get_array();
      node = &a[below(a.size())];
    } else {
      break;
    }
  }
  if (node->is_object()) {
    auto& o = node->get_object();
    if (!o.empty() && chance(50)) {
      o.erase(o.begin() + static_cast<std::ptrdiff_t>(below(o.size())));
    } else {
      o["\u2206perturbed"] = scalar();  // a key the alphabet never makes
    }
  } else if (node->is_array()) {
    auto& a = node->get_array();
    if (!a.empty() && chance(50)) {
      a.erase(a.begin() + static_cast<std::ptrdiff_t>(below(a.size())));
    } else {
      a.push_back(value(1));
    }
  } else if (node->is_string() && node->get_string() == "\u2206") {
    *node = nullptr;
  } else {
    *node = "\u2206";  // no string of the pools, and never equal to a number, null or bool
  }
  return out;
}

json::value generator::derive(const json::value& p, int depth) {
  if (p.is_object()) {
    json::object out;
    for (const auto& kv : p.get_object()) {
      if (chance(25)) continue;  // S lacks a key P has
      const std::size_t r = below(100);
      if (r < 40) {
        out[kv.key()] = derive(kv.value(), depth - 1);
      } else if (r < 55) {
        out[kv.key()] = chance(50) ? any_kind(depth - 1) : value(depth - 1);  // often a type conflict
      } else if (r < 65) {
        out[kv.key()] = nullptr;
      } else if (r < 85) {
        out[kv.key()] = respell(kv.value());  // equal, spelt differently
      } else {
        out[kv.key()] = kv.value();
      }
    }
    const std::size_t extra = below(3);
    for (std::size_t i = 0; i < extra; ++i) out[key()] = value(depth - 1);
    if (chance(30)) {
      // S's key order differs from P's.
      return respell(json::value(std::move(out)));
    }
    return out;
  }
  if (p.is_array()) {
    const std::size_t r = below(100);
    if (r < 45) {
      // Shares some of P's elements (re-spelt, so union must compare semantically),
      // repeats some, adds new ones.
      json::array out;
      const auto& pa = p.get_array();
      const std::size_t n = below(config_.max_elements + 2);
      for (std::size_t i = 0; i < n; ++i) {
        if (!pa.empty() && chance(60)) {
          out.push_back(respell(pa[below(pa.size())]));
        } else {
          out.push_back(value(depth - 1));
        }
      }
      return out;
    }
    if (r < 75) return json::value(array(depth));
    return p;
  }
  const std::size_t r = below(100);
  if (r < 30) return respell(p);
  if (r < 45) return scalar();
  if (r < 52) return nullptr;
  return any_kind(depth);  // a type conflict, of any pair of kinds
}

std::pair<json::object, json::object> generator::metadata_pair() {
  json::object p = object(config_.max_depth);
  json::object s;
  if (chance(35)) {
    s = object(config_.max_depth);
  } else {
    s = std::move(derive(json::value(p), config_.max_depth).get_object());
  }
  // Most pairs also collide on one key with kinds drawn uniformly, so that a run of a
  // thousand cases meets every one of the 64 pairs of kinds many times.
  if (chance(70)) {
    const std::string k = key();
    p[k] = any_kind(2);
    s[k] = any_kind(2);
  }
  if (chance(config_.chain_percent)) {
    for (std::size_t n = chance(25) ? 2 : 1; n > 0; --n) add_chain(p, s);
  }
  return {std::move(p), std::move(s)};
}

// The chain's keys are drawn level by level, the same in P and S, so both sides are
// objects all the way down and the merge's own walk goes that deep. Every level also has
// siblings that collide (any pair of kinds, nulls, S's new keys); some chains run through
// an array at one level (arrays are compared and copied whole, never walked).
// The sides end at different depths: where S goes on below P's end, S adds a deep new
// subtree (clean() walks it); where P goes on below S's, only P's copy is deep; a scalar,
// array or null of P at S's level blocks the rest of S's chain.
void generator::add_chain(json::object& p, json::object& s) {
  // Skewed towards short chains (the checks cost about depth squared), up to max_chain.
  const std::size_t length = config_.min_chain + below(1 + below(config_.max_chain - config_.min_chain + 1));
  std::size_t p_end = length;
  std::size_t s_end = length;
  switch (below(4)) {
    case 0: p_end = below(length / 2 + 1); break;  // S's chain goes on, mostly as a new subtree
    case 1: s_end = below(length); break;
    default: break;
  }
  // A quarter of the chains pass through an array at one level (the merge stops there).
  const std::size_t array_level = chance(25) ? below(length) : length;
  json::object* po = &p;  // the current level of each side; null once that side ended
  json::object* so = &s;
  for (std::size_t level = 0; po != nullptr || so != nullptr; ++level) {
    const std::string k = key();
    // Siblings before the chain's member: inserting later could move it.
    for (std::size_t n = chance(50) ? 1 + below(2) : 0; n > 0; --n) {
      const std::string sk = key();
      if (sk == k) continue;
      const json::value pv = chance(30) ? any_kind(1) : value(1);
      if (po != nullptr) (*po)[sk] = pv;
      if (so != nullptr) (*so)[sk] = chance(50) ? derive(pv, 1) : any_kind(1);
    }
    const bool p_on = po != nullptr && level < p_end;
    const bool s_on = so != nullptr && level < s_end;
    const bool through_array = p_on && s_on && level == array_level;
    auto descend = [&](json::object& o) -> json::object* {
      if (!through_array) return &(o[k] = json::object{}).get_object();
      json::array& a = (o[k] = json::array{}).get_array();
      if (chance(50)) a.push_back(number());  // shared or not: union compares it
      return &a.emplace_back(json::object{}).get_object();
    };
    // Where a side ends, it has nothing, null, or any other value at the chain's key.
    json::value p_end_value;
    bool p_has_end = false;
    if (po != nullptr) {
      if (p_on) {
        po = descend(*po);
      } else {
        if (chance(40)) {
          p_end_value = chance(20) ? json::value() : any_kind(2);
          (*po)[k] = p_end_value;
          p_has_end = true;
        }
        po = nullptr;
      }
    }
    if (so != nullptr) {
      if (s_on) {
        so = descend(*so);
      } else {
        if (!chance(30)) {
          (*so)[k] = p_has_end && chance(60) ? derive(p_end_value, 2) : (chance(20) ? json::value() : any_kind(2));
        }
        so = nullptr;
      }
    }
  }
}

std::pair<json::object, json::object> generator::user_pair() {
  auto user = [&](std::string_view id, json::object um, json::object am) {
    json::object u;
    u["user_id"] = id;
    u["email"] = "ana@example.com";
    // Missing or null metadata counts as {}.
    if (const std::size_t r = below(100); r < 90) {
      u["user_metadata"] = std::move(um);
    } else if (r < 95) {
      u["user_metadata"] = nullptr;
    }
    if (const std::size_t r = below(100); r < 90) {
      u["app_metadata"] = std::move(am);
    } else if (r < 95) {
      u["app_metadata"] = nullptr;
    }
    return u;
  };
  auto [pu, su] = metadata_pair();
  auto [pa, sa] = metadata_pair();
  json::object primary = user("google-oauth2|115015401343387192604", std::move(pu), std::move(pa));
  json::object secondary = user("auth0|5f7c8ec7c33c6c004bbafe82", std::move(su), std::move(sa));
  return {std::move(primary), std::move(secondary)};
}

}  // namespace merge_test
