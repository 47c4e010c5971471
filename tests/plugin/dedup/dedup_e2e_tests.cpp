// A tenant dedup end to end, the three commands of the root README's "Deduplicate a
// tenant" run as a user runs them, against the auth0-emulator:
//   flowrun run dedup-export.flow.json   (the users export job, downloaded and checked)
//   linkplan USERS.ndjson.gz --policy most-logins --out PAIRS.jsonl
//   flowrun run link-pairs.flow.json --inputs-file PAIRS.jsonl --journal J --concurrency 4
// The linking run is killed with SIGKILL part way, at a moment the test picks: one link
// POST has reached the tenant and has not been answered (its row is in flight, not in the
// journal). The same command is run again and finishes. What should have happened is
// worked out from the generated tenant by the planning rules (tenant_gen's plan_by_rules,
// not linkplan's output) and checked against the emulator's state and its request log.
#include "emulator_fixture.hpp"
#include "subprocess.hpp"
#include "tenant_gen.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <doctest/doctest.h>

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace json = boost::json;
namespace fs = std::filesystem;
namespace t = a0::linkplan::test;
using a0::test::emulator;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

struct scratch {
  fs::path dir;
  scratch() {
    std::string t = (fs::temp_directory_path() / "a0-dedup-e2e-XXXXXX").string();
    REQUIRE(::mkdtemp(t.data()));
    dir = t;
  }
  ~scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  // An example flow as shipped, its plugin pointed at the library just built.
  std::string flow(const std::string& name) const {
    auto f = json::parse(read_file(fs::path(A0_FLOWS_DIR) / name)).as_object();
    f.at("plugins").as_array()[0].as_object()["path"] = A0_PLUGIN_PATH;
    const auto path = dir / name;
    std::ofstream(path) << json::serialize(f);
    return path.string();
  }
};

std::map<std::string, std::string> flowrun_env(emulator& emu) {
  return {{"AUTH0_DOMAIN", emu.domain()},
          {"AUTH0_CLIENT_ID", emulator::demo_client_id},
          {"AUTH0_CLIENT_SECRET", emulator::demo_client_secret},
          {"AUTH0_CA_FILE", emu.ca_file()}};
}

std::string dump(const wfa::test::process_result& r) {
  return "exit " + std::to_string(r.exit_code) + "\n--- stdout\n" + r.out + "--- stderr\n" + r.err;
}

// The user a request of the log acts on, and what follows its id in the path.
struct user_request {
  std::string method, user_id, rest;
  unsigned status = 0;
};
std::string pct_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}
std::optional<user_request> as_user_request(const json::value& entry) {
  std::string_view path = entry.at("path").as_string();
  path = path.substr(0, path.find('?'));
  constexpr std::string_view prefix = "/api/v2/users/";
  if (path.substr(0, prefix.size()) != prefix) return std::nullopt;
  path.remove_prefix(prefix.size());
  const auto slash = path.find('/');
  user_request r;
  r.method = entry.at("method").as_string();
  r.user_id = pct_decode(path.substr(0, slash));
  r.rest = slash == std::string_view::npos ? "" : std::string(path.substr(slash));
  r.status = entry.at("status").to_number<unsigned>();
  return r;
}

// P's value survives in M as the merge promises with `arrays: union`: objects key by key,
// an array as a prefix (union appends the secondary's new elements), anything else equal.
bool kept(const json::value& p, const json::value& m) {
  if (p.is_object()) {
    if (!m.is_object()) return false;
    for (const auto& kv : p.get_object())
      if (!m.get_object().contains(kv.key()) || !kept(kv.value(), m.get_object().at(kv.key()))) return false;
    return true;
  }
  if (p.is_array()) {
    if (!m.is_array() || m.get_array().size() < p.get_array().size()) return false;
    for (std::size_t i = 0; i < p.get_array().size(); ++i)
      if (p.get_array()[i] != m.get_array()[i]) return false;
    return true;
  }
  return p == m;
}

// Metadata of the i-th generated account. Every account with metadata has `color`,
// `prefs` and app_metadata `roles`/`plan` (so a primary and its secondaries collide on
// them: the primary's values must win, `prefs` merges key by key, `roles` as a set) and
// keys of its own (`u_I`, `prefs.p_I`, `a_I`: they must reach the primary). Every fifth
// account has none at all.
void add_metadata(json::object& u, std::size_t i) {
  if (i % 5 == 4) return;
  const auto n = std::to_string(i);
  u["user_metadata"] =
      json::object{{"color", "c" + n}, {"u_" + n, i}, {"prefs", json::object{{"lang", "l" + n}, {"p_" + n, true}}}};
  u["app_metadata"] = json::object{
      {"roles", json::array{"r" + n, "member"}}, {"plan", i % 3 ? "free" : "pro"}, {"a_" + n, json::array{i}}};
}

