// Property tests: the fourteen invariants of docs/merge-semantics.md, each over
// A0_PROPERTY_ITERATIONS (default 10000, what CI runs) random user pairs from the seeded
// generator. The run's seed is A0_PROPERTY_SEED (default: std::random_device); case i+1
// uses next_seed(seed of case i). Every test case prints its run seed and the command that
// replays the run to stderr before its first case, so a crash (ASan's abort_on_error
// leaves no chance to report) can be replayed too; a violation also prints the failing
// case's own seed, whose `A0_PROPERTY_ITERATIONS=1` replay runs exactly that case.
//
// The checks lean on nothing of the library but the function under test: JSON equality,
// JSON Pointer parsing and escaping, clean(), RFC 7396 merge-patch and Auth0's PATCH rule
// are re-implemented here, independently and as plainly as possible (recursion is fine:
// generated documents nest at most ~300 levels; the 10,000-deep test uses the library's
// iterative walks).
#include "generator.hpp"
#include "invariants.hpp"
#include "auth0_patch_model.hpp"
#include "merge/merge.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <array>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <limits>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace json = boost::json;
using merge_test::generator;

namespace {

using path = std::vector<std::string>;

// ---------------------------------------------------------------- run configuration

/// The default number of cases; the checks that the generator's rare shapes (deep chains)
/// were met apply from this many on.
constexpr std::uint64_t full_run = 10000;
/// What counts as deep in those checks (the generator's chains reach 300 levels).
constexpr std::size_t deep_level = 100;

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text, &end, 0);
  if (end == nullptr || *end != '\0') {
    throw std::runtime_error(std::string(name) + "=\"" + text + "\" is not a number");
  }
  return v;
}

std::uint64_t iterations() { return env_number("A0_PROPERTY_ITERATIONS", full_run); }

std::uint64_t run_seed() {
  std::random_device rd;
  const std::uint64_t random = (std::uint64_t{rd()} << 32) ^ rd();
  return env_number("A0_PROPERTY_SEED", random);
}

using merge_test::violation;

template <class Message>
void expect(bool ok, Message&& message) {
  if (!ok) throw violation(message());
}

std::string text(const json::value& v) { return json::serialize(v); }
std::string text(const json::object& o) { return json::serialize(o); }

// ---------------------------------------------------------------- the test's own JSON model

// Every int64, uint64 and double converts to long double exactly when it has a 64-bit
// significand (x86-64: 80-bit extended; AArch64: binary128), so == on long double is
// comparison by mathematical value, including -0.0 == 0 and 2^53+1 != 2^53.
static_assert(std::numeric_limits<long double>::digits >= 64,
              "same() needs a long double that holds every int64, uint64 and double exactly");

bool is_number(const json::value& v) { return v.is_int64() || v.is_uint64() || v.is_double(); }

long double number_of(const json::value& v) {
  if (v.is_int64()) return static_cast<long double>(v.get_int64());
  if (v.is_uint64()) return static_cast<long double>(v.get_uint64());
  return static_cast<long double>(v.get_double());
}

/// JSON-semantic equality, written independently of merge::json_equal.
bool same(const json::value& a, const json::value& b) {
  if (is_number(a) && is_number(b)) {
    // A NaN (Boost.JSON reads 0e75808 as one) is the same value as another NaN.
    if (std::isnan(number_of(a)) || std::isnan(number_of(b)))
      return std::isnan(number_of(a)) && std::isnan(number_of(b));
    return number_of(a) == number_of(b);
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case json::kind::null: return true;
    case json::kind::bool_: return a.get_bool() == b.get_bool();
    case json::kind::string: return a.get_string() == b.get_string();
    case json::kind::array: {
      const auto& x = a.get_array();
      const auto& y = b.get_array();
      if (x.size() != y.size()) return false;
      for (std::size_t i = 0; i < x.size(); ++i) {
        if (!same(x[i], y[i])) return false;
      }
      return true;
    }
    case json::kind::object: {
      const auto& x = a.get_object();
      const auto& y = b.get_object();
      if (x.size() != y.size()) return false;
      for (const auto& kv : x) {
        const json::value* other = y.if_contains(kv.key());
        if (other == nullptr || !same(kv.value(), *other)) return false;
      }
      return true;
    }
    default: return false;
  }
}

bool same(const json::object& a, const json::object& b) { return same(json::value(a), json::value(b)); }

/// Levels of objects and arrays: 0 for a scalar, 1 for {} or [1].
std::size_t nesting(const json::value& v) {
  std::size_t below = 0;
  if (v.is_object()) {
    for (const auto& kv : v.get_object()) below = std::max(below, nesting(kv.value()));
  } else if (v.is_array()) {
    for (const auto& e : v.get_array()) below = std::max(below, nesting(e));
  } else {
    return 0;
  }
  return below + 1;
}

// RFC 6901, by the letter: escape ~ first as ~0, / as ~1; decode each token left to right.
std::string escape_token(std::string_view key) {
  std::string out;
  for (const char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string to_pointer(const path& p) {
  std::string out;
  for (const auto& t : p) {
    out += '/';  // workaround(gcc12): not "/" + token, -Wrestrict false positive (GCC PR 105329)
    out += escape_token(t);
  }
  return out;
}

std::optional<path> parse_ptr(std::string_view s) {
  path tokens;
  if (s.empty()) return tokens;
  if (s.front() != '/') return std::nullopt;
  std::size_t start = 1;
  for (;;) {
    const std::size_t slash = s.find('/', start);
    const std::string_view raw =
        s.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    std::string token;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '~') {
        token += raw[i];
      } else if (i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
        token += raw[++i] == '0' ? '~' : '/';
      } else {
        return std::nullopt;
      }
    }
    tokens.push_back(std::move(token));
    if (slash == std::string_view::npos) return tokens;
    start = slash + 1;
  }
}

/// Resolves a pointer through objects and arrays (array tokens: 0 or [1-9][0-9]*).
const json::value* resolve(const json::value& doc, const path& tokens) {
  const json::value* v = &doc;
  for (const auto& t : tokens) {
    if (v->is_object()) {
      v = v->get_object().if_contains(t);
    } else if (v->is_array()) {
      const bool digits =
          !t.empty() && t.find_first_not_of("0123456789") == std::string::npos && (t.size() == 1 || t[0] != '0');
      if (!digits || t.size() > 9) return nullptr;
      const std::size_t i = std::stoul(t);
      if (i >= v->get_array().size()) return nullptr;
      v = &v->get_array()[i];
    } else {
      return nullptr;
    }
    if (v == nullptr) return nullptr;
  }
  return v;
}

/// What a document holds at a path walked through objects only.
struct lookup {
  enum { absent, present, blocked } state;  // blocked: a non-object on a proper prefix
  const json::value* value;
};

lookup locate(const json::object& root, const path& rel) {
  const json::object* o = &root;
  for (std::size_t i = 0; i < rel.size(); ++i) {
    const json::value* v = o->if_contains(rel[i]);
    if (v == nullptr) return {lookup::absent, nullptr};
    if (i + 1 == rel.size()) return {lookup::present, v};
    if (!v->is_object()) return {lookup::blocked, v};
    o = &v->get_object();
  }
  return {lookup::absent, nullptr};
}

const json::value* value_at(const json::object& root, const path& rel) {
  const auto l = locate(root, rel);
  return l.state == lookup::present ? l.value : nullptr;
}

