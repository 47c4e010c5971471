// flowrun as a subprocess over libwfa_test_plugin.so (test.echo, test.delay, test.fail)
// and fixture plugins: chaining, typed expressions, the result line, 1,000 rows at
// concurrency 64, failures and exit codes, validation before any execute, SIGINT,
// secrets, plugin paths, the progress bar on a pty, describe, options, a plugin that
// never starts an operation.
#include "../flow_scratch.hpp"
#include "subprocess.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace json = boost::json;
namespace fs = std::filesystem;
using wfa::test::process_result;

namespace {

const std::string flowrun = WFA_FLOWRUN;
const std::string plugin = WFA_TEST_PLUGIN;

// A scratch directory per test case (removed at the end) with flows over the test plugin.
struct scratch : wfa::test::flow_scratch {
  scratch() : flow_scratch(plugin) {}
};

std::vector<json::object> lines(const std::string& out) {
  std::vector<json::object> rows;
  std::size_t pos = 0;
  while (pos < out.size()) {
    std::size_t nl = out.find('\n', pos);
    if (nl == std::string::npos) nl = out.size();
    std::string line = out.substr(pos, nl - pos);
    if (!line.empty()) rows.push_back(json::parse(line).as_object());
    pos = nl + 1;
  }
  return rows;
}

process_result flowrun_run(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {}) {
  std::vector<std::string> argv{flowrun};
  argv.insert(argv.end(), args.begin(), args.end());
  return wfa::test::run(argv, env);
}

std::string dump(const process_result& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

}  // namespace

TEST_CASE("chaining: a step's outputs feed the next step, typed and interpolated") {
  scratch s;
  auto flow = s.flow(R"({
    "inputs": {"name": {"type": "string"}, "n": {"type": "integer"}, "obj": {}},
    "steps": [
      {"id": "a", "action": "test.echo", "connection": "local",
       "inputs": {"value": {"name": "${{ inputs.name }}", "n": "${{ inputs.n }}", "obj": "${{ inputs.obj }}",
                            "flag": true}}},
      {"id": "b", "action": "test.echo", "connection": "local",
       "inputs": {"value": {"greeting": "hi ${{ steps.a.outputs.value.name }} #${{ steps.a.outputs.value.n }}",
                            "n": "${{ steps.a.outputs.value.n }}", "flag": "${{ steps.a.outputs.value.flag }}",
                            "second": "${{ steps.a.outputs.value.obj.list[1] }}",
                            "whole": "${{ steps.a.outputs.value.obj }}"}}}],
    "outputs": {"b": "${{ steps.b.outputs.value }}", "text": "${{ inputs.name }}/${{ steps.b.outputs.value.flag }}"}})");
  auto r =
      flowrun_run({"run", flow, "--input", "name=ada", "--input", "n=41", "--input", R"(obj={"list":["x",{"k":2}]})"});
  INFO(dump(r));
  REQUIRE(r.exit_code == 0);
  auto rows = lines(r.out);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].at("row") == 0);
  CHECK(rows[0].at("status") == "ok");
  CHECK(rows[0].at("steps").at("a").at("status") == "ok");
  CHECK(rows[0].at("steps").at("b").at("status") == "ok");
  CHECK(rows[0].at("outputs") == json::parse(R"({
    "b": {"greeting": "hi ada #41", "n": 41, "flag": true, "second": {"k": 2},
          "whole": {"list": ["x", {"k": 2}]}},
    "text": "ada/true"})"));
}

TEST_CASE("the row line carries each step's outputs, and --no-step-outputs leaves them out") {
  scratch s;
  auto flow = s.flow(R"({"steps": [{"id": "a", "action": "test.echo", "connection": "local", "inputs": {"value": 7}},
                                   {"id": "b", "action": "test.echo", "connection": "local", "inputs": {"value": [1]}}],
                         "outputs": {"v": "${{ steps.a.outputs.value }}"}})");
  auto full = flowrun_run({"run", flow});
  INFO(dump(full));
  REQUIRE(full.exit_code == 0);
  auto row = lines(full.out).at(0);
  CHECK(row.at("steps").at("a").at("status") == "ok");
  CHECK(row.at("steps").at("a").at("outputs").at("value") == 7);
  CHECK(row.at("steps").at("b").at("outputs").at("value") == json::array{1});
  CHECK(row.at("outputs") == json::object{{"v", 7}});  // the flow's outputs stay
  auto plain = flowrun_run({"run", flow, "--no-step-outputs"});
  INFO(dump(plain));
  REQUIRE(plain.exit_code == 0);
  row = lines(plain.out).at(0);
  CHECK(row.at("steps").at("a") == json::object{{"status", "ok"}});
  CHECK(row.at("outputs") == json::object{{"v", 7}});
}

TEST_CASE("x-secret outputs: masked in the row line and the flow outputs, the real value chained to later steps") {
  scratch s;
  const std::string tok = "idp-tok-4f9a2c71";
  auto flow = s.flow(R"({
    "inputs": {"tok": {"type": "string"}},
    "steps": [
      {"id": "a", "action": "test.echo", "connection": "local", "inputs": {"value": 1, "secret": "${{ inputs.tok }}"}},
      {"id": "b", "action": "test.echo", "connection": "local", "options": {"upper": true},
       "inputs": {"value": {"got": "${{ steps.a.outputs.secret }}"}}}],
    "outputs": {"tok": "${{ steps.a.outputs.secret }}", "said": "token ${{ steps.a.outputs.secret }}!",
                "upper": "${{ steps.b.outputs.value.got }}"}})");
  auto r = flowrun_run({"run", flow, "--input", "tok=" + tok});
  INFO(dump(r));
  REQUIRE(r.exit_code == 0);
  const auto row = lines(r.out).at(0);
  CHECK(row.at("steps").at("a").at("outputs").at("secret") == "***");
  CHECK(row.at("steps").at("a").at("outputs").at("value") == 1);  // the rest is shown
  CHECK(row.at("outputs").at("tok") == "***");
  CHECK(row.at("outputs").at("said") == "token ***!");
  // Step b was given the real value (upper-cased by the plugin: a new text, not the
  // secret, so it is shown; a masked value would have arrived as "***").
  CHECK(row.at("steps").at("b").at("outputs").at("value").at("got") == "IDP-TOK-4F9A2C71");
  CHECK(row.at("outputs").at("upper") == "IDP-TOK-4F9A2C71");
  CHECK(r.out.find(tok) == std::string::npos);
  CHECK(r.err.find(tok) == std::string::npos);
  // --no-step-outputs: the flow outputs are masked all the same.
  auto plain = flowrun_run({"run", flow, "--no-step-outputs", "--input", "tok=" + tok});
  REQUIRE(plain.exit_code == 0);
  CHECK(lines(plain.out).at(0).at("outputs").at("tok") == "***");
  CHECK(plain.out.find(tok) == std::string::npos);
}

