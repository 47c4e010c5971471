#include "jwt/jwt.hpp"

#include <boost/json/parse.hpp>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <cmath>

namespace a0::jwt {

namespace json = boost::json;

namespace {

template <auto Free>
struct deleter {
  template <class T>
  void operator()(T* p) const noexcept {
    Free(p);
  }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, deleter<EVP_PKEY_free>>;
using pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, deleter<EVP_PKEY_CTX_free>>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, deleter<EVP_MD_CTX_free>>;
using bn_ptr = std::unique_ptr<BIGNUM, deleter<BN_free>>;
using param_bld_ptr = std::unique_ptr<OSSL_PARAM_BLD, deleter<OSSL_PARAM_BLD_free>>;
using params_ptr = std::unique_ptr<OSSL_PARAM, deleter<OSSL_PARAM_free>>;

constexpr std::size_t k_max_token = 64 * 1024;  // an ID token is a few KiB
constexpr int k_min_bits = 2048, k_max_bits = 8192;

[[noreturn]] void fail(error::kind k, const std::string& why) { throw error(k, why); }

int b64url_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

json::object parse_object(std::string_view segment, const char* what) {
  const auto raw = base64url_decode(segment);
  if (!raw) fail(error::kind::malformed, std::string("is not a JWT (its ") + what + " is not base64url)");
  boost::system::error_code ec;
  auto v = json::parse(*raw, ec);
  if (ec || !v.is_object())
    fail(error::kind::malformed, std::string("is not a JWT (its ") + what + " is not a JSON object)");
  return std::move(v.get_object());
}

const json::string* string_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? &v->get_string() : nullptr;
}

// A key id as it may be echoed in a message: at most 64 characters, anything but
// [A-Za-z0-9._-] shown as '?' (a token's kid is the sender's text: no control
// characters, quotes or markup from it reach a log).
std::string shown_kid(std::string_view kid) {
  std::string out(kid.substr(0, 64));
  for (char& c : out)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
          c == '.'))
      c = '?';
  if (kid.size() > 64) out += "...";
  return out;
}

// A short, printable algorithm name is worth echoing; anything else is not.
bool printable_alg(std::string_view a) {
  if (a.empty() || a.size() > 16) return false;
  for (char c : a)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return false;
  return true;
}

pkey_ptr rsa_public_key(std::string_view n_b64, std::string_view e_b64, std::string_view kid) {
  const auto n = base64url_decode(n_b64), e = base64url_decode(e_b64);
  const std::string which = "JWKS key '" + shown_kid(kid) + "'";
  if (!n || !e || n->empty() || e->empty() || e->size() > 8)
    fail(error::kind::malformed, which + ": n or e is not base64url");
  bn_ptr bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()), static_cast<int>(n->size()), nullptr));
  bn_ptr bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()), static_cast<int>(e->size()), nullptr));
  if (!bn_n || !bn_e) throw std::bad_alloc();
  const int bits = BN_num_bits(bn_n.get());
  if (bits < k_min_bits || bits > k_max_bits)
    fail(error::kind::malformed,
         which + ": an RSA modulus of " + std::to_string(bits) + " bits is not accepted (2048..8192)");
  if (!BN_is_odd(bn_e.get()) || BN_num_bits(bn_e.get()) < 2)
    fail(error::kind::malformed, which + ": the RSA exponent is not valid");
  param_bld_ptr bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1)
    throw std::bad_alloc();
  params_ptr params(OSSL_PARAM_BLD_to_param(bld.get()));
  pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
    fail(error::kind::malformed, which + ": OpenSSL refused the RSA key");
  return pkey_ptr(raw);
}

double number_claim(const json::object& claims, std::string_view name, bool required) {
  const auto* v = claims.if_contains(name);
  if (!v) {
    if (required) fail(error::kind::claims, "has no '" + std::string(name) + "' claim");
    return NAN;
  }
  if (!v->is_number()) fail(error::kind::claims, "has a non-numeric '" + std::string(name) + "' claim");
  return v->to_number<double>();
}

