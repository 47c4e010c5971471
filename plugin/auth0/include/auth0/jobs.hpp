// Pure helpers of the users export job and users-by-email (issue 13, "Discover"): their
// request targets, and how a failed download of a job's file is reported. No I/O.
#pragma once

#include "auth0/management_client.hpp"
#include "http/stream_download.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace a0::auth0 {

/// /api/v2/jobs/{id}, the id percent-encoded as one segment (throws std::invalid_argument
/// for an empty id, "." or "..").
std::string job_target(std::string_view job_id);

/// /api/v2/users-by-email?email=E[&fields=a,b&include_fields=true|false]; every value
/// percent-encoded (a '+' in an address stays a '+', not a space).
std::string users_by_email_target(std::string_view email, const std::vector<std::string>& fields, bool include_fields);

/// An object store's XML error body (<Code>, <Message>) as "Code: Message", printable
/// ASCII only and clipped; "" when it has neither. Nothing else of the body is kept (S3
/// echoes the string it signed, which is derived from the URL's credential).
std::string storage_error_text(std::string_view body);

/// The api_error of a download that did not end in a 2xx (r.kind == none) or failed on
/// the way. `where` is the redacted URL (never the query: it is the credential).
/// 403 and 404 (a pre-signed URL that expired, a file that is gone) are retryable: a new
/// job gives a new file and URL.
api_error download_error(const http::download_result& r, const std::string& where, const client_config& cfg,
                         std::uint64_t max_bytes);

}  // namespace a0::auth0