TEST_CASE("1,000 rows at concurrency 64: every row exactly once, with its own values") {
  scratch s;
  auto flow = s.flow(R"({
    "inputs": {"i": {"type": "integer"}},
    "steps": [
      {"id": "wait", "action": "test.delay", "connection": "local", "inputs": {"ms": 1}},
      {"id": "a", "action": "test.echo", "connection": "local", "inputs": {"value": "${{ inputs.i }}"}},
      {"id": "b", "action": "test.echo", "connection": "local", "inputs": {"value": "row ${{ steps.a.outputs.value }}"}}],
    "outputs": {"i": "${{ steps.a.outputs.value }}", "label": "${{ steps.b.outputs.value }}"}})");
  std::string rows_text;
  for (int i = 0; i < 1000; ++i) rows_text += "{\"i\":" + std::to_string(i) + "}\n";
  auto rows_file = s.write("rows.jsonl", rows_text);
  auto r = flowrun_run({"run", flow, "--inputs-file", rows_file, "--concurrency", "64"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto rows = lines(r.out);
  REQUIRE(rows.size() == 1000);
  std::set<int64_t> seen;
  for (const auto& row : rows) {
    int64_t idx = row.at("row").to_number<int64_t>();
    CHECK(seen.insert(idx).second);
    CHECK(row.at("status") == "ok");
    CHECK(row.at("outputs").at("i") == idx);  // row i's inputs, not another row's
    CHECK(row.at("outputs").at("label") == json::value("row " + std::to_string(idx)));
  }
  CHECK(seen.size() == 1000);
  CHECK(*seen.begin() == 0);
  CHECK(*seen.rbegin() == 999);
}

TEST_CASE("a failing step: exit 1, its code, message and HTTP status reported, later steps not run") {
  scratch s;
  auto flow = s.flow(R"({
    "inputs": {"fail": {"type": "boolean"}},
    "steps": [{"id": "a", "action": "test.echo", "connection": "local", "inputs": {"value": "${{ inputs.fail }}"}},
              {"id": "b", "action": "test.fail", "connection": "local",
               "inputs": {"code": "not_found", "message": "no such thing", "http_status": 404}}]})");
  // Every row fails at b; a ran before.
  auto r = flowrun_run({"run", flow, "--input", "fail=true"});
  INFO(dump(r));
  REQUIRE(r.exit_code == 1);
  auto rows = lines(r.out);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].at("status") == "failed");
  CHECK(rows[0].at("steps").at("a").at("status") == "ok");
  const auto& err = rows[0].at("steps").at("b").at("error");
  CHECK(rows[0].at("steps").at("b").at("status") == "failed");
  CHECK(err.at("code") == "not_found");
  CHECK(err.at("message") == "no such thing");
  CHECK(err.at("http_status") == 404);
  CHECK(err.at("retryable") == false);
  CHECK_FALSE(rows[0].contains("outputs"));
}

TEST_CASE("one bad row among good ones: exit 1, only that row failed, nothing sent for it") {
  scratch s;
  // "ms" must be an integer: the row with a string fails the run-time schema check.
  auto flow = s.flow(R"({
    "inputs": {"ms": {}},
    "steps": [{"id": "d", "action": "test.delay", "connection": "local", "inputs": {"ms": "${{ inputs.ms }}"}}]})");
  auto rows_file = s.write("rows.jsonl", "{\"ms\":0}\n{\"ms\":\"soon\"}\n{\"ms\":1}\n");
  auto r = flowrun_run({"run", flow, "--inputs-file", rows_file, "--concurrency", "2"});
  INFO(dump(r));
  REQUIRE(r.exit_code == 1);
  auto rows = lines(r.out);
  REQUIRE(rows.size() == 3);
  for (const auto& row : rows) {
    if (row.at("row") == 1) {
      CHECK(row.at("status") == "failed");
      CHECK(row.at("steps").at("d").at("error").at("code") == "invalid_input");
      CHECK(std::string(row.at("steps").at("d").at("error").at("message").as_string()).find("inputs.ms") !=
            std::string::npos);
    } else {
      CHECK(row.at("status") == "ok");
    }
  }
}

TEST_CASE("a row value holding \"${{\" is data: the host refuses it against the schema, nothing sent") {
  scratch s;
  auto flow = s.flow(R"({
    "inputs": {"ms": {}},
    "steps": [{"id": "d", "action": "test.delay", "connection": "local", "inputs": {"ms": "${{ inputs.ms }}"}}]})");
  auto rows_file = s.write("rows.jsonl", R"({"ms":"${{ soon"})"
                                         "\n");
  auto r = flowrun_run({"run", flow, "--inputs-file", rows_file, "--log-level", "debug"});
  INFO(dump(r));
  REQUIRE(r.exit_code == 1);
  auto rows = lines(r.out);
  REQUIRE(rows.size() == 1);
  const auto& err = rows[0].at("steps").at("d").at("error");
  CHECK(err.at("code") == "invalid_input");
  // The host's schema message, not the plugin's ("expected an integer from 0 to 600000").
  CHECK(err.at("message") == "inputs.ms: Value type not permitted by 'type' constraint.");
  CHECK(r.err.find("instance created") != std::string::npos);  // debug lines do arrive...
  CHECK(r.err.find("started") == std::string::npos);           // ...but no op ever started
}

TEST_CASE("validation errors: exit 2, each names step and field, nothing runs") {
  scratch s;
  auto flow = s.flow(R"({
    "inputs": {"x": {"type": "string"}},
    "steps": [
      {"id": "a", "action": "test.echo", "connection": "local", "inputs": {"value": "${{ inputs.x }}"}},
      {"id": "b", "action": "test.nope", "connection": "local"},
      {"id": "c", "action": "test.echo", "connection": "local", "inputs": {"value": "${{ steps.d.outputs.value }}"}},
      {"id": "d", "action": "test.delay", "connection": "local", "inputs": {"ms": "${{ inputs.x }}"}},
      {"id": "e", "action": "test.echo", "connection": "local", "inputs": {"value": "${{ inputs.y }}"}}]})");
  for (const auto& args :
       {std::vector<std::string>{"validate", flow}, std::vector<std::string>{"run", flow, "--input", "x=1"}}) {
    auto r = flowrun_run(args);
    INFO(args[0] << "\n" << dump(r));
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());  // no row ran
    CHECK(r.err.find("step b: action: unknown action 'test.nope'") != std::string::npos);
    CHECK(r.err.find(
              "step c: inputs.value: ${{ steps.d.outputs.value }} refers to step 'd', which runs after this one") !=
          std::string::npos);
    CHECK(r.err.find("step d: inputs.ms: expected integer, but the expression gives string") != std::string::npos);
    CHECK(r.err.find("step e: inputs.value: unknown input 'y'") != std::string::npos);
  }
  // A good flow with a row that does not fit its declared inputs: exit 2 before running.
  auto good = s.flow(R"({"inputs": {"n": {"type": "integer"}},
    "steps": [{"id": "a", "action": "test.echo", "connection": "local", "inputs": {"value": "${{ inputs.n }}"}}]})");
  auto r = flowrun_run({"run", good, "--input", "n=\"x\"", "--input", "zz=1"});
  INFO(dump(r));
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(r.err.find("row 0: inputs.n: expected integer, got string") != std::string::npos);
  CHECK(r.err.find("row 0: inputs.zz: unknown input") != std::string::npos);
}

