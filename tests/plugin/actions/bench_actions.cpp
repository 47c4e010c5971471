// Benchmarks of the actions through the C ABI against the fake tenant (loopback HTTPS):
// the plugin's own validation cost, and whole operations as a host sees them.
#include "actions/requests.hpp"
#include "fake_tenant.hpp"
#include "plugin_host.hpp"

#include <benchmark/benchmark.h>
#include <boost/json/parse.hpp>

#include <string>
#include <vector>

using namespace a0::test;
namespace json = boost::json;

static void validate_link(benchmark::State& state) {
  const auto options =
      json::parse(R"({"merge_metadata":true,"arrays":"union","merge_exclude":["/app_metadata/roles"]})").as_object();
  const auto inputs =
      json::parse(
          R"({"primary_user_id":"google-oauth2|115015401343387192604","secondary_user_id":"samlp|NeoLink|40813347"})")
          .as_object();
  for (auto _ : state) benchmark::DoNotOptimize(a0::actions::parse_link(options, inputs));
}
BENCHMARK(validate_link);

static void get_user_abi(benchmark::State& state) {
  plugin_host host;
  fake_tenant t;
  t.put_user(make_user("auth0|p", "p@example.com", true, json::parse(R"({"a":1})").as_object()));
  plugin_instance inst(host, t.config());
  for (auto _ : state) {
    auto r = inst.start("auth0.get-user", "{}", R"({"user_id":"auth0|p"})").wait();
    if (r.code != WFA_OK) state.SkipWithError(r.message.c_str());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(get_user_abi)->UseRealTime();

// One link with merge = 2 concurrent GETs, PATCH, POST. `in_flight` links at a time,
// each into its own primary.
static void link_with_merge_abi(benchmark::State& state) {
  const int in_flight = static_cast<int>(state.range(0));
  plugin_host host;
  fake_tenant t;
  plugin_instance inst(host, t.config());
  int n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<std::string> inputs;
    for (int i = 0; i < in_flight; ++i, ++n) {
      const auto p = "google-oauth2|" + std::to_string(n), s = "auth0|s" + std::to_string(n);
      t.put_user(make_user(p, "x@example.com", true, json::parse(R"({"color":"red"})").as_object()));
      t.put_user(make_user(s, "x@example.com", true, json::parse(R"({"lang":"fr","tags":[1,2]})").as_object(),
                           json::parse(R"({"plan":"pro"})").as_object()));
      inputs.push_back(R"({"primary_user_id":")" + p + R"(","secondary_user_id":")" + s + "\"}");
    }
    state.ResumeTiming();
    std::vector<plugin_instance::pending> ops;
    for (const auto& in : inputs) ops.push_back(inst.start("auth0.link-account", R"({"merge_metadata":true})", in));
    for (auto& o : ops) {
      auto r = o.wait();
      if (r.code != WFA_OK) state.SkipWithError(r.message.c_str());
    }
  }
  state.SetItemsProcessed(state.iterations() * in_flight);
}
BENCHMARK(link_with_merge_abi)->Arg(1)->Arg(16)->UseRealTime();

BENCHMARK_MAIN();