/// Calls f(rel, value) for every member at every depth, walking through objects only
/// (pre-order, in document order).
void for_each_member(const json::object& o, path& rel, const std::function<void(const path&, const json::value&)>& f) {
  for (const auto& kv : o) {
    rel.emplace_back(kv.key());
    f(rel, kv.value());
    if (kv.value().is_object()) for_each_member(kv.value().get_object(), rel, f);
    rel.pop_back();
  }
}

void for_each_member(const json::object& o, const std::function<void(const path&, const json::value&)>& f) {
  path rel;
  for_each_member(o, rel, f);
}

path join(std::string_view root, const path& rel) {
  path abs{std::string(root)};
  abs.insert(abs.end(), rel.begin(), rel.end());
  return abs;
}

bool excluded(const path& abs, const std::vector<path>& exclusions) {
  for (const auto& e : exclusions) {
    if (e.size() <= abs.size() && std::equal(e.begin(), e.end(), abs.begin())) return true;
  }
  return false;
}

/// excluded(join(root, rel)) without building the path (deep documents: per member).
bool excluded(std::string_view root, const path& rel, const std::vector<path>& exclusions) {
  for (const auto& e : exclusions) {
    if (e[0] == root && e.size() <= rel.size() + 1 && std::equal(e.begin() + 1, e.end(), rel.begin())) return true;
  }
  return false;
}

/// docs/merge-semantics.md's clean(): deep copy through objects, dropping null and excluded members;
/// arrays verbatim. `abs` is v's path from the user root.
json::value clean_ref(const json::value& v, path& abs, const std::vector<path>& exclusions) {
  if (!v.is_object()) return v;
  json::object out;
  for (const auto& kv : v.get_object()) {
    if (kv.value().is_null()) continue;
    abs.emplace_back(kv.key());
    if (!excluded(abs, exclusions)) out.emplace(kv.key(), clean_ref(kv.value(), abs, exclusions));
    abs.pop_back();
  }
  return out;
}

/// clean() of a whole metadata object (nothing at all when the root itself is excluded).
json::object clean_root(const json::object& s, std::string_view root, const std::vector<path>& exclusions) {
  path abs{std::string(root)};
  if (excluded(abs, exclusions)) return {};
  return clean_ref(json::value(s), abs, exclusions).get_object();
}

/// RFC 7396 MergePatch(target, patch), section 2's pseudocode (target taken by value and
/// moved down, so deep documents are not copied once per level).
json::value merge_patch_ref(json::value target, const json::value& patch) {
  if (!patch.is_object()) return patch;
  json::object result = target.is_object() ? std::move(target.get_object()) : json::object{};
  for (const auto& kv : patch.get_object()) {
    if (kv.value().is_null()) {
      result.erase(kv.key());
    } else {
      json::value* old = result.if_contains(kv.key());
      json::value sub = old != nullptr ? std::move(*old) : json::value();
      result[kv.key()] = merge_patch_ref(std::move(sub), kv.value());
    }
  }
  return result;
}

/// Auth0's PATCH of one metadata object: top-level keys overwrite, a top-level null
/// deletes, nested objects are replaced whole, {} wipes everything.
json::object auth0_patch_ref(const json::object& current, const json::object& patch) {
  if (patch.empty()) return {};
  json::object out = current;
  for (const auto& kv : patch) {
    if (kv.value().is_null()) {
      out.erase(kv.key());
    } else {
      out[kv.key()] = kv.value();
    }
  }
  return out;
}

json::object strip_nulls(const json::object& o) {
  json::object out;
  for (const auto& kv : o) {
    if (kv.value().is_null()) continue;
    // (Not `c ? json::value(strip_nulls(...)) : kv.value()`: that is a const prvalue,
    // copied rather than moved, once per level.)
    if (kv.value().is_object()) {
      out.emplace(kv.key(), strip_nulls(kv.value().get_object()));
    } else {
      out.emplace(kv.key(), kv.value());
    }
  }
  return out;
}

// ---------------------------------------------------------------- cases

constexpr std::array<std::string_view, 2> roots{"user_metadata", "app_metadata"};

/// A user's metadata object (missing or null: {}), not copied.
const json::object& meta(const json::object& user, std::string_view root) {
  static const json::object none;
  const json::value* v = user.if_contains(root);
  if (v == nullptr || v->is_null()) return none;
  return v->get_object();
}

/// True when the pointer passes through an array in either document (docs/merge-semantics.md rule 4:
/// a validation error), i.e. a proper prefix below the root resolves to an array.
bool indexes_into_array(const path& abs, const json::object& pu, const json::object& su) {
  for (const json::object* user : {&pu, &su}) {
    const json::object* o = &meta(*user, abs[0]);
    for (std::size_t j = 1; j + 1 < abs.size(); ++j) {
      const json::value* v = o->if_contains(abs[j]);
      if (v == nullptr) break;
      if (v->is_array()) return true;
      if (!v->is_object()) break;
      o = &v->get_object();
    }
  }
  return false;
}

const char* policy_name(merge::array_policy p) {
  switch (p) {
    case merge::array_policy::primary: return "primary";
    case merge::array_policy::concat: return "concat";
    case merge::array_policy::union_: return "union";
  }
  return "?";
}

/// Random options: any policy, and up to three exclusions, mostly paths present in the
/// documents, some absent, now and then a whole metadata object.
merge::options random_options(generator& g, const json::object& pu, const json::object& su) {
  constexpr std::array<merge::array_policy, 3> policies{merge::array_policy::primary, merge::array_policy::concat,
                                                        merge::array_policy::union_};
  merge::options o;
  o.arrays = policies[g.below(3)];
  // The paths present are counted, and only the drawn one is copied (deep chains have
  // tens of thousands of path tokens).
  auto present = [&](std::optional<std::size_t> pick) {
    std::size_t count = 0;
    path found;
    for (const auto root : roots) {
      for (const json::object* user : {&pu, &su}) {
        for_each_member(meta(*user, root), [&](const path& rel, const json::value&) {
          if (pick && count == *pick) found = join(root, rel);
          ++count;
        });
      }
    }
    return std::pair{count, found};
  };
  const std::size_t members = present(std::nullopt).first;
  const std::size_t n = g.below(4);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t r = g.below(100);
    path e;
    if (r < 70 && members > 0) {
      e = present(g.below(members)).second;
    } else if (r < 92) {
      e = {std::string(roots[g.below(2)]), g.key()};
      if (g.chance(50)) e.push_back(g.key());
    } else {
      e = {std::string(roots[g.below(2)])};
    }
    if (!indexes_into_array(e, pu, su)) o.exclude.push_back(to_pointer(e));
  }
  return o;
}

using merge_test::merge_case;

merge_case make_case(std::uint64_t seed) {
  generator g(seed);
  auto [p, s] = g.user_pair();
  merge_case c{seed, std::move(p), std::move(s), {}, {}};
  c.opts = random_options(g, c.primary, c.secondary);
  for (const auto& e : c.opts.exclude) c.exclusions.push_back(*parse_ptr(e));
  return c;
}

std::string describe(const merge_case& c) {
  json::object o;
  o["primary"] = c.primary;
  o["secondary"] = c.secondary;
  o["arrays"] = policy_name(c.opts.arrays);
  json::array ex;
  for (const auto& e : c.opts.exclude) ex.emplace_back(e);
  o["merge_exclude"] = std::move(ex);
  return json::serialize(o);
}

/// One metadata object of a case and of its merge result.
struct side {
  std::string_view root;
  const json::object& p;
  const json::object& s;
  const json::object* m;
};

