// The emulated tenant: users, connections, clients and their API behaviour
// (Management API v2 subset + /oauth/token), as documented in ../README.md.
// Not thread-safe: the server runs it on one strand.
#pragma once

#include "http_types.hpp"
#include "id_tokens.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace emu {

/// Appends `pairs` generated primary/secondary users (auth0|p<i>, auth0|s<i>) to seed["users"].
void generate_pairs(boost::json::object& seed, std::size_t pairs);

class tenant {
 public:
  using clock = std::chrono::system_clock;

  /// Loads a seed (format in the README); throws std::invalid_argument with a message.
  explicit tenant(const boost::json::value& seed);

  /// Replaces the whole state with a new seed (validated first; state untouched on error).
  void load(const boost::json::value& seed);
  /// Back to the last loaded seed.
  void reset();
  /// Overrides every client's token lifetime (seconds); nullopt = use the seed.
  void set_token_lifetime(std::optional<long> seconds) { lifetime_override_ = seconds; }
  /// Answers where Auth0's documents allow more than one (control API PUT behaviour;
  /// kept across seed/reset, like fault rules). Defaults = what the emulator always did.
  struct behaviour {
    bool relink_400 = false;                  ///< re-link: 400 "secondary account not found" (else 409)
    bool drop_nested_nulls = false;           ///< PATCH: nulls nested in a metadata value are not stored
    bool wrong_secret_access_denied = false;  ///< token: 401 access_denied "Unauthorized" (else invalid_client)
    std::string custom_domain;                ///< one more issuer of ID tokens: https://CUSTOM/
  };
  /// Applies the members present in `o` (PUT behaviour); throws std::invalid_argument.
  void set_behaviour(const boost::json::object& o);
  boost::json::object behaviour_json() const;

  /// The port the server listens on: https://127.0.0.1:PORT/api/v2/ and
  /// https://localhost:PORT/api/v2/ become audiences of this tenant's API.
  void set_listen_port(unsigned port) { port_ = port; }

  /// Full state: {domain, clients, connections, users} (users include linked identities).
  boost::json::object dump() const;
  const std::string& domain() const { return domain_; }
  /// The last loaded seed (reset goes back to it).
  const boost::json::object& seed() const { return seed_; }

  /// Handles /oauth/token and /api/v2/*. `token_sent` tells whether a bearer was present.
  response handle(const request& req);

  /// POST /__emulator/id-token: an ID token of a stored user, signed with the tenant's
  /// key (tenant_id_tokens.cpp; body fields in the README).
  response mint_id_token(const boost::json::value& body, const request& req);

  // Users export jobs (tenant_exports.cpp).
  /// The port of the storage host that serves completed exports (pre-signed URLs).
  void set_storage_port(unsigned port) { storage_port_ = port; }
  /// A request to the storage host.
  response storage(const request& req);
  /// Control API: {duration_ms, url_ttl_s, fail_next, corrupt_next, download_stall_ms};
  /// throws std::invalid_argument.
  void set_export_behaviour(const boost::json::object& cfg);
  /// The storage host sends half of a file, then waits this long before the rest (0: none).
  long long download_stall_ms() const { return exports_.download_stall_ms; }

 private:
  struct client {
    std::string id, secret;
    std::vector<std::string> audiences;  ///< extra accepted audiences
    std::vector<std::string> scopes;
    std::vector<std::string> grant_types;  ///< Auth0's "grant_types"; default client_credentials
    long lifetime_s = 86400;
  };
  struct token_claims {
    std::string sub;
    std::vector<std::string> scopes;
  };

  void apply_seed(const boost::json::object& seed);
  /// The audiences a token for `cl` may carry: this API's identifiers and the client's own.
  std::vector<std::string> audiences_for(const client* cl) const;
  response oauth_token(const request& req);
  /// Returns the claims, or fills `err` with the 401 response.
  std::optional<token_claims> authenticate(const request& req, response& err) const;
  response users_route(const request& req, const std::vector<std::string>& segs, const token_claims& who);
  response connections_route(const request& req, const std::vector<std::string>& segs, const token_claims& who);
  response get_user(const std::string& id, const request& req);
  response users_by_email(const request& req);
  response patch_user(const std::string& id, const request& req);
  response create_user(const request& req);
  response delete_user(const std::string& id);
  response link(const std::string& id, const request& req);
  response unlink(const std::string& id, const std::string& provider, const std::string& uid);
  response list_connections(const request& req);
  response create_connection(const request& req);
  std::string new_id(std::size_t n, bool hex);
  std::string sign(const std::string& data) const;
  std::string now_iso() const;

  boost::json::object seed_;
  std::string domain_;
  std::map<std::string, client> clients_;
  std::vector<boost::json::object> connections_;
  std::map<std::string, boost::json::object> users_;
  std::optional<long> lifetime_override_;
  behaviour quirks_;
  unsigned port_ = 0;
  std::string key_;        ///< HMAC key of issued tokens (per process)
  id_token_keys id_keys_;  ///< RS256 key of users' ID tokens (per process)

  // tenant_exports.cpp
  struct export_job {
    std::string id, format, connection_id, connection, created_at;
    std::vector<std::pair<std::string, std::string>> fields;  ///< name, export_as
    long long limit = 0;                                      ///< 0: none
    std::chrono::steady_clock::time_point started;
    bool fail = false;
    std::string corrupt;  ///< exports_.corrupt_next when the job was created
    std::string file;     ///< gzipped NDJSON, once completed
    long long expires = 0;
    std::string signature;
  };
  struct export_settings {
    long long duration_ms = 300;  ///< pending for a quarter of it, then processing
    long long url_ttl_s = 600;
    bool fail_next = false;
    std::string corrupt_next;  ///< "truncate" | "garbage": what happens to the next completed file
    long long download_stall_ms = 0;
  };
  std::map<std::string, export_job> jobs_;
  export_settings exports_;
  unsigned storage_port_ = 0;
  response jobs_route(const request& req, const std::vector<std::string>& segs, const std::vector<std::string>& scopes);
  response create_export(const request& req);
  response get_job(const std::string& id);
  boost::json::object job_json(const export_job& job, std::string_view status) const;

  // tenant_id_tokens.cpp
  response jwks() const;
  /// The issuer names this tenant answers to for a request (as its clients address it).
  std::vector<std::string> issuers(const request& req) const;
  unsigned long id_counter_ = 0;
};

}  // namespace emu
