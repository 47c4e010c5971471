// Test fixture for the auth0-emulator (tests/emulator/README.md has the API).
//
//   a0::test::emulator emu;                      // demo seed, any free port
//   auto tok = emu.token();                      // Management API token (demo client)
//   auto r = emu.client().request("GET", "/api/v2/users/auth0%7Cabc", {}, {{"authorization", "Bearer " + tok}});
//   emu.add_fault({{"method","GET"},{"path","/api/v2/users/*"},{"action","status"},{"status",503},{"times",1}});
//
// Link with target a0_emulator_fixture: it brings the compile definitions
// A0_EMULATOR_PATH (the built auth0-emulator) and A0_EMULATOR_DEMO_SEED
// (manifests/emulator/demo.seed.json), used as defaults below.
// The emulator runs as a child process (killed in the destructor, and it exits by
// itself when this process dies: --exit-on-stdin-eof). All calls are synchronous
// and throw std::runtime_error on transport or control-API failures. The control
// calls (and token()) are thread-safe; an https_client is not: one per thread.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace a0::test {

struct http_result {
  unsigned status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  ///< names lower-cased
  /// The body parsed as JSON (throws when it is not JSON).
  boost::json::value json() const;
  /// A header value or "" (name in lower case).
  std::string header(const std::string& name) const;
};

/// A small synchronous HTTPS/1.1 keep-alive client that trusts one CA file and
/// verifies the peer and host name. Not thread-safe: one per thread.
class https_client {
 public:
  https_client(std::string host, std::uint16_t port, std::string ca_file);
  ~https_client();
  https_client(https_client&&) noexcept;
  https_client& operator=(https_client&&) noexcept;

  /// Sends one request over the kept-alive connection (connecting when needed).
  /// Throws std::runtime_error when the connection fails (e.g. reset by the peer);
  /// the next call then opens a new connection.
  http_result request(std::string_view method, std::string_view target, std::string_view body = {},
                      const std::vector<std::pair<std::string, std::string>>& headers = {});
  /// Closes the connection (the next request reconnects).
  void close();

 private:
  struct impl;
  std::unique_ptr<impl> p_;
};

class emulator {
 public:
  /// The demo client of manifests/emulator/demo.seed.json.
  static constexpr const char* demo_client_id = "demo-link-client";
  static constexpr const char* demo_client_secret = "demo-secret-not-a-real-secret";

  /// Spawns `executable --seed seed_file --port 0 --exit-on-stdin-eof extra_args...`
  /// and waits (up to 30 s) for its ready line. An empty seed_file omits --seed.
  explicit emulator(std::string seed_file = default_seed(), std::vector<std::string> extra_args = {},
                    std::string executable = default_executable());
  ~emulator();
  emulator(const emulator&) = delete;
  emulator& operator=(const emulator&) = delete;

  /// $A0_EMULATOR_EXE when set, else the built auth0-emulator.
  static std::string default_executable();
  static std::string default_seed();

  std::uint16_t port() const { return port_; }
  const std::string& ca_file() const { return ca_file_; }
  const std::string& base_url() const { return base_url_; }
  /// "127.0.0.1:PORT": what a client puts in its domain setting.
  std::string domain() const;
  pid_t pid() const { return pid_; }

  /// A new client (own connection) for API calls.
  https_client client() const;

  /// A Management API token via POST /oauth/token (client credentials, audience
  /// https://127.0.0.1:PORT/api/v2/). Throws when the emulator refuses.
  std::string token(const std::string& client_id = demo_client_id,
                    const std::string& client_secret = demo_client_secret);

  // Control API (tests/emulator/README.md). Each throws on a non-2xx answer.
  void reset();                               ///< back to the loaded seed
  void seed(const boost::json::value& seed);  ///< replace the whole state
  boost::json::object dump();                 ///< whole state
  boost::json::array request_log();           ///< [{method,path,status,token,fault?}]
  void clear_log();
  boost::json::object counters();  ///< {requests,connections,tls_handshakes,...}
  void reset_counters();
  long add_fault(const boost::json::object& rule);  ///< returns the rule id
  void remove_fault(long id);
  void clear_faults();
  /// Restarts the random source of probability rules (same seed, same decisions).
  void set_fault_random_seed(std::uint64_t seed);
  void set_latency(long ms);  ///< added to every API request
  /// Creates or replaces a rate-limit bucket; `extra` may hold "path" and "methods".
  void set_bucket(const std::string& name, double burst, double per_second, const boost::json::object& extra = {});
  void remove_bucket(const std::string& name);
  void set_token_lifetime(std::optional<long> seconds);
  /// PUT behaviour: {"relink":"409"|"400", "nested_nulls":"keep"|"drop",
  /// "wrong_secret":"invalid_client"|"access_denied", "custom_domain": "host"|null}.
  void set_behaviour(const boost::json::object& b);
  /// POST /__emulator/id-token: an RS256 ID token of a stored user (`request` holds
  /// user_id and optional overrides: aud, iss, sub, exp, iat, nbf, exp_in_s, alg, kid).
  std::string id_token(const boost::json::object& request);

  /// Sends SIGTERM and waits; returns the exit status (for shutdown tests).
  int terminate();

 private:
  http_result control(std::string_view method, std::string_view path, const boost::json::value* body = nullptr);
  http_result send_control(std::string_view method, const std::string& target, const std::string& body, bool retry);

  pid_t pid_ = -1;
  int stdin_fd_ = -1, stdout_fd_ = -1;
  std::uint16_t port_ = 0;
  std::string ca_file_, base_url_;
  std::unique_ptr<https_client> control_;
  std::mutex control_mutex_;  ///< control calls may come from several benchmark threads
};

}  // namespace a0::test
