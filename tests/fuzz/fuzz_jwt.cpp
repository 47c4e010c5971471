// libFuzzer target: JWT and JWKS parsing and RS256 verification (plugin/jwt).
//
// Input: one JSON object
//   {"jwks": JWKS, "token": "h.p.s", "iss": "https://...", "aud": "...", "now": SECONDS}
// (everything optional; defaults below). The token goes through base64url_decode of each
// segment, unverified_payload, decode and, with the key set built from "jwks"
// (key_set::from_json), verify. Besides "no crash", it checks what the functions promise:
// - base64url_decode is strict: what it accepts re-encodes to the same text;
// - only a0::jwt::error leaves decode, from_json and verify;
// - a token verify accepts has alg RS256 and a kid of the set, and claims that pass
//   (iss exact, aud when expected, exp after now - leeway, nbf/iat not after now +
//   leeway, a non-empty string sub, which verify returns).
#include "jwt/jwt.hpp"

#include <boost/json/parse.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

namespace json = boost::json;
namespace jwt = a0::jwt;

namespace {

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz_jwt: %s\n", what.c_str());
  std::abort();
}

std::string base64url_encode(std::string_view raw) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char ch : raw) {
    acc = (acc << 8) | static_cast<unsigned char>(ch);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(alphabet[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(alphabet[(acc << (6 - bits)) & 63]);
  return out;
}

std::string_view string_or(const json::object& o, std::string_view key, std::string_view fallback) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string_view(v->get_string()) : fallback;
}

/// A NumericDate claim in seconds, when it is a number.
std::optional<double> seconds_of(const json::object& claims, std::string_view key) {
  const json::value* v = claims.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  if (v->is_double()) return v->get_double();
  return std::nullopt;
}

void check_base64url(std::string_view segment) {
  const auto raw = jwt::base64url_decode(segment);
  if (raw && base64url_encode(*raw) != segment) {
    fail("base64url_decode accepted \"" + std::string(segment) +
         "\", which is not the canonical encoding of what it decoded");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  boost::system::error_code ec;
  const json::value doc = json::parse(std::string_view(reinterpret_cast<const char*>(data), size), ec);
  if (ec || !doc.is_object()) return -1;
  const json::object& o = doc.get_object();
  const std::string token(string_or(o, "token", ""));

  // Each segment on its own through the strict decoder.
  for (std::size_t from = 0;;) {
    const std::size_t dot = token.find('.', from);
    check_base64url(std::string_view(token).substr(from, dot == std::string::npos ? std::string::npos : dot - from));
    if (dot == std::string::npos) break;
    from = dot + 1;
  }
  (void)jwt::unverified_payload(token);

  std::optional<jwt::key_set> keys;
  if (const json::value* j = o.if_contains("jwks")) {
    try {
      keys = jwt::key_set::from_json(*j);
    } catch (const jwt::error&) {
    } catch (const std::exception& e) {
      fail(std::string("key_set::from_json threw something else than jwt::error: ") + e.what());
    }
  }

  std::optional<jwt::decoded> d;
  try {
    d = jwt::decode(token);
  } catch (const jwt::error&) {
    return 0;
  } catch (const std::exception& e) {
    fail(std::string("decode threw something else than jwt::error: ") + e.what());
  }
  if (!keys) return 0;

  jwt::expectations expect;
  expect.issuer = string_or(o, "iss", "https://fuzz.example/");
  if (const json::value* a = o.if_contains("aud"); a != nullptr && a->is_string())
    expect.audience = std::string(a->get_string());
  std::int64_t now = 1765000000;  // 2025-12-06
  if (const json::value* n = o.if_contains("now"); n != nullptr && n->is_int64()) now = n->get_int64();
  // The clock the action passes is today's; keep the fuzzer's within +-100 years of it.
  if (now < 0 || now > 5000000000) return 0;
  expect.now = std::chrono::system_clock::time_point(std::chrono::seconds(now));

  std::string sub;
  try {
    sub = jwt::verify(*d, *keys, expect);
  } catch (const jwt::error&) {
    return 0;
  } catch (const std::exception& e) {
    fail(std::string("verify threw something else than jwt::error: ") + e.what());
  }
  // Accepted: the promises hold.
  if (!keys->contains(d->kid)) fail("verify accepted a kid the key set lacks: " + d->kid);
  const json::object& claims = d->claims;
  if (string_or(claims, "iss", "") != expect.issuer || !claims.at("iss").is_string())
    fail("verify accepted another iss");
  if (sub.empty() || string_or(claims, "sub", "") != sub) fail("verify returned a sub that is not the token's");
  const double leeway = static_cast<double>(expect.leeway.count());
  const auto exp = seconds_of(claims, "exp");
  if (!exp || !(*exp > static_cast<double>(now) - leeway)) fail("verify accepted an expired token, or one without exp");
  for (const char* k : {"nbf", "iat"}) {
    if (claims.contains(k)) {
      const auto t = seconds_of(claims, k);
      if (!t || *t > static_cast<double>(now) + leeway)
        fail(std::string("verify accepted a token whose ") + k + " is in the future");
    }
  }
  if (expect.audience) {
    const json::value* aud = claims.if_contains("aud");
    bool found = aud != nullptr && aud->is_string() && aud->get_string() == *expect.audience;
    if (aud != nullptr && aud->is_array()) {
      for (const auto& e : aud->get_array()) found = found || (e.is_string() && e.get_string() == *expect.audience);
    }
    if (!found) fail("verify accepted a token for another audience");
  }
  return 0;
}
