// Pure helpers that turn the client's arguments into request targets and the domain
// into an origin. No I/O: unit-tested directly.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace a0::auth0 {

struct host_port {
  std::string host;  ///< name or IP literal (brackets stripped for IPv6)
  std::string port;  ///< "443" when the domain has none
};

/// Splits "host", "host:port" or "[v6]:port"; throws std::invalid_argument naming
/// "domain" for a scheme, path, query, userinfo, empty host or bad port.
host_port split_domain(std::string_view domain);

/// The domain as the client uses it everywhere (Host, SNI, certificate name, default
/// audience, the ID-token issuer): validated by split_domain, without the root label's
/// trailing dot ("tenant.auth0.com." names the same host, but SNI must not carry the
/// dot, RFC 6066) and without an explicit :443; Auth0's audiences and issuers carry
/// neither. Another port is kept, as a number without leading zeros.
std::string canonical_domain(std::string_view domain);

/// The Management API audience of a tenant: https://DOMAIN/api/v2/ (trailing slash).
std::string default_audience(std::string_view domain);

/// /api/v2/users/{id} with the id percent-encoded as one segment.
std::string user_target(std::string_view user_id);
/// ... plus ?fields=a,b&include_fields=true|false when fields is not empty.
std::string user_target(std::string_view user_id, const std::vector<std::string>& fields, bool include_fields);
/// /api/v2/users/{id}/identities
std::string identities_target(std::string_view primary_user_id);
/// /api/v2/users/{id}/identities/{provider}/{user_id}, every segment encoded.
std::string identity_target(std::string_view primary_user_id, std::string_view provider,
                            std::string_view secondary_user_id);
/// /api/v2/connections?strategy=..&strategy=..&from=..&take=N (checkpoint paging)
std::string connections_target(const std::vector<std::string>& strategies, const std::optional<std::string>& from,
                               int take);

}  // namespace a0::auth0