TEST_CASE("usage errors exit 2") {
  CHECK(flowrun_run({}).exit_code == 2);
  CHECK(flowrun_run({"frobnicate"}).exit_code == 2);
  CHECK(flowrun_run({"run"}).exit_code == 2);
  CHECK(flowrun_run({"run", "/nonexistent.flow.json"}).exit_code == 2);
  scratch s;
  auto flow = s.flow(R"({"steps": []})");
  CHECK(flowrun_run({"run", flow, "--concurrency", "0"}).exit_code == 2);
  CHECK(flowrun_run({"run", flow, "--input", "novalue"}).exit_code == 2);
  CHECK(flowrun_run({"run", flow, "--inputs-file", (s.dir / "missing.jsonl").string()}).exit_code == 2);
  auto bad_rows = s.write("bad.jsonl", "{\"a\":1}\n[1]\n");
  auto r = flowrun_run({"run", flow, "--inputs-file", bad_rows});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("bad.jsonl:2: expected one JSON object per line") != std::string::npos);
}

TEST_CASE("SIGINT: in-flight rows cancelled, finished rows reported, the rest cancelled") {
  scratch s;
  auto flow = s.flow(R"({
    "inputs": {"ms": {"type": "integer"}},
    "steps": [{"id": "d", "action": "test.delay", "connection": "local", "inputs": {"ms": "${{ inputs.ms }}"}},
              {"id": "e", "action": "test.echo", "connection": "local", "inputs": {"value": 1}}]})");
  // Rows 0 and 1 finish at once; every other row waits a minute.
  std::string rows_text = "{\"ms\":0}\n{\"ms\":0}\n";
  for (int i = 2; i < 10; ++i) rows_text += "{\"ms\":60000}\n";
  auto rows_file = s.write("rows.jsonl", rows_text);
  wfa::test::subprocess p({flowrun, "run", flow, "--inputs-file", rows_file, "--concurrency", "4"});
  auto two_lines = [](const std::string& out) { return std::count(out.begin(), out.end(), '\n') >= 2; };
  REQUIRE(p.wait_for(two_lines, std::chrono::seconds(60)));
  // Rows 2 and 3 are in flight; the slots rows 0 and 1 freed go to rows 4 and 5 as the
  // streamed rows are handed over, a moment later (seen missing under load without this
  // wait). Every row waits a minute, so a second changes nothing else.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  p.signal(SIGINT);
  auto r = p.finish();
  INFO(dump(r));
  CHECK(r.exit_code == 1);  // rows did not succeed: 1, like any such run (0/1/2 only)
  auto rows = lines(r.out);
  REQUIRE(rows.size() == 10);
  std::set<int64_t> seen;
  int in_flight_cancelled = 0, never_started = 0;
  for (const auto& row : rows) {
    int64_t idx = row.at("row").to_number<int64_t>();
    CHECK(seen.insert(idx).second);
    if (idx < 2) {
      CHECK(row.at("status") == "ok");
      continue;
    }
    CHECK(row.at("status") == "cancelled");
    const auto& steps = row.at("steps").as_object();
    if (steps.contains("d")) {
      ++in_flight_cancelled;
      CHECK(steps.at("d").at("status") == "cancelled");
      CHECK(steps.at("d").at("error").at("code") == "cancelled");
      CHECK_FALSE(steps.contains("e"));
    } else {
      ++never_started;
      CHECK(steps.empty());
    }
  }
  CHECK(in_flight_cancelled == 4);
  CHECK(never_started == 4);
}

TEST_CASE("secrets from the environment never appear in flowrun's output") {
  scratch s;
  const std::string secret = "sEcReT-from-env-4711";
  // The secret reaches the connection config through ${{ env }}, inside a longer value
  // (so the value read from the environment is a secret on its own), and a step also
  // echoes it, alone and inside text: the row line must carry *** instead.
  auto flow = s.flow(R"({
    "connections": {"local": {"plugin": "t", "config": {"token": "Bearer ${{ env.WFA_TEST_SECRET }}"}}},
    "steps": [{"id": "a", "action": "test.echo", "connection": "local",
               "inputs": {"value": "token=${{ env.WFA_TEST_SECRET }}"}},
              {"id": "alone", "action": "test.echo", "connection": "local",
               "inputs": {"value": "${{ env.WFA_TEST_SECRET }}"}},
              {"id": "b", "action": "test.fail", "connection": "local",
               "inputs": {"code": "unauthorized", "message": "refused ${{ env.WFA_TEST_SECRET }}"}}],
    "outputs": {"echo": "${{ steps.a.outputs.value }}"}})");
  auto r = flowrun_run({"run", flow, "--log-level", "trace"}, {{"WFA_TEST_SECRET", secret}});
  INFO(dump(r));
  CHECK(r.exit_code == 1);
  CHECK(r.out.find(secret) == std::string::npos);
  CHECK(r.err.find(secret) == std::string::npos);
  CHECK(r.out.find("token=***") != std::string::npos);
  CHECK(r.out.find("refused ***") != std::string::npos);
  REQUIRE_FALSE(lines(r.out).empty());
  CHECK(lines(r.out)[0].at("steps").at("alone").at("outputs").at("value") == "***");
  // Validation errors too.
  auto bad = s.flow(R"({
    "connections": {"local": {"plugin": "t", "config": {"token": "${{ env.WFA_TEST_SECRET }}"}}},
    "steps": [{"id": "a", "action": "test.echo", "connection": "local",
               "inputs": {"value": "${{ steps.sEcReT-from-env-4711.outputs.x }}"}}]})");
  auto v = flowrun_run({"validate", bad}, {{"WFA_TEST_SECRET", secret}});
  INFO(dump(v));
  CHECK(v.exit_code == 2);
  CHECK(v.err.find(secret) == std::string::npos);
  CHECK(v.err.find("unknown step '***'") != std::string::npos);
}

namespace {

// A flow over our plugin at `plugin_path` (as written in the flow), one echo step.
std::string echo_flow(const std::string& plugin_path) {
  json::object f = json::parse(R"({
    "connections": {"local": {"plugin": "t"}},
    "steps": [{"id": "a", "action": "test.echo", "connection": "local", "inputs": {"value": "here"}}],
    "outputs": {"v": "${{ steps.a.outputs.value }}"}})")
                       .as_object();
  f["plugins"] = json::array{json::object{{"id", "t"}, {"path", plugin_path}}};
  return json::serialize(f);
}

}  // namespace

