// Metadata merge benchmarks: merge_users on realistic user pairs whose primary and
// secondary each carry about 1 KB, 10 KB or 1 MB of metadata (user_metadata and
// app_metadata together), and the same with parsing both users' JSON and serialising the
// PATCH body around it. bytes/s counts the serialised size of both users.
//
// The pairs are generated deterministically (fixed seed): half of the secondary's
// top-level keys are also the primary's, and the colliding values are what real metadata
// holds: scalars (the primary wins), preference objects (merged recursively, the secondary
// adds fields), role lists and device lists (arrays: `union` appends what is new).
//
// Run: build/<dir>/tests/merge/bench/merge_bench (see tests/merge/README.md for figures).
#include "merge/merge.hpp"

#include <boost/json.hpp>

#include <benchmark/benchmark.h>

#include <sys/resource.h>

#include <cstdint>
#include <random>
#include <string>

namespace json = boost::json;

namespace {

// One top-level entry of a user's metadata. `entry` is its index in the key universe,
// `side` 0 for the primary and 1 for the secondary: both users' values for the same
// entry share part of their content, like two accounts of the same person.
json::value entry_value(std::size_t entry, int side, std::mt19937_64& rng) {
  const std::string id = std::to_string(entry);
  const std::string who = side == 0 ? "p" : "s";
  switch (entry % 6) {
    case 0: return json::value("value " + id + " set by " + who);
    case 1: return json::value(static_cast<std::int64_t>(rng() % 100000));
    case 2: {  // preferences: merged recursively
      json::object o;
      o["theme"] = side == 0 ? "dark" : "light";
      o["language"] = "en-GB";
      o["notifications"] = json::object{{"email", true}, {"sms", side == 1}, {"digest", "weekly"}};
      o["updated_by_" + who] = "2024-05-0" + std::to_string(1 + rng() % 9) + "T10:00:00Z";
      return o;
    }
    case 3: {  // roles: strings, half shared
      json::array a;
      for (int i = 0; i < 4; ++i) a.emplace_back("role-" + id + "-" + std::to_string(i));
      for (int i = 0; i < 2; ++i) a.emplace_back("role-" + id + "-" + who + std::to_string(i));
      return a;
    }
    case 4: {  // devices: objects, one shared (with 1 vs 1.0 spellings of its counter)
      json::array a;
      json::object shared{{"id", "dev-" + id}, {"platform", "ios"}};
      shared["logins"] = side == 0 ? json::value(std::int64_t{3}) : json::value(3.0);
      a.emplace_back(std::move(shared));
      a.emplace_back(json::object{{"id", "dev-" + id + "-" + who},
                                  {"platform", "android"},
                                  {"last_seen", static_cast<std::int64_t>(1700000000 + rng() % 1000000)}});
      return a;
    }
    default: {  // profile: two levels of objects
      json::object address{{"street", "1 Main St"}, {"city", "Lisbon"}, {"zip", "1000-001"}};
      if (side == 1) address["country"] = "PT";
      return json::object{{"address", std::move(address)},
                          {"consents", json::array{"terms-v" + id, "privacy-v" + id}},
                          {"score", static_cast<double>(rng() % 1000) / 10.0}};
    }
  }
}

std::string entry_key(std::size_t entry) {
  static const char* const names[] = {"nickname", "visits", "preferences", "roles", "devices", "profile"};
  return std::string(names[entry % 6]) + "_" + std::to_string(entry);
}

struct user_pair {
  json::object primary;
  json::object secondary;
  std::string primary_text;
  std::string secondary_text;
};

// Each user's metadata is about `bytes` serialised, split between user_metadata (even
// entries) and app_metadata (odd entries). The primary holds entries [0, n), the secondary
// [n/2, n/2 + n): half of each one's keys collide with the other's.
user_pair make_pair(std::size_t bytes) {
  std::mt19937_64 rng(20240501);
  std::size_t n = 0;
  for (std::size_t size = 0; size < bytes; ++n) {
    size += entry_key(n).size() + json::serialize(entry_value(n, 0, rng)).size() + 4;
  }
  auto user = [&](std::string id, std::size_t first, int side) {
    json::object um, am;
    for (std::size_t e = first; e < first + n; ++e) {
      (e % 2 == 0 ? um : am)[entry_key(e)] = entry_value(e, side, rng);
    }
    return json::object{{"user_id", std::move(id)},
                        {"email", "ana@example.com"},
                        {"user_metadata", std::move(um)},
                        {"app_metadata", std::move(am)}};
  };
  user_pair p;
  p.primary = user("google-oauth2|115015401343387192604", 0, 0);
  p.secondary = user("auth0|5f7c8ec7c33c6c004bbafe82", n / 2, 1);
  p.primary_text = json::serialize(p.primary);
  p.secondary_text = json::serialize(p.secondary);
  return p;
}

const user_pair& pair_of(std::int64_t bytes) {
  static const user_pair kb1 = make_pair(1 << 10);
  static const user_pair kb10 = make_pair(10 << 10);
  static const user_pair mb1 = make_pair(1 << 20);
  return bytes == (1 << 10) ? kb1 : bytes == (10 << 10) ? kb10 : mb1;
}

merge::options options_for(std::int64_t policy) {
  merge::options o;
  o.arrays = policy == 0 ? merge::array_policy::primary : merge::array_policy::union_;
  return o;
}

void label(benchmark::State& state, const user_pair& p, const merge::options& o) {
  // What one merge of this pair does (outside the timed loop).
  const merge::result r = merge::merge_users(p.primary, p.secondary, o);
  state.counters["merged_keys"] = static_cast<double>(r.merged_keys.size());
  state.counters["patch_bytes"] = static_cast<double>(json::serialize(r.patch).size());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(p.primary_text.size() + p.secondary_text.size()));
  state.SetLabel(std::string(state.range(1) == 0 ? "primary" : "union") + ", P+S " +
                 std::to_string((p.primary_text.size() + p.secondary_text.size()) / 1024) + " KiB");
}

