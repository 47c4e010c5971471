// flowrun (the host) running the real plugin against the fake tenant: what the host
// reports for a write is what happened (issue 12 item 2: a 30-level merge was applied
// but reported failed, "the plugin's outputs are not a JSON object", by the host's
// Boost.JSON default depth of 32).
#include "fake_tenant.hpp"
#include "run_capture.hpp"

#include <boost/json/object.hpp>
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

using namespace a0::test;
namespace json = boost::json;

TEST_CASE("flowrun reports a link with 30-level metadata as done, as it is in the tenant") {
  fake_tenant t;
  json::value deep = "leaf";
  for (int i = 0; i < 30; ++i) deep = json::object{{"k", std::move(deep)}};
  t.put_user(make_user("google-oauth2|111", "ann@example.com", true, json::object{{"color", "red"}}));
  t.put_user(make_user("auth0|222", "ann@example.com", true, json::object{{"deep", deep}}));

  const auto dir = std::filesystem::temp_directory_path() / ("a0-depth-" + std::to_string(t.server().port()));
  std::filesystem::create_directories(dir);
  const auto flow = dir / "link.flow.json";
  std::ofstream(flow) << R"({"name":"deep","plugins":[{"id":"auth0","path":")" A0_PLUGIN_PATH R"("}],
    "connections":{"tenant":{"plugin":"auth0","config":{}}},
    "inputs":{"p":{"type":"string"},"s":{"type":"string"}},
    "steps":[{"id":"link","action":"auth0.link-account","connection":"tenant",
              "options":{"merge_metadata":true},
              "inputs":{"primary_user_id":"${{ inputs.p }}","secondary_user_id":"${{ inputs.s }}"}}]})";
  const std::string cmd = "AUTH0_DOMAIN='" + t.domain() +
                          "' AUTH0_CLIENT_ID=cid-demo AUTH0_CLIENT_SECRET=TOP-SECRET-cs-123 " + "AUTH0_CA_FILE='" +
                          t.ca_file() + "' '" A0_FLOWRUN_PATH "' run '" + flow.string() +
                          "' --input 'p=google-oauth2|111' --input 's=auth0|222' 2>&1; echo \"rc=$?\"";
  const std::string out = run_capture(cmd);
  std::filesystem::remove_all(dir);
  CAPTURE(out);
  CHECK(out.find("not a JSON object") == std::string::npos);
  CHECK(out.find("\"metadata_patched\":true") != std::string::npos);
  CHECK(out.find("rc=0") != std::string::npos);
  CHECK(t.user("google-oauth2|111")->at("user_metadata").at("deep") == deep);
  CHECK(t.user("google-oauth2|111")->at("identities").as_array().size() == 2);
}