TEST_CASE("plugin paths: with a '/', relative to the flow's directory, whatever the working directory") {
  scratch s;
  fs::create_directories(s.dir / "flows" / "plugins");
  fs::create_directories(s.dir / "elsewhere");
  fs::copy_file(plugin, s.dir / "flows" / "libx.so");
  fs::copy_file(plugin, s.dir / "flows" / "plugins" / "liby.so");
  s.write("flows/dot.flow.json", echo_flow("./libx.so"));
  s.write("flows/sub.flow.json", echo_flow("plugins/liby.so"));
  struct case_ {
    std::string cwd, flow;
  };
  // "./libx.so" from the flow's own directory with the flow named without one (it must
  // not become the bare "libx.so" and go to the library search path), and from elsewhere.
  for (const auto& [cwd, flow] : {case_{"flows", "dot.flow.json"}, case_{"elsewhere", "../flows/dot.flow.json"},
                                  case_{"elsewhere", "../flows/sub.flow.json"}, case_{"flows", "./sub.flow.json"}}) {
    CAPTURE(cwd);
    CAPTURE(flow);
    wfa::test::spawn_options o;
    o.cwd = (s.dir / cwd).string();
    o.unset = {"LD_LIBRARY_PATH"};
    auto r = wfa::test::run({flowrun, "run", flow}, o);
    INFO(dump(r));
    CHECK(r.exit_code == 0);
    CHECK(r.out.find(R"("outputs":{"v":"here"})") != std::string::npos);
  }
}

TEST_CASE("plugin paths: a bare file name is looked up beside the flow, then on the loader's search path") {
  scratch s;
  fs::create_directories(s.dir / "flows");
  fs::create_directories(s.dir / "lib");
  fs::create_directories(s.dir / "elsewhere");
  fs::copy_file(plugin, s.dir / "flows" / "libbeside.so");
  fs::copy_file(plugin, s.dir / "lib" / "libsearched.so");
  auto beside = s.write("flows/beside.flow.json", echo_flow("libbeside.so"));
  auto searched = s.write("flows/searched.flow.json", echo_flow("libsearched.so"));
  wfa::test::spawn_options o;
  o.cwd = (s.dir / "elsewhere").string();
  o.unset = {"LD_LIBRARY_PATH"};
  auto r = wfa::test::run({flowrun, "run", beside}, o);
  INFO(dump(r));
  CHECK(r.exit_code == 0);
  // Not beside the flow, and not on the search path: not found, exit 2.
  r = wfa::test::run({flowrun, "validate", searched}, o);
  INFO(dump(r));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("libsearched.so") != std::string::npos);
  // On the search path (LD_LIBRARY_PATH): found by the dynamic loader.
  o.unset.clear();
  o.env = {{"LD_LIBRARY_PATH", (s.dir / "lib").string()}};
  r = wfa::test::run({flowrun, "run", searched}, o);
  INFO(dump(r));
  CHECK(r.exit_code == 0);
}

TEST_CASE("progress bar: on stderr when it is a terminal (done/total, rate, failures, ETA), not otherwise") {
  scratch s;
  auto flow = s.flow(R"({
    "inputs": {"ms": {}},
    "steps": [{"id": "d", "action": "test.delay", "connection": "local", "inputs": {"ms": "${{ inputs.ms }}"}}]})");
  auto rows_file = s.write("rows.jsonl", "{\"ms\":1}\n{\"ms\":1}\n{\"ms\":\"bad\"}\n{\"ms\":1}\n{\"ms\":1}\n");
  wfa::test::spawn_options tty;
  tty.stderr_tty = true;
  auto r = wfa::test::run({flowrun, "run", flow, "--inputs-file", rows_file}, tty);
  INFO(dump(r));
  CHECK(r.exit_code == 1);
  CHECK(lines(r.out).size() == 5);                                      // stdout stays a pipe: only the result lines
  CHECK(r.err.find("\r\033[K[") != std::string::npos);                  // drawn in place
  CHECK(r.err.find("0/5 0%") != std::string::npos);                     // the first draw
  CHECK(r.err.find("] 5/5 100% ") != std::string::npos);                // done/total at the end
  CHECK(r.err.find(" rows/s 1 failed ETA 0:00") != std::string::npos);  // rate, failures, ETA
  // The same run with stderr a pipe: no bar at all.
  auto piped = flowrun_run({"run", flow, "--inputs-file", rows_file});
  INFO(dump(piped));
  CHECK(piped.exit_code == 1);
  CHECK(piped.err.find("rows/s") == std::string::npos);
  CHECK(piped.err.find("\033[K") == std::string::npos);
  CHECK(piped.err.find("5/5") == std::string::npos);
}

TEST_CASE("describe: name, version, ABI and the actions with their fields") {
  auto r = flowrun_run({"describe", plugin});
  INFO(dump(r));
  REQUIRE(r.exit_code == 0);
  for (const char* action : {"test.echo", "test.delay", "test.fail"}) CHECK(r.out.find(action) != std::string::npos);
  CHECK(r.out.find("(ABI 1.") != std::string::npos);
  CHECK(r.out.find("inputs:") != std::string::npos);
  auto j = flowrun_run({"describe", plugin, "--json"});
  REQUIRE(j.exit_code == 0);
  json::object d = json::parse(j.out).as_object();
  CHECK(d.at("abi").as_string().starts_with("1."));
  std::set<std::string> ids;
  for (const auto& a : d.at("actions").as_array()) {
    ids.insert(std::string(a.at("id").as_string()));
    CHECK(a.at("manifest").at("id") == a.at("id"));
    CHECK_FALSE(a.at("title").as_string().empty());
  }
  CHECK(ids == std::set<std::string>{"test.delay", "test.echo", "test.fail"});
}

TEST_CASE("options: only fields with dynamic options, and unknown steps and fields are usage errors") {
  scratch s;
  auto flow =
      s.flow(R"({"steps": [{"id": "a", "action": "test.echo", "connection": "local", "inputs": {"value": 1}}]})");
  auto r = flowrun_run({"options", flow, "a", "/inputs/value"});
  INFO(dump(r));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("step a: /inputs/value: not a field with dynamic options") != std::string::npos);
  r = flowrun_run({"options", flow, "a", "/inputs/nope"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("step a: /inputs/nope: no such field in test.echo") != std::string::npos);
  CHECK(flowrun_run({"options", flow, "zz", "/inputs/value"}).exit_code == 2);
  CHECK(flowrun_run({"options", flow, "a", "inputs"}).exit_code == 2);
}

#ifdef WFA_FIXTURE_NO_ENTRY
TEST_CASE("describe: loader errors exit 2 with a clear message") {
  auto missing = flowrun_run({"describe", "/nonexistent/libx.so"});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("plugin not found") != std::string::npos);
  auto not_plugin = flowrun_run({"describe", WFA_FIXTURE_NO_ENTRY});
  CHECK(not_plugin.exit_code == 2);
  CHECK(not_plugin.err.find("not a wfa plugin") != std::string::npos);
  auto refuses = flowrun_run({"describe", WFA_FIXTURE_REFUSES});
  CHECK(refuses.exit_code == 2);
  CHECK(refuses.err.find("fixture needs ABI 9.0") != std::string::npos);
}

