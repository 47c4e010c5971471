// The row runner's generic hooks, over the test plugin: run_control (what a CLI's signal
// thread calls), the progress and diagnostic callbacks. flowrun's own behaviour (Ctrl-C,
// the bar) is tested end to end in tests/engine_api/flowrun.
#include <wfa/host/runner.hpp>

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <chrono>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace json = boost::json;
using namespace wfa::host;

namespace {

// One step of test.delay (ms from the row) or test.echo over the test plugin.
checked_flow delay_flow() {
  std::string text = R"({"name": "t", "plugins": [{"id": "test", "path": ")" + std::string(WFA_TEST_PLUGIN) +
                     R"("}], "connections": {"local": {"plugin": "test", "config": {}}},
    "inputs": {"ms": {"type": "integer"}},
    "steps": [{"id": "d", "action": "test.delay", "connection": "local", "inputs": {"ms": "${{ inputs.ms }}"}}],
    "outputs": {}})";
  auto r = validate(parse_flow(text));
  INFO(r.errors.size());
  REQUIRE(r.checked);
  return std::move(*r.checked);
}

std::vector<json::object> rows_of(int n, int ms) {
  return std::vector<json::object>(static_cast<std::size_t>(n), json::object{{"ms", ms}});
}

std::vector<json::value> lines(const std::string& text) {
  std::vector<json::value> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
  return out;
}

}  // namespace

TEST_CASE("run_control: an interrupt from another thread cancels the rows in flight and the rest") {
  auto f = delay_flow();
  run_control control;
  run_options o;
  o.rows = rows_of(6, 60000);  // would take minutes
  o.concurrency = 2;
  o.control = &control;
  std::mutex mu;
  std::vector<std::string> diag;
  o.on_diagnostic = [&](std::string_view line) {
    std::lock_guard lock(mu);
    diag.emplace_back(line);
  };
  std::ostringstream out, err;
  const auto start = std::chrono::steady_clock::now();
  std::thread other([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    control.interrupt();
    control.interrupt();  // only the first counts
  });
  run_summary sum = run_flow(f, o, out, err);
  other.join();
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));
  CHECK(sum.interrupted);
  CHECK(control.interrupted());
  CHECK(sum.ok == 0);
  CHECK(sum.cancelled == 6);
  CHECK(sum.exit_code() == 1);
  auto rows = lines(out.str());
  REQUIRE(rows.size() == 6);
  for (const auto& r : rows) CHECK(r.at("status") == "cancelled");
  // The notice went to on_diagnostic, once, and nothing to `err`.
  REQUIRE(diag.size() == 1);
  CHECK(diag[0].find("interrupted, cancelling the operations in flight") != std::string::npos);
  CHECK(err.str().empty());
}

TEST_CASE("run_control: an interrupt made before the run starts stops it at its first row") {
  auto f = delay_flow();
  run_control control;
  control.interrupt();
  run_options o;
  o.rows = rows_of(5, 60000);
  o.control = &control;
  std::ostringstream out, err;
  run_summary sum = run_flow(f, o, out, err);
  CHECK(sum.interrupted);
  CHECK(sum.cancelled == 5);
  CHECK(lines(out.str()).size() == 5);
  // Without on_diagnostic the notice is a line on `err`.
  CHECK(err.str() == "flowrun: interrupted, cancelling the operations in flight\n");
}

TEST_CASE("on_progress: from the start, then every interval, and once at the end with every row") {
  auto f = delay_flow();
  run_options o;
  o.rows = rows_of(4, 150);
  o.progress_interval = std::chrono::milliseconds(50);
  std::vector<run_progress> seen;  // the run thread only
  o.on_progress = [&](const run_progress& p) { seen.push_back(p); };
  std::ostringstream out, err;
  run_summary sum = run_flow(f, o, out, err);
  CHECK(sum.ok == 4);
  REQUIRE(seen.size() >= 3);  // 600 ms of rows at one a time, reported every 50 ms
  CHECK(seen.front().done == 0);
  CHECK(seen.back().done == 4);
  CHECK(seen.back().failures == 0);
  CHECK(seen.back().elapsed_s >= 0.5);
  for (std::size_t i = 1; i < seen.size(); ++i) CHECK(seen[i].done >= seen[i - 1].done);
  CHECK(err.str().empty());
}
