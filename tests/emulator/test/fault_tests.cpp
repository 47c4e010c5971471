// Fault rules: the reason phrase of any injected status, and probability rules that fire
// at their rate -- reproducibly, from a seeded random source.
#include "helpers.hpp"

#include "util.hpp"

using namespace emutest;

namespace {
const std::string k_user = "/api/v2/users/auth0%7Cprimary1";

/// Sends `n` GETs and returns which of them met the fault (500).
std::vector<bool> fire_pattern(harness& h, int n) {
  std::vector<bool> out;
  for (int i = 0; i < n; ++i) {
    const auto s = h.get(k_user).status;
    REQUIRE((s == 200 || s == 500));
    out.push_back(s == 500);
  }
  return out;
}
}  // namespace

TEST_CASE("reason phrases: every status a fault may inject has its own (Node's table, else Unknown)") {
  CHECK(std::string(emu::reason(410)) == "Gone");
  CHECK(std::string(emu::reason(413)) == "Payload Too Large");
  CHECK(std::string(emu::reason(422)) == "Unprocessable Entity");
  CHECK(std::string(emu::reason(451)) == "Unavailable For Legal Reasons");
  CHECK(std::string(emu::reason(507)) == "Insufficient Storage");
  CHECK(std::string(emu::reason(418)) == "I'm a Teapot");
  CHECK(std::string(emu::reason(100)) == "Continue");
  CHECK(std::string(emu::reason(308)) == "Permanent Redirect");
  CHECK(std::string(emu::reason(599)) == "Unknown");
  CHECK(std::string(emu::reason(499)) == "Unknown");
}

TEST_CASE("fault: an injected status carries its reason phrase in Auth0's error body") {
  harness h;
  h.bearer();
  for (auto [status, phrase] : std::vector<std::pair<unsigned, std::string>>{{410, "Gone"},
                                                                             {413, "Payload Too Large"},
                                                                             {422, "Unprocessable Entity"},
                                                                             {451, "Unavailable For Legal Reasons"},
                                                                             {507, "Insufficient Storage"}}) {
    h.emu.add_fault({{"path", "/api/v2/users/*"}, {"action", "status"}, {"status", status}, {"times", 1}});
    auto r = h.get(k_user);
    check_error(r, status, phrase);
    CHECK(obj(r).at("error").as_string() == phrase);
  }
}

TEST_CASE("fault: probability between 0 and 1 fires at about that rate, reproducibly with a seeded source") {
  harness h;
  h.bearer();
  h.emu.set_fault_random_seed(12345);
  h.emu.add_fault({{"path", "/api/v2/users/*"}, {"action", "status"}, {"status", 500}, {"probability", 0.3}});
  const int n = 1000;
  const auto first = fire_pattern(h, n);
  const auto fired = std::count(first.begin(), first.end(), true);
  // 0.3 * 1000 = 300, sd ~14.5: these bounds are ~7 sd wide (and the run is seeded).
  CHECK(fired > 200);
  CHECK(fired < 400);
  CHECK(h.emu.counters().at("faults_fired").to_number<long>() == fired);
  // The same seed gives the same sequence of decisions.
  h.emu.set_fault_random_seed(12345);
  CHECK(fire_pattern(h, n) == first);
  // Another seed gives another sequence (of the same rate).
  h.emu.set_fault_random_seed(999);
  const auto other = fire_pattern(h, n);
  CHECK(other != first);
  const auto fired_other = std::count(other.begin(), other.end(), true);
  CHECK(fired_other > 200);
  CHECK(fired_other < 400);
  // Bad input refused.
  auto bad = h.emu.client().request("PUT", "/__emulator/faults/random", R"({"seed":-1})");
  CHECK(bad.status == 400);
}