std::vector<side> sides(const merge_case& c, const merge::result& r) {
  std::vector<side> out;
  for (const auto root : roots) {
    out.push_back({root, meta(c.primary, root), meta(c.secondary, root),
                   root == "user_metadata" ? &r.user_metadata : &r.app_metadata});
  }
  return out;
}

std::string where(const side& sd, const path& rel) { return to_pointer(join(sd.root, rel)); }

/// Runs `check` over the configured number of cases; reports the first violation with
/// the case's seed, the command that re-runs it, and the case itself as JSON.
template <class Check>
void run_property(std::string_view test, Check&& check) {
  const std::uint64_t n = iterations();
  const std::uint64_t first = run_seed();
  // Before the first case: a crash or an abort (sanitizers) reports nothing afterwards.
  std::cerr << "[property] " << test << ": A0_PROPERTY_SEED=" << first << " A0_PROPERTY_ITERATIONS=" << n
            << "\n[property]   replay: A0_PROPERTY_SEED=" << first << " A0_PROPERTY_ITERATIONS=" << n << " ctest -R '"
            << test << "' --output-on-failure" << std::endl;
  std::uint64_t seed = first;
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string failure;
    std::optional<merge_case> c;
    try {
      c = make_case(seed);
      check(*c);
    } catch (const violation& v) {
      failure = v.what();
    } catch (const std::exception& e) {
      failure = std::string("unexpected exception: ") + e.what();
    }
    if (!failure.empty()) {
      std::ostringstream msg;
      msg << test << " violated: " << failure << "\n  case seed " << seed << " (case #" << i
          << " of the run with A0_PROPERTY_SEED=" << first << ")\n  re-run: A0_PROPERTY_SEED=" << seed
          << " A0_PROPERTY_ITERATIONS=1 ctest -R '" << test << "' --output-on-failure"
          << "\n  case: " << (c ? describe(*c) : std::string("(not generated)"));
      FAIL(msg.str());
      return;
    }
    seed = merge_test::next_seed(seed);
  }
}

merge::options with_policy(merge::options o, merge::array_policy p) {
  o.arrays = p;
  return o;
}

std::string root_pointer(std::string_view root) { return "/" + std::string(root); }

}  // namespace

// The per-case checks, one per invariant; the test cases below run them over generated
// cases, and invariant_checks() hands them to other drivers (tests/fuzz/fuzz_merge.cpp).
namespace merge_test_checks {
using merge_test::merge_case;
using merge_test::run_stats;
void check_json_equal(const merge_case& c, run_stats& stats);
void check_invariant_1(const merge_case& c, run_stats& stats);
void check_invariant_2(const merge_case& c, run_stats& stats);
void check_invariant_3(const merge_case& c, run_stats& stats);
void check_invariant_4(const merge_case& c, run_stats& stats);
void check_invariant_5(const merge_case& c, run_stats& stats);
void check_invariant_6(const merge_case& c, run_stats& stats);
void check_invariant_7(const merge_case& c, run_stats& stats);
void check_invariant_8(const merge_case& c, run_stats& stats);
void check_invariant_9(const merge_case& c, run_stats& stats);
void check_invariant_10(const merge_case& c, run_stats& stats);
void check_invariant_11(const merge_case& c, run_stats& stats);
void check_invariant_12(const merge_case& c, run_stats& stats);
void check_invariant_13(const merge_case& c, run_stats& stats);
void check_invariant_14(const merge_case& c, run_stats& stats);
}  // namespace merge_test_checks

// ---------------------------------------------------------------- the test's own tools

TEST_CASE("property tools: the test's own equality and pointers") {
  auto eq = [](std::string_view a, std::string_view b) { return same(json::parse(a), json::parse(b)); };
  CHECK(eq("1", "1.0"));
  CHECK(eq("-0.0", "0"));
  CHECK(eq("9223372036854775808", "9.223372036854775808e18"));
  CHECK_FALSE(eq("9007199254740993", "9007199254740992.0"));
  CHECK_FALSE(eq("18446744073709551615", "1.8446744073709551616e19"));
  CHECK(eq(R"({"a":[1,{"b":2}],"c":null})", R"({"c":null,"a":[1.0,{"b":2}]})"));
  CHECK_FALSE(eq("[1,2]", "[2,1]"));
  CHECK_FALSE(eq(R"({"a":null})", "{}"));
  CHECK(parse_ptr("/a~01/~10/") == path{"a~1", "/0", ""});
  CHECK_FALSE(parse_ptr("/a~2").has_value());
  CHECK_FALSE(parse_ptr("a").has_value());
  CHECK(to_pointer(path{"a~1", "/0", ""}) == "/a~01/~10/");
}

void merge_test_checks::check_json_equal(const merge_test::merge_case& c, merge_test::run_stats& /*stats*/) {
  generator g(c.seed ^ 0x5eed);
  for (int i = 0; i < 8; ++i) {
    const json::value a = i == 0 ? json::value(c.primary) : g.value(4);
    const json::value b = g.value(4);
    const json::value respelt = g.respell(a);
    const json::value changed = g.perturb(a);
    for (const auto& xy : {std::pair{&a, &b}, std::pair{&a, &respelt}, std::pair{&a, &changed}}) {
      // (Not a structured binding: clang 14, the fuzz preset's compiler, cannot capture one.)
      const json::value* x = xy.first;
      const json::value* y = xy.second;
      expect(merge::json_equal(*x, *y) == same(*x, *y) && merge::json_equal(*y, *x) == same(*x, *y), [&] {
        return "json_equal(" + text(*x) + ", " + text(*y) + ") is " + (merge::json_equal(*x, *y) ? "true" : "false");
      });
    }
    expect(same(a, respelt), [&] { return "respell changed the value: " + text(a) + " vs " + text(respelt); });
    expect(!same(a, changed), [&] { return "perturb kept the value: " + text(a); });
    const json::value n1 = g.number();
    const json::value n2 = g.chance(50) ? g.respell(n1) : g.number();
    expect(merge::json_equal(n1, n2) == same(n1, n2),
           [&] { return "json_equal(" + text(n1) + ", " + text(n2) + ") disagrees on numbers"; });
  }
}

TEST_CASE("json_equal agrees with the test's own equality") {
  merge_test::run_stats stats;
  run_property("json_equal agrees", [&](const merge_case& c) { merge_test_checks::check_json_equal(c, stats); });
}

// ---------------------------------------------------------------- the invariants

void merge_test_checks::check_invariant_1(const merge_test::merge_case& c, merge_test::run_stats& /*stats*/) {
  const auto r = merge::merge_users(c.primary, c.secondary, c.opts);
  for (const auto& sd : sides(c, r)) {
    // P's keys first, in P's order, at every level.
    auto keys_first = [&](const json::object& p, const json::object& m, const path& rel) {
      expect(m.size() >= p.size(), [&] { return "M lost keys of P at " + where(sd, rel); });
      for (std::size_t i = 0; i < p.size(); ++i) {
        expect(p.begin()[i].key() == m.begin()[i].key(), [&] { return "P's key order not kept at " + where(sd, rel); });
      }
    };
    keys_first(sd.p, *sd.m, {});
    for_each_member(sd.p, [&](const path& rel, const json::value& pv) {
      const json::value* mv = value_at(*sd.m, rel);
      expect(mv != nullptr, [&] { return "P's " + where(sd, rel) + " is missing from M"; });
      if (pv.is_object()) {
        expect(mv->is_object(), [&] { return "P's object at " + where(sd, rel) + " is not an object in M"; });
        keys_first(pv.get_object(), mv->get_object(), rel);
      } else if (pv.is_array() && c.opts.arrays != merge::array_policy::primary) {
        const auto& pa = pv.get_array();
        expect(mv->is_array() && mv->get_array().size() >= pa.size(),
               [&] { return "P's array at " + where(sd, rel) + " is not a prefix of M's: " + text(*mv); });
        for (std::size_t i = 0; i < pa.size(); ++i) {
          expect(same(pa[i], mv->get_array()[i]),
                 [&] { return "P's array at " + where(sd, rel) + " is not a prefix of M's: " + text(*mv); });
        }
      } else {
        expect(same(pv, *mv), [&] { return "P's " + where(sd, rel) + " = " + text(pv) + " became " + text(*mv); });
      }
    });
  }
}

