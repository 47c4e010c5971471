// The tenant's ID-token signing key: made at start (RSA 2048, random kid), published as
// GET /.well-known/jwks.json, used by POST /__emulator/id-token to mint users' ID tokens
// for tests, and by the link endpoint to check `link_with` as auth0-api.md §2 says
// (RS256, signature, same issuer, aud = the caller's azp, a valid sub).
#pragma once

#include "http_types.hpp"

#include <boost/json/object.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace emu {

class id_token_keys {
 public:
  id_token_keys();  ///< generates the key; throws std::runtime_error when OpenSSL fails
  ~id_token_keys();
  id_token_keys(const id_token_keys&) = delete;
  id_token_keys& operator=(const id_token_keys&) = delete;

  const std::string& kid() const { return kid_; }
  /// {"keys":[{"kid","kty":"RSA","alg":"RS256","use":"sig","n","e"}]}
  boost::json::object jwks() const;

  struct header_options {
    std::string alg =
        "RS256";  ///< RS256 (this key), HS256 (HMAC keyed with the public key's DER: the alg-confusion forgery), none
    std::optional<std::string> kid;  ///< default: this key's kid
  };
  /// A compact JWS of `claims` with header {alg, typ:"JWT", kid}.
  std::string mint(const boost::json::object& claims, const header_options& h) const;

  /// The link endpoint's check of a link_with token. `issuers`: the issuer names this
  /// tenant answers to; `azp`: the calling token's azp. Returns the 400 to send, or
  /// nullopt with `sub` set.
  std::optional<response> check_link_with(std::string_view token, const std::vector<std::string>& issuers,
                                          std::string_view azp, std::string& sub) const;

 private:
  struct key;
  std::unique_ptr<key> key_;
  std::string kid_;
};

/// A claim of the request's bearer token (already verified by the tenant), or "".
std::string bearer_claim(const request& req, std::string_view name);

}  // namespace emu
