// The tenant's ID-token side: its JWKS, the issuers it answers to, and minting users'
// ID tokens for tests (POST /__emulator/id-token).
#include "tenant.hpp"

#include "util.hpp"

#include <chrono>

namespace emu {
namespace json = boost::json;

response tenant::jwks() const { return json_response(200, id_keys_.jwks()); }

std::vector<std::string> tenant::issuers(const request& req) const {
  // Like the audiences of /oauth/token: the seed's domain, and the names clients reach
  // this process by (they put 127.0.0.1:PORT in their domain setting).
  std::vector<std::string> out{"https://" + domain_ + "/"};
  // Users who sign in through a custom domain get ID tokens issued by it.
  if (!quirks_.custom_domain.empty()) out.push_back("https://" + quirks_.custom_domain + "/");
  if (!req.host.empty()) {
    out.push_back("https://" + req.host + "/");
    if (const auto c = req.host.rfind(':'); c != std::string::npos) {
      const auto port = req.host.substr(c + 1);
      out.push_back("https://127.0.0.1:" + port + "/");
      out.push_back("https://localhost:" + port + "/");
    }
  }
  return out;
}

response tenant::mint_id_token(const json::value& body, const request& req) {
  if (!body.is_object()) return mgmt_error(400, "control API: expected {\"user_id\": \"...\"}");
  const auto& b = body.get_object();
  const auto* uid = b.if_contains("user_id");
  if (!uid || !uid->is_string()) return mgmt_error(400, "control API: user_id is required");
  const auto user = users_.find(std::string(uid->get_string()));
  if (user == users_.end()) return mgmt_error(404, "control API: no such user " + std::string(uid->get_string()));

  std::string client;
  if (const auto* cl = seed_.if_contains("clients");
      cl && cl->is_array() && !cl->get_array().empty() && cl->get_array()[0].is_object())
    if (const auto* id = cl->get_array()[0].get_object().if_contains("client_id"); id && id->is_string())
      client = id->get_string();
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(clock::now().time_since_epoch()).count();
  const auto exp_in =
      b.contains("exp_in_s") && b.at("exp_in_s").is_number() ? b.at("exp_in_s").to_number<long long>() : 3600;
  json::object claims{{"iss", "https://" + (req.host.empty() ? domain_ : req.host) + "/"},
                      {"sub", user->first},
                      {"aud", client},
                      {"iat", now},
                      {"exp", now + exp_in}};
  for (const char* k : {"email", "email_verified", "name"})
    if (const auto* v = user->second.if_contains(k)) claims[k] = *v;
  // Overrides for tests: a value replaces the claim, null leaves it out.
  for (const char* k : {"iss", "sub", "aud", "iat", "exp", "nbf"}) {
    const auto* v = b.if_contains(k);
    if (!v) continue;
    if (v->is_null())
      claims.erase(k);
    else
      claims[k] = *v;
  }
  id_token_keys::header_options h;
  if (const auto* a = b.if_contains("alg"); a && a->is_string()) h.alg = a->get_string();
  if (const auto* k = b.if_contains("kid"); k && k->is_string()) h.kid = std::string(k->get_string());
  const auto token = id_keys_.mint(claims, h);  // std::invalid_argument for a bad alg -> 400
  return json_response(200, json::object{{"id_token", token}, {"kid", id_keys_.kid()}});
}

}  // namespace emu
