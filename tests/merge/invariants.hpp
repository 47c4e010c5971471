// The per-case checks of the merge invariants (docs/merge-semantics.md), defined in
// property_tests.cpp, for drivers other than its seeded generator: the libFuzzer target
// tests/fuzz/fuzz_merge.cpp links property_tests.cpp (built with DOCTEST_CONFIG_DISABLE,
// so its test cases drop out) and runs every check on the users the fuzzer makes.
#pragma once

#include "merge/merge.hpp"

#include <boost/json/kind.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace merge_test {

/// A broken invariant; what() says which and where.
struct violation : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Two users and the options of one merge.
struct merge_case {
  std::uint64_t seed;  ///< seeds the checks' own random draws (invariants 10, 12)
  boost::json::object primary;
  boost::json::object secondary;
  merge::options opts;
  std::vector<std::vector<std::string>> exclusions;  ///< opts.exclude, parsed by the test's parser
};

/// What a run of cases met (the property tests check that rare shapes occurred).
struct run_stats {
  std::set<std::pair<boost::json::kind, boost::json::kind>> seen;  ///< (P kind, S kind) collisions
  std::uint64_t deep_cases = 0;      ///< invariant 6: collisions on objects deep_level down
  std::uint64_t concat_changed = 0;  ///< invariant 7: concat re-runs that appended again
  std::uint64_t escaped = 0;         ///< invariant 13: escaped merged_keys
  std::uint64_t deep_keys = 0;       ///< invariant 13: merged_keys deep_level or more down
  std::uint64_t deep_subtrees = 0;   ///< invariant 13: added subtrees deep_level / 2 or more deep
};

/// A case of the given users and options; std::nullopt when the test's own RFC 6901
/// parser refuses an exclusion that merge::parse_options accepted (itself a finding for
/// the caller to report), or when the case is outside what the checks assume: metadata
/// that is neither an object, null nor missing, or an exclusion through an array (the
/// merge refuses both; see merge_refusal_expected).
std::optional<merge_case> make_case(std::uint64_t seed, boost::json::object primary, boost::json::object secondary,
                                    merge::options opts);

/// True when merge_users must refuse the case (merge::invalid_argument): metadata that is
/// neither an object, null nor missing, or an exclusion passing through an array of
/// either user.
bool merge_refusal_expected(const boost::json::object& primary, const boost::json::object& secondary,
                            const merge::options& opts);

/// The case as JSON (both users, arrays, merge_exclude), as a failure prints it.
std::string describe_case(const merge_case& c);

struct invariant_check {
  std::string_view name;
  void (*check)(const merge_case&, run_stats&);  ///< throws violation
};

/// json_equal against the test's own equality, then invariants 1 to 14.
const std::vector<invariant_check>& invariant_checks();

}  // namespace merge_test
