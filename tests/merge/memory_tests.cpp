// Issue 12 item 9: the merge's memory is bounded by the size of its inputs. Counts every
// heap byte of the process (global operator new/delete, which Boost.JSON's default
// memory resource uses too), so the peak covers the documents, the union's index and
// merged_keys alike. Own executable: the replaced operator new must not touch other tests.
#include "merge/merge.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <malloc.h>

#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>

namespace {

// Live and peak bytes as malloc accounts them (usable size: the same figure at allocation
// and release). Single-threaded test: plain counters.
std::size_t g_live = 0;
std::size_t g_peak = 0;

void* counted_alloc(std::size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  g_live += malloc_usable_size(p);
  if (g_live > g_peak) g_peak = g_live;
  return p;
}

void counted_free(void* p) noexcept {
  if (p == nullptr) return;
  g_live -= malloc_usable_size(p);
  std::free(p);
}

}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n); }
void* operator new[](std::size_t n) { return counted_alloc(n); }
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_free(p); }

namespace json = boost::json;

namespace {

// The shape of merge_bench's BM_union_200k, smaller: one array of n small objects per user,
// half of S's elements equal to P's (spelt 1.0 for 1), the other half new.
std::string user_text(std::int64_t n, bool secondary) {
  json::array list;
  const std::int64_t from = secondary ? n / 2 : 0;
  for (std::int64_t i = from; i < from + n; ++i) {
    json::value id = i;
    if (secondary && i < n) id = static_cast<double>(i);
    json::string tag = "t";
    tag.append(std::to_string(i % 1000));
    list.push_back(json::object{{"id", std::move(id)}, {"tag", std::move(tag)}});
  }
  return json::serialize(json::object{{"user_id", secondary ? "auth0|s" : "auth0|p"},
                                      {"user_metadata", json::object{{"devices", std::move(list)}}}});
}

}  // namespace

TEST_CASE("memory: union of two 40,000-element users stays within the input's size") {
  constexpr std::int64_t n = 40000;
  const std::string p_text = user_text(n, false), s_text = user_text(n, true);
  const std::size_t before_parse = g_live;
  const json::value primary = json::parse(p_text);
  const json::value secondary = json::parse(s_text);
  const std::size_t input = g_live - before_parse;  // both users as parsed values

  merge::options o;
  o.arrays = merge::array_policy::union_;
  const std::size_t before_merge = g_live;
  g_peak = g_live;
  const merge::delta d = merge::merge_delta(primary.get_object(), secondary.get_object(), o);
  const std::size_t peak = g_peak - before_merge;  // everything the merge held at once
  const std::size_t kept = g_live - before_merge;  // what it returns: D and merged_keys

  REQUIRE(d.merged_keys.size() == static_cast<std::size_t>(n / 2));
  REQUIRE(d.patch.at("user_metadata").at("devices").as_array().size() == static_cast<std::size_t>(n + n / 2));
  MESSAGE("input (parsed) " << input << " B, merge peak " << peak << " B (" << 100 * peak / input << " %), result "
                            << kept << " B");
  // D is P's array plus S's new half (3/4 of the input), plus merged_keys and, while the
  // union runs, its index. M held next to D (the merge before) took about 1.8x the input.
  CHECK(peak < input * 5 / 4);
}
