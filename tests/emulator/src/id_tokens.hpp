// The tenant's ID-token signing key: made at start (RSA 2048, random kid), published as
// GET /.well-known/jwks.json, used by POST /__emulator/id-token to mint users' ID tokens
// for tests, and by the link endpoint to check `link_with` as auth0-api.md §2 says
// (RS256, signature, same issuer, aud = the caller's azp, a valid sub).
#pragma once

#include "http_types.hpp"
#include "jwt_signer.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace emu {

class id_token_keys {
 public:
  id_token_keys() : signer_("emu") {}  ///< generates the key; throws std::runtime_error when OpenSSL fails

  const std::string& kid() const { return signer_.kid(); }
  /// {"keys":[{"kid","kty":"RSA","alg":"RS256","use":"sig","n","e"}]}
  boost::json::object jwks() const { return signer_.jwks(); }

  /// alg: RS256 (this key), HS256 (HMAC keyed with the public key's DER: the alg-confusion
  /// forgery), none; kid: default this key's.
  using header_options = a0::test::jwt_signer::header_options;
  /// A compact JWS of `claims` with header {alg, typ:"JWT", kid}.
  std::string mint(const boost::json::object& claims, const header_options& h) const { return signer_.mint(claims, h); }

  /// The link endpoint's check of a link_with token. `issuers`: the issuer names this
  /// tenant answers to; `azp`: the calling token's azp. Returns the 400 to send, or
  /// nullopt with `sub` set.
  std::optional<response> check_link_with(std::string_view token, const std::vector<std::string>& issuers,
                                          std::string_view azp, std::string& sub) const;

 private:
  a0::test::jwt_signer signer_;  // tests/support: the signing side the JWT tests use too
};

/// A claim of the request's bearer token (already verified by the tenant), or "".
std::string bearer_claim(const request& req, std::string_view name);

}  // namespace emu
