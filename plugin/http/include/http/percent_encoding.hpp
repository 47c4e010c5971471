// Percent-encoding for URL path segments, query values and form bodies.
#pragma once

#include <string>
#include <string_view>

namespace a0::http {

/// Encodes every byte outside RFC 3986 "unreserved" (A-Z a-z 0-9 - . _ ~) as %XX
/// (upper-case hex). Safe for one path segment: "auth0|abc" -> "auth0%7Cabc", and a
/// '/' inside an id cannot escape its segment.
std::string pct_encode(std::string_view raw);

/// application/x-www-form-urlencoded value: like pct_encode (space -> %20, which every
/// form decoder accepts).
inline std::string form_encode(std::string_view raw) { return pct_encode(raw); }

}  // namespace a0::http
