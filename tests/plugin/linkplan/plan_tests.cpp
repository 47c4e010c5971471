// The planner: policies, clustering by ASCII-folded email, refusals, bad lines, and a
// generated tenant checked against a plain oracle (a map of emails, no hashing, no passes).
#include <linkplan/plan.hpp>

#include "../../../plugin/linkplan/src/timestamp.hpp"
#include "tenant_gen.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace lp = a0::linkplan;

namespace {

struct result {
  std::vector<std::pair<std::string, std::string>> pairs;
  std::map<std::string, std::string> refused;  // user_id -> reason
  lp::summary summary;
};

result plan(const std::vector<std::string>& lines, const lp::policy& pol = {}, lp::email_hash hash = nullptr) {
  lp::planner p(pol, hash);
  for (std::size_t i = 0; i < lines.size(); ++i) p.first_pass(lines[i], i + 1);
  p.start_second_pass();
  result r;
  auto on_refused = [&](const lp::refusal& x) {
    CHECK_MESSAGE(r.refused.emplace(std::string(x.user_id), std::string(x.reason)).second,
                  "refused twice: ", x.user_id);
  };
  for (std::size_t i = 0; i < lines.size(); ++i) p.second_pass(lines[i], i + 1, on_refused);
  r.summary = p.finish(
      [&](const lp::pair& x) {
        r.pairs.emplace_back(std::string(x.primary_user_id), std::string(x.secondary_user_id));
      },
      on_refused);
  return r;
}

std::string user(std::string id, std::string email, std::string created = "2020-01-01T00:00:00.000Z",
                 std::string extra = "") {
  return R"({"user_id":")" + id + R"(","email":")" + email + R"(","email_verified":true,"created_at":")" + created +
         "\"" + extra + "}";
}

std::uint64_t same_hash(std::string_view) { return 42; }

}  // namespace

TEST_CASE("linkplan: policies parse, and bad policy text is an error") {
  CHECK(lp::parse_policy("oldest").kind == lp::policy_kind::oldest);
  CHECK(lp::parse_policy("most-logins").kind == lp::policy_kind::most_logins);
  auto p = lp::parse_policy("prefer-connection:google-oauth2");
  CHECK(p.kind == lp::policy_kind::prefer_connection);
  CHECK(p.connection == "google-oauth2");
  CHECK_THROWS_AS(lp::parse_policy("prefer-connection:"), lp::error);
  CHECK_THROWS_WITH_AS(lp::parse_policy("newest"), doctest::Contains("unknown policy 'newest'"), lp::error);
}

TEST_CASE("linkplan: created_at parses as RFC 3339, and nothing else") {
  using lp::detail::parse_iso8601_ms;
  CHECK(parse_iso8601_ms("1970-01-01T00:00:00Z") == 0);
  CHECK(parse_iso8601_ms("1970-01-01T00:00:01.5Z") == 1500);
  CHECK(parse_iso8601_ms("2000-03-01T00:00:00.000Z") == 951868800000);
  CHECK(parse_iso8601_ms("2000-03-01T01:00:00+01:00") == 951868800000);
  CHECK(parse_iso8601_ms("2024-02-29T12:00:00Z").has_value());
  CHECK_FALSE(parse_iso8601_ms("2023-02-29T12:00:00Z").has_value());
  CHECK_FALSE(parse_iso8601_ms("2023-13-01T00:00:00Z").has_value());
  CHECK_FALSE(parse_iso8601_ms("2023-01-01").has_value());
  CHECK_FALSE(parse_iso8601_ms("2023-01-01T00:00:00").has_value());
  CHECK_FALSE(parse_iso8601_ms("2023-01-01T00:00:00Zjunk").has_value());
  CHECK_FALSE(parse_iso8601_ms("1672531200").has_value());
}

TEST_CASE("linkplan: oldest picks the earliest account, ties by smallest user_id") {
  auto r = plan({user("auth0|b", "Jane@Example.com", "2021-01-01T00:00:00Z"),
                 user("google-oauth2|1", "jane@example.com", "2020-06-01T00:00:00Z"),
                 user("auth0|a", "JANE@EXAMPLE.COM", "2020-06-01T00:00:00Z")});
  REQUIRE(r.pairs.size() == 2);
  CHECK(r.pairs[0].first == "auth0|a");
  CHECK(r.pairs[1].first == "auth0|a");
  CHECK(std::set<std::string>{r.pairs[0].second, r.pairs[1].second} ==
        std::set<std::string>{"auth0|b", "google-oauth2|1"});
  CHECK(r.summary.clusters == 1);
  CHECK(r.refused.empty());
}

