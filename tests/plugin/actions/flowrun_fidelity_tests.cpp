// flowrun running the real plugin against the emulator: a row that Auth0 rate-limits for
// longer than the plugin waits (issue 11 item 6) fails in the plugin at once with
// retry_after_s, and flowrun runs it again once that time has passed, within
// --max-retry-wait.
#include "demo_tenant.hpp"
#include "emulator_fixture.hpp"
#include "run_capture.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

using namespace a0::test;
using namespace a0::test::demo;

namespace {

std::size_t link_posts(emulator& e) {
  std::size_t n = 0;
  for (const auto& r : e.request_log())
    if (r.at("method") == "POST" && r.at("path").as_string().ends_with("/identities")) ++n;
  return n;
}

}  // namespace

TEST_CASE("flowrun retries a row rate-limited beyond the plugin's wait once retry_after_s has passed") {
  for (int max_wait : {30, 1}) {
    CAPTURE(max_wait);
    emulator emu;
    // The first link answers 429 asking for 2 s: more than the flow's max_backoff_ms.
    emu.add_fault({{"method", "POST"},
                   {"path", "/api/v2/users/*/identities"},
                   {"action", "rate_limit"},
                   {"times", 1},
                   {"reset_in_s", 0},
                   {"retry_after_s", 2}});
    const auto dir = std::filesystem::temp_directory_path() / ("a0-retry-" + std::to_string(emu.port()));
    std::filesystem::create_directories(dir);
    const auto flow = dir / "link.flow.json";
    std::ofstream(flow) << R"({"name":"retry","plugins":[{"id":"auth0","path":")" A0_PLUGIN_PATH R"("}],
      "connections":{"tenant":{"plugin":"auth0","config":{"max_backoff_ms":200}}},
      "inputs":{"p":{"type":"string"},"s":{"type":"string"}},
      "steps":[{"id":"link","action":"auth0.link-account","connection":"tenant",
                "options":{"merge_metadata":false},
                "inputs":{"primary_user_id":"${{ inputs.p }}","secondary_user_id":"${{ inputs.s }}"}}]})";
    const std::string cmd = "AUTH0_DOMAIN='" + emu.domain() + "' AUTH0_CLIENT_ID='" + emulator::demo_client_id +
                            "' AUTH0_CLIENT_SECRET='" + emulator::demo_client_secret + "' AUTH0_CA_FILE='" +
                            emu.ca_file() + "' '" A0_FLOWRUN_PATH "' run '" + flow.string() +
                            "' --input 'p=" + k_primary + "' --input 's=" + k_secondary + "' --max-retry-wait " +
                            std::to_string(max_wait) + " 2>&1; echo \"rc=$?\"";
    const auto t0 = std::chrono::steady_clock::now();
    const std::string out = run_capture(cmd);
    const auto took = std::chrono::steady_clock::now() - t0;
    std::filesystem::remove_all(dir);
    CAPTURE(out);
    if (max_wait >= 2) {
      CHECK(out.find("rc=0") != std::string::npos);
      CHECK(link_posts(emu) == 2);  // the refused one and the retry
      CHECK(took >= std::chrono::seconds(2));
      CHECK(user(emu, k_primary).at("identities").as_array().size() == 2);
    } else {
      // The wait is beyond --max-retry-wait: the row fails with the plugin's error.
      CHECK(out.find("rc=1") != std::string::npos);
      CHECK(out.find("\"rate_limited\"") != std::string::npos);
      CHECK(out.find("retry_after_s") != std::string::npos);
      CHECK(link_posts(emu) == 1);
      CHECK(user(emu, k_primary).at("identities").as_array().size() == 1);
    }
  }
}