TEST_CASE("options: the choices of a dynamic field, every page, with the step's literal context") {
  scratch s;
  json::object f = json::parse(R"({
    "plugins": [{"id": "fx", "path": ""}],
    "connections": {"c": {"plugin": "fx"}},
    "inputs": {"x": {"type": "string"}},
    "steps": [{"id": "pick", "action": "fx.pick", "connection": "c", "options": {"mode": "m1"},
               "inputs": {"other": "lit", "choice": "${{ inputs.x }}"}}]})")
                       .as_object();
  f["plugins"].as_array()[0].as_object()["path"] = WFA_FIXTURE_OPTIONS;
  auto flow = s.write("o.flow.json", json::serialize(f));
  auto r = flowrun_run({"options", flow, "pick", "/inputs/choice"});
  INFO(dump(r));
  REQUIRE(r.exit_code == 0);
  // Page 1, then page 2 whose value is the context flowrun sent: literal values only.
  CHECK(json::parse(r.out) == json::parse(R"([{"value":"a","label":"A"},
    {"value":{"options":{"mode":"m1"},"inputs":{"other":"lit"}},"label":"context"}])"));
}
#endif

#ifdef WFA_FIXTURE_RETURNS_ZERO
TEST_CASE("a plugin whose execute and list_options return 0: run finishes (row failed, exit 1), options too") {
  scratch s;
  json::object f = json::parse(R"({
    "connections": {"c": {"plugin": "fx"}},
    "steps": [{"id": "z", "action": "fx.zero", "connection": "c", "inputs": {"choice": "x"}}]})")
                       .as_object();
  f["plugins"] = json::array{json::object{{"id", "fx"}, {"path", WFA_FIXTURE_RETURNS_ZERO}}};
  auto flow = s.write("z.flow.json", json::serialize(f));
  auto rows_file = s.write("rows.jsonl", "{}\n{}\n{}\n");
  // A hang is the bug: give up (and fail) after a minute instead of waiting forever.
  auto r = wfa::test::run_within({flowrun, "run", flow, "--inputs-file", rows_file, "--concurrency", "2"},
                                 std::chrono::seconds(60));
  INFO(dump(r));
  CHECK(r.exit_code == 1);
  auto rows = lines(r.out);
  CHECK(rows.size() == 3);
  for (const auto& row : rows) {
    CHECK(row.at("status") == "failed");
    CHECK(row.at("steps").at("z").at("error").at("code") == "internal");
  }
  auto o = wfa::test::run_within({flowrun, "options", flow, "z", "/inputs/choice"}, std::chrono::seconds(60));
  INFO(dump(o));
  CHECK(o.exit_code == 1);
  CHECK(o.err.find("options: internal: the plugin could not start the operation") != std::string::npos);
}
#endif

// ---- Hostile and oversized input (issue 12) ----

namespace {

// A FIFO in `dir` fed by a thread with `text` (then closed): a pipe, read once.
struct fifo_feed {
  std::string path;
  std::thread writer;
  fifo_feed(const fs::path& dir, std::string text) : path((dir / "rows.fifo").string()) {
    REQUIRE(mkfifo(path.c_str(), 0600) == 0);
    writer = std::thread([p = path, t = std::move(text)] {
      std::ofstream out(p, std::ios::binary);  // blocks until flowrun opens it
      out << t;
    });
  }
  ~fifo_feed() { writer.join(); }
};

// Runs to completion and gives the child's peak resident set (VmHWM, KiB), sampled
// while it runs: getrusage's ru_maxrss would count the memory of this test process,
// which the child shares until its exec. Unused under the sanitizers (see its test).
[[maybe_unused]] std::pair<process_result, long> run_peak_rss(const std::vector<std::string>& argv) {
  wfa::test::subprocess p(argv);
  long peak = 0;
  for (;;) {
    std::ifstream status("/proc/" + std::to_string(p.pid()) + "/status");
    std::string line;
    bool alive = false;
    while (std::getline(status, line))
      if (line.rfind("VmHWM:", 0) == 0) {
        alive = true;
        peak = std::max(peak, std::stol(line.substr(6)));
      }
    if (!alive) break;  // exited (a zombie has no memory left to show)
    p.wait_for([](const std::string&) { return false; }, std::chrono::milliseconds(20));
  }
  return {p.finish(), peak};
}

std::map<int64_t, json::object> by_row(const std::string& out) {
  std::map<int64_t, json::object> m;
  for (auto& row : lines(out)) m[row.at("row").to_number<int64_t>()] = row;
  return m;
}

}  // namespace

TEST_CASE("--inputs-file: a directory and a device are refused with the reason, exit 2 (issue 12.5)") {
  scratch s;
  auto flow =
      s.flow(R"({"steps": [{"id": "a", "action": "test.echo", "connection": "local", "inputs": {"value": 1}}]})");
  auto dir = wfa::test::run_within({flowrun, "run", flow, "--inputs-file", s.dir.string()}, std::chrono::seconds(30));
  INFO(dump(dir));
  CHECK(dir.exit_code == 2);
  CHECK(dir.out.empty());
  CHECK(dir.err.find(s.dir.string() + " is a directory") != std::string::npos);
  auto zero = wfa::test::run_within({flowrun, "run", flow, "--inputs-file", "/dev/zero"}, std::chrono::seconds(30));
  INFO(dump(zero));
  CHECK(zero.exit_code == 2);
  CHECK(zero.err.find("/dev/zero is not a regular file, a pipe or a FIFO") != std::string::npos);
}

TEST_CASE("--inputs-file: an empty file says that it ran no row (issue 12.5)") {
  scratch s;
  auto flow =
      s.flow(R"({"steps": [{"id": "a", "action": "test.echo", "connection": "local", "inputs": {"value": 1}}]})");
  auto empty = s.write("empty.jsonl", "\n  \n");
  auto r = flowrun_run({"run", flow, "--inputs-file", empty});
  INFO(dump(r));
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());
  CHECK(r.err.find("empty.jsonl holds no row: ran no row") != std::string::npos);
  fifo_feed fifo(s.dir, "");
  auto p = wfa::test::run_within({flowrun, "run", flow, "--inputs-file", fifo.path}, std::chrono::seconds(30));
  INFO(dump(p));
  CHECK(p.exit_code == 0);
  CHECK(p.err.find("rows.fifo held no row: ran no row") != std::string::npos);
}

TEST_CASE("--inputs-file: a line over 1 MiB is refused naming it, before any row runs (issue 12.5)") {
  scratch s;
  auto flow = s.flow(R"({"inputs": {"v": {}},
    "steps": [{"id": "a", "action": "test.echo", "connection": "local", "inputs": {"value": "${{ inputs.v }}"}}]})");
  auto rows = s.write("long.jsonl", "{\"v\":1}\n{\"v\":\"" + std::string(2 << 20, 'x') + "\"}\n{\"v\":3}");
  auto r = wfa::test::run_within({flowrun, "run", flow, "--inputs-file", rows}, std::chrono::seconds(30));
  INFO(r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(r.err.find("long.jsonl:2: line longer than 1048576 bytes") != std::string::npos);
  // The last line has no newline: still a row.
  auto ok = s.write("ok.jsonl", "{\"v\":1}\n{\"v\":3}");
  auto o = flowrun_run({"run", flow, "--inputs-file", ok});
  INFO(dump(o));
  CHECK(o.exit_code == 0);
  CHECK(lines(o.out).size() == 2);
}