TEST_CASE("linkplan: most-logins picks the most used account, ties by oldest") {
  const std::vector<std::string> lines = {
      user("auth0|old", "a@x.io", "2019-01-01T00:00:00Z", R"(,"logins_count":3)"),
      user("auth0|busy", "a@x.io", "2022-01-01T00:00:00Z", R"(,"logins_count":90)"),
      user("auth0|busy2", "a@x.io", "2021-01-01T00:00:00Z", R"(,"logins_count":90)")};
  auto r = plan(lines, lp::parse_policy("most-logins"));
  REQUIRE(r.pairs.size() == 2);
  CHECK(r.pairs[0].first == "auth0|busy2");
  CHECK(plan(lines).pairs[0].first == "auth0|old");  // the same export under oldest
}

TEST_CASE("linkplan: prefer-connection picks an account of that connection, then the oldest") {
  auto with_conn = [](std::string id, std::string created, std::string conn) {
    return user(id, "b@x.io", created, R"(,"identities":[{"connection":")" + conn + R"(","provider":"p"}])");
  };
  const std::vector<std::string> lines = {with_conn("auth0|1", "2018-01-01T00:00:00Z", "db"),
                                          with_conn("google-oauth2|2", "2020-01-01T00:00:00Z", "google-oauth2"),
                                          with_conn("google-oauth2|3", "2019-01-01T00:00:00Z", "google-oauth2")};
  CHECK(plan(lines, lp::parse_policy("prefer-connection:google-oauth2")).pairs[0].first == "google-oauth2|3");
  // No account of that connection: the oldest.
  CHECK(plan(lines, lp::parse_policy("prefer-connection:github")).pairs[0].first == "auth0|1");
}

TEST_CASE("linkplan: an account that already has linked identities stays primary") {
  const std::string linked =
      R"(,"identities":[{"connection":"db","provider":"auth0"},{"connection":"g","provider":"google-oauth2"}])";
  auto r = plan({user("auth0|older", "c@x.io", "2010-01-01T00:00:00Z"),
                 user("auth0|primary", "c@x.io", "2022-01-01T00:00:00Z", linked)});
  REQUIRE(r.pairs.size() == 1);
  CHECK(r.pairs[0] == std::pair<std::string, std::string>{"auth0|primary", "auth0|older"});
  CHECK(r.summary.kept_primaries == 1);
}

TEST_CASE("linkplan: two existing primaries of one email refuse the cluster, and so does an ineligible one") {
  const std::string linked = R"(,"identities":[{"connection":"db"},{"connection":"g"}])";
  auto r = plan({user("auth0|p1", "d@x.io", "2010-01-01T00:00:00Z", linked),
                 user("auth0|p2", "d@x.io", "2011-01-01T00:00:00Z", linked), user("auth0|s", "D@x.io")});
  CHECK(r.pairs.empty());
  CHECK(r.refused == std::map<std::string, std::string>{{"auth0|p1", "conflicting_primaries"},
                                                        {"auth0|p2", "conflicting_primaries"},
                                                        {"auth0|s", "conflicting_primaries"}});

  auto blocked_primary =
      R"({"user_id":"auth0|bp","email":"e@x.io","email_verified":true,"blocked":true,)"
      R"("created_at":"2010-01-01T00:00:00Z","identities":[{"connection":"db"},{"connection":"g"}]})";
  auto r2 = plan({blocked_primary, user("auth0|e1", "e@x.io"), user("auth0|e2", "E@X.IO")});
  CHECK(r2.pairs.empty());
  CHECK(r2.refused == std::map<std::string, std::string>{{"auth0|bp", "blocked"},
                                                         {"auth0|e1", "primary_ineligible"},
                                                         {"auth0|e2", "primary_ineligible"}});
}

TEST_CASE("linkplan: unverified, blocked, email-less and lone accounts are refused with their reason") {
  auto r = plan(
      {R"({"user_id":"auth0|u","email":"f@x.io","email_verified":false,"created_at":"2020-01-01T00:00:00Z"})",
       R"({"user_id":"auth0|s","email":"f@x.io","created_at":"2020-01-01T00:00:00Z"})",
       R"({"user_id":"auth0|b","email":"f@x.io","email_verified":true,"blocked":true,"created_at":"2020-01-01T00:00:00Z"})",
       R"({"user_id":"sms|1","created_at":"2020-01-01T00:00:00Z"})", user("auth0|v", "F@x.io"),
       user("auth0|lone", "g@x.io")});
  CHECK(r.pairs.empty());
  CHECK(r.refused == std::map<std::string, std::string>{{"auth0|u", "unverified"},
                                                        {"auth0|s", "unverified"},
                                                        {"auth0|b", "blocked"},
                                                        {"sms|1", "no_email"},
                                                        {"auth0|v", "alone"},
                                                        {"auth0|lone", "alone"}});
  CHECK(r.summary.refused.at("unverified") == 2);
  CHECK(r.summary.accounts == 6);
}

