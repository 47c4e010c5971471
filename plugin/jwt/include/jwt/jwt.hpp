// RS256 JWT verification against a JSON Web Key Set (RFC 7515/7517/7519), for the
// secondary's ID token of a link. Pure: no I/O, the caller fetches the JWKS and passes
// the clock. Only RS256 is accepted ("none" and HS* are refused before anything else).
//
// Every error message describes the problem without quoting the token.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace a0::jwt {

/// A refused token (or JWKS). `which()` lets the caller tell an unknown key id (worth one
/// JWKS refresh) from everything else.
class error : public std::invalid_argument {
 public:
  enum class kind { malformed, algorithm, unknown_key, signature, claims };
  error(kind k, const std::string& message) : std::invalid_argument(message), kind_(k) {}
  kind which() const noexcept { return kind_; }

 private:
  kind kind_;
};

/// Strict base64url (RFC 4648 §5) without padding, as JWS and JWK use it.
std::optional<std::string> base64url_decode(std::string_view in);

/// The RS256 signing keys of a JWKS, by `kid`. Cheap to copy (keys are shared, immutable).
class key_set {
 public:
  /// Keeps the keys with kty "RSA", a kid, `use` absent or "sig", `alg` absent or "RS256"
  /// and a modulus of 2048..8192 bits; skips other keys, and broken ones (n/e that do
  /// not decode). Throws error{malformed} when the document is not a JWKS
  /// ({"keys":[...]}), or when every RSA signing key in it is broken (the first reason).
  static key_set from_json(const boost::json::value& jwks);

  struct public_key;  ///< an OpenSSL EVP_PKEY (defined in jwt.cpp)

  /// The key with this kid, or null.
  const public_key* find(std::string_view kid) const;
  bool contains(std::string_view kid) const { return find(kid) != nullptr; }
  std::size_t size() const noexcept { return keys_.size(); }

 private:
  std::map<std::string, std::shared_ptr<const public_key>, std::less<>> keys_;
};

/// A token split and decoded but not yet trusted.
struct decoded {
  std::string kid;
  boost::json::object claims;
  std::string signing_input;  ///< "header.payload" exactly as sent
  std::string signature;      ///< raw signature bytes
};

/// Splits and decodes `token`; refuses anything but a compact JWS with alg RS256 and a
/// kid (error{malformed} or error{algorithm}). Checks nothing that needs a key or a clock.
decoded decode(std::string_view token);

/// The payload of a compact JWS, neither verified nor checked: std::nullopt when `token`
/// is not one (an opaque access token). Only for reading a claim of a token the caller
/// holds as a credential of its own (the `azp` of the configured Management token).
std::optional<boost::json::object> unverified_payload(std::string_view token);

struct expectations {
  std::string issuer;                   ///< exact `iss`, e.g. https://example.eu.auth0.com/
  std::optional<std::string> audience;  ///< `aud` must be (or contain) it when set
  std::chrono::system_clock::time_point now;
  std::chrono::seconds leeway{30};  ///< clock skew allowed on exp, nbf and iat
};

/// Verifies the signature with keys[kid] (error{unknown_key} when the set lacks it,
/// error{signature}), then iss, aud, exp (required), nbf and iat (when present) and a
/// non-empty string sub (error{claims}). Returns the sub.
std::string verify(const decoded& token, const key_set& keys, const expectations& expect);

}  // namespace a0::jwt
