// Everything around the tenant that tests steer: rate-limit buckets, fault rules,
// the request log, counters, global latency, and the /__emulator/ control API.
// Single-threaded by design (the server runs one io_context thread), so no locks.
#pragma once

#include "http_types.hpp"
#include "tenant.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <chrono>
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
  struct verdict {
    bool allowed = true;
    bool matched = false;  ///< false when no bucket covers the request (no headers)
    long long limit = 0, remaining = 0, reset_epoch = 0;
  };
  /// Replaces all buckets from seed["rate_limits"] (or the generous defaults).
  void load(const boost::json::object& seed);
  /// Creates or replaces one bucket from {burst, per_second, methods?, path?}; throws on bad input.
  void set(const std::string& name, const boost::json::object& cfg);
  bool remove(const std::string& name);
  boost::json::array list() const;
  /// Takes one token from every matching bucket, or none when any is empty.
  verdict take(const std::string& method, const std::string& path);

 private:
  void refill(bucket& b, std::chrono::steady_clock::time_point now) const;
  std::vector<bucket> buckets_;
};

struct fault_rule {
  long id = 0;
  std::string method = "*";
  std::string path = "*";           ///< glob (used when regex is empty)
  std::string regex_src;            ///< ECMAScript regex over the decoded path
  std::optional<std::regex> regex;
  std::string action;               ///< latency | status | rate_limit | reset_before | reset_after
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
  std::optional<response> reply;  ///< status / rate_limit faults: answer this instead
  bool reset_before = false, reset_after = false;
  std::string fired;              ///< ids of the rules that fired, for the log
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

 private:
  std::vector<fault_rule> rules_;
  long next_id_ = 1;
  std::mt19937_64 rng_{std::random_device{}()};
};

struct counters {
  unsigned long long requests = 0, control_requests = 0, connections = 0, tls_handshakes = 0,
                     faults_fired = 0, rate_limited = 0;
};

/// The whole emulator state that one request may read or change.
struct emulator_state {
  explicit emulator_state(const boost::json::value& seed);
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
/// Adds x-ratelimit-* headers of a verdict to a response.
void add_rate_headers(response& r, const rate_limiter::verdict& v);
/// The 429 Auth0 sends when a bucket is empty (Management or OAuth shape by path).
response too_many_requests(const std::string& path, const rate_limiter::verdict& v);

}  // namespace emu