// merge_users alone: M for both metadata objects, the PATCH body and merged_keys.
void BM_merge(benchmark::State& state) {
  const user_pair& p = pair_of(state.range(0));
  const merge::options o = options_for(state.range(1));
  for (auto _ : state) {
    merge::result r = merge::merge_users(p.primary, p.secondary, o);
    benchmark::DoNotOptimize(r);
  }
  label(state, p, o);
}

// What the action does per link: parse both GET responses, merge, serialise the PATCH body.
void BM_parse_merge_serialize(benchmark::State& state) {
  const user_pair& p = pair_of(state.range(0));
  const merge::options o = options_for(state.range(1));
  for (auto _ : state) {
    const json::value primary = json::parse(p.primary_text);
    const json::value secondary = json::parse(p.secondary_text);
    const merge::result r = merge::merge_users(primary.get_object(), secondary.get_object(), o);
    std::string body = json::serialize(r.patch);
    benchmark::DoNotOptimize(body);
  }
  label(state, p, o);
}

void sizes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"bytes", "union"});
  for (const std::int64_t bytes : {1 << 10, 10 << 10, 1 << 20}) {
    for (const std::int64_t policy : {0, 1}) b->Args({bytes, policy});
  }
}

BENCHMARK(BM_merge)->Apply(sizes)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_parse_merge_serialize)->Apply(sizes)->Unit(benchmark::kMicrosecond);

// Issue 12 item 9: two users of about 5 MB, each with one 200,000-element array of small
// objects (half of S's elements are P's, spelt with 1.0 for 1), under `union`, as the
// link action does it: parse both, merge_delta (no M), serialise the PATCH body. Reports
// the process's peak RSS (run this case alone: --benchmark_filter=BM_union_200k).
std::string big_user(bool secondary) {
  json::array list;
  list.reserve(200000);
  const std::int64_t from = secondary ? 100000 : 0;
  for (std::int64_t i = from; i < from + 200000; ++i) {
    json::value n = i;
    if (secondary && i < 200000) n = static_cast<double>(i);
    json::string tag = "t";  // workaround(gcc12): not "t" + to_string, -Wrestrict false positive
    tag.append(std::to_string(i % 1000));
    list.push_back(json::object{{"id", std::move(n)}, {"tag", std::move(tag)}});
  }
  return json::serialize(json::object{{"user_id", secondary ? "auth0|s" : "auth0|p"},
                                      {"user_metadata", json::object{{"devices", std::move(list)}}}});
}

void BM_union_200k(benchmark::State& state) {
  const std::string p = big_user(false), s = big_user(true);
  merge::options o;
  o.arrays = merge::array_policy::union_;
  std::size_t keys = 0, body = 0;
  for (auto _ : state) {
    const json::value primary = json::parse(p);
    const json::value secondary = json::parse(s);
    const merge::delta r = merge::merge_delta(primary.get_object(), secondary.get_object(), o);
    const std::string patch = json::serialize(r.patch);
    keys = r.merged_keys.size();
    body = patch.size();
    benchmark::DoNotOptimize(patch);
  }
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  state.counters["peak_rss_MiB"] = static_cast<double>(ru.ru_maxrss) / 1024.0;
  state.counters["merged_keys"] = static_cast<double>(keys);
  state.counters["patch_MiB"] = static_cast<double>(body) / (1024.0 * 1024.0);
  state.SetLabel("P " + std::to_string(p.size() / 1024) + " KiB, S " + std::to_string(s.size() / 1024) + " KiB");
}
BENCHMARK(BM_union_200k)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