TEST_CASE(
    "long ids through a pipe: a 30,000-character id and a 50 MB line fail their rows clearly, the next rows run "
    "(issue 12.1)") {
  scratch s;
  auto flow = s.flow(R"({"inputs": {"id": {"type": "string"}},
    "steps": [{"id": "a", "action": "test.echo", "connection": "local",
               "inputs": {"value": 1, "id": "${{ inputs.id }}"}}]})");
  std::string text = "{\"id\":\"auth0|" + std::string(30000, 'a') + "\"}\n";
  text += "{\"id\":\"" + std::string(50 << 20, 'b') + "\"}\n";
  for (int i = 0; i < 3; ++i) text += "{\"id\":\"auth0|ok\"}\n";
  fifo_feed fifo(s.dir, std::move(text));
  auto r = wfa::test::run_within({flowrun, "run", flow, "--inputs-file", fifo.path}, std::chrono::seconds(60));
  INFO(r.err);
  CHECK(r.exit_code == 1);
  auto rows = by_row(r.out);
  REQUIRE(rows.size() == 5);
  const auto& e0 = rows[0].at("steps").at("a").at("error");
  CHECK(e0.at("code") == "invalid_input");
  CHECK(e0.at("message") == "inputs.id: String should be no more than 1024 characters in length.");
  CHECK(rows[1].at("status") == "failed");
  CHECK(rows[1].at("error").at("message") == json::value(fifo.path + ":2: line longer than 1048576 bytes"));
  for (int i = 2; i < 5; ++i) CHECK(rows[i].at("status") == "ok");
}

TEST_CASE("a repeated name 20,000 times is refused fast in one line, the next row runs (issue 12.7)") {
  scratch s;
  auto flow = s.flow(R"({"inputs": {"names": {"type": "array"}},
    "steps": [{"id": "a", "action": "test.echo", "connection": "local",
               "inputs": {"value": 1, "names": "${{ inputs.names }}"}}]})");
  json::array names;
  for (int i = 0; i < 20000; ++i) names.push_back("a");
  auto rows = s.write("rows.jsonl", json::serialize(json::object{{"names", names}}) + "\n{\"names\":[\"a\",\"b\"]}\n");
  auto t0 = std::chrono::steady_clock::now();
  auto r = wfa::test::run_within({flowrun, "run", flow, "--inputs-file", rows}, std::chrono::seconds(60));
  auto took = std::chrono::steady_clock::now() - t0;
  INFO(dump(r));
  CHECK(took < std::chrono::seconds(20));  // minutes before (every pair compared and reported)
  CHECK(r.exit_code == 1);
  auto m = by_row(r.out);
  REQUIRE(m.size() == 2);
  CHECK(m[0].at("steps").at("a").at("error").at("message") ==
        "inputs.names: Elements of array must be unique (item #1 repeats an earlier one).");
  CHECK(m[1].at("status") == "ok");
}

TEST_CASE("an interrupted run reading a pipe that never ends exits (issue 12.5, 12.7)") {
  scratch s;
  auto flow =
      s.flow(R"({"steps": [{"id": "a", "action": "test.echo", "connection": "local", "inputs": {"value": 1}}]})");
  std::string path = (s.dir / "rows.fifo").string();
  REQUIRE(mkfifo(path.c_str(), 0600) == 0);
  wfa::test::subprocess p({flowrun, "run", flow, "--inputs-file", path});
  int fd = open(path.c_str(), O_WRONLY);  // blocks until flowrun opens it
  REQUIRE(fd >= 0);
  std::string row = "{}\n";
  REQUIRE(write(fd, row.data(), row.size()) == static_cast<ssize_t>(row.size()));
  REQUIRE(
      p.wait_for([](const std::string& out) { return out.find('\n') != std::string::npos; }, std::chrono::seconds(30)));
  // The writer stays open: the next read never returns.
  p.signal(SIGTERM);
  auto r = p.finish(std::chrono::seconds(20));
  close(fd);
  INFO(dump(r));
  CHECK(r.exit_code == 1);
  CHECK(lines(r.out).size() == 1);
}

TEST_CASE("rows stream: peak memory does not grow with the number of rows (issue 12.5)") {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // The sanitizers' quarantine and shadow memory grow with allocations: nothing to compare.
  return;
#else
  scratch s;
  auto flow = s.flow(R"({"inputs": {"id": {"type": "string"}},
    "steps": [{"id": "a", "action": "test.echo", "connection": "local",
               "inputs": {"value": "${{ inputs.id }}", "id": "${{ inputs.id }}"}}]})");
  auto rss = [&](int n) {
    std::ofstream f(s.dir / "rows.jsonl");
    for (int i = 0; i < n; ++i) f << "{\"id\":\"auth0|" << i << "-padding-padding-padding-padding\"}\n";
    f.close();
    auto [r, peak] = run_peak_rss({flowrun, "run", flow, "--inputs-file", (s.dir / "rows.jsonl").string(),
                                   "--concurrency", "16", "--no-step-outputs"});
    REQUIRE(r.exit_code == 0);
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') == n);
    return peak;
  };
  long small = rss(10000), big = rss(100000);
  INFO("peak RSS: 10k rows " << small << " KiB, 100k rows " << big << " KiB");
  // Held in memory (before streaming), 90,000 more rows took about 20 MB more.
  CHECK(big < small + 8 * 1024);
#endif
}

TEST_CASE("rate_limited with retry_after_s: the row is retried after the wait, others run meanwhile (issue 11.6)") {
  scratch s;
  auto flow = s.flow(R"({"inputs": {"m": {"type": "string"}, "d": {"type": "object"}},
    "steps": [{"id": "f", "action": "test.fail", "connection": "local",
               "inputs": {"code": "rate_limited", "message": "${{ inputs.m }}", "details": "${{ inputs.d }}",
                          "failures": 1}}]})");
  // Row 0 waits 2 s, row 1 1 s: with one slot, row 1 still finishes first.
  auto rows = s.write("rows.jsonl", R"({"m":"zero","d":{"retry_after_s":2}}
{"m":"one","d":{"retry_after_s":1}}
)");
  auto t0 = std::chrono::steady_clock::now();
  auto r = wfa::test::run_within({flowrun, "run", flow, "--inputs-file", rows, "--concurrency", "1"},
                                 std::chrono::seconds(60));
  auto took = std::chrono::steady_clock::now() - t0;
  INFO(dump(r));
  CHECK(r.exit_code == 0);
  auto l = lines(r.out);
  REQUIRE(l.size() == 2);
  CHECK(l[0].at("row") == 1);
  CHECK(l[1].at("row") == 0);
  for (const auto& row : l) CHECK(row.at("status") == "ok");
  CHECK(took >= std::chrono::seconds(2));
  CHECK(took < std::chrono::seconds(15));
  CHECK(r.err.find("flowrun: row 0: step f: rate limited, retrying in 2 s") != std::string::npos);

  // A wait beyond --max-retry-wait: failed at once with the plugin's error.
  auto late = s.write("late.jsonl", R"({"m":"late","d":{"retry_after_s":3600}})"
                                    "\n");
  t0 = std::chrono::steady_clock::now();
  auto f = wfa::test::run_within({flowrun, "run", flow, "--inputs-file", late, "--max-retry-wait", "1"},
                                 std::chrono::seconds(60));
  INFO(dump(f));
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
  CHECK(f.exit_code == 1);
  auto e = lines(f.out).at(0).at("steps").at("f").at("error");
  CHECK(e.at("code") == "rate_limited");
  CHECK(e.at("retryable") == true);
  CHECK(e.at("details").at("retry_after_s") == 3600);
  CHECK(flowrun_run({"run", flow, "--max-retry-wait", "x"}).exit_code == 2);
}