bool audience_matches(const json::value* aud, std::string_view expected) {
  if (!aud) return false;
  if (aud->is_string()) return aud->get_string() == expected;
  if (!aud->is_array()) return false;
  for (const auto& a : aud->get_array())
    if (a.is_string() && a.get_string() == expected) return true;
  return false;
}

}  // namespace

struct key_set::public_key {
  pkey_ptr pkey;
};

std::optional<std::string> base64url_decode(std::string_view in) {
  if (in.size() % 4 == 1) return std::nullopt;  // no whole byte can end there
  std::string out;
  out.reserve(in.size() * 3 / 4);
  unsigned buf = 0;
  int bits = 0;
  for (char c : in) {
    const int v = b64url_value(c);
    if (v < 0) return std::nullopt;
    buf = (buf << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buf >> bits) & 0xFFu));
    }
  }
  // Canonical only (RFC 4648 §3.5): the bits after the last whole byte are zero, so that
  // one byte string has one encoding.
  if (bits > 0 && (buf & ((1u << bits) - 1u)) != 0) return std::nullopt;
  return out;
}

key_set key_set::from_json(const json::value& jwks) {
  const auto* keys = jwks.is_object() ? jwks.get_object().if_contains("keys") : nullptr;
  if (!keys || !keys->is_array()) fail(error::kind::malformed, "the JWKS has no 'keys' array");
  key_set set;
  std::optional<std::string> first_broken;
  for (const auto& k : keys->get_array()) {
    if (!k.is_object()) continue;
    const auto& o = k.get_object();
    const auto* kty = string_at(o, "kty");
    const auto* kid = string_at(o, "kid");
    const auto* use = string_at(o, "use");
    const auto* alg = string_at(o, "alg");
    if (!kty || *kty != "RSA" || !kid || kid->empty()) continue;
    if ((o.contains("use") && (!use || *use != "sig")) || (o.contains("alg") && (!alg || *alg != "RS256"))) continue;
    // A broken key is skipped, so that one bad entry does not stop the tenant's good
    // keys from verifying; it is reported only when no key is left.
    try {
      const auto* n = string_at(o, "n");
      const auto* e = string_at(o, "e");
      if (!n || !e) fail(error::kind::malformed, "JWKS key '" + shown_kid(*kid) + "' has no n or e");
      auto key = std::make_shared<public_key>();
      key->pkey = rsa_public_key(*n, *e, *kid);
      set.keys_.insert_or_assign(std::string(*kid), std::move(key));
    } catch (const error& broken) {
      if (!first_broken) first_broken = broken.what();
    }
  }
  if (set.keys_.empty() && first_broken) fail(error::kind::malformed, *first_broken);
  return set;
}

const key_set::public_key* key_set::find(std::string_view kid) const {
  const auto it = keys_.find(kid);
  return it == keys_.end() ? nullptr : it->second.get();
}

