// Fault rules: the reason phrase of any injected status.
#include "helpers.hpp"

#include "util.hpp"

using namespace emutest;

namespace {
const std::string k_user = "/api/v2/users/auth0%7Cprimary1";
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
  for (auto [status, phrase] : std::vector<std::pair<unsigned, std::string>>{
           {410, "Gone"}, {413, "Payload Too Large"}, {422, "Unprocessable Entity"},
           {451, "Unavailable For Legal Reasons"}, {507, "Insufficient Storage"}}) {
    h.emu.add_fault({{"path", "/api/v2/users/*"}, {"action", "status"}, {"status", status}, {"times", 1}});
    auto r = h.get(k_user);
    check_error(r, status, phrase);
    CHECK(obj(r).at("error").as_string() == phrase);
  }
}
