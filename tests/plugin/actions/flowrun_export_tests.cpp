// The first command of a tenant dedup end to end: flowrun runs
// manifests/flows/dedup-export.flow.json (auth0.export-users) against the emulator, and
// linkplan plans from the file it wrote.
#include "demo_tenant.hpp"
#include "emulator_fixture.hpp"
#include "run_capture.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

using namespace a0::test;
namespace json = boost::json;
namespace fs = std::filesystem;

TEST_CASE("flowrun runs dedup-export.flow.json against the emulator and linkplan reads the file") {
  emulator emu(emulator::default_seed(), {"--generate-users", "100"});
  std::string t = (fs::temp_directory_path() / "a0-dedup-export-XXXXXX").string();
  REQUIRE(::mkdtemp(t.data()));
  const fs::path dir = t;
  // The example flow as shipped, with its plugin pointed at the library just built.
  std::ifstream in(std::string(A0_FLOWS_DIR) + "/dedup-export.flow.json");
  std::stringstream ss;
  ss << in.rdbuf();
  auto flow = json::parse(ss.str()).as_object();
  flow.at("plugins").as_array()[0].as_object()["path"] = A0_PLUGIN_PATH;
  const auto flow_file = dir / "dedup-export.flow.json";
  std::ofstream(flow_file) << json::serialize(flow);
  const auto file = dir / "users.ndjson.gz";
  const std::string env = "AUTH0_DOMAIN='" + emu.domain() + "' AUTH0_CLIENT_ID='" + emulator::demo_client_id +
                          "' AUTH0_CLIENT_SECRET='" + emulator::demo_client_secret + "' AUTH0_CA_FILE='" +
                          emu.ca_file() + "' ";
  const auto validated =
      run_capture(env + "'" A0_FLOWRUN_PATH "' validate '" + flow_file.string() + "' 2>&1; echo rc=$?");
  CHECK_MESSAGE(validated.find("rc=0") != std::string::npos, validated);
  const auto out = run_capture(env + "'" A0_FLOWRUN_PATH "' run '" + flow_file.string() +
                               "' --input 'output_file=" + file.string() + "'; echo rc=$?");
  CAPTURE(out);
  REQUIRE(out.find("rc=0") != std::string::npos);
  const auto row = json::parse(out.substr(0, out.find('\n'))).as_object();
  const auto users = emu.dump().at("users").as_array().size();
  CHECK(row.at("outputs").at("count").to_number<std::size_t>() == users);
  CHECK(row.at("outputs").at("file").as_string() == file.string());
  CHECK(fs::exists(file));
  CHECK(out.find(emulator::demo_client_secret) == std::string::npos);

  const auto plan = run_capture("'" A0_LINKPLAN_PATH "' '" + file.string() + "' --policy oldest --out '" +
                                (dir / "pairs.jsonl").string() + "' --summary; echo rc=$?");
  CAPTURE(plan);
  REQUIRE(plan.find("rc=0") != std::string::npos);
  const auto summary = json::parse(plan.substr(0, plan.find('\n'))).as_object();
  CHECK(summary.at("accounts").to_number<std::size_t>() == users);
  CHECK(summary.at("pairs").to_number<std::size_t>() == 101);  // 100 generated pairs and the demo pair
  fs::remove_all(dir);
}