TEST_CASE("invariant 1: primary preserved") {
  merge_test::run_stats stats;
  run_property("invariant 1: primary preserved",
               [&](const merge_case& c) { merge_test_checks::check_invariant_1(c, stats); });
}

void merge_test_checks::check_invariant_2(const merge_test::merge_case& c, merge_test::run_stats& /*stats*/) {
  const auto r = merge::merge_users(c.primary, c.secondary, c.opts);
  for (const auto& sd : sides(c, r)) {
    for_each_member(sd.s, [&](const path& rel, const json::value& sv) {
      if (sv.is_null() || excluded(sd.root, rel, c.exclusions)) return;
      const lookup pl = locate(sd.p, rel);
      if (pl.state == lookup::blocked) return;  // a non-object of P on the path wins
      const json::value* mv = value_at(*sd.m, rel);
      if (pl.state == lookup::absent) {
        expect(mv != nullptr, [&] { return "S's " + where(sd, rel) + " = " + text(sv) + " is missing from M"; });
        if (sv.is_object()) {
          expect(mv->is_object(), [&] { return "S's object at " + where(sd, rel) + " is not an object in M"; });
        } else {
          expect(same(sv, *mv),
                 [&] { return "S's " + where(sd, rel) + " = " + text(sv) + " is " + text(*mv) + " in M"; });
        }
        return;
      }
      // P has a value here too: only arrays under concat/union take anything from S.
      if (!pl.value->is_array() || !sv.is_array() || c.opts.arrays == merge::array_policy::primary) return;
      const auto& pa = pl.value->get_array();
      const auto& sa = sv.get_array();
      expect(mv != nullptr && mv->is_array(), [&] { return "array at " + where(sd, rel) + " lost"; });
      const auto& ma = mv->get_array();
      if (c.opts.arrays == merge::array_policy::concat) {
        bool ok = ma.size() == pa.size() + sa.size();
        for (std::size_t i = 0; ok && i < sa.size(); ++i) ok = same(ma[pa.size() + i], sa[i]);
        expect(ok, [&] { return "concat at " + where(sd, rel) + " gave " + text(*mv); });
      } else {
        // union: P's elements, then each of S's not JSON-equal to one already there.
        json::array want = pa;
        for (const auto& e : sa) {
          bool present = false;
          for (const auto& m : want) present = present || same(m, e);
          if (!present) want.push_back(e);
        }
        expect(same(json::value(want), *mv), [&] {
          return "union at " + where(sd, rel) + " gave " + text(*mv) + ", want " + text(json::value(want));
        });
      }
    });
  }
}

TEST_CASE("invariant 2: secondary complete") {
  merge_test::run_stats stats;
  run_property("invariant 2: secondary complete",
               [&](const merge_case& c) { merge_test_checks::check_invariant_2(c, stats); });
}

void merge_test_checks::check_invariant_3(const merge_test::merge_case& c, merge_test::run_stats& /*stats*/) {
  const auto r = merge::merge_users(c.primary, c.secondary, c.opts);
  for (const auto& sd : sides(c, r)) {
    for_each_member(*sd.m, [&](const path& rel, const json::value& mv) {
      const json::value* pv = value_at(sd.p, rel);
      const json::value* sv = value_at(sd.s, rel);
      auto from = [&](const json::value* v) { return v != nullptr && same(*v, mv); };
      bool ok = false;
      if (mv.is_object()) {
        ok = (pv != nullptr && pv->is_object()) || (sv != nullptr && sv->is_object());
      } else if (from(pv) || from(sv)) {
        ok = true;
      } else if (mv.is_array() && pv != nullptr && pv->is_array() && sv != nullptr && sv->is_array() &&
                 c.opts.arrays != merge::array_policy::primary) {
        // P's elements, then elements of S's array.
        const auto& pa = pv->get_array();
        const auto& ma = mv.get_array();
        ok = ma.size() >= pa.size();
        for (std::size_t i = 0; ok && i < ma.size(); ++i) {
          if (i < pa.size()) {
            ok = same(ma[i], pa[i]);
          } else {
            ok = false;
            for (const auto& e : sv->get_array()) ok = ok || same(e, ma[i]);
          }
        }
      }
      expect(ok, [&] { return "M's " + where(sd, rel) + " = " + text(mv) + " comes from neither P nor S"; });
    });
  }
}

TEST_CASE("invariant 3: nothing invented") {
  merge_test::run_stats stats;
  run_property("invariant 3: nothing invented",
               [&](const merge_case& c) { merge_test_checks::check_invariant_3(c, stats); });
}

void merge_test_checks::check_invariant_4(const merge_test::merge_case& c, merge_test::run_stats& /*stats*/) {
  const auto r = merge::merge_users(c.primary, c.secondary, c.opts);
  for (const auto& sd : sides(c, r)) {
    for (const auto& e : c.exclusions) {
      if (e[0] != sd.root) continue;
      const path rel(e.begin() + 1, e.end());
      if (rel.empty()) {
        expect(same(*sd.m, sd.p), [&] { return "excluded root " + root_pointer(sd.root) + " changed"; });
        continue;
      }
      const json::value* pv = value_at(sd.p, rel);
      const json::value* mv = value_at(*sd.m, rel);
      expect((pv == nullptr) == (mv == nullptr) && (pv == nullptr || same(*pv, *mv)), [&] {
        return "at excluded " + to_pointer(e) + ": P has " + (pv ? text(*pv) : "nothing") + ", M has " +
               (mv ? text(*mv) : "nothing");
      });
    }
    // An exclusion that indexes into an array (of either user) is a validation error.
    std::optional<path> into_array;
    for (const json::object* doc : {&sd.p, &sd.s}) {
      for_each_member(*doc, [&](const path& rel, const json::value& v) {
        if (v.is_array() && !into_array) {
          into_array = join(sd.root, rel);
          into_array->push_back(v.get_array().empty() ? "0" : std::to_string(v.get_array().size() - 1));
        }
      });
    }
    if (into_array) {
      merge::options bad = c.opts;
      bad.exclude.push_back(to_pointer(*into_array));
      bool threw = false;
      try {
        (void)merge::merge_users(c.primary, c.secondary, bad);
      } catch (const merge::invalid_argument&) {
        threw = true;
      }
      expect(threw, [&] { return "exclusion " + to_pointer(*into_array) + " into an array was accepted"; });
    }
  }
}

TEST_CASE("invariant 4: exclusions") {
  merge_test::run_stats stats;
  run_property("invariant 4: exclusions", [&](const merge_case& c) { merge_test_checks::check_invariant_4(c, stats); });
}

