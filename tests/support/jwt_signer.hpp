// The signing side of RS256 ID tokens for tests: an RSA key made at start, its JWKS, and
// compact JWS tokens over given claims (RS256 with this key, HS256 keyed with the public
// key's DER for the algorithm-confusion forgery, or alg none). Written on OpenSSL 3's
// EVP API independently of plugin/jwt, the verifier under test. The JWT tests use it
// directly; the auth0-emulator signs its users' ID tokens with it.
#pragma once

#include <boost/json/object.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace a0::test {

/// base64url without padding (RFC 7515 §2).
std::string base64url(std::string_view data);

class jwt_signer {
 public:
  /// Generates an RSA 2048 key and a random kid "<kid_prefix>-...". Throws
  /// std::runtime_error when OpenSSL fails.
  explicit jwt_signer(std::string_view kid_prefix = "test");
  ~jwt_signer();
  jwt_signer(const jwt_signer&) = delete;
  jwt_signer& operator=(const jwt_signer&) = delete;

  const std::string& kid() const { return kid_; }
  /// {"keys":[{"kid","kty":"RSA","alg":"RS256","use":"sig","n","e"}]}
  boost::json::object jwks() const;

  struct header_options {
    std::string alg = "RS256";       ///< RS256 (this key), HS256 (keyed with the public key's DER), none
    std::optional<std::string> kid;  ///< default: this key's kid
  };
  /// A compact JWS of `claims` with header {alg, typ:"JWT", kid}.
  std::string mint(const boost::json::object& claims, const header_options& h) const;

  /// Whether `signature` is this key's RS256 signature of `signing_input`.
  bool verify_rs256(std::string_view signing_input, std::string_view signature) const;

 private:
  struct key;
  std::unique_ptr<key> key_;
  std::string kid_;
};

}  // namespace a0::test
