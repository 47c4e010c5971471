// Flow files: shape errors and plugin path resolution.
#include <wfa/host/flow.hpp>

#include <doctest/doctest.h>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
using namespace wfa::host;

namespace {

const char* minimal = R"({
  "name": "m",
  "plugins": [{"id": "p", "path": "libp.so"}, {"id": "q", "path": "plugins/libq.so"},
              {"id": "r", "path": "/abs/libr.so"}],
  "connections": {"c": {"plugin": "p", "config": {"a": 1}}},
  "inputs": {"x": {"type": "string", "description": "an x"}, "y": {}},
  "steps": [{"id": "s1", "action": "p.echo", "connection": "c", "inputs": {"v": "${{ inputs.x }}"}},
            {"id": "s-2", "action": "p.echo", "connection": "c"}],
  "outputs": {"o": "${{ steps.s1.outputs.v }}"}
})";

std::string error_of(const std::string& text) {
  try {
    parse_flow(text, "dir/f.flow.json");
  } catch (const flow_error& e) {
    return e.what();
  }
  return "no error";
}

// The minimal flow with one substring replaced.
std::string with(const std::string& from, const std::string& to) {
  std::string s = minimal;
  auto pos = s.find(from);
  REQUIRE(pos != std::string::npos);
  return s.replace(pos, from.size(), to);
}

}  // namespace

TEST_CASE("a well-formed flow parses into its parts, in order") {
  flow f = parse_flow(minimal, "dir/f.flow.json");
  CHECK(f.name == "m");
  REQUIRE(f.plugins.size() == 3);
  REQUIRE(f.steps.size() == 2);
  CHECK(f.steps[0].id == "s1");
  CHECK(f.steps[1].id == "s-2");
  CHECK(f.steps[1].options.empty());
  CHECK(f.step_index("s-2") == 1);
  CHECK(f.step_index("nope") == -1);
  REQUIRE(f.find_connection("c"));
  CHECK(f.find_connection("c")->config.at("a") == 1);
  REQUIRE(f.find_input("x"));
  CHECK(f.find_input("x")->type == "string");
  CHECK(f.find_input("y")->type.empty());
  CHECK(f.outputs.contains("o"));
}

TEST_CASE("plugin paths: a path is relative to the flow's directory, made absolute") {
  const fs::path cwd = fs::current_path();
  flow f = parse_flow(minimal, "dir/f.flow.json");
  CHECK(f.find_plugin("p")->location == "libp.so");  // not beside the flow: dlopen search
  CHECK(f.find_plugin("q")->location == (cwd / "dir/plugins/libq.so").string());
  CHECK(f.find_plugin("r")->location == "/abs/libr.so");
  // A flow file named without a directory: "./libx.so" keeps its '/' (a bare "libx.so"
  // would send dlopen to the library search path instead of the flow's directory).
  f = parse_flow(with(R"("path": "libp.so")", R"("path": "./libp.so")"), "f.flow.json");
  CHECK(f.find_plugin("p")->location == (cwd / "libp.so").string());
  f = parse_flow(with(R"("path": "libp.so")", R"("path": "../up/libp.so")"), "a/b/f.flow.json");
  CHECK(f.find_plugin("p")->location == (cwd / "a/up/libp.so").string());
}

TEST_CASE("plugin paths: a bare name is looked up beside the flow file first") {
  std::string tmpl = (fs::temp_directory_path() / "wfa-flow-XXXXXX").string();
  REQUIRE(mkdtemp(tmpl.data()) != nullptr);
  const fs::path dir = tmpl;
  std::ofstream(dir / "libp.so") << "not really a library";
  flow f = parse_flow(minimal, dir / "f.flow.json");
  CHECK(f.find_plugin("p")->location == (dir / "libp.so").string());
  fs::remove(dir / "libp.so");
  f = parse_flow(minimal, dir / "f.flow.json");
  CHECK(f.find_plugin("p")->location == "libp.so");  // then the dynamic loader's search
  fs::remove_all(dir);
}

TEST_CASE("shape errors name the file and the location") {
  CHECK(error_of("{").find("dir/f.flow.json: not valid JSON") == 0);
  CHECK(error_of("[]").find("expected an object") != std::string::npos);
  CHECK(error_of(R"({"plugins":[]})").find("'steps' is required") != std::string::npos);
  CHECK(error_of(R"({"steps":[]})").find("'plugins' is required") != std::string::npos);
  CHECK(error_of(with(R"("name": "m",)", R"("name": "m", "stpes": [],)")).find("unknown key 'stpes'") !=
        std::string::npos);
  CHECK(error_of(
            with(R"("action": "p.echo", "connection": "c", "inputs")", R"("action": 7, "connection": "c", "inputs")"))
            .find("steps[0].action: expected a string") != std::string::npos);
  CHECK(error_of(with(R"("id": "s-2", "action": "p.echo", )", R"("id": "s1", "action": "p.echo", )"))
            .find("steps[1].id: duplicate step id 's1'") != std::string::npos);
  CHECK(error_of(with(R"("id": "s-2")", R"("id": "s 2")")).find("steps[1].id") != std::string::npos);
  CHECK(
      error_of(with(R"({"id": "s-2", "action": "p.echo", "connection": "c"})", R"({"id": "s-2", "action": "p.echo"})"))
          .find("steps[1]: 'connection' is required") != std::string::npos);
  CHECK(error_of(with(R"("type": "string")", R"("type": "text")")).find("inputs.x.type: unknown type 'text'") !=
        std::string::npos);
  CHECK(error_of(with(R"({"id": "q", "path": "plugins/libq.so"})", R"({"id": "p", "path": "x.so"})"))
            .find("plugins[1].id: duplicate plugin id 'p'") != std::string::npos);
  CHECK(error_of(with(R"("config": {"a": 1})", R"("config": [1])")).find("connections.c.config: expected an object") !=
        std::string::npos);
  CHECK(error_of(with(R"("inputs": {"v": "${{ inputs.x }}"})", R"("inputs": "v")"))
            .find("steps[0].inputs: expected an object") != std::string::npos);
}

TEST_CASE("load_flow: an unreadable file is a flow_error naming it") {
  try {
    load_flow("/nonexistent/dir/x.flow.json");
    FAIL("expected an error");
  } catch (const flow_error& e) {
    CHECK(std::string(e.what()).find("/nonexistent/dir/x.flow.json") != std::string::npos);
  }
}