void merge_test_checks::check_invariant_5(const merge_test::merge_case& c, merge_test::run_stats& /*stats*/) {
  const auto r = merge::merge_users(c.primary, c.secondary, c.opts);
  for (const auto& sd : sides(c, r)) {
    for_each_member(sd.s, [&](const path& rel, const json::value& sv) {
      if (!sv.is_null() || locate(sd.p, rel).state != lookup::absent) return;
      expect(value_at(*sd.m, rel) == nullptr, [&] { return "S's null at " + where(sd, rel) + " was copied into M"; });
    });
    for_each_member(sd.p, [&](const path& rel, const json::value& pv) {
      if (!pv.is_null()) return;
      const json::value* mv = value_at(*sd.m, rel);
      expect(mv != nullptr && mv->is_null(), [&] { return "P's null at " + where(sd, rel) + " did not stay"; });
    });
    // And no null in M (outside arrays, which are copied verbatim) that P did not have.
    for_each_member(*sd.m, [&](const path& rel, const json::value& mv) {
      if (!mv.is_null()) return;
      const json::value* pv = value_at(sd.p, rel);
      expect(pv != nullptr && pv->is_null(), [&] { return "M has a null at " + where(sd, rel) + " that P lacks"; });
    });
  }
}

TEST_CASE("invariant 5: nulls") {
  merge_test::run_stats stats;
  run_property("invariant 5: nulls", [&](const merge_case& c) { merge_test_checks::check_invariant_5(c, stats); });
}

void merge_test_checks::check_invariant_6(const merge_test::merge_case& c, merge_test::run_stats& stats) {
  const auto r = merge::merge_users(c.primary, c.secondary, c.opts);
  bool deep = false;
  for (const auto& sd : sides(c, r)) {
    for_each_member(sd.p, [&](const path& rel, const json::value& pv) {
      const json::value* sv = value_at(sd.s, rel);
      if (sv == nullptr) return;
      stats.seen.emplace(pv.kind(), sv->kind());
      deep = deep || (rel.size() >= deep_level && pv.is_object() && sv->is_object());
      const json::value* mv = value_at(*sd.m, rel);
      expect(mv != nullptr, [&] { return where(sd, rel) + " is missing from M"; });
      if (pv.is_object() && sv->is_object()) {
        expect(mv->is_object(), [&] { return "objects at " + where(sd, rel) + " not merged"; });
      } else if (pv.is_array() && sv->is_array() && c.opts.arrays != merge::array_policy::primary) {
        expect(mv->is_array(), [&] { return "arrays at " + where(sd, rel) + " not merged"; });
      } else {
        expect(same(pv, *mv), [&] {
          return "conflict at " + where(sd, rel) + " (P " + text(pv) + ", S " + text(*sv) + ") gave " + text(*mv);
        });
      }
    });
  }
  if (deep) ++stats.deep_cases;
}

TEST_CASE("invariant 6: type conflicts") {
  // Which (P kind, S kind) pairs the run met (the generator must make every one of them),
  // and the cases where both users have an object deep_level levels down (the merge
  // recursed that deep on both sides: the generator's deep chains).
  merge_test::run_stats stats;
  run_property("invariant 6: type conflicts",
               [&](const merge_case& c) { merge_test_checks::check_invariant_6(c, stats); });
  if (iterations() >= full_run) {
    // (Seeds 1-6 give 26-35.)
    CHECK_MESSAGE(stats.deep_cases >= 10,
                  "only " << stats.deep_cases << " cases collide on objects " << deep_level << " levels deep");
  }
  // (At 1,000 cases each pair is met about 25 times or more.)
  if (iterations() >= 1000) {
    std::string missing;
    for (int a = 0; a <= static_cast<int>(json::kind::object); ++a) {
      for (int b = 0; b <= static_cast<int>(json::kind::object); ++b) {
        const auto ka = static_cast<json::kind>(a);
        const auto kb = static_cast<json::kind>(b);
        if (stats.seen.count({ka, kb}) == 0) {
          missing += " (" + std::string(json::to_string(ka)) + ", " + std::string(json::to_string(kb)) + ")";
        }
      }
    }
    CHECK_MESSAGE(missing.empty(), "the generator never made these (P, S) kind pairs:" << missing);
  }
}

void merge_test_checks::check_invariant_7(const merge_test::merge_case& c, merge_test::run_stats& stats) {
  for (const auto root : roots) {
    const json::object& p = meta(c.primary, root);
    const json::object& s = meta(c.secondary, root);
    for (const auto policy : {merge::array_policy::primary, merge::array_policy::union_}) {
      const auto o = with_policy(c.opts, policy);
      const json::object m = merge::merge_metadata(p, s, o, root_pointer(root));
      const json::object again = merge::merge_metadata(m, s, o, root_pointer(root));
      expect(text(again) == text(m), [&] {
        return std::string("merge(M, S) != M under ") + policy_name(policy) + " for " + std::string(root) +
               ": M = " + text(m) + ", merge(M, S) = " + text(again);
      });
    }
    // concat appends again exactly when S has a non-empty array where M has one.
    const auto o = with_policy(c.opts, merge::array_policy::concat);
    const json::object m = merge::merge_metadata(p, s, o, root_pointer(root));
    const json::object again = merge::merge_metadata(m, s, o, root_pointer(root));
    bool grows = false;
    if (!excluded(path{std::string(root)}, c.exclusions)) {
      for_each_member(s, [&](const path& rel, const json::value& sv) {
        const json::value* mv = value_at(m, rel);
        if (sv.is_array() && !sv.get_array().empty() && mv != nullptr && mv->is_array() &&
            !excluded(root, rel, c.exclusions)) {
          grows = true;
        }
      });
    }
    expect(same(again, m) == !grows, [&] {
      return "concat re-run for " + std::string(root) + (grows ? " should append again" : " should change nothing") +
             ": M = " + text(m) + ", merge(M, S) = " + text(again);
    });
    if (grows) ++stats.concat_changed;
  }
}

TEST_CASE("invariant 7: idempotent under primary and union") {
  merge_test::run_stats stats;
  run_property("invariant 7: idempotent", [&](const merge_case& c) { merge_test_checks::check_invariant_7(c, stats); });
  // The spec asks to show that concat is not idempotent: the run must contain such cases.
  if (iterations() >= 100) CHECK(stats.concat_changed > 0);
}

void merge_test_checks::check_invariant_8(const merge_test::merge_case& c, merge_test::run_stats& /*stats*/) {
  for (const auto root : roots) {
    const json::object& p = meta(c.primary, root);
    const json::object& s = meta(c.secondary, root);
    const std::string rp = root_pointer(root);
    const json::object empty;
    const json::object m1 = merge::merge_metadata(p, empty, c.opts, rp);
    expect(text(m1) == text(p), [&] { return "merge(P, {}) = " + text(m1) + " != P = " + text(p); });
    const json::object m2 = merge::merge_metadata(empty, s, c.opts, rp);
    const json::object cleaned = clean_root(s, root, c.exclusions);
    expect(text(m2) == text(cleaned) && same(m2, cleaned),
           [&] { return "merge({}, S) = " + text(m2) + " != clean(S) = " + text(cleaned); });
    for (const auto policy : {merge::array_policy::primary, merge::array_policy::union_}) {
      const json::object m3 = merge::merge_metadata(p, p, with_policy(c.opts, policy), rp);
      expect(text(m3) == text(p), [&] {
        return std::string("merge(P, P) under ") + policy_name(policy) + " = " + text(m3) + " != P = " + text(p);
      });
    }
  }
}

TEST_CASE("invariant 8: neutral elements") {
  merge_test::run_stats stats;
  run_property("invariant 8: neutral elements",
               [&](const merge_case& c) { merge_test_checks::check_invariant_8(c, stats); });
}

