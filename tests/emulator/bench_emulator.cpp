// emulator_bench: requests/s of GET /api/v2/users/{id} over keep-alive HTTPS connections
// (one per benchmark thread) against a spawned auth0-emulator seeded with
// --generate-users 10000. Figures and the command are in tests/emulator/README.md.
#include "emulator_fixture.hpp"

#include <benchmark/benchmark.h>

#include <memory>
#include <string>

namespace {

std::unique_ptr<a0::test::emulator> g_emu;
std::string g_token;

void get_user(benchmark::State& state) {
  auto client = g_emu->client();
  const std::vector<std::pair<std::string, std::string>> auth{{"Authorization", "Bearer " + g_token}};
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 7919;
  for (auto _ : state) {
    const auto r = client.request("GET", "/api/v2/users/auth0%7Cp" + std::to_string(i++ % 10000), {}, auth);
    if (r.status != 200) state.SkipWithError("unexpected status");
    benchmark::DoNotOptimize(r.body.data());
  }
  state.SetItemsProcessed(state.iterations());
}

// With the emulator's global latency at 20 ms: shows that delayed requests do not
// serialise (throughput scales with connections, about N / 20 ms).
void get_user_20ms(benchmark::State& state) {
  if (state.thread_index() == 0) g_emu->set_latency(20);
  get_user(state);
  if (state.thread_index() == 0) g_emu->set_latency(0);
}

// A new TLS connection for every request: the handshake cost.
void get_user_new_connection(benchmark::State& state) {
  const std::vector<std::pair<std::string, std::string>> auth{{"Authorization", "Bearer " + g_token}};
  for (auto _ : state) {
    auto client = g_emu->client();
    const auto r = client.request("GET", "/api/v2/users/auth0%7Cp1", {}, auth);
    if (r.status != 200) state.SkipWithError("unexpected status");
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(get_user)->Threads(1)->Threads(4)->Threads(16)->UseRealTime();
BENCHMARK(get_user_20ms)->Threads(16)->Threads(64)->UseRealTime()->MinTime(2.0);
BENCHMARK(get_user_new_connection)->UseRealTime();

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  g_emu = std::make_unique<a0::test::emulator>(a0::test::emulator::default_seed(),
                                               std::vector<std::string>{"--generate-users", "10000"});
  g_token = g_emu->token();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  g_emu.reset();
  return 0;
}
