// A scratch directory per test case, removed at the end, with flow files over a plugin:
// the flowrun tests and the runner tests (libwfa_runner.so) write the same flows.
#pragma once

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace wfa::test {

struct flow_scratch {
  std::filesystem::path dir;
  std::string default_plugin;  ///< the plugin of flow()'s flows

  explicit flow_scratch(std::string plugin_path, const char* prefix = "wfa-flowrun-")
      : default_plugin(std::move(plugin_path)) {
    std::string tmpl = (std::filesystem::temp_directory_path() / (std::string(prefix) + "XXXXXX")).string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    dir = tmpl;
  }
  ~flow_scratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  flow_scratch(const flow_scratch&) = delete;
  flow_scratch& operator=(const flow_scratch&) = delete;

  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  }
  // A flow file: `body` holds connections/inputs/steps/outputs; the plugin is `so` (else
  // ours), with the id "t" and, unless the body has connections, the connection "local".
  std::string flow(const std::string& body, const std::string& so = {}) const {
    boost::json::object f = boost::json::parse(body).as_object();
    f["plugins"] = boost::json::array{boost::json::object{{"id", "t"}, {"path", so.empty() ? default_plugin : so}}};
    if (!f.contains("connections"))
      f["connections"] = boost::json::object{{"local", boost::json::object{{"plugin", "t"}}}};
    return write("f.flow.json", boost::json::serialize(f));
  }
};

}  // namespace wfa::test