void merge_test_checks::check_invariant_9(const merge_test::merge_case& c, merge_test::run_stats& /*stats*/) {
  merge::options o;  // primary, no exclusions
  for (const auto root : roots) {
    const json::object p = strip_nulls(meta(c.primary, root));
    const json::object& s = meta(c.secondary, root);
    const json::object m = merge::merge_metadata(p, s, o, root_pointer(root));
    const json::value oracle = merge_patch_ref(json::value(clean_root(s, root, {})), json::value(p));
    expect(same(json::value(m), oracle), [&] {
      return std::string(root) + ": merge = " + text(m) + ", merge-patch(clean(S), P) = " + text(oracle) +
             " (P without nulls = " + text(p) + ")";
    });
  }
}

TEST_CASE("invariant 9: RFC 7396 oracle") {
  merge_test::run_stats stats;
  run_property("invariant 9: RFC 7396 oracle",
               [&](const merge_case& c) { merge_test_checks::check_invariant_9(c, stats); });
}

void merge_test_checks::check_invariant_10(const merge_test::merge_case& c, merge_test::run_stats& /*stats*/) {
  const auto r = merge::merge_users(c.primary, c.secondary, c.opts);
  for (const auto& kv : r.patch) {
    expect((kv.key() == "user_metadata" || kv.key() == "app_metadata") && kv.value().is_object() &&
               !kv.value().get_object().empty(),
           [&] { return "bad PATCH body member " + std::string(kv.key()) + ": " + text(r.patch); });
  }
  for (const auto& sd : sides(c, r)) {
    const json::value* d = r.patch.if_contains(sd.root);
    if (d == nullptr) {
      expect(same(*sd.m, sd.p), [&] { return std::string(sd.root) + " not sent although M != P"; });
      continue;
    }
    for (const auto& kv : d->get_object()) {
      expect(!kv.value().is_null(), [&] { return "top-level null in D: " + text(r.patch); });
    }
    const json::object mine = auth0_patch_ref(sd.p, d->get_object());
    const json::object theirs = a0::test::apply_auth0_patch(sd.p, d->get_object());
    expect(same(mine, *sd.m), [&] {
      return "applying D = " + text(*d) + " to P = " + text(sd.p) + " gives " + text(mine) + ", not M = " + text(*sd.m);
    });
    expect(same(theirs, mine), [&] { return "apply_auth0_patch gives " + text(theirs) + ", Auth0 " + text(mine); });
  }
  // The library's PATCH model against the test's, on arbitrary patches (nulls, {}).
  generator g(c.seed ^ 0xa0a0);
  const json::object& cur = meta(c.primary, "user_metadata");
  json::object patch;
  const std::size_t n = g.below(4);
  for (std::size_t i = 0; i < n; ++i) patch[g.key()] = g.chance(30) ? json::value() : g.value(2);
  const json::object mine = auth0_patch_ref(cur, patch);
  const json::object theirs = a0::test::apply_auth0_patch(cur, patch);
  expect(same(theirs, mine), [&] {
    return "apply_auth0_patch(" + text(cur) + ", " + text(patch) + ") = " + text(theirs) + ", Auth0: " + text(mine);
  });
}

TEST_CASE("invariant 10: delta correct") {
  merge_test::run_stats stats;
  run_property("invariant 10: delta correct",
               [&](const merge_case& c) { merge_test_checks::check_invariant_10(c, stats); });
}

void merge_test_checks::check_invariant_11(const merge_test::merge_case& c, merge_test::run_stats& /*stats*/) {
  const auto r = merge::merge_users(c.primary, c.secondary, c.opts);
  for (const auto& sd : sides(c, r)) {
    json::object want;
    for (const auto& kv : *sd.m) {
      const json::value* pv = sd.p.if_contains(kv.key());
      if (pv == nullptr || !same(*pv, kv.value())) want[kv.key()] = kv.value();
    }
    const json::value* d = r.patch.if_contains(sd.root);
    const json::object got = d != nullptr ? d->get_object() : json::object{};
    expect(same(got, want), [&] {
      return std::string(sd.root) + ": D = " + text(got) + ", the changed top-level keys are " + text(want);
    });
    expect((d == nullptr) == same(*sd.m, sd.p), [&] { return std::string(sd.root) + ": D empty iff M == P broken"; });
    const json::object delta = merge::metadata_delta(sd.p, *sd.m);
    expect(same(delta, want), [&] { return "metadata_delta = " + text(delta) + ", want " + text(want); });
  }
}

TEST_CASE("invariant 11: delta minimal") {
  merge_test::run_stats stats;
  run_property("invariant 11: delta minimal",
               [&](const merge_case& c) { merge_test_checks::check_invariant_11(c, stats); });
}

void merge_test_checks::check_invariant_12(const merge_test::merge_case& c, merge_test::run_stats& /*stats*/) {
  const auto r = merge::merge_users(c.primary, c.secondary, c.opts);
  generator g(c.seed ^ 0xc0c0);
  for (const auto& sd : sides(c, r)) {
    // D as the spec defines it (computed here, not taken from the library).
    std::set<std::string> in_d;
    for (const auto& kv : *sd.m) {
      const json::value* pv = sd.p.if_contains(kv.key());
      if (pv == nullptr || !same(*pv, kv.value())) in_d.emplace(kv.key());
    }
    // W writes (or deletes) keys that P has and D leaves alone, and adds fresh ones.
    std::vector<std::string> candidates;
    for (const auto& kv : sd.p) {
      if (in_d.count(kv.key()) == 0) candidates.emplace_back(kv.key());
    }
    for (const std::string_view k : {"w", "\u2206w", "a"}) {
      if (in_d.count(std::string(k)) == 0 && !sd.p.contains(k)) candidates.emplace_back(k);
    }
    json::object w;
    const std::size_t n = 1 + g.below(3);
    for (std::size_t i = 0; i < n; ++i) {
      w[candidates[g.below(candidates.size())]] = g.chance(25) ? json::value() : g.value(2);
    }
    const json::object after_w = auth0_patch_ref(sd.p, w);
    const json::value* d = r.patch.if_contains(sd.root);
    const json::object after_patch = d != nullptr ? auth0_patch_ref(after_w, d->get_object()) : after_w;
    for (const auto& kv : w) {
      const json::value* before = after_w.if_contains(kv.key());
      const json::value* after = after_patch.if_contains(kv.key());
      expect((before == nullptr) == (after == nullptr) && (before == nullptr || same(*before, *after)), [&] {
        return std::string(sd.root) + ": the concurrent write W = " + text(w) + " to \"" + std::string(kv.key()) +
               "\" was lost by the PATCH D = " + (d ? text(*d) : "(none)");
      });
    }
    for (const auto& k : in_d) {
      const json::value* got = after_patch.if_contains(k);
      expect(got != nullptr && same(*got, *sd.m->if_contains(k)),
             [&] { return std::string(sd.root) + ": key \"" + k + "\" of D not written"; });
    }
  }
}

TEST_CASE("invariant 12: concurrent writer safe") {
  merge_test::run_stats stats;
  run_property("invariant 12: concurrent writer safe",
               [&](const merge_case& c) { merge_test_checks::check_invariant_12(c, stats); });
}