#ifdef WFA_FIXTURE_OPTIONS
TEST_CASE("options: pages that never end (a repeated token) stop, and the cut is said, exit 1 (issue 12.10)") {
  scratch s;
  json::object f = json::parse(R"({
    "plugins": [{"id": "fx", "path": ""}],
    "connections": {"c": {"plugin": "fx"}},
    "steps": [{"id": "pick", "action": "fx.pick", "connection": "c", "options": {"mode": "endless"},
               "inputs": {}}]})")
                       .as_object();
  f["plugins"].as_array()[0].as_object()["path"] = WFA_FIXTURE_OPTIONS;
  auto flow = s.write("o.flow.json", json::serialize(f));
  auto r = wfa::test::run_within({flowrun, "options", flow, "pick", "/inputs/choice"}, std::chrono::seconds(60));
  INFO(dump(r));
  CHECK(r.exit_code == 1);
  CHECK(json::parse(r.out).as_array().size() == 2);
  CHECK(r.err.find("flowrun: options: the list is cut: page 2 gave a next_page_token already seen") !=
        std::string::npos);
}
#endif

TEST_CASE("a secret reflected percent-encoded or in Basic credentials is masked in the row line (issue 12.4)") {
  scratch s;
  auto flow = s.flow(R"({
    "connections": {"local": {"plugin": "t", "config": {"prefix": "cid", "token": "${{ env.WFA_TEST_SECRET }}"}}},
    "inputs": {"m": {"type": "string"}},
    "steps": [{"id": "f", "action": "test.fail", "connection": "local",
               "inputs": {"code": "invalid_input", "message": "${{ inputs.m }}"}}]})");
  // The server echoed the form body and the Authorization header of the request.
  auto r = flowrun_run({"run", flow, "--input", "m=body client_secret=s3c%2Fr+t%21 auth Basic Y2lkOnMzYy9yIHQh"},
                       {{"WFA_TEST_SECRET", "s3c/r t!"}});
  INFO(dump(r));
  CHECK(r.exit_code == 1);
  CHECK(lines(r.out).at(0).at("steps").at("f").at("error").at("message") == "body client_secret=*** auth Basic ***");
}

TEST_CASE("a second signal exits at once while the run thread is blocked (issue 12.7)") {
  scratch s;
  auto flow = s.flow(R"({"inputs": {"v": {}},
    "steps": [{"id": "a", "action": "test.echo", "connection": "local", "inputs": {"value": "${{ inputs.v }}"}}]})");
  // 2,000 rows of 1 KB: their lines fill the stdout pipe, which this test does not read
  // yet, so flowrun's run thread blocks in a write (as it would in a long check).
  std::ofstream f(s.dir / "rows.jsonl");
  for (int i = 0; i < 2000; ++i) f << "{\"v\":\"" << std::string(1000, 'x') << "\"}\n";
  f.close();
  wfa::test::subprocess p({flowrun, "run", flow, "--inputs-file", (s.dir / "rows.jsonl").string()});
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  p.signal(SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  p.signal(SIGTERM);
  // Exited (a zombie) without anyone draining its output: the signals did not wait for it.
  auto exited = [&] {
    std::ifstream stat("/proc/" + std::to_string(p.pid()) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), {});
    auto close = text.rfind(')');
    return close == std::string::npos || text.substr(close + 2, 1) == "Z";
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!exited() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(exited());
  auto r = p.finish(std::chrono::seconds(30));
  CHECK(r.exit_code == 1);
  INFO(r.err);
  CHECK(r.err.find("flowrun: interrupted again, exiting without waiting") != std::string::npos);
}

namespace {

// The rows a journal holds: row number -> ok, and how many result lines it has.
struct journal_rows {
  std::map<int64_t, bool> rows;
  std::size_t lines = 0;
};
journal_rows read_journal(const std::string& file) {
  journal_rows j;
  std::ifstream in(file);
  std::string line;
  REQUIRE(std::getline(in, line));
  CHECK(json::parse(line).at("wfa_journal") == 1);
  while (std::getline(in, line)) {
    auto o = json::parse(line).as_object();
    CHECK(o.at("key").as_string().size() == 32);
    j.rows[o.at("result").at("row").to_number<int64_t>()] = o.at("ok").as_bool();
    ++j.lines;
  }
  return j;
}

// The JSON line of stderr that starts with {"summary".
json::object summary_of(const process_result& r) {
  auto at = r.err.find("{\"summary\"");
  REQUIRE(at != std::string::npos);
  return json::parse(r.err.substr(at, r.err.find('\n', at) - at)).at("summary").as_object();
}

}  // namespace

TEST_CASE("journal: a run killed with SIGKILL resumes, and no recorded row runs twice") {
  scratch s;
  auto flow = s.flow(R"({
    "inputs": {"ms": {"type": "integer"}, "n": {"type": "integer"}},
    "steps": [{"id": "d", "action": "test.delay", "connection": "local",
               "inputs": {"ms": "${{ inputs.ms }}", "value": "${{ inputs.n }}"}}]})");
  // Rows 0-3 end at once; the others take 1.5 s, so they are in flight when the kill comes.
  std::string rows_text;
  for (int i = 0; i < 12; ++i)
    rows_text += "{\"ms\":" + std::string(i < 4 ? "0" : "1500") + ",\"n\":" + std::to_string(i) + "}\n";
  auto rows_file = s.write("rows.jsonl", rows_text);
  auto journal_file = (s.dir / "j.jsonl").string();
  std::vector<std::string> cmd{flowrun,         "run", flow,        "--inputs-file", rows_file,
                               "--concurrency", "4",   "--journal", journal_file};
  process_result first;
  {
    wfa::test::subprocess p(cmd);
    auto four_lines = [](const std::string& out) { return std::count(out.begin(), out.end(), '\n') >= 4; };
    REQUIRE(p.wait_for(four_lines, std::chrono::seconds(60)));
    p.signal(SIGKILL);
    first = p.finish();
  }
  INFO(dump(first));
  REQUIRE(first.exit_code == 128 + SIGKILL);
  auto before = read_journal(journal_file);
  CHECK(before.rows.size() >= 4);
  CHECK(before.rows.size() < 12);  // the slow rows were in flight: not recorded
  for (const auto& row : lines(first.out)) CHECK(before.rows.count(row.at("row").to_number<int64_t>()) == 1);

  auto second = wfa::test::run(cmd);
  INFO(dump(second));
  CHECK(second.exit_code == 0);
  std::set<int64_t> rerun;
  for (const auto& row : lines(second.out)) {
    int64_t idx = row.at("row").to_number<int64_t>();
    CHECK(row.at("status") == "ok");
    CHECK(row.at("steps").at("d").at("outputs").at("value") == idx);  // numbering kept across skips
    CHECK(before.rows.count(idx) == 0);                               // a recorded row never runs again
    rerun.insert(idx);
  }
  CHECK(rerun.size() + before.rows.size() == 12);
  CHECK(second.err.find("resuming from") != std::string::npos);
  auto sum = summary_of(second);
  CHECK(sum.at("skipped").to_number<std::size_t>() == before.rows.size());
  CHECK(sum.at("ok").to_number<std::size_t>() == rerun.size());
  auto after = read_journal(journal_file);
  CHECK(after.rows.size() == 12);
  CHECK(after.lines == 12);  // one line per row: nothing ran twice
  // A third run has nothing left to do.
  auto third = wfa::test::run(cmd);
  CHECK(third.exit_code == 0);
  CHECK(lines(third.out).empty());
  CHECK(summary_of(third).at("skipped") == 12);
}

