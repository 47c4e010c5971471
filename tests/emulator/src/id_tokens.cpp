#include "id_tokens.hpp"

#include "util.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <chrono>

namespace emu {
namespace json = boost::json;

namespace {

response link_with_error(std::string_view message) { return mgmt_error(400, message, "invalid_body"); }

}  // namespace

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
  if (kid && (!kid->is_string() || kid->get_string() != signer_.kid())) return invalid;
  if (!signer_.verify_rs256(tok.substr(0, d2), sig)) return invalid;
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
