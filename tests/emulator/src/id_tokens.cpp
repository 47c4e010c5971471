#include "id_tokens.hpp"

#include "util.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace emu {
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
  if (!ok) throw std::runtime_error(std::string("emulator id-token key: ") + what);
}

std::string big_endian(const EVP_PKEY* k, const char* param) {
  BIGNUM* raw = nullptr;
  check(EVP_PKEY_get_bn_param(k, param, &raw) == 1, "get RSA parameter");
  std::unique_ptr<BIGNUM, bn_free> bn(raw);
  std::string out(static_cast<std::size_t>(BN_num_bytes(bn.get())), '\0');
  BN_bn2bin(bn.get(), reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

response link_with_error(std::string_view message) { return mgmt_error(400, message, "invalid_body"); }

}  // namespace

struct id_token_keys::key {
  std::unique_ptr<EVP_PKEY, pkey_free> pkey;
  std::string public_der;  // the HMAC key of the alg-confusion forgery
};

id_token_keys::id_token_keys() : key_(std::make_unique<key>()) {
  key_->pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)));
  check(key_->pkey != nullptr, "RSA key generation");
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key_->pkey.get(), &der);
  check(len > 0, "public key DER");
  key_->public_der.assign(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  unsigned char rnd[8];
  check(RAND_bytes(rnd, sizeof rnd) == 1, "kid");
  kid_ = "emu-" + base64url_encode(std::string_view(reinterpret_cast<const char*>(rnd), sizeof rnd));
}

id_token_keys::~id_token_keys() = default;

json::object id_token_keys::jwks() const {
  json::object k{{"kid", kid_},
                 {"kty", "RSA"},
                 {"alg", "RS256"},
                 {"use", "sig"},
                 {"n", base64url_encode(big_endian(key_->pkey.get(), OSSL_PKEY_PARAM_RSA_N))},
                 {"e", base64url_encode(big_endian(key_->pkey.get(), OSSL_PKEY_PARAM_RSA_E))}};
  return json::object{{"keys", json::array{std::move(k)}}};
}

std::string id_token_keys::mint(const json::object& claims, const header_options& h) const {
  const json::object header{{"alg", h.alg}, {"typ", "JWT"}, {"kid", h.kid.value_or(kid_)}};
  const std::string input = base64url_encode(json::serialize(header)) + "." + base64url_encode(json::serialize(claims));
  std::string sig;
  if (h.alg == "RS256") {
    std::unique_ptr<EVP_MD_CTX, md_ctx_free> md(EVP_MD_CTX_new());
    std::size_t len = 0;
    check(md && EVP_DigestSignInit_ex(md.get(), nullptr, "SHA256", nullptr, nullptr, key_->pkey.get(), nullptr) == 1 &&
              EVP_DigestSign(md.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                             input.size()) == 1,
          "sign init");
    sig.resize(len);
    check(EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                         reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1,
          "sign");
    sig.resize(len);
  } else if (h.alg == "HS256") {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    HMAC(EVP_sha256(), key_->public_der.data(), static_cast<int>(key_->public_der.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
    sig.assign(reinterpret_cast<const char*>(mac), len);
  } else if (h.alg != "none") {
    throw std::invalid_argument("alg must be RS256, HS256 or none");
  }
  return input + "." + base64url_encode(sig);
}

std::optional<response> id_token_keys::check_link_with(std::string_view tok, const std::vector<std::string>& issuers,
                                                       std::string_view azp, std::string& sub) const {
  const auto invalid = link_with_error("Invalid token (link_with).");
  const auto d1 = tok.find('.');
  const auto d2 = d1 == std::string_view::npos ? d1 : tok.find('.', d1 + 1);
  std::string header_text, payload, sig;
  if (d2 == std::string_view::npos || !base64url_decode(tok.substr(0, d1), header_text) ||
      !base64url_decode(tok.substr(d1 + 1, d2 - d1 - 1), payload) || !base64url_decode(tok.substr(d2 + 1), sig))
    return invalid;
  boost::system::error_code ec;
  const auto header = json::parse(header_text, ec);
  if (ec || !header.is_object()) return invalid;
  const auto claims_v = json::parse(payload, ec);
  if (ec || !claims_v.is_object()) return invalid;
  const auto* alg = header.get_object().if_contains("alg");
  if (!alg || !alg->is_string() || alg->get_string() != "RS256")
    return link_with_error("JWT (link_with) alg must be RS256.");
  const auto* kid = header.get_object().if_contains("kid");
  if (kid && (!kid->is_string() || kid->get_string() != kid_)) return invalid;
  std::unique_ptr<EVP_MD_CTX, md_ctx_free> md(EVP_MD_CTX_new());
  const std::string_view input = tok.substr(0, d2);
  if (!md || EVP_DigestVerifyInit_ex(md.get(), nullptr, "SHA256", nullptr, nullptr, key_->pkey.get(), nullptr) != 1 ||
      EVP_DigestVerify(md.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
    return invalid;
  const auto& claims = claims_v.get_object();
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const auto* exp = claims.if_contains("exp");
  if (!exp || !exp->is_number() || exp->to_number<double>() <= static_cast<double>(now)) return invalid;
  const auto* iss = claims.if_contains("iss");
  if (!iss || !iss->is_string() ||
      std::find(issuers.begin(), issuers.end(), std::string_view(iss->get_string())) == issuers.end())
    return link_with_error("JWT (link_with) issuer must match the tenant's.");
  const auto* aud = claims.if_contains("aud");
  if (!aud || !aud->is_string() || aud->get_string().empty())
    return link_with_error("JWT (link_with) has an invalid aud.");
  if (aud->get_string() != azp) return link_with_error("JWT (link_with) aud must match the caller's azp.");
  const auto* s = claims.if_contains("sub");
  const std::string_view sv = s && s->is_string() ? std::string_view(s->get_string()) : std::string_view();
  const auto bar = sv.find('|');
  if (bar == std::string_view::npos || bar == 0 || bar + 1 == sv.size())
    return link_with_error("JWT (link_with) must contain a valid sub.");
  sub = std::string(sv);
  return std::nullopt;
}

std::string bearer_claim(const request& req, std::string_view name) {
  std::string_view a = req.authorization;
  if (a.size() < 7) return {};
  const auto tok = a.substr(7);
  const auto d1 = tok.find('.');
  const auto d2 = d1 == std::string_view::npos ? d1 : tok.find('.', d1 + 1);
  std::string payload;
  if (d2 == std::string_view::npos || !base64url_decode(tok.substr(d1 + 1, d2 - d1 - 1), payload)) return {};
  boost::system::error_code ec;
  const auto v = json::parse(payload, ec);
  if (ec || !v.is_object()) return {};
  const auto* c = v.get_object().if_contains(name);
  return c && c->is_string() ? std::string(c->get_string()) : std::string{};
}

}  // namespace emu
