// plugin_link_bench: auth0.link-account through the C ABI against a spawned
// auth0-emulator seeded with generated user pairs (auth0|p<i> / auth0|s<i>), every
// request delayed by a latency fault rule. Prints a table and one JSON object
// (--json FILE, else the last stdout line); tests/plugin/bench/run.sh puts it next to
// the Node SDK baseline. Phases:
//   rtt     - one GET on a warm keep-alive connection (the round-trip floor)
//   single  - sequential links, merge (3 round trips) and no merge (1 round trip)
//   c=N     - links/s, CPU per link, TLS handshakes per 1,000 links
//   memory  - peak RSS growth over many links at the highest concurrency
//   ratelimit - the management bucket set to burst/per-second, links/s and 429 share
#include "emulator_fixture.hpp"
#include "link_driver.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value_to.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace json = boost::json;
using a0::test::emulator;

namespace {

struct params {
  std::string plugin = A0_PLUGIN_PATH, emulator_exe = emulator::default_executable(), json_out;
  std::size_t pairs = 1000, pairs_c1 = 1000, single = 20, mem_links = 10000;
  std::vector<std::size_t> concurrency{1, 8, 64};
  long latency_ms = 20;
  double rate_seconds = 20, rate_burst = 50, rate_per_second = 16;
  std::size_t rate_concurrency = 8;
  std::size_t max_connections = 0;  ///< 0 = twice the highest concurrency (a merge link GETs twice at once)
};

const char* k_usage =
    "plugin_link_bench [--plugin SO] [--emulator EXE] [--pairs N] [--pairs-c1 N]\n"
    "                  [--concurrency 1,8,64] [--latency-ms MS] [--single N] [--mem-links N]\n"
    "                  [--rate-seconds S (0 = skip)] [--rate-burst B] [--rate-per-second R]\n"
    "                  [--rate-concurrency N] [--max-connections N] [--json FILE]\n";

params parse_args(int argc, char** argv) {
  params p;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << k_usage;
      std::exit(0);
    }
    if (i + 1 >= argc) throw std::invalid_argument("missing value for " + a);
    const std::string v = argv[++i];
    auto num = [&] { return std::stod(v); };
    auto count = [&] {
      const auto n = std::stoll(v);
      if (n < 0) throw std::invalid_argument(a + " must not be negative");
      return static_cast<std::size_t>(n);
    };
    if (a == "--plugin")
      p.plugin = v;
    else if (a == "--emulator")
      p.emulator_exe = v;
    else if (a == "--json")
      p.json_out = v;
    else if (a == "--pairs")
      p.pairs = count();
    else if (a == "--pairs-c1")
      p.pairs_c1 = count();
    else if (a == "--single")
      p.single = count();
    else if (a == "--mem-links")
      p.mem_links = count();
    else if (a == "--latency-ms")
      p.latency_ms = static_cast<long>(count());
    else if (a == "--rate-seconds")
      p.rate_seconds = num();
    else if (a == "--rate-burst")
      p.rate_burst = num();
    else if (a == "--rate-per-second")
      p.rate_per_second = num();
    else if (a == "--rate-concurrency")
      p.rate_concurrency = count();
    else if (a == "--max-connections")
      p.max_connections = count();
    else if (a == "--concurrency") {
      p.concurrency.clear();
      std::stringstream ss(v);
      for (std::string part; std::getline(ss, part, ',');) p.concurrency.push_back(std::stoul(part));
    } else {
      throw std::invalid_argument("unknown argument " + a + "\n" + k_usage);
    }
  }
  if (p.concurrency.empty() || std::find(p.concurrency.begin(), p.concurrency.end(), 0u) != p.concurrency.end())
    throw std::invalid_argument("--concurrency needs positive values");
  return p;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return s(ru.ru_utime) + s(ru.ru_stime);
}

// A "VmXXX:   1234 kB" line of /proc/self/status, in kB (0 when absent).
long status_kb(const std::string& key) {
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind(key + ":", 0) == 0) return std::strtol(line.c_str() + key.size() + 1, nullptr, 10);
  return 0;
}

// Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0), so the
// high-water mark afterwards belongs to the phase alone.
bool reset_peak_rss() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
  f.flush();
  return static_cast<bool>(f);
}

// CPU seconds (user + system) of another process, from /proc/PID/stat; -1 when unreadable.
// Used to tell when the single-threaded emulator, not the client, is the limit.
double process_cpu_seconds(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');  // the command name may contain spaces
  if (close == std::string::npos) return -1;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {  // fields 14 and 15 (1-based)
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::int64_t counter(const json::object& c, const char* key) {
  const auto* v = c.if_contains(key);
  return v ? json::value_to<std::int64_t>(*v) : 0;
}

std::string link_inputs(std::size_t i) {
  const auto n = std::to_string(i);
  return R"({"primary_user_id":"auth0|p)" + n + R"(","secondary_user_id":"auth0|s)" + n + "\"}";
}

// Every phase links pairs from index 0 after a reset (which restores the secondaries).
void require_ok(const a0::bench::batch_result& r, const std::string& what) {
  if (r.failed == 0) return;
  std::ostringstream os;
  os << what << ": " << r.failed << " failed; first: " << r.first_error;
  throw std::runtime_error(os.str());
}

}  // namespace

int main(int argc, char** argv) try {
  const auto p = parse_args(argc, argv);
  const std::size_t c_max = *std::max_element(p.concurrency.begin(), p.concurrency.end());
  const std::size_t generated = std::max({p.pairs, p.pairs_c1, p.mem_links, p.single, std::size_t{1}});

  emulator emu(emulator::default_seed(), {"--generate-users", std::to_string(generated)}, p.emulator_exe);
  if (p.latency_ms > 0)
    emu.add_fault({{"method", "*"}, {"path", "*"}, {"action", "latency"}, {"latency_ms", p.latency_ms}});

  json::object report{{"side", "plugin"}, {"latency_ms", p.latency_ms}, {"pairs", p.pairs}};

  // --- round-trip floor: one GET on a warm kept-alive connection
  {
    const auto token = emu.token();
    auto client = emu.client();
    const std::vector<std::pair<std::string, std::string>> auth{{"authorization", "Bearer " + token}};
    client.request("GET", "/api/v2/users/auth0%7Cp0", {}, auth);  // connect + handshake
    std::vector<double> rtt;
    for (int i = 0; i < 20; ++i) {
      const auto t = std::chrono::steady_clock::now();
      const auto r = client.request("GET", "/api/v2/users/auth0%7Cp0", {}, auth);
      rtt.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count());
      if (r.status != 200) throw std::runtime_error("rtt GET answered " + std::to_string(r.status));
    }
    report["rtt_ms"] = median(rtt);
  }
  const double rtt = report["rtt_ms"].as_double();

  a0::bench::loaded_plugin plugin(p.plugin);
  // The SDK's fetch opens as many sockets as it needs; the plugin's pool is a config knob
  // (1..256): by default room for both concurrent GETs of every link in flight.
  const std::size_t pool = p.max_connections ? p.max_connections : std::min<std::size_t>(256, 2 * c_max);
  const std::string config = R"({"domain":")" + emu.domain() + R"(","client_id":")" + emulator::demo_client_id +
                             R"(","client_secret":")" + emulator::demo_client_secret + R"(","ca_file":")" +
                             emu.ca_file() + R"(","max_connections":)" + std::to_string(pool) + "}";
  a0::bench::plugin_instance inst(plugin, config);
  report["max_connections"] = pool;
  const std::string merge_on = R"({"merge_metadata":true})", merge_off = R"({"merge_metadata":false})";
  auto links = [&](const std::string& options, std::size_t count, std::size_t conc) {
    return a0::bench::run_closed_loop(plugin, inst.get(),
                                      {"auth0.link-account", options, link_inputs, count, conc, std::nullopt});
  };

  // Warm: token fetched and one connection open, as in a long-running engine.
  {
    auto r = a0::bench::run_closed_loop(
        plugin, inst.get(),
        {"auth0.get-user", "{}", [](std::size_t) { return R"({"user_id":"auth0|p0"})"; }, 1, 1, {}});
    require_ok(r, "warm-up");
  }

  std::printf("plugin_link_bench: latency rule %ld ms, RTT (warm GET) %.2f ms\n\n", p.latency_ms, rtt);
  std::printf("%-34s %12s %10s\n", "measure", "value", "floor/ratio");

  // --- single link, sequential
  if (p.single > 0) {
    emu.reset();
    auto merged = links(merge_on, p.single, 1);
    require_ok(merged, "single link (merge)");
    emu.reset();
    auto plain = links(merge_off, p.single, 1);
    require_ok(plain, "single link (no merge)");
    const double m = median(merged.latency_ms), n = median(plain.latency_ms);
    report["single"] = {{"samples", p.single},
                        {"merge_ms", m},
                        {"merge_p90_ms", percentile(merged.latency_ms, 0.9)},
                        {"merge_ratio_to_3rtt", m / (3 * rtt)},
                        {"nomerge_ms", n},
                        {"nomerge_p90_ms", percentile(plain.latency_ms, 0.9)},
                        {"nomerge_ratio_to_1rtt", n / rtt}};
    std::printf("%-34s %9.2f ms %10.3f\n", "single link, merge (vs 3 RTT)", m, m / (3 * rtt));
    std::printf("%-34s %9.2f ms %10.3f\n", "single link, no merge (vs 1 RTT)", n, n / rtt);
  }

  // --- throughput per concurrency (merge on: what the Node baseline does)
  json::array through;
  for (const auto c : p.concurrency) {
    const std::size_t count = c == 1 ? std::min(p.pairs_c1, p.pairs) : p.pairs;
    emu.reset();
    emu.reset_counters();
    const double cpu0 = cpu_seconds(), emu_cpu0 = process_cpu_seconds(emu.pid());
    auto r = links(merge_on, count, c);
    const double cpu = cpu_seconds() - cpu0, emu_cpu = process_cpu_seconds(emu.pid()) - emu_cpu0;
    require_ok(r, "links at concurrency " + std::to_string(c));
    const auto counters = emu.counters();
    const double lps = static_cast<double>(r.ok) / r.seconds;
    const double hs = 1000.0 * static_cast<double>(counter(counters, "tls_handshakes")) / static_cast<double>(r.ok);
    through.push_back({{"concurrency", c},
                       {"links", r.ok},
                       {"seconds", r.seconds},
                       {"links_per_s", lps},
                       {"cpu_ms_per_link", 1000.0 * cpu / static_cast<double>(r.ok)},
                       {"median_ms", median(r.latency_ms)},
                       {"tls_handshakes_per_1000", hs},
                       {"requests", counter(counters, "requests")},
                       {"emulator_cpu_share", emu_cpu / r.seconds}});
    char label[64];
    std::snprintf(label, sizeof label, "links/s, c=%zu (%zu links)", c, r.ok);
    std::printf("%-34s %12.1f\n", label, lps);
    std::snprintf(label, sizeof label, "CPU per link, c=%zu", c);
    std::printf("%-34s %9.3f ms\n", label, 1000.0 * cpu / static_cast<double>(r.ok));
    std::snprintf(label, sizeof label, "TLS handshakes/1000 links, c=%zu", c);
    std::printf("%-34s %12.1f\n", label, hs);
    std::snprintf(label, sizeof label, "emulator CPU (cores busy), c=%zu", c);
    std::printf("%-34s %12.2f\n", label, emu_cpu / r.seconds);
  }
  report["throughput"] = std::move(through);

  // --- peak memory over many links at the highest concurrency
  if (p.mem_links > 0) {
    emu.reset();
    emu.reset_counters();
    const long rss0 = status_kb("VmRSS"), hwm_before = status_kb("VmHWM");
    const bool reset_ok = reset_peak_rss();
    rusage ru0{};
    getrusage(RUSAGE_SELF, &ru0);
    auto r = links(merge_on, p.mem_links, c_max);
    require_ok(r, "memory run");
    rusage ru1{};
    getrusage(RUSAGE_SELF, &ru1);
    const long hwm = status_kb("VmHWM"), rss1 = status_kb("VmRSS");
    // Without a HWM reset, only growth beyond the earlier peak is visible.
    const long peak_delta = reset_ok ? hwm - rss0 : std::max(0L, hwm - hwm_before);
    report["memory"] = {
        {"links", r.ok},
        {"concurrency", c_max},
        {"rss_before_kb", rss0},
        {"peak_rss_kb", hwm},
        {"peak_growth_kb", peak_delta},
        {"rss_after_kb", rss1},
        {"hwm_reset", reset_ok},
        {"ru_maxrss_delta_kb", ru1.ru_maxrss - ru0.ru_maxrss},
        {"links_per_s", static_cast<double>(r.ok) / r.seconds},
        {"tls_handshakes_per_1000",
         1000.0 * static_cast<double>(counter(emu.counters(), "tls_handshakes")) / static_cast<double>(r.ok)}};
    char label[64];
    std::snprintf(label, sizeof label, "peak RSS growth, %zu links", r.ok);
    std::printf("%-34s %9ld kB (peak %ld kB)\n", label, peak_delta, hwm);
  }

  // --- rate limit: the management bucket at burst / per-second
  if (p.rate_seconds > 0) {
    emu.reset();
    emu.set_bucket("management", p.rate_burst, p.rate_per_second, {{"path", "/api/v2/*"}});
    emu.reset_counters();
    const auto stop =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<long>(p.rate_seconds * 1000));
    auto r = a0::bench::run_closed_loop(
        plugin, inst.get(), {"auth0.link-account", merge_on, link_inputs, generated, p.rate_concurrency, stop});
    const auto counters = emu.counters();
    const auto requests = counter(counters, "requests"), limited = counter(counters, "rate_limited");
    // Sustained: links completed in the second half of the window (the burst is spent by then).
    const double half = p.rate_seconds / 2;
    const auto late = std::count_if(r.finished_at_s.begin(), r.finished_at_s.end(),
                                    [&](double t) { return t >= half && t < p.rate_seconds; });
    const double sustained = static_cast<double>(late) / (p.rate_seconds - half);
    report["rate_limit"] = {
        {"burst", p.rate_burst},
        {"per_second", p.rate_per_second},
        {"seconds", p.rate_seconds},
        {"concurrency", p.rate_concurrency},
        {"links_ok", r.ok},
        {"links_failed", r.failed},
        {"first_error", r.first_error},
        {"overall_links_per_s", static_cast<double>(r.ok) / r.seconds},
        {"sustained_links_per_s", sustained},
        {"ideal_links_per_s", p.rate_per_second / 4},
        {"requests", requests},
        {"rate_limited", limited},
        {"share_429", requests ? static_cast<double>(limited) / static_cast<double>(requests) : 0.0}};
    std::printf("%-34s %12.2f (ideal %.2f)\n", "rate-limited sustained links/s", sustained, p.rate_per_second / 4);
    std::printf("%-34s %11.1f%% (%lld of %lld)\n", "requests answered 429",
                requests ? 100.0 * static_cast<double>(limited) / static_cast<double>(requests) : 0.0,
                static_cast<long long>(limited), static_cast<long long>(requests));
    std::printf("%-34s %12zu\n", "links failed (429 after retries)", r.failed);
  }
  report["plugin_warnings"] = plugin.warnings();
  if (plugin.warnings()) report["first_warning"] = plugin.first_warning();

  const auto text = json::serialize(report);
  if (!p.json_out.empty()) {
    std::ofstream(p.json_out) << text << "\n";
  }
  std::printf("\n%s\n", text.c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "plugin_link_bench: %s\n", e.what());
  return 1;
}
