// Small string/JSON helpers shared by the API and control TUs.
#pragma once

#include "http_types.hpp"

#include <boost/json/value.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace emu {

/// Percent-decodes; `plus_is_space` for query strings and form bodies.
std::string pct_decode(std::string_view s, bool plus_is_space);
/// "a=1&b=2" -> decoded pairs, in order (repeated names kept).
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view q);
/// Splits an origin-form target into decoded path segments and the raw query.
std::vector<std::string> path_segments(std::string_view target, std::string* query = nullptr);
/// The decoded path, for fault matching and the log.
std::string decoded_path(std::string_view target);

std::string base64url_encode(std::string_view data);
/// Returns false on malformed input.
bool base64url_decode(std::string_view in, std::string& out);

/// HTTP reason phrase used in Auth0's "error" field.
const char* reason(unsigned status);

response json_response(unsigned status, const boost::json::value& body);
/// Management API error: {"statusCode","error","message"[,"errorCode"]}.
response mgmt_error(unsigned status, std::string_view message, std::string_view error_code = {});
/// Authentication API error: {"error","error_description"}.
response oauth_error(unsigned status, std::string_view error, std::string_view description);

/// Shell-style glob (* and ?) over the whole string.
bool glob_match(std::string_view pattern, std::string_view s);

}  // namespace emu
