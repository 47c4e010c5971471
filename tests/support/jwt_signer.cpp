#include "jwt_signer.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <stdexcept>

namespace a0::test {

namespace json = boost::json;

namespace {

struct pkey_free {
  void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
struct md_ctx_free {
  void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
};
struct bn_free {
  void operator()(BIGNUM* p) const noexcept { BN_free(p); }
};

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test jwt signer: ") + what);
}

std::string big_endian(const EVP_PKEY* k, const char* param) {
  BIGNUM* raw = nullptr;
  check(EVP_PKEY_get_bn_param(k, param, &raw) == 1, "get RSA parameter");
  std::unique_ptr<BIGNUM, bn_free> bn(raw);
  std::string out(static_cast<std::size_t>(BN_num_bytes(bn.get())), '\0');
  BN_bn2bin(bn.get(), reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

}  // namespace

std::string base64url(std::string_view data) {
  // OpenSSL's base64 (with padding, +/), then the URL alphabet without padding.
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes(data), static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (auto& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

struct jwt_signer::key {
  std::unique_ptr<EVP_PKEY, pkey_free> pkey;
  std::string public_der;  // the HMAC key of the alg-confusion forgery
};

jwt_signer::jwt_signer(std::string_view kid_prefix) : key_(std::make_unique<key>()) {
  key_->pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)));
  check(key_->pkey != nullptr, "RSA key generation");
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key_->pkey.get(), &der);
  check(len > 0, "public key DER");
  key_->public_der.assign(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  unsigned char rnd[8];
  check(RAND_bytes(rnd, sizeof rnd) == 1, "kid");
  kid_ = std::string(kid_prefix) + "-" + base64url(std::string_view(reinterpret_cast<const char*>(rnd), sizeof rnd));
}

jwt_signer::~jwt_signer() = default;

json::object jwt_signer::jwks() const {
  json::object k{{"kid", kid_},
                 {"kty", "RSA"},
                 {"alg", "RS256"},
                 {"use", "sig"},
                 {"n", base64url(big_endian(key_->pkey.get(), OSSL_PKEY_PARAM_RSA_N))},
                 {"e", base64url(big_endian(key_->pkey.get(), OSSL_PKEY_PARAM_RSA_E))}};
  return json::object{{"keys", json::array{std::move(k)}}};
}

std::string jwt_signer::mint(const json::object& claims, const header_options& h) const {
  const json::object header{{"alg", h.alg}, {"typ", "JWT"}, {"kid", h.kid.value_or(kid_)}};
  const std::string input = base64url(json::serialize(header)) + "." + base64url(json::serialize(claims));
  std::string sig;
  if (h.alg == "RS256") {
    std::unique_ptr<EVP_MD_CTX, md_ctx_free> md(EVP_MD_CTX_new());
    std::size_t len = 0;
    check(md && EVP_DigestSignInit_ex(md.get(), nullptr, "SHA256", nullptr, nullptr, key_->pkey.get(), nullptr) == 1 &&
              EVP_DigestSign(md.get(), nullptr, &len, bytes(input), input.size()) == 1,
          "sign init");
    sig.resize(len);
    check(EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, bytes(input), input.size()) == 1,
          "sign");
    sig.resize(len);
  } else if (h.alg == "HS256") {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    HMAC(EVP_sha256(), key_->public_der.data(), static_cast<int>(key_->public_der.size()), bytes(input), input.size(),
         mac, &len);
    sig.assign(reinterpret_cast<const char*>(mac), len);
  } else if (h.alg != "none") {
    throw std::invalid_argument("alg must be RS256, HS256 or none");
  }
  return input + "." + base64url(sig);
}

bool jwt_signer::verify_rs256(std::string_view signing_input, std::string_view signature) const {
  std::unique_ptr<EVP_MD_CTX, md_ctx_free> md(EVP_MD_CTX_new());
  return md && EVP_DigestVerifyInit_ex(md.get(), nullptr, "SHA256", nullptr, nullptr, key_->pkey.get(), nullptr) == 1 &&
         EVP_DigestVerify(md.get(), bytes(signature), signature.size(), bytes(signing_input), signing_input.size()) ==
             1;
}

}  // namespace a0::test
