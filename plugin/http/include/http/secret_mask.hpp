// Masking of secrets in text that came from a server. A server that reflects the request
// (its Authorization header, its form body) into an error message would otherwise make us
// print the bearer token or the client secret: every form they travel in is masked.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace a0::http {

/// The forms a secret can be echoed in: as is, percent-encoded (upper- and lower-case
/// hex), with "/" JSON-escaped as "\/", and base64. Secrets shorter than
/// min_masked_secret are left out (masking "abc" would garble every message, and
/// reveal little).
inline constexpr std::size_t min_masked_secret = 6;
void add_secret_forms(std::vector<std::string>& forms, std::string_view secret);

/// base64 (RFC 4648, with padding) of `raw`: HTTP Basic's "id:secret" form.
std::string base64(std::string_view raw);

/// Replaces every occurrence of each form by "***". Text cut short with a trailing "..."
/// (a clipped server message) also loses a tail that begins a form, so that a clipped
/// secret does not show its first characters.
std::string mask_secrets(std::string text, const std::vector<std::string>& forms);

}  // namespace a0::http
