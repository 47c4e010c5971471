// Everything around the tenant that tests steer: rate-limit buckets, fault rules,
// the request log, counters, global latency, and the /__emulator/ control API.
// Single-threaded by design (the server runs one io_context thread), so no locks.
#pragma once

#include "http_types.hpp"
#include "tenant.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <regex>
#include <string>
#include <vector>

namespace emu {

/// Token bucket: capacity `burst`, refilled at `per_second`, applied to matching requests.
struct bucket {
  std::string name;
  double burst = 0, per_second = 0;
  std::vector<std::string> methods;  ///< empty = any
  std::string path = "/api/v2/*";    ///< glob over the decoded path
  double tokens = 0;
  std::chrono::steady_clock::time_point last{};
};

class rate_limiter {
 public:
  /// What the bucket a request counts against says (the headers of every API answer).
  struct verdict {
    bool allowed = true;
    std::string bucket;  ///< the bucket reported (the tightest that matched)
    long long limit = 0, remaining = 0, reset_epoch = 0;
  };
  /// Name of the built-in bucket for requests no configured bucket matches.
  static constexpr const char* fallback_name = "default";

  /// Parses seed["rate_limits"] (absent = the generous defaults); throws
  /// std::invalid_argument naming the bad entry. Pure: nothing is changed.
  static std::vector<bucket> parse(const boost::json::object& seed);
  /// Installs parsed buckets; they and the fallback start full.
  void replace(std::vector<bucket> buckets) {
    buckets_ = std::move(buckets);
    fallback_ = make_fallback();
  }
  /// Creates or replaces one bucket from {burst, per_second, methods?, path?}; throws on bad input.
  void set(const std::string& name, const boost::json::object& cfg);
  bool remove(const std::string& name);
  boost::json::array list() const;
  /// Takes one token from every matching bucket, or none when any is empty.
  verdict take(const std::string& method, const std::string& path);
  /// The same report without taking a token (for answers that do not count).
  verdict peek(const std::string& method, const std::string& path);

 private:
  std::vector<bucket*> matching(const std::string& method, const std::string& path);
  std::vector<bucket> buckets_;
  bucket fallback_ = make_fallback();
  static bucket make_fallback();
};

struct fault_rule {
  long id = 0;
  std::string method = "*";
  std::string path = "*";  ///< glob (used when regex is empty)
  std::string regex_src;   ///< ECMAScript regex over the decoded path
  std::optional<std::regex> regex;
  std::string action;  ///< latency | status | rate_limit | reset_before | reset_after
  long latency_ms = 0;
  unsigned status = 500;
  std::string message, error_code;
  std::optional<boost::json::value> body;  ///< verbatim body for status faults
  long reset_in_s = 1;
  std::optional<long> retry_after_s;
  long remaining = -1;  ///< fires this many more times; -1 = unlimited
  double probability = 1.0;
  long fired = 0;
  boost::json::object to_json() const;
};

/// What the fault rules decided for one request.
struct fault_plan {
  long latency_ms = 0;
  std::optional<response> reply;  ///< status fault: answer this instead
  struct too_many {
    long reset_in_s = 1;
    std::optional<long> retry_after_s;
  };
  std::optional<too_many> rate_limit;  ///< rate_limit fault: a 429 as if the bucket were empty
  bool reset_before = false, reset_after = false;
  std::string fired;  ///< ids of the rules that fired, for the log
};

class fault_rules {
 public:
  /// Parses and adds a rule; returns its id. Throws std::invalid_argument on bad input.
  long add(const boost::json::object& rule);
  void clear() { rules_.clear(); }
  bool remove(long id);
  boost::json::array list() const;
  /// Latency rules accumulate; the first firing terminal rule wins.
  fault_plan match(const std::string& method, const std::string& path);
  /// Restarts the random source of `probability` rules from `seed` (reproducible runs).
  void seed_random(std::uint64_t seed) { rng_.seed(seed); }

 private:
  std::vector<fault_rule> rules_;
  long next_id_ = 1;
  std::mt19937_64 rng_{std::random_device{}()};
};

struct counters {
  unsigned long long requests = 0, control_requests = 0, connections = 0, tls_handshakes = 0, faults_fired = 0,
                     rate_limited = 0;
};

/// The whole emulator state that one request may read or change.
struct emulator_state {
  /// Throws std::invalid_argument when the seed (tenant or rate_limits) is invalid.
  explicit emulator_state(const boost::json::value& seed);
  /// Replaces tenant and buckets with a new seed, or throws and changes nothing
  /// (also not what reset() goes back to).
  void load_seed(const boost::json::value& seed);
  /// Back to the last loaded seed: tenant and buckets.
  void reset();
  /// An API request after its fault latency (and when no reset_before fired): the
  /// rate limiter, then the fault answer or the tenant. Every answer carries x-ratelimit-*.
  response dispatch(const request& req, const std::string& path, const fault_plan& plan);

  tenant api;
  rate_limiter limits;
  fault_rules faults;
  counters count;
  boost::json::array log;
  long global_latency_ms = 0;
  static constexpr std::size_t max_log = 200000;  ///< oldest entries dropped beyond this

  void log_request(const request& req, unsigned status, const std::string& fault);
};

/// True for /__emulator/... targets.
bool is_control(const std::string& target);
/// Handles one control API request.
response handle_control(emulator_state& st, const request& req);
/// Adds the x-ratelimit-* headers of a verdict to a response.
void add_rate_headers(response& r, const rate_limiter::verdict& v);
/// The 429 Auth0 sends when a bucket is empty (Management or OAuth shape by path).
response too_many_requests(const std::string& path, const rate_limiter::verdict& v);

}  // namespace emu
