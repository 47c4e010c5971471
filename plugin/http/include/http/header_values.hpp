// Checks on what goes into a request line or a header field. A CR or LF in a value ends
// the field (or the whole header block) early: whatever follows is read by the server as
// more headers or as a second, smuggled request on the same connection. A NUL is cut at
// by some parsers and not by others. Values from a server (an access_token), from config
// (AUTH0_TOKEN, the domain) or from inputs are checked before any request is built.
#pragma once

#include <string_view>

namespace a0::http {

/// A field value RFC 9110 allows (VCHAR, obs-text, SP, HTAB): no CR, LF, NUL, nor any
/// other control character.
bool is_safe_header_value(std::string_view value) noexcept;

/// RFC 6750 section 2.1 b64token ("token68"): 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" /
/// "+" / "/" ) *"=". What a Bearer credential may be.
bool is_token68(std::string_view value) noexcept;

}  // namespace a0::http
