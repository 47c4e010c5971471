// Validated requests of the four actions. Parsing is the plugin's own check of options
// and inputs (WFA-10): it runs before any request is sent and throws
// input_error whose message names the offending field.
#pragma once

#include "actions/user_ids.hpp"

#include <jwt/jwt.hpp>
#include <merge/merge.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace a0::actions {

struct link_request {
  // options
  bool merge_metadata = false;
  bool include_idp_tokens = false;
  bool require_verified_email = false;
  bool dry_run = false;
  /// secondary_token must stay valid this long (exp - now), or the link is refused before
  /// any write: Auth0 checks it when the link POST arrives, after the PATCH.
  std::chrono::seconds token_min_validity{60};
  merge::options merge;
  // inputs
  std::string primary_user_id;
  std::optional<secondary_id> secondary;  ///< empty when identified by secondary_token
  std::string connection_id;              ///< may be empty
  std::string secondary_token;            ///< may be empty; never logged or output
  /// secondary_token decoded (alg RS256, a kid, a full-id sub) but NOT verified: the
  /// action verifies it against the tenant's JWKS before any Management API request.
  jwt::decoded token;
  /// The secondary's full id: from the inputs, or the `sub` of secondary_token (trusted
  /// only once the token is verified).
  std::string secondary_full_id;
};

struct unlink_request {
  bool include_idp_tokens = false;
  std::string primary_user_id;
  secondary_id secondary;
};

struct get_user_request {
  bool include_idp_tokens = false;
  std::string user_id;
  std::vector<std::string> fields;
};

struct update_metadata_request {
  bool include_idp_tokens = false;
  std::string user_id;
  boost::json::object user_metadata;
};

link_request parse_link(const boost::json::object& options, const boost::json::object& inputs);
unlink_request parse_unlink(const boost::json::object& options, const boost::json::object& inputs);
get_user_request parse_get_user(const boost::json::object& options, const boost::json::object& inputs);
update_metadata_request parse_update_metadata(const boost::json::object& options, const boost::json::object& inputs);

// Issue 13 (Discover): auth0.export-users and auth0.users-by-email.

struct export_users_request {
  std::string output_file;                        ///< absolute; its folder exists and is writable (checked at parse)
  std::string connection_id;                      ///< may be empty: every connection
  std::vector<std::string> extra_fields;          ///< exported besides the fields planning needs
  std::chrono::milliseconds poll_interval{1000};  ///< first wait; grows x1.5 per poll
  std::chrono::milliseconds max_poll_interval{30000};
  std::uint64_t max_download_bytes = 0;  ///< 0: no cap
};

struct users_by_email_request {
  bool include_idp_tokens = false;
  std::string email;
  std::vector<std::string> fields;
};

export_users_request parse_export_users(const boost::json::object& options, const boost::json::object& inputs);
users_by_email_request parse_users_by_email(const boost::json::object& options, const boost::json::object& inputs);

}  // namespace a0::actions
