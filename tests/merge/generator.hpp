// Seeded random JSON documents for the merge property tests (docs/merge-semantics.md, "Invariants").
// Keys come from a small alphabet so that the primary and the secondary collide often, at
// every depth; the alphabet holds the keys that break naive implementations ("",
// "__proto__", "a/b", "~", "~1", unicode). Values mix nulls, bools, int64, uint64 above
// INT64_MAX, doubles, the same number as int and as double (1 and 1.0), strings, arrays
// (of objects too), nested objects, and now and then chains a few hundred levels deep.
//
// Everything derives from one 64-bit seed, through a generator whose output the C++
// standard fixes (mt19937_64) and our own bounded draws (the standard distributions
// differ between libraries), so a seed reproduces its documents anywhere.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace merge_test {

/// Shape of the generated documents.
struct gen_config {
  int max_depth = 5;             ///< nesting of objects and arrays below a metadata object
  std::size_t max_members = 6;   ///< members per object (drawn 0..max)
  std::size_t max_elements = 4;  ///< elements per array (drawn 0..max)
  unsigned null_percent = 12;    ///< chance that any value is null
  unsigned chain_percent = 1;    ///< chance that a metadata pair also gets deep chains (1, or 2)
  std::size_t min_chain = 8;     ///< levels of such a chain, drawn min..max
  std::size_t max_chain = 300;
};

/// The next seed of a sequence (splitmix64): case i+1 of a run uses next_seed(seed of i).
std::uint64_t next_seed(std::uint64_t seed) noexcept;

/// One generator per case; every draw advances its state.
class generator {
 public:
  explicit generator(std::uint64_t seed, gen_config config = {});

  /// Uniform in [0, n); n > 0.
  std::size_t below(std::size_t n);
  /// True with the given percentage.
  bool chance(unsigned percent);

  /// A key from the small alphabet (the first few far more often).
  std::string key();
  /// Any value, nested at most `depth` more levels.
  boost::json::value value(int depth);
  /// A non-null scalar: bool, number or string.
  boost::json::value scalar();
  /// A number: int64, uint64 > INT64_MAX or double, often the same value in two kinds.
  boost::json::value number();
  /// An object of `depth` more levels.
  boost::json::object object(int depth);
  /// A value of a kind drawn uniformly from all eight Boost.JSON kinds (null, bool,
  /// int64, uint64, double, string, array, object), so that every pair of kinds meets.
  boost::json::value any_kind(int depth);

  /// A metadata pair (P, S): S is either independent of P or derived from it (kept,
  /// changed, retyped, nulled and added keys at every depth, arrays sharing elements,
  /// numbers re-spelt), so that collisions of every kind are frequent. A few pairs
  /// (chain_percent) also get deep chains (add_chain).
  std::pair<boost::json::object, boost::json::object> metadata_pair();
  /// Adds one chain of objects min_chain..max_chain levels deep under the same keys to p and
  /// s, so that the merge recurses that deep on both sides; see generator.cpp.
  void add_chain(boost::json::object& p, boost::json::object& s);
  /// Two users as GET /api/v2/users/{id} returns them: user_id, email, and usually both
  /// metadata objects (sometimes missing or null, which count as {}).
  std::pair<boost::json::object, boost::json::object> user_pair();

  /// A copy of v that is JSON-equal to it but spelt differently: object members
  /// reordered, integral numbers switched between int64, uint64 and double where exact.
  boost::json::value respell(const boost::json::value& v);
  /// A copy of v with one node somewhere changed (a member or element added or removed, a
  /// scalar replaced by a string no pool makes), so that it is never JSON-equal to v.
  boost::json::value perturb(const boost::json::value& v);

  const gen_config& config() const noexcept { return config_; }

 private:
  boost::json::value derive(const boost::json::value& p, int depth);
  boost::json::array array(int depth);

  std::mt19937_64 rng_;
  gen_config config_;
};

}  // namespace merge_test
