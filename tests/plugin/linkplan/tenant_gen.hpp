// A generated tenant export for the planner's tests and benchmarks: people with 1-4
// accounts each (database, social and multi-pipe enterprise ids), one email per person
// in mixed case, some unverified or blocked, some already primaries with a linked
// identity. Deterministic for a seed.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace a0::linkplan::test {

struct gen_account {
  std::string user_id, email, connection, created_at;
  bool verified = true, blocked = false, existing_primary = false;
  std::uint32_t logins = 0;
};

struct gen_options {
  std::uint64_t people = 100;
  std::uint64_t seed = 1;
  unsigned max_cluster = 4;  ///< accounts per person: 1..max_cluster
  unsigned unverified_pct = 10;
  unsigned blocked_pct = 3;
  unsigned primary_pct = 5;  ///< of people with 2+ accounts: one already has a linked identity
  unsigned no_email_pct = 2;
};

/// Accounts person by person; shuffled so that one person's accounts are not adjacent.
std::vector<gen_account> generate(const gen_options& o);

/// One NDJSON line of the export for an account (the fields the export action asks for).
std::string to_export_line(const gen_account& a);

/// What the planning rules (plugin/linkplan/README.md) make of generated accounts, worked
/// out the obvious way (a map of ASCII-folded emails, one pass, no hashing), independently
/// of the planner: the planner's tests and the end-to-end dedup test compare against it.
struct expected_plan {
  std::set<std::pair<std::string, std::string>> pairs;  ///< (primary_user_id, secondary_user_id)
  std::map<std::string, std::string> refused;           ///< user_id -> reason
};
/// `policy`: "oldest", "most-logins" or "prefer-connection:NAME".
expected_plan plan_by_rules(const std::vector<gen_account>& accounts, const std::string& policy);

}  // namespace a0::linkplan::test