TEST_CASE("linkplan: ASCII case only: non-ASCII letters in other case are other addresses") {
  auto r = plan({user("auth0|1", "\xC3\x89lise@x.io"), user("auth0|2", "\xC3\xA9lise@x.io"),
                 user("auth0|3", "\xC3\x89LISE@X.IO")});
  REQUIRE(r.pairs.size() == 1);  // 1 and 3 differ only in ASCII case
  CHECK(r.pairs[0] == std::pair<std::string, std::string>{"auth0|1", "auth0|3"});
  CHECK(r.refused.at("auth0|2") == "alone");
}

TEST_CASE("linkplan: a hash collision never joins two emails") {
  // Every email hashes alike: the clusters must come from the exact comparison.
  auto r = plan({user("auth0|1", "h@x.io"), user("auth0|2", "H@x.io"), user("auth0|3", "i@x.io"),
                 user("auth0|4", "j@x.io", "2010-01-01T00:00:00Z"), user("auth0|5", "J@x.io")},
                {}, same_hash);
  std::sort(r.pairs.begin(), r.pairs.end());
  CHECK(r.pairs == std::vector<std::pair<std::string, std::string>>{{"auth0|1", "auth0|2"}, {"auth0|4", "auth0|5"}});
  CHECK(r.refused == std::map<std::string, std::string>{{"auth0|3", "alone"}});
}

TEST_CASE("linkplan: bad lines are errors that name the line") {
  auto fails = [](std::vector<std::string> lines, const char* what) {
    CHECK_THROWS_WITH_AS(plan(lines), doctest::Contains(what), lp::error);
  };
  fails({user("auth0|1", "a@x.io"), "{\"user_id\":\"auth0|2\",\"email\":"}, "line 2: not JSON");
  fails({"[1,2]"}, "line 1: not a JSON object");
  fails({R"({"email":"a@x.io","created_at":"2020-01-01T00:00:00Z"})"}, "line 1: no user_id");
  fails({R"({"user_id":"a|1","email":"a@x.io","email_verified":"true","created_at":"2020-01-01T00:00:00Z"})"},
        "line 1: email_verified is not a boolean");
  fails({R"({"user_id":"a|1","email":"a@x.io","created_at":"yesterday"})"}, "line 1: created_at is not an ISO 8601");
  fails({R"({"user_id":"a|1","email":"a@x.io"})"}, "line 1: created_at is missing");
  fails({user("a|1", "a@x.io"), user("a|2", "b@x.io", "2020-01-01T00:00:00Z", R"(,"identities":{})")},
        "line 2: identities is not an array");
  fails({user("a|1", "a@x.io"), user("a|1", "A@x.io", "2021-01-01T00:00:00Z")}, "user_id a|1 appears twice");
  // Exported without the email field: nothing could ever be planned.
  fails({R"({"user_id":"a|1","created_at":"2020-01-01T00:00:00Z"})",
         R"({"user_id":"a|2","created_at":"2020-01-01T00:00:00Z"})"},
        "no account of the export has an email");
}

TEST_CASE("linkplan: blank lines are skipped, and an export that changed between passes is refused") {
  CHECK(plan({"", user("a|1", "a@x.io"), "  ", user("a|2", "a@x.io")}).pairs.size() == 1);
  lp::planner p({});
  p.first_pass(user("a|1", "a@x.io"), 1);
  p.start_second_pass();
  auto ignore = [](const lp::refusal&) {};
  p.second_pass(user("a|1", "a@x.io"), 1, ignore);
  CHECK_THROWS_WITH_AS(p.second_pass(user("a|2", "a@x.io"), 2, ignore), doctest::Contains("changed"), lp::error);
}

// The plan of a generated tenant, against an oracle written the obvious way.
TEST_CASE("linkplan: a generated tenant is planned as the rules say") {
  namespace t = a0::linkplan::test;
  t::gen_options o;
  o.people = 3000;
  o.seed = 7;
  const auto accounts = t::generate(o);
  std::vector<std::string> lines;
  for (const auto& a : accounts) lines.push_back(t::to_export_line(a));

  for (const char* policy_text : {"oldest", "most-logins", "prefer-connection:google-oauth2"}) {
    CAPTURE(policy_text);
    const auto r = plan(lines, lp::parse_policy(policy_text));

    const auto oracle = t::plan_by_rules(accounts, policy_text);
    const auto& expected = oracle.pairs;
    const auto& expected_refused = oracle.refused;

    CHECK(std::set<std::pair<std::string, std::string>>(r.pairs.begin(), r.pairs.end()) == expected);
    CHECK(r.pairs.size() == expected.size());
    CHECK(r.refused == expected_refused);
    CHECK(r.summary.accounts == accounts.size());
    CHECK(r.pairs.size() + r.refused.size() + r.summary.clusters == accounts.size());
    // One primary's links are adjacent: a primary never reappears after another.
    std::set<std::string> done;
    for (std::size_t i = 0; i < r.pairs.size(); ++i)
      if (i == 0 || r.pairs[i].first != r.pairs[i - 1].first) CHECK(done.insert(r.pairs[i].first).second);
  }
}
