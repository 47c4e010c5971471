// libFuzzer target: the metadata merge (merge/), checked against the invariants of the
// property tests (tests/merge/invariants.hpp), not only for crashes.
//
// Input: one JSON object, as a property-test failure prints its case:
//   {"primary": USER, "secondary": USER, "arrays": "union", "merge_exclude": ["/app_metadata/x"]}
// (USER as GET /api/v2/users/{id} returns it; arrays and merge_exclude optional). Inputs
// that are not such an object, or whose options merge::parse_options refuses, are
// skipped. Then:
// - merge_users refuses (merge::invalid_argument) exactly the cases the spec says it must
//   (metadata that is not an object, an exclusion through an array), and
// - on every other case each invariant check passes (primary wins, nothing of the
//   secondary lost, nothing invented, exclusions, nulls, idempotence, the PATCH body, ...).
// A violation prints the invariant, where, and the case, then aborts.
#include "invariants.hpp"
#include "merge/merge.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

namespace json = boost::json;

namespace {

[[noreturn]] void fail(const std::string& what, std::string_view input) {
  std::fprintf(stderr, "fuzz_merge: %s\n  input: %.*s\n", what.c_str(), static_cast<int>(input.size()), input.data());
  std::abort();
}

/// The checks' own random draws (invariants 10 and 12) are seeded from the input, so that a
/// crashing input replays exactly (FNV-1a).
std::uint64_t seed_of(std::string_view input) {
  std::uint64_t h = 14695981039346656037ull;
  for (const char ch : input) h = (h ^ static_cast<unsigned char>(ch)) * 1099511628211ull;
  return h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  boost::system::error_code ec;
  const json::value doc = json::parse(input, ec);  // max_depth 32, as the action parses users
  if (ec || !doc.is_object()) return -1;
  const json::object& o = doc.get_object();
  const json::value* p = o.if_contains("primary");
  const json::value* s = o.if_contains("secondary");
  if (p == nullptr || s == nullptr || !p->is_object() || !s->is_object()) return -1;

  merge::options opts;
  try {
    opts = merge::parse_options(o.if_contains("arrays"), o.if_contains("merge_exclude"));
  } catch (const merge::invalid_argument&) {
    return 0;  // refused options: the action reports them before any request
  }

  bool refused = false;
  try {
    (void)merge::merge_users(p->get_object(), s->get_object(), opts);
  } catch (const merge::invalid_argument&) {
    refused = true;
  } catch (const std::exception& e) {
    fail(std::string("merge_users threw ") + e.what(), input);
  }
  const bool must_refuse = merge_test::merge_refusal_expected(p->get_object(), s->get_object(), opts);
  if (refused != must_refuse) {
    fail(refused ? "merge_users refused a valid case" : "merge_users accepted a case the spec refuses", input);
  }
  if (refused) return 0;

  const auto c = merge_test::make_case(seed_of(input), p->get_object(), s->get_object(), opts);
  if (!c) fail("merge::parse_options accepted an exclusion that is no RFC 6901 pointer", input);
  merge_test::run_stats stats;
  for (const auto& inv : merge_test::invariant_checks()) {
    try {
      inv.check(*c, stats);
    } catch (const merge_test::violation& v) {
      fail(std::string(inv.name) + " violated: " + v.what() + "\n  case: " + merge_test::describe_case(*c), input);
    } catch (const std::exception& e) {
      fail(std::string(inv.name) + ": unexpected exception: " + e.what(), input);
    }
  }
  return 0;
}