TEST_CASE("journal: failed rows are skipped with exit 1 until --retry-failed runs them again") {
  scratch s;
  // The first two calls with this message fail (in each process), later ones succeed.
  auto flow = s.flow(R"({
    "inputs": {"n": {"type": "integer"}},
    "steps": [{"id": "f", "action": "test.fail", "connection": "local",
               "inputs": {"code": "unavailable", "message": "flaky", "failures": 2, "details": {"n": "${{ inputs.n }}"}}}]})");
  auto rows_file = s.write("rows.jsonl", "{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
  auto journal_file = (s.dir / "j.jsonl").string();
  std::vector<std::string> cmd{flowrun, "run", flow, "--inputs-file", rows_file, "--journal", journal_file};
  auto first = wfa::test::run(cmd);
  INFO(dump(first));
  CHECK(first.exit_code == 1);
  auto j = read_journal(journal_file);
  REQUIRE(j.rows.size() == 4);
  CHECK_FALSE(j.rows[0]);
  CHECK_FALSE(j.rows[1]);
  CHECK(j.rows[2]);
  CHECK(j.rows[3]);
  // Again: nothing runs, but the job is not done: exit 1, and it says why.
  auto again = wfa::test::run(cmd);
  INFO(dump(again));
  CHECK(again.exit_code == 1);
  CHECK(lines(again.out).empty());
  CHECK(again.err.find("2 rows failed in an earlier run and were skipped") != std::string::npos);
  CHECK(summary_of(again).at("skipped_failed") == 2);
  // --retry-failed runs rows 0 and 1 (only): in this new process they fail again.
  cmd.push_back("--retry-failed");
  auto retry = wfa::test::run(cmd);
  INFO(dump(retry));
  std::set<int64_t> ran;
  for (const auto& row : lines(retry.out)) ran.insert(row.at("row").to_number<int64_t>());
  CHECK(ran == std::set<int64_t>{0, 1});
  CHECK(summary_of(retry).at("skipped") == 2);
}

TEST_CASE("journal: another flow's journal is refused before any row runs") {
  scratch s;
  auto rows_file = s.write("rows.jsonl", "{\"n\":1}\n");
  auto journal_file = (s.dir / "j.jsonl").string();
  auto flow = s.flow(R"({"inputs": {"n": {"type": "integer"}},
    "steps": [{"id": "a", "action": "test.echo", "connection": "local", "inputs": {"value": "${{ inputs.n }}"}}]})");
  REQUIRE(wfa::test::run({flowrun, "run", flow, "--inputs-file", rows_file, "--journal", journal_file}).exit_code == 0);
  // The same file name, another flow (a step's input changed).
  flow = s.flow(R"({"inputs": {"n": {"type": "integer"}},
    "steps": [{"id": "a", "action": "test.echo", "connection": "local", "inputs": {"value": [1]}}]})");
  auto r = wfa::test::run({flowrun, "run", flow, "--inputs-file", rows_file, "--journal", journal_file});
  INFO(dump(r));
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(r.err.find("belongs to another flow") != std::string::npos);
  CHECK(read_journal(journal_file).lines == 1);  // left as it was
}

TEST_CASE("journal: flag errors, and a warning for an option the manifest marks x-rerun-unsafe") {
  scratch s;
  auto rows_file = s.write("rows.jsonl", "{}\n");
  auto flow = s.flow(R"({"steps": [{"id": "a", "action": "test.echo", "connection": "local",
                                    "options": {"upper": true}, "inputs": {"value": "x"}}]})");
  auto no_file = wfa::test::run({flowrun, "run", flow, "--journal", (s.dir / "j").string()});
  CHECK(no_file.exit_code == 2);
  CHECK(no_file.err.find("--journal needs --inputs-file") != std::string::npos);
  auto no_journal = wfa::test::run({flowrun, "run", flow, "--inputs-file", rows_file, "--retry-failed"});
  CHECK(no_journal.exit_code == 2);
  CHECK(no_journal.err.find("--retry-failed needs --journal") != std::string::npos);
  auto bad_interval = wfa::test::run({flowrun, "run", flow, "--inputs-file", rows_file, "--progress-interval", "0"});
  CHECK(bad_interval.exit_code == 2);
  auto r = wfa::test::run({flowrun, "run", flow, "--inputs-file", rows_file, "--journal", (s.dir / "j").string()});
  INFO(dump(r));
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("warning: step a: options.upper = true repeats its write") != std::string::npos);
  // Without a journal, nothing to warn about.
  auto plain = wfa::test::run({flowrun, "run", flow, "--inputs-file", rows_file});
  CHECK(plain.err.find("warning") == std::string::npos);
}

TEST_CASE("progress: with stderr not a terminal, a JSON line every --progress-interval, then a summary") {
  scratch s;
  auto flow =
      s.flow(R"({"steps": [{"id": "d", "action": "test.delay", "connection": "local", "inputs": {"ms": 400}}]})");
  auto rows_file = s.write("rows.jsonl", "{}\n{}\n{}\n{}\n{}\n{}\n");
  auto r = wfa::test::run({flowrun, "run", flow, "--inputs-file", rows_file, "--progress-interval", "1"});
  INFO(dump(r));
  CHECK(r.exit_code == 0);
  std::size_t progress = 0;
  for (std::size_t at = 0; (at = r.err.find("{\"progress\":", at)) != std::string::npos; ++at) {
    auto p = json::parse(r.err.substr(at, r.err.find('\n', at) - at)).at("progress").as_object();
    CHECK(p.at("total") == 6);
    CHECK(p.contains("rate"));
    ++progress;
  }
  CHECK(progress >= 2);  // 2.4 s of rows at one line a second
  auto sum = summary_of(r);
  CHECK(sum.at("ok") == 6);
  CHECK(sum.at("done") == 6);
  CHECK(sum.at("failed") == 0);
  CHECK(sum.at("exit") == 0);
}