void merge_test_checks::check_invariant_13(const merge_test::merge_case& c, merge_test::run_stats& stats) {
  const auto r = merge::merge_users(c.primary, c.secondary, c.opts);
  json::object mdoc{{"user_metadata", r.user_metadata}, {"app_metadata", r.app_metadata}};
  json::object pdoc{{"user_metadata", meta(c.primary, "user_metadata")},
                    {"app_metadata", meta(c.primary, "app_metadata")}};
  json::object sdoc{{"user_metadata", meta(c.secondary, "user_metadata")},
                    {"app_metadata", meta(c.secondary, "app_metadata")}};
  const json::value mroot(mdoc);
  const json::value proot(pdoc);
  const json::value sroot(sdoc);
  std::set<std::string> listed;
  for (const auto& pointer : r.merged_keys) {
    const auto tokens = parse_ptr(pointer);
    expect(tokens.has_value() && tokens->size() >= 2, [&] { return "malformed merged_keys entry " + pointer; });
    expect(to_pointer(*tokens) == pointer, [&] { return pointer + " is not canonically stats.escaped"; });
    expect(merge::parse_pointer(pointer) == *tokens, [&] { return "merge::parse_pointer disagrees on " + pointer; });
    for (const auto& t : *tokens) {
      expect(merge::escape_pointer_token(t) == escape_token(t),
             [&] { return "merge::escape_pointer_token(\"" + t + "\") = " + merge::escape_pointer_token(t); });
    }
    if (pointer.find('~') != std::string::npos) ++stats.escaped;
    if (tokens->size() > deep_level) ++stats.deep_keys;
    expect(listed.insert(pointer).second, [&] { return "merged_keys lists " + pointer + " twice"; });
    const json::value* mv = resolve(mroot, *tokens);
    expect(mv != nullptr, [&] { return pointer + " does not resolve in M"; });
    expect(resolve(proot, *tokens) == nullptr, [&] { return pointer + " was already in P"; });
    // S's value there: the cleaned subtree, or (an appended element) one of S's elements.
    const path parent(tokens->begin(), tokens->end() - 1);
    const json::value* marr = resolve(mroot, parent);
    if (marr != nullptr && marr->is_array()) {
      const json::value* sarr = resolve(sroot, parent);
      bool found = false;
      if (sarr != nullptr && sarr->is_array()) {
        for (const auto& e : sarr->get_array()) found = found || same(e, *mv);
      }
      expect(found, [&] { return pointer + " = " + text(*mv) + " is no element of S's array"; });
    } else {
      const json::value* sv = resolve(sroot, *tokens);
      expect(sv != nullptr, [&] { return pointer + " is not in S"; });
      path abs = *tokens;
      const json::value cleaned = clean_ref(*sv, abs, c.exclusions);
      expect(same(*mv, cleaned),
             [&] { return pointer + " = " + text(*mv) + " in M, clean(S) there = " + text(cleaned); });
      if (nesting(cleaned) >= deep_level / 2) ++stats.deep_subtrees;
    }
  }
  // Exactly what M has beyond P: new members (whole), and elements appended to P's arrays.
  std::vector<std::string> added;
  std::function<void(const json::object&, const json::object&, path&)> diff = [&](const json::object& m,
                                                                                  const json::object& p, path& abs) {
    for (const auto& kv : m) {
      abs.emplace_back(kv.key());
      const json::value* pv = p.if_contains(kv.key());
      if (pv == nullptr) {
        added.push_back(to_pointer(abs));
      } else if (pv->is_object() && kv.value().is_object()) {
        diff(kv.value().get_object(), pv->get_object(), abs);
      } else if (pv->is_array() && kv.value().is_array()) {
        for (std::size_t i = pv->get_array().size(); i < kv.value().get_array().size(); ++i) {
          added.push_back(to_pointer(abs) + "/" + std::to_string(i));
        }
      }
      abs.pop_back();
    }
  };
  for (const auto root : roots) {
    path abs{std::string(root)};
    diff(mdoc.at(root).get_object(), pdoc.at(root).get_object(), abs);
  }
  const std::set<std::string> want(added.begin(), added.end());
  expect(listed == want, [&] {
    json::array a, b;
    for (const auto& k : r.merged_keys) a.emplace_back(k);
    for (const auto& k : added) b.emplace_back(k);
    return "merged_keys " + text(a) + " but M adds " + text(b);
  });
  // In document order (merge.hpp): the secondary's pre-order, user_metadata first.
  std::vector<std::string> ordered;
  std::function<void(const json::object&, const json::object&, path&)> walk = [&](const json::object& s,
                                                                                  const json::object& p, path& abs) {
    for (const auto& kv : s) {
      abs.emplace_back(kv.key());
      const std::string here = to_pointer(abs);
      const json::value* pv = p.if_contains(kv.key());
      if (want.count(here) != 0) ordered.push_back(here);
      if (pv != nullptr && pv->is_object() && kv.value().is_object()) {
        walk(kv.value().get_object(), pv->get_object(), abs);
      } else if (pv != nullptr && pv->is_array()) {
        for (std::size_t i = pv->get_array().size();; ++i) {
          const std::string element = here + "/" + std::to_string(i);
          if (want.count(element) == 0) break;
          ordered.push_back(element);
        }
      }
      abs.pop_back();
    }
  };
  for (const auto root : roots) {
    path abs{std::string(root)};
    walk(sdoc.at(root).get_object(), pdoc.at(root).get_object(), abs);
  }
  expect(ordered == r.merged_keys, [&] { return std::string("merged_keys not in the secondary's document order"); });
}

TEST_CASE("invariant 13: merged_keys exact") {
  merge_test::run_stats stats;
  run_property("invariant 13: merged_keys exact",
               [&](const merge_case& c) { merge_test_checks::check_invariant_13(c, stats); });
  // The run must have exercised escaping (keys "a/b", "~", "~1", "/~"), and deep additions.
  if (iterations() >= 200) CHECK(stats.escaped > 0);
  if (iterations() >= full_run) {
    // (Seeds 1-6 give 80-200 and 15-26.)
    CHECK_MESSAGE(stats.deep_keys >= 20, "only " << stats.deep_keys << " merged_keys " << deep_level << " levels deep");
    CHECK_MESSAGE(stats.deep_subtrees >= 5,
                  "only " << stats.deep_subtrees << " added subtrees " << deep_level / 2 << " levels deep");
  }
}

void merge_test_checks::check_invariant_14(const merge_test::merge_case& c, merge_test::run_stats& /*stats*/) {
  const json::value p_before(c.primary);  // deep copies
  const json::value s_before(c.secondary);
  const std::vector<std::string> ex_before = c.opts.exclude;
  const auto r1 = merge::merge_users(c.primary, c.secondary, c.opts);
  const auto r2 = merge::merge_users(c.primary, c.secondary, c.opts);
  // The same documents copied into another memory resource: other addresses, other
  // allocation order. (Not re-parsed from text: Boost.JSON's default number parsing
  // may be off by an ulp for long decimals.)
  const json::storage_ptr elsewhere = json::make_shared_resource<json::monotonic_resource>();
  const json::object p_again(c.primary, elsewhere);
  const json::object s_again(c.secondary, elsewhere);
  const auto r3 = merge::merge_users(p_again, s_again, c.opts);
  auto bytes = [](const merge::result& r) {
    std::string out = text(r.user_metadata) + "\n" + text(r.app_metadata) + "\n" + text(r.patch);
    for (const auto& k : r.merged_keys) out += "\n" + k;
    return out;
  };
  expect(bytes(r1) == bytes(r2) && bytes(r1) == bytes(r3),
         [&] { return "outputs differ:\n" + bytes(r1) + "\n--\n" + bytes(r2) + "\n--\n" + bytes(r3); });
  // merge_delta (what the link action calls) is merge_users without M: the same bytes.
  const merge::delta d = merge::merge_delta(c.primary, c.secondary, c.opts);
  expect(text(d.patch) == text(r1.patch) && d.merged_keys == r1.merged_keys, [&] {
    std::string got = text(d.patch);
    for (const auto& k : d.merged_keys) got += "\n" + k;
    return "merge_delta gives\n" + got + "\nmerge_users\n" + bytes(r1);
  });
  expect(text(json::value(c.primary)) == text(p_before) && same(json::value(c.primary), p_before),
         [&] { return "primary mutated: " + text(p_before) + " -> " + text(c.primary); });
  expect(text(json::value(c.secondary)) == text(s_before) && same(json::value(c.secondary), s_before),
         [&] { return "secondary mutated: " + text(s_before) + " -> " + text(c.secondary); });
  expect(c.opts.exclude == ex_before, [] { return std::string("options mutated"); });
}

