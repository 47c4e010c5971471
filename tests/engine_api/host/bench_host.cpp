// Google Benchmark of the per-row host work flowrun adds around each execute: evaluating
// ${{ }} inputs, the run-time schema check (WFA-10), redacting a result line; and the
// one-off validation of a real flow against the real manifests.
#include <wfa/host/expression.hpp>
#include <wfa/host/validate.hpp>

#include <benchmark/benchmark.h>
#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace json = boost::json;
using namespace wfa::host;

namespace {

json::value read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

manifest_set real_manifests() {
  manifest_set m;
  for (const auto& e : std::filesystem::directory_iterator(WFA_MANIFEST_DIR))
    if (e.path().extension() == ".json") m["auth0"].push_back(read_json(e.path()).as_object());
  return m;
}

env_lookup fake_env() {
  return [](const std::string& n) -> std::optional<std::string> {
    if (n == "AUTH0_DOMAIN") return "tenant.example.com";
    if (n == "AUTH0_CLIENT_ID") return "client-id-123";
    if (n == "AUTH0_CLIENT_SECRET") return "client-secret-456";
    return std::nullopt;
  };
}

struct link_fixture {
  flow f = load_flow(WFA_FLOW_DIR "/link-with-merge.flow.json");
  validation_result v = validate(f, real_manifests(), fake_env());
  json::object inputs = json::parse(R"({"primary_user_id":"google-oauth2|115015401343387192604",
                                        "secondary_user_id":"auth0|5f7c8ec7c33c6c004bbafe82"})")
                            .as_object();
  json::object steps = json::parse(R"({
    "primary":{"user":{"user_id":"google-oauth2|115015401343387192604","email":"a@example.com"}},
    "secondary":{"user":{"user_id":"auth0|5f7c8ec7c33c6c004bbafe82","email":"a@example.com"}}})")
                           .as_object();
  std::size_t link = static_cast<std::size_t>(f.step_index("link"));
};

void BM_validate_link_flow(benchmark::State& state) {
  flow f = load_flow(WFA_FLOW_DIR "/link-with-merge.flow.json");
  manifest_set m = real_manifests();
  for (auto _ : state) benchmark::DoNotOptimize(validate(f, m, fake_env()));
}
BENCHMARK(BM_validate_link_flow)->Unit(benchmark::kMicrosecond);

void BM_evaluate_link_inputs(benchmark::State& state) {
  link_fixture fx;
  eval_context ctx;
  ctx.inputs = &fx.inputs;
  ctx.steps = &fx.steps;
  json::value in(fx.f.steps[fx.link].inputs);
  for (auto _ : state) benchmark::DoNotOptimize(evaluate(in, ctx));
}
BENCHMARK(BM_evaluate_link_inputs);

void BM_check_link_step(benchmark::State& state) {
  link_fixture fx;
  if (!fx.v.checked) {
    state.SkipWithError("the flow did not validate");
    return;
  }
  json::object options = fx.f.steps[fx.link].options;
  json::object inputs{{"primary_user_id", "google-oauth2|115015401343387192604"},
                      {"secondary_user_id", "auth0|5f7c8ec7c33c6c004bbafe82"}};
  for (auto _ : state) benchmark::DoNotOptimize(fx.v.checked->check_step(fx.link, options, inputs));
}
BENCHMARK(BM_check_link_step)->Unit(benchmark::kMicrosecond);

void BM_redact_row_line(benchmark::State& state) {
  redactor r;
  r.add("client-secret-456");
  r.add("tenant.example.com");
  r.add("client-id-123");
  json::object row{{"row", 1}, {"status", "ok"}};
  json::array profiles;
  for (int i = 0; i < 8; ++i)
    profiles.push_back(
        json::object{{"provider", "auth0"},
                     {"user_id", "5f7c8ec7c33c6c004bbafe8" + std::to_string(i)},
                     {"profileData", json::object{{"email", "jane@example.com"}, {"name", "Jane Doe"}}}});
  row["outputs"] = json::object{{"profiles", profiles}};
  json::value v(row);
  const auto bytes = static_cast<int64_t>(json::serialize(v).size());
  for (auto _ : state) {
    json::value copy = v;
    r.redact(copy);
    benchmark::DoNotOptimize(copy);
  }
  state.SetBytesProcessed(bytes * static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_redact_row_line);

}  // namespace

BENCHMARK_MAIN();
