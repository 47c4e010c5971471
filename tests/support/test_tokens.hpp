// ID tokens for the tests of plugin/jwt and of auth0's id_token_verifier: two signing keys
// (tests/support/jwt_signer, independent of the verifier under test), the claims of a
// good token, and minting.
#pragma once

#include "jwt_signer.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace a0::test::tokens {

inline constexpr const char* k_iss = "https://tenant.example/";

// One key per process is enough and RSA key generation is slow-ish.
inline const jwt_signer& keys() {
  static const jwt_signer k;
  return k;
}
inline const jwt_signer& other_keys() {
  static const jwt_signer k;
  return k;
}

inline long long now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

inline boost::json::object claims(long long exp_in = 3600) {
  return boost::json::object{
      {"iss", k_iss}, {"sub", "auth0|abc"}, {"aud", "client-1"}, {"iat", now_s()}, {"exp", now_s() + exp_in}};
}

inline std::string mint(const boost::json::object& c, const std::string& alg = "RS256",
                        std::optional<std::string> kid = {}, const jwt_signer& k = keys()) {
  jwt_signer::header_options h;
  h.alg = alg;
  h.kid = std::move(kid);
  return k.mint(c, h);
}

}  // namespace a0::test::tokens
