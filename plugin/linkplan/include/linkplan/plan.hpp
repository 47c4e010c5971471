// linkplan/plan.hpp -- who links into whom, planned from an Auth0 users export.
//
// Pure: lines of the export's NDJSON in, pairs and refusals out through callbacks; the
// reading of files (gzip included) is the CLI's (tools/linkplan.cpp).
//
// Accounts are clustered by email compared after ASCII lower-casing (the link action's
// `require_verified_email` rule; other bytes, UTF-8 included, compare as they are, so
// "É@x" and "é@x" are two addresses). Only accounts whose email is verified (JSON true)
// and that are not blocked link. In a cluster of two or more such accounts an account that
// already has linked identities stays the primary; otherwise the policy picks it.
//
// Memory is bounded by two passes over the same export: the first keeps one 64-bit hash
// per linkable account, the second keeps a full record only for the accounts whose hash
// was seen twice (candidate duplicates); emails are then compared exactly, so a hash
// collision never links two addresses. See plugin/linkplan/README.md for the figures.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace a0::linkplan {

/// The one error type of this library: bad policy text or a bad export line (the message
/// names the line).
class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class policy_kind { oldest, most_logins, prefer_connection };

struct policy {
  policy_kind kind = policy_kind::oldest;
  std::string connection;  ///< prefer_connection only
};

/// "oldest" | "most-logins" | "prefer-connection:NAME"; throws error otherwise.
policy parse_policy(std::string_view text);

/// One link to make: exactly the inputs of the link flow.
struct pair {
  std::string_view primary_user_id, secondary_user_id;
};

/// An account that will not be linked, and why. Reasons: "no_email", "unverified",
/// "blocked", "alone" (no other linkable account has its email), "conflicting_primaries"
/// (two or more accounts of its email already have linked identities), "primary_ineligible"
/// (the account of its email that already has linked identities is unverified or blocked).
struct refusal {
  std::string_view user_id;
  std::string_view reason;
  std::uint64_t line;  ///< 1-based line of the export
};

struct summary {
  std::uint64_t accounts = 0;  ///< non-blank lines
  std::uint64_t clusters = 0;  ///< emails with a primary and at least one pair
  std::uint64_t pairs = 0;
  std::uint64_t kept_primaries = 0;                           ///< clusters whose primary already had linked identities
  std::map<std::string, std::uint64_t, std::less<>> refused;  ///< by reason
};

using pair_sink = std::function<void(const pair&)>;
using refusal_sink = std::function<void(const refusal&)>;
/// The hash of a folded email; replaceable so that tests can force collisions.
using email_hash = std::uint64_t (*)(std::string_view folded_email);

/// ASCII lower-casing, whatever the process locale.
std::string fold_email(std::string_view email);

/// Plans over two passes of the same export:
///   for each line: p.first_pass(line, n);
///   p.start_second_pass();
///   for each line: p.second_pass(line, n, on_refused);
///   auto s = p.finish(on_pair, on_refused);
/// Lines are numbered from 1 and given without their newline; blank lines are skipped.
/// A line that is not a JSON object, or whose user_id, email, email_verified, blocked,
/// created_at, logins_count or identities has the wrong type, throws error naming it.
class planner {
 public:
  explicit planner(policy p, email_hash hash = nullptr);
  ~planner();
  planner(const planner&) = delete;
  planner& operator=(const planner&) = delete;

  void first_pass(std::string_view line, std::uint64_t line_no);
  /// Throws error when no account of the export has an email (exported without the field?).
  void start_second_pass();
  /// Refusals known from the account alone ("no_email", "unverified", "blocked", "alone")
  /// are reported here, in export order. Throws error when the export changed since the
  /// first pass.
  void second_pass(std::string_view line, std::uint64_t line_no, const refusal_sink& on_refused);
  /// Pairs cluster by cluster (one primary's links adjacent), then the refusals that need
  /// the whole cluster. Throws error when one user_id appears twice for one email.
  summary finish(const pair_sink& on_pair, const refusal_sink& on_refused);

 private:
  struct state;
  std::unique_ptr<state> s_;
};

}  // namespace a0::linkplan