std::map<std::string, json::object> users_by_id(const json::object& state) {
  std::map<std::string, json::object> out;
  for (const auto& u : state.at("users").as_array())
    out.emplace(std::string(u.at("user_id").as_string()), u.as_object());
  return out;
}

// The rows a journal holds (row number -> ok) and how many row lines it has.
struct journal_rows {
  std::map<std::int64_t, bool> rows;
  std::size_t lines = 0;
};
journal_rows read_journal(const fs::path& file) {
  journal_rows j;
  auto lines = lines_of(read_file(file));
  if (lines.empty()) return j;
  CHECK(json::parse(lines[0]).as_object().contains("wfa_journal"));
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const auto o = json::parse(lines[i]).as_object();
    j.rows[o.at("result").at("row").to_number<std::int64_t>()] = o.at("ok").as_bool();
    ++j.lines;
  }
  return j;
}

// Waits until every request the emulator has received was applied: one delayed (latency)
// when its client died is still applied when its delay ends. The re-run starts after it,
// as it would against Auth0, where a request in flight lands within milliseconds. The
// emulator counts a request when it arrives and logs it once applied (or reset).
void settle(emulator& emu) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (emu.request_log().size() != emu.counters().at("requests").to_number<std::size_t>()) {
    if (std::chrono::steady_clock::now() > deadline) FAIL("requests still in flight at the emulator after 30 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace

TEST_CASE("dedup end to end: export, plan, link killed with SIGKILL and resumed, every duplicate linked once") {
  // --- A generated tenant: people with 1-4 accounts, database, social and multi-pipe
  // enterprise ids (samlp|acme-sso|EMAIL#N, waad|contoso|X|Y), emails in mixed case, some
  // unverified, blocked or without email, some already primaries with a linked identity.
  t::gen_options o;
  o.people = 60;
  o.seed = 13;
  o.unverified_pct = 12;
  o.blocked_pct = 8;
  o.primary_pct = 20;
  o.no_email_pct = 4;
  const auto accounts = t::generate(o);
  const std::string policy = "most-logins";
  const auto expected = t::plan_by_rules(accounts, policy);
  // The tenant has every case the rules distinguish, and pairs of every id kind.
  std::set<std::string> reasons, kinds;
  for (const auto& [id, reason] : expected.refused) reasons.insert(reason);
  for (const auto& [p, s] : expected.pairs) {
    kinds.insert(p.substr(0, p.find('|')));
    kinds.insert(s.substr(0, s.find('|')));
  }
  CHECK(reasons.count("unverified"));
  CHECK(reasons.count("blocked"));
  CHECK(reasons.count("no_email"));
  CHECK(reasons.count("alone"));
  CHECK(kinds == std::set<std::string>{"auth0", "google-oauth2", "samlp", "waad"});
  std::map<std::string, std::vector<std::string>> secondaries_of;  // primary -> its secondaries
  for (const auto& [p, s] : expected.pairs) secondaries_of[p].push_back(s);
  REQUIRE(expected.pairs.size() >= 30);
  // Some primaries take several links (run concurrently: the plugin serialises them), and
  // some already had a linked identity before (they stay primary whatever the policy says).
  CHECK(
      std::any_of(secondaries_of.begin(), secondaries_of.end(), [](const auto& kv) { return kv.second.size() >= 3; }));
  CHECK(std::any_of(accounts.begin(), accounts.end(),
                    [&](const t::gen_account& a) { return a.existing_primary && secondaries_of.count(a.user_id); }));

  scratch s;
  auto seed = json::parse(read_file(emulator::default_seed())).as_object();  // its clients and connections
  json::array users;
  for (std::size_t i = 0; i < accounts.size(); ++i) {
    auto u = json::parse(t::to_export_line(accounts[i])).as_object();
    add_metadata(u, i);
    users.push_back(std::move(u));
  }
  seed["users"] = std::move(users);
  const auto seed_file = s.dir / "tenant.seed.json";
  std::ofstream(seed_file) << json::serialize(seed);
  emulator emu(seed_file.string());
  const auto before = users_by_id(emu.dump());
  REQUIRE(before.size() == accounts.size());
  const auto env = flowrun_env(emu);

  // --- 1. Export.
  const auto export_file = s.dir / "users.ndjson.gz";
  auto exported = wfa::test::run(
      {A0_FLOWRUN_PATH, "run", s.flow("dedup-export.flow.json"), "--input", "output_file=" + export_file.string()},
      env);
  REQUIRE_MESSAGE(exported.exit_code == 0, dump(exported));
  CHECK(json::parse(lines_of(exported.out).at(0)).at("outputs").at("count").to_number<std::size_t>() ==
        accounts.size());

  // --- 2. Plan. linkplan's pairs and refusals are what the rules say.
  const auto pairs_file = s.dir / "pairs.jsonl", refused_file = s.dir / "refused.jsonl";
  auto planned = wfa::test::run({A0_LINKPLAN_PATH, export_file.string(), "--policy", policy, "--out",
                                 pairs_file.string(), "--refused", refused_file.string(), "--summary"});
  REQUIRE_MESSAGE(planned.exit_code == 0, dump(planned));
  std::vector<std::pair<std::string, std::string>> rows;  // the pairs file, row by row
  for (const auto& line : lines_of(read_file(pairs_file))) {
    const auto r = json::parse(line).as_object();
    rows.emplace_back(r.at("primary_user_id").as_string(), r.at("secondary_user_id").as_string());
  }
  CHECK(std::set<std::pair<std::string, std::string>>(rows.begin(), rows.end()) == expected.pairs);
  CHECK(rows.size() == expected.pairs.size());
  REQUIRE(!rows.empty());
  std::map<std::string, std::string> refused;
  for (const auto& line : lines_of(read_file(refused_file))) {
    const auto r = json::parse(line).as_object();
    refused.emplace(r.at("user_id").as_string(), r.at("reason").as_string());
  }
  CHECK(refused == expected.refused);

  // --- 3. Link, journaled, 4 rows at a time, every request 40 ms slow. The row killed in
  // flight: one near the middle whose primary has no other secondary; its link POST is
  // delayed 1.5 s more, and the kill comes as soon as the emulator has received it, so
  // the link is applied and the row's answer never arrives.
  auto links_into = [&](const std::string& p) {
    return std::count_if(rows.begin(), rows.end(), [&](const auto& r) { return r.first == p; });
  };
  std::size_t victim = rows.size() / 2;
  while (victim < rows.size() && links_into(rows[victim].first) != 1) ++victim;
  REQUIRE(victim < rows.size());
  const auto& [victim_primary, victim_secondary] = rows[victim];
  emu.set_latency(40);
  emu.add_fault({{"method", "POST"},
                 {"path", "/api/v2/users/" + victim_primary + "/identities"},
                 {"action", "latency"},
                 {"latency_ms", 1500},
                 {"times", 1}});
  const auto journal_file = s.dir / "link.journal";
  const std::vector<std::string> link_cmd{A0_FLOWRUN_PATH,
                                          "run",
                                          s.flow("link-pairs.flow.json"),
                                          "--inputs-file",
                                          pairs_file.string(),
                                          "--journal",
                                          journal_file.string(),
                                          "--concurrency",
                                          "4"};
  wfa::test::process_result first;
  {
    wfa::test::subprocess run(link_cmd, env);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (emu.counters().at("faults_fired").to_number<int>() == 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    run.signal(SIGKILL);
    first = run.finish(std::chrono::seconds(30));
  }
  REQUIRE_MESSAGE(first.exit_code == 128 + SIGKILL, dump(first));
  settle(emu);
  const auto at_kill = read_journal(journal_file);
  const auto log_at_kill = emu.request_log().size();
  const auto state_at_kill = users_by_id(emu.dump());
  // Part way: some rows recorded, not all, and not the victim, whose link was applied.
  CHECK(at_kill.rows.size() >= rows.size() / 4);
  REQUIRE(at_kill.rows.size() < rows.size());
  REQUIRE(at_kill.rows.count(static_cast<std::int64_t>(victim)) == 0);
  REQUIRE(state_at_kill.count(victim_secondary) == 0);  // linked: gone from the user list
  for (const auto& line : lines_of(first.out))          // every row it printed was journaled
    CHECK(at_kill.rows.count(json::parse(line).at("row").to_number<std::int64_t>()) == 1);

  // --- The same command again: it finishes, and runs only the rows not journaled.
  auto second = wfa::test::run(link_cmd, env);
  CHECK_MESSAGE(second.exit_code == 0, dump(second));
  std::set<std::int64_t> rerun;
  for (const auto& line : lines_of(second.out)) {
    const auto r = json::parse(line).as_object();
    const auto row = r.at("row").to_number<std::int64_t>();
    CHECK(r.at("status") == "ok");
    CHECK(at_kill.rows.count(row) == 0);  // a journaled row never runs again
    rerun.insert(row);
  }
  CHECK(rerun.count(static_cast<std::int64_t>(victim)) == 1);
  CHECK(rerun.size() + at_kill.rows.size() == rows.size());
  const auto journal = read_journal(journal_file);
  CHECK(journal.lines == rows.size());  // one line per row: nothing recorded twice
  for (const auto& [row, ok] : journal.rows) CHECK(ok);

  // --- The tenant, as the rules say.
  const auto after = users_by_id(emu.dump());
  std::set<std::string> touched;
  for (const auto& [p, secs] : secondaries_of) {
    CAPTURE(p);
    touched.insert(p);
    if (!after.count(p)) {
      FAIL_CHECK("the primary ", p, " is gone");
      continue;
    }
    const auto& was = before.at(p);
    const auto& now = after.at(p);
    // Linked into the policy's primary: each secondary is gone and its identity is the
    // primary's; the primary keeps its own identities.
    std::set<std::pair<std::string, std::string>> want_ids, have_ids;
    auto add_ids = [](auto& set, const json::object& user) {
      for (const auto& i : user.at("identities").as_array())
        set.emplace(i.at("provider").as_string(), i.at("user_id").as_string());
    };
    add_ids(want_ids, was);
    for (const auto& sec : secs) {
      touched.insert(sec);
      CHECK_MESSAGE(after.count(sec) == 0, sec, " was not linked");
      add_ids(want_ids, before.at(sec));
    }
    add_ids(have_ids, now);
    CHECK(have_ids == want_ids);
    // No secondary's top-level metadata key is lost; no value of the primary changes.
    for (const char* field : {"user_metadata", "app_metadata"}) {
      CAPTURE(field);
      const json::object none;
      const auto* p_was = was.if_contains(field);
      const auto* p_now = now.if_contains(field);
      const auto& mw = p_was ? p_was->as_object() : none;
      const auto& mn = p_now ? p_now->as_object() : none;
      std::set<std::string> want_keys, have_keys;
      for (const auto& kv : mw) {
        want_keys.insert(kv.key());
        CHECK_MESSAGE(kept(kv.value(), mn.contains(kv.key()) ? mn.at(kv.key()) : json::value()), "the primary's ",
                      kv.key(), " changed: ", json::serialize(mn));
      }
      for (const auto& sec : secs) {
        const auto* sm = before.at(sec).if_contains(field);
        if (!sm) continue;
        for (const auto& kv : sm->as_object()) {
          want_keys.insert(kv.key());
          CHECK_MESSAGE(mn.contains(kv.key()), sec, "'s ", kv.key(), " was lost");
          // A key only this account has (u_I, a_I) arrives as it was.
          if ((kv.key().starts_with("u_") || kv.key().starts_with("a_")) && mn.contains(kv.key()))
            CHECK(mn.at(kv.key()) == kv.value());
        }
      }
      for (const auto& kv : mn) have_keys.insert(kv.key());
      CHECK(have_keys == want_keys);  // nothing invented
    }
    // Nothing else of the primary changed.
    auto rest = [](json::object u) {
      for (const char* k : {"identities", "user_metadata", "app_metadata", "updated_at"}) u.erase(k);
      return u;
    };
    CHECK(rest(now) == rest(was));
  }
  // Every other account (unverified, blocked, without email, alone, ...) is untouched, and
  // no request named it.
  for (const auto& [id, user] : before)
    if (!touched.count(id)) {
      CAPTURE(id);
      REQUIRE(after.count(id) == 1);
      CHECK(after.at(id) == user);
    }

  // --- The request log: each pair linked by exactly one link POST, answered 201; the
  // victim's re-run found its pair linked and sent none; the journaled rows sent nothing.
  const auto log = emu.request_log();
  std::map<std::string, int> link_posts, link_posts_after_kill;
  std::set<std::string> named_after_kill;
  for (std::size_t i = 0; i < log.size(); ++i) {
    const auto r = as_user_request(log[i]);
    if (!r) continue;
    CHECK_MESSAGE(touched.count(r->user_id), "a request for an account not in the plan: ", r->user_id);
    if (i >= log_at_kill) named_after_kill.insert(r->user_id);
    if (r->method == "POST" && r->rest == "/identities") {
      CHECK(r->status == 201);
      ++link_posts[r->user_id];
      if (i >= log_at_kill) ++link_posts_after_kill[r->user_id];
    }
  }
  for (const auto& [p, secs] : secondaries_of) {
    CAPTURE(p);
    CHECK(link_posts[p] == static_cast<int>(secs.size()));
  }
  CHECK(link_posts_after_kill.count(victim_primary) == 0);
  CHECK(named_after_kill.count(victim_primary) == 1);  // the victim did run again
  for (const auto& [row, ok] : at_kill.rows)
    CHECK(named_after_kill.count(rows.at(static_cast<std::size_t>(row)).second) == 0);
  MESSAGE(rows.size(), " pairs; ", at_kill.rows.size(), " journaled before the kill, ", rerun.size(),
          " run by the second command");
}

// Bad input at the link step, each refused with the file (and line) named: before any
// request when the file is wrong, and per row, before that row's requests, when a row
// lacks a secondary. (linkplan's own bad input: tests/plugin/linkplan/cli_tests.sh; a
// journal of another flow: tests/engine_api/flowrun, "journal: another flow's journal".)
TEST_CASE("dedup bad input: the link step refuses a missing or wrong pairs file and a row without a secondary") {
  scratch s;
  emulator emu;
  const auto env = flowrun_env(emu);
  const auto flow = s.flow("link-pairs.flow.json");
  const auto journal_file = s.dir / "link.journal";
  auto link = [&](const fs::path& pairs) {
    return wfa::test::run({A0_FLOWRUN_PATH, "run", flow, "--inputs-file", pairs.string(), "--journal",
                           journal_file.string(), "--concurrency", "4"},
                          env);
  };
  auto refused = [&](const fs::path& pairs, const std::string& message) {
    CAPTURE(pairs);
    const auto r = link(pairs);
    CHECK_MESSAGE(r.exit_code == 2, dump(r));
    CHECK_MESSAGE(r.err.find(message) != std::string::npos, dump(r));
    CHECK(r.out.empty());
    CHECK_FALSE(fs::exists(journal_file));
  };
  refused(s.dir / "pairs.jsonl",
          "flowrun: cannot read " + (s.dir / "pairs.jsonl").string() + ": No such file or directory");
  // linkplan's --refused file given instead of --out: not the flow's inputs.
  const auto refusals = s.dir / "refused.jsonl";
  std::ofstream(refusals) << R"({"user_id":"auth0|5f7c8ec7c33c6c004bbafe82","reason":"alone","line":3})"
                          << "\n";
  refused(refusals, refusals.string() + ":1: inputs.user_id: unknown input");
  // The export itself (gzip bytes) given as the pairs.
  const auto gz = s.dir / "users.ndjson.gz";
  std::ofstream(gz, std::ios::binary) << std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xab\xae\x05\x00", 14);
  refused(gz, gz.string() + ":1: expected one JSON object per line");
  if (::geteuid() != 0) {  // root reads any file
    const auto locked = s.dir / "locked.jsonl";
    std::ofstream(locked) << "{}\n";
    fs::permissions(locked, fs::perms::none);
    refused(locked, "cannot read " + locked.string() + ": Permission denied");
  }
  CHECK(emu.counters().at("requests") == 0);  // not even a token

  // A row without its secondary fails alone, before any request for it; the good row links.
  const auto pairs = s.dir / "half.jsonl";
  std::ofstream(pairs) << R"({"primary_user_id":"auth0|nobody"})"
                       << "\n"
                       << R"({"primary_user_id":"google-oauth2|115015401343387192604",)"
                       << R"("secondary_user_id":"auth0|5f7c8ec7c33c6c004bbafe82"})"
                       << "\n";
  const auto r = link(pairs);
  CHECK_MESSAGE(r.exit_code == 1, dump(r));
  std::map<std::int64_t, json::object> by_row;
  for (const auto& line : lines_of(r.out)) {
    auto o = json::parse(line).as_object();
    by_row.emplace(o.at("row").to_number<std::int64_t>(), o);
  }
  REQUIRE(by_row.size() == 2);
  CHECK(by_row.at(0).at("status") == "failed");
  CHECK(by_row.at(0).at("steps").at("link").at("error").at("code") == "invalid_input");
  CHECK(json::serialize(by_row.at(0)).find("secondary_user_id: required") != std::string::npos);
  CHECK(by_row.at(1).at("status") == "ok");
  std::multiset<std::string> requests;  // "METHOD user_id rest"
  for (const auto& e : emu.request_log())
    if (const auto u = as_user_request(e)) requests.insert(u->method + " " + u->user_id + u->rest);
  const std::string p = "google-oauth2|115015401343387192604";
  CHECK(requests == std::multiset<std::string>{"GET " + p, "GET auth0|5f7c8ec7c33c6c004bbafe82", "PATCH " + p,
                                               "POST " + p + "/identities"});  // nothing for auth0|nobody
  const auto journal = read_journal(journal_file);
  CHECK(journal.rows == std::map<std::int64_t, bool>{{0, false}, {1, true}});
}