decoded decode(std::string_view token) {
  if (token.size() > k_max_token) fail(error::kind::malformed, "is too long for an ID token");
  const auto d1 = token.find('.');
  const auto d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos)
    fail(error::kind::malformed, "is not a JWT (expected header.payload.signature)");
  const auto header = parse_object(token.substr(0, d1), "header");
  const auto* alg = string_at(header, "alg");
  if (!alg) fail(error::kind::algorithm, "has no 'alg' header (RS256 is required)");
  if (*alg != "RS256")
    fail(error::kind::algorithm, printable_alg(*alg) ? "alg '" + std::string(*alg) + "' is not accepted (RS256 only)"
                                                     : std::string("alg is not RS256 (RS256 only)"));
  // RFC 7515 §4.1.11: extensions we do not understand must make the token invalid.
  if (header.contains("crit")) fail(error::kind::malformed, "has a 'crit' header this verifier does not support");
  // An ID token is typ JWT or untyped; any other type (an access token, "at+jwt", RFC
  // 9068) must not pass for one (RFC 8725 §3.11).
  if (const auto* typ = header.if_contains("typ")) {
    const auto* t = typ->if_string();
    const auto jwt = [](const json::string& v) {
      return v.size() == 3 && (v[0] | 0x20) == 'j' && (v[1] | 0x20) == 'w' && (v[2] | 0x20) == 't';
    };
    if (!t || !jwt(*t)) fail(error::kind::malformed, "is not an ID token (its typ header is not JWT)");
  }
  const auto* kid = string_at(header, "kid");
  if (!kid || kid->empty()) fail(error::kind::malformed, "has no 'kid' header");
  decoded d;
  d.kid = std::string(*kid);
  d.claims = parse_object(token.substr(d1 + 1, d2 - d1 - 1), "payload");
  d.signing_input = std::string(token.substr(0, d2));
  auto sig = base64url_decode(token.substr(d2 + 1));
  if (!sig || sig->empty()) fail(error::kind::malformed, "is not a JWT (its signature is not base64url)");
  d.signature = std::move(*sig);
  return d;
}

std::optional<json::object> unverified_payload(std::string_view token) {
  if (token.size() > k_max_token) return std::nullopt;
  const auto d1 = token.find('.');
  const auto d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) return std::nullopt;
  const auto raw = base64url_decode(token.substr(d1 + 1, d2 - d1 - 1));
  if (!raw) return std::nullopt;
  boost::system::error_code ec;
  auto v = json::parse(*raw, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

std::string verify(const decoded& token, const key_set& keys, const expectations& expect) {
  const auto* key = keys.find(token.kid);
  if (!key)
    fail(error::kind::unknown_key,
         "is signed with a key ('" + shown_kid(token.kid) + "') the tenant's JWKS does not hold");
  EVP_PKEY* pkey = key->pkey.get();
  md_ctx_ptr md(EVP_MD_CTX_new());
  if (!md) throw std::bad_alloc();
  // RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3), OpenSSL's default RSA padding.
  const bool ok =
      token.signature.size() == static_cast<std::size_t>(EVP_PKEY_get_size(pkey)) &&
      EVP_DigestVerifyInit_ex(md.get(), nullptr, "SHA256", nullptr, nullptr, pkey, nullptr) == 1 &&
      EVP_DigestVerify(md.get(), reinterpret_cast<const unsigned char*>(token.signature.data()), token.signature.size(),
                       reinterpret_cast<const unsigned char*>(token.signing_input.data()),
                       token.signing_input.size()) == 1;
  if (!ok) fail(error::kind::signature, "has a signature that does not verify against the tenant's JWKS");

  const auto& c = token.claims;
  const auto* iss = string_at(c, "iss");
  if (!iss || *iss != expect.issuer)
    fail(error::kind::claims, "was not issued by this tenant (iss must be '" + expect.issuer + "')");
  if (expect.audience && !audience_matches(c.if_contains("aud"), *expect.audience))
    fail(error::kind::claims, "is not for this application (aud must be the client id '" + *expect.audience + "')");
  const double now = std::chrono::duration<double>(expect.now.time_since_epoch()).count();
  const double leeway = static_cast<double>(expect.leeway.count());
  if (now >= number_claim(c, "exp", true) + leeway) fail(error::kind::claims, "has expired (exp is in the past)");
  if (const double nbf = number_claim(c, "nbf", false); !std::isnan(nbf) && now + leeway < nbf)
    fail(error::kind::claims, "is not valid yet (nbf is in the future)");
  if (const double iat = number_claim(c, "iat", false); !std::isnan(iat) && iat > now + leeway)
    fail(error::kind::claims, "was issued in the future (iat)");
  const auto* sub = string_at(c, "sub");
  if (!sub || sub->empty()) fail(error::kind::claims, "has no 'sub' claim");
  return std::string(*sub);
}

}  // namespace a0::jwt
