// Client benchmarks against the local scripted TLS server (loopback, no emulator):
// per-call cost over a kept-alive pool, with TLS handshakes per 1,000 calls, and the
// pure helpers on the hot path. Run: build/<dir>/tests/plugin/auth0/plugin_auth0_bench
#include "auth0/errors.hpp"
#include "auth0/management_client.hpp"
#include "http/percent_encoding.hpp"
#include "test_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>

#include <benchmark/benchmark.h>

#include <future>
#include <vector>

namespace net = boost::asio;
using namespace a0;
using namespace a0::auth0;
using namespace a0::test;

namespace {

reply answer(const seen_request& r) {
  if (r.target == "/oauth/token") return reply{200, R"({"access_token":"tok","expires_in":86400})"};
  return reply{200,
               R"({"user_id":"auth0|u","email":"a@example.com","identities":[{"provider":"auth0","user_id":"u"}]})"};
}

client_config config_for(const test_server& s, int connections) {
  client_config c;
  c.domain = s.domain();
  c.token = "tok";
  c.ca_file = s.ca_file();
  c.max_connections = connections;
  return c;
}

void report(benchmark::State& state, const management_client& client, std::int64_t calls) {
  const auto st = client.statistics();
  state.counters["tls_handshakes_per_1000_calls"] =
      calls ? 1000.0 * static_cast<double>(st.tls_handshakes) / static_cast<double>(calls) : 0.0;
  state.counters["calls_per_s"] = benchmark::Counter(static_cast<double>(calls), benchmark::Counter::kIsRate);
}

void BM_get_user_sequential(benchmark::State& state) {
  test_server srv(answer);
  net::thread_pool threads(1);
  management_client client(threads.get_executor(), config_for(srv, 4));
  std::int64_t calls = 0;
  for (auto _ : state) {
    auto u = net::co_spawn(threads.get_executor(), client.get_user("auth0|u"), net::use_future).get();
    benchmark::DoNotOptimize(u);
    ++calls;
  }
  report(state, client, calls);
}
BENCHMARK(BM_get_user_sequential)->UseRealTime();

void BM_get_user_concurrent(benchmark::State& state) {
  const auto in_flight = static_cast<int>(state.range(0));
  test_server srv(answer);
  net::thread_pool threads(2);
  management_client client(threads.get_executor(), config_for(srv, 8));
  std::int64_t calls = 0;
  for (auto _ : state) {
    std::vector<std::future<boost::json::object>> batch;
    for (int i = 0; i < in_flight; ++i)
      batch.push_back(net::co_spawn(threads.get_executor(), client.get_user("auth0|u"), net::use_future));
    for (auto& f : batch) benchmark::DoNotOptimize(f.get());
    calls += in_flight;
  }
  report(state, client, calls);
}
BENCHMARK(BM_get_user_concurrent)->Arg(16)->UseRealTime();

void BM_pct_encode_user_id(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(http::pct_encode("samlp|NeoLink|40813347@example.com"));
}
BENCHMARK(BM_pct_encode_user_id);

void BM_parse_error_body(benchmark::State& state) {
  const std::string body =
      R"({"statusCode":404,"error":"Not Found","message":"The user does not exist.","errorCode":"inexistent_user"})";
  for (auto _ : state) benchmark::DoNotOptimize(auth0::parse_error_body(body));
}
BENCHMARK(BM_parse_error_body);

}  // namespace

BENCHMARK_MAIN();