TEST_CASE("invariant 14: deterministic and pure") {
  merge_test::run_stats stats;
  run_property("invariant 14: deterministic and pure",
               [&](const merge_case& c) { merge_test_checks::check_invariant_14(c, stats); });
}

// ---------------------------------------------------------------- depth

TEST_CASE("depth: documents nested 10,000 deep merge without stack overflow") {
  constexpr int depth = 10000;
  auto nest = [](std::string_view open, std::string_view inner, std::string_view close, int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += open;
    s += inner;
    for (int i = 0; i < n; ++i) s += close;
    return s;
  };
  // Both users have the 10,000-deep chain of objects; at its bottom they collide on a
  // scalar, a null, and a 10,000-deep array (equal by value: 1 vs 1.0), and S adds a new
  // 10,000-deep array and a new chain of objects holding a null.
  const std::string p_arr = nest("[", "1", "]", depth);
  const std::string s_arr = nest("[", "1.0", "]", depth);
  const std::string s_new = nest("[", "null", "]", depth);
  const std::string s_obj = nest(R"({"o":)", R"({"x":null,"y":true})", "}", depth);
  const std::string s_obj_clean = nest(R"({"o":)", R"({"y":true})", "}", depth);
  const std::string p_bottom = R"({"p":1,"n":null,"arr":[)" + p_arr + "]}";
  const std::string s_bottom = R"({"n":{"x":1},"arr":[)" + s_arr + R"(],"p":2,"s":)" + s_new + R"(,"t":)" + s_obj + "}";
  const std::string m_bottom =
      R"({"p":1,"n":null,"arr":[)" + p_arr + R"(],"s":)" + s_new + R"(,"t":)" + s_obj_clean + "}";
  auto user = [&](std::string_view bottom) {
    return R"({"user_metadata":{"d":)" + nest(R"({"d":)", bottom, "}", depth) + "}}";
  };
  // The bottom object of the chain, and its keys in order (walked, not serialised:
  // Boost.JSON's serializer takes seconds on such depths under AddressSanitizer).
  auto bottom = [](const json::object& metadata) {
    const json::object* o = &metadata;
    while (o->size() == 1 && o->begin()->key() == "d") o = &o->begin()->value().get_object();
    return o;
  };
  auto keys = [](const json::object* o) {
    std::vector<std::string> out;
    for (const auto& kv : *o) out.emplace_back(kv.key());
    return out;
  };
  json::parse_options po;
  po.max_depth = 3 * depth + 16;
  const json::value p = json::parse(user(p_bottom), {}, po);
  const json::value s = json::parse(user(s_bottom), {}, po);
  const json::value want = json::parse(user(m_bottom), {}, po);

  for (const auto policy : {merge::array_policy::primary, merge::array_policy::union_}) {
    merge::options o;
    o.arrays = policy;
    const auto r = merge::merge_users(p.get_object(), s.get_object(), o);
    CHECK(merge::json_equal(json::value(r.user_metadata), want.at("user_metadata")));
    CHECK(keys(bottom(r.user_metadata)) == std::vector<std::string>{"p", "n", "arr", "s", "t"});
    std::string chain = "/user_metadata";
    for (int i = 0; i <= depth; ++i) chain += "/d";
    CHECK(r.merged_keys == std::vector<std::string>{chain + "/s", chain + "/t"});
    REQUIRE(r.patch.contains("user_metadata"));
    CHECK(merge::json_equal(r.patch.at("user_metadata"), want.at("user_metadata")));
    CHECK(merge::json_equal(json::value(a0::test::apply_auth0_patch(p.at("user_metadata").get_object(),
                                                                    r.patch.at("user_metadata").get_object())),
                            json::value(r.user_metadata)));
    // Idempotent at depth too.
    const auto again = merge::merge_metadata(r.user_metadata, s.at("user_metadata").get_object(), o, "/user_metadata");
    CHECK(merge::json_equal(json::value(again), json::value(r.user_metadata)));
    CHECK(keys(bottom(again)) == keys(bottom(r.user_metadata)));
  }
  merge::options concat;
  concat.arrays = merge::array_policy::concat;
  const auto r = merge::merge_users(p.get_object(), s.get_object(), concat);
  std::string chain = "/user_metadata";
  for (int i = 0; i <= depth; ++i) chain += "/d";
  CHECK(r.merged_keys == std::vector<std::string>{chain + "/arr/1", chain + "/s", chain + "/t"});
}

// ---------------------------------------------------------------- for other drivers

std::optional<merge_case> merge_test::make_case(std::uint64_t seed, json::object primary, json::object secondary,
                                                merge::options opts) {
  if (merge_refusal_expected(primary, secondary, opts)) return std::nullopt;
  merge_case c{seed, std::move(primary), std::move(secondary), std::move(opts), {}};
  for (const auto& e : c.opts.exclude) {
    auto tokens = parse_ptr(e);
    if (!tokens || tokens->empty()) return std::nullopt;
    c.exclusions.push_back(std::move(*tokens));
  }
  return c;
}

bool merge_test::merge_refusal_expected(const json::object& primary, const json::object& secondary,
                                        const merge::options& opts) {
  for (const json::object* user : {&primary, &secondary}) {
    for (const auto root : roots) {
      const json::value* v = user->if_contains(root);
      if (v != nullptr && !v->is_null() && !v->is_object()) return true;
    }
  }
  for (const auto& e : opts.exclude) {
    const auto tokens = parse_ptr(e);
    if (tokens && !tokens->empty() && indexes_into_array(*tokens, primary, secondary)) return true;
  }
  return false;
}

std::string merge_test::describe_case(const merge_case& c) { return describe(c); }

const std::vector<merge_test::invariant_check>& merge_test::invariant_checks() {
  using namespace merge_test_checks;
  static const std::vector<invariant_check> all{
      {"json_equal agrees", check_json_equal},
      {"invariant 1: primary preserved", check_invariant_1},
      {"invariant 2: secondary complete", check_invariant_2},
      {"invariant 3: nothing invented", check_invariant_3},
      {"invariant 4: exclusions", check_invariant_4},
      {"invariant 5: nulls", check_invariant_5},
      {"invariant 6: type conflicts", check_invariant_6},
      {"invariant 7: idempotent", check_invariant_7},
      {"invariant 8: neutral elements", check_invariant_8},
      {"invariant 9: RFC 7396 oracle", check_invariant_9},
      {"invariant 10: delta correct", check_invariant_10},
      {"invariant 11: delta minimal", check_invariant_11},
      {"invariant 12: concurrent writer safe", check_invariant_12},
      {"invariant 13: merged_keys exact", check_invariant_13},
      {"invariant 14: deterministic and pure", check_invariant_14},
  };
  return all;
}
