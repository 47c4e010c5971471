#include "tenant.hpp"

#include "util.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <merge/merge.hpp>

#include "auth0_patch_model.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <regex>
#include <set>
#include <stdexcept>

namespace emu {
namespace json = boost::json;

namespace {

// UserIdentityProviderEnum of the OAS (auth0-api.md §2).
const std::set<std::string, std::less<>> k_providers = {"ad",
                                                        "adfs",
                                                        "amazon",
                                                        "apple",
                                                        "dropbox",
                                                        "bitbucket",
                                                        "auth0-oidc",
                                                        "auth0",
                                                        "baidu",
                                                        "bitly",
                                                        "box",
                                                        "custom",
                                                        "daccount",
                                                        "dwolla",
                                                        "email",
                                                        "evernote-sandbox",
                                                        "evernote",
                                                        "exact",
                                                        "facebook",
                                                        "fitbit",
                                                        "github",
                                                        "google-apps",
                                                        "google-oauth2",
                                                        "instagram",
                                                        "ip",
                                                        "line",
                                                        "linkedin",
                                                        "oauth1",
                                                        "oauth2",
                                                        "office365",
                                                        "oidc",
                                                        "okta",
                                                        "paypal",
                                                        "paypal-sandbox",
                                                        "pingfederate",
                                                        "planningcenter",
                                                        "salesforce-community",
                                                        "salesforce-sandbox",
                                                        "salesforce",
                                                        "samlp",
                                                        "sharepoint",
                                                        "shopify",
                                                        "shop",
                                                        "sms",
                                                        "soundcloud",
                                                        "thirtysevensignals",
                                                        "twitter",
                                                        "untappd",
                                                        "vkontakte",
                                                        "waad",
                                                        "weibo",
                                                        "windowslive",
                                                        "wordpress",
                                                        "yahoo",
                                                        "yandex"};

const std::set<std::string, std::less<>> k_user_fields = {"user_id",
                                                          "email",
                                                          "email_verified",
                                                          "username",
                                                          "phone_number",
                                                          "phone_verified",
                                                          "created_at",
                                                          "updated_at",
                                                          "identities",
                                                          "app_metadata",
                                                          "user_metadata",
                                                          "picture",
                                                          "name",
                                                          "nickname",
                                                          "given_name",
                                                          "family_name",
                                                          "multifactor",
                                                          "multifactor_last_modified",
                                                          "last_ip",
                                                          "last_login",
                                                          "last_password_reset",
                                                          "logins_count",
                                                          "blocked",
                                                          "blocked_for",
                                                          "guardian_authenticators",
                                                          "passkeys"};

const std::set<std::string, std::less<>> k_connection_fields = {"id",
                                                                "name",
                                                                "display_name",
                                                                "options",
                                                                "strategy",
                                                                "realms",
                                                                "is_domain_connection",
                                                                "show_as_button",
                                                                "metadata",
                                                                "enabled_clients",
                                                                "authentication",
                                                                "connected_accounts",
                                                                "provisioning_ticket_url"};

const std::set<std::string, std::less<>> k_app_reserved = {
    "__tenant",       "_id",        "blocked",        "clientID",         "created_at",
    "email_verified", "email",      "globalClientID", "global_client_id", "identities",
    "lastIP",         "lastLogin",  "loginsCount",    "metadata",         "multifactor_last_modified",
    "multifactor",    "updated_at", "user_id"};

// Root attributes copied into profileData of a linked identity (order as recorded).
constexpr std::array k_profile_keys = {"email",    "name",    "given_name",     "family_name",  "username",
                                       "nickname", "picture", "email_verified", "phone_number", "phone_verified"};

const std::vector<std::string> k_all_scopes = {
    "read:users",          "update:users",       "delete:users",       "create:users",
    "read:connections",    "create:connections", "delete:connections", "update:users_app_metadata",
    "read:user_idp_tokens"};

const std::regex k_connection_id_re("^con_[A-Za-z0-9]{16}$");

constexpr std::string_view k_not_own_user = "User to be acted on does not match subject in bearer token.";

const json::object* obj_at(const json::object& o, std::string_view k) {
  auto it = o.find(k);
  return it != o.end() && it->value().is_object() ? &it->value().get_object() : nullptr;
}

std::string str_at(const json::object& o, std::string_view k) {
  auto it = o.find(k);
  return it != o.end() && it->value().is_string() ? std::string(it->value().get_string()) : std::string{};
}

// identities[].user_id may be a JSON number (GitHub, Twitter): compare as text.
std::string id_text(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  return {};
}

bool has_scope(const std::vector<std::string>& have, std::initializer_list<std::string_view> any) {
  for (auto s : any)
    if (std::find(have.begin(), have.end(), s) != have.end()) return true;
  return false;
}

response insufficient_scope(std::initializer_list<std::string_view> any) {
  std::string msg = "Insufficient scope, expected any of: ";
  bool first = true;
  for (auto s : any) {
    if (!first) msg += ",";
    msg += s;
    first = false;
  }
  return mgmt_error(403, msg, "insufficient_scope");
}

response invalid_body(std::string_view detail) {
  return mgmt_error(400, "Payload validation error: " + std::string(detail), "invalid_body");
}

/// A 401 as Auth0 sends it for a token it refuses: the message repeated in attributes.error.
response unauthorized(std::string_view message) {
  return json_response(401, json::object{{"statusCode", 401},
                                         {"error", reason(401)},
                                         {"message", message},
                                         {"attributes", json::object{{"error", message}}}});
}

response query_error(std::string_view detail) {
  return mgmt_error(400, "Query validation error: " + std::string(detail), "invalid_query_string");
}

/// Parses a JSON or form body into an object; nullopt when not an object.
std::optional<json::object> parse_body(const request& req) {
  if (req.content_type.find("application/x-www-form-urlencoded") != std::string::npos) {
    json::object o;
    for (auto& [k, v] : parse_query(req.body)) o[k] = v;
    return o;
  }
  if (req.body.empty()) return json::object{};
  boost::system::error_code ec;
  auto v = json::parse(req.body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

/// Metadata field-name rules: no '.' or '$' in any key (nested included).
bool bad_key(const json::value& v, std::string& which) {
  if (v.is_object()) {
    for (auto& kv : v.get_object()) {
      if (kv.key().find_first_of(".$") != std::string_view::npos) {
        which = kv.key();
        return true;
      }
      if (bad_key(kv.value(), which)) return true;
    }
  } else if (v.is_array()) {
    for (auto& e : v.get_array())
      if (bad_key(e, which)) return true;
  }
  return false;
}

std::optional<response> check_metadata(const json::object& body, std::string_view name) {
  auto it = body.find(name);
  if (it == body.end()) return std::nullopt;
  if (!it->value().is_object())
    return invalid_body("'Expected type object but found type " +
                        std::string(it->value().is_null() ? "null" : "other") + "' on property " + std::string(name) +
                        ".");
  std::string which;
  if (bad_key(it->value(), which))
    return invalid_body("'Invalid field name: \"" + which + "\" (must not contain \".\" or \"$\")' on property " +
                        std::string(name) + ".");
  if (name == "app_metadata")
    for (auto& kv : it->value().get_object())
      if (k_app_reserved.contains(kv.key()))
        return invalid_body("'app_metadata may not contain the reserved key \"" + std::string(kv.key()) +
                            "\"' on property app_metadata.");
  return std::nullopt;
}

json::object profile_data(const json::object& user) {
  json::object pd;
  const json::array* ids = nullptr;
  if (auto it = user.find("identities"); it != user.end() && it->value().is_array()) ids = &it->value().get_array();
  // Database users' name defaults to the email and is not echoed (as recorded).
  const bool database =
      ids && !ids->empty() && ids->front().is_object() && str_at(ids->front().get_object(), "provider") == "auth0";
  for (const char* k : k_profile_keys) {
    if (database && std::string_view(k) == "name") continue;
    if (auto it = user.find(k); it != user.end()) pd[k] = it->value();
  }
  return pd;
}

/// Identities as the link/unlink responses show them: primary with profileData too.
json::array identities_with_profile(const json::object& user) {
  json::array ids = user.at("identities").get_array();
  if (!ids.empty() && ids[0].is_object()) {
    json::object first;
    first["profileData"] = profile_data(user);
    for (auto& kv : ids[0].get_object()) first[kv.key()] = kv.value();
    ids[0] = std::move(first);
  }
  return ids;
}

void strip_idp_tokens(json::object& user) {
  auto it = user.find("identities");
  if (it == user.end() || !it->value().is_array()) return;
  for (auto& id : it->value().get_array())
    if (id.is_object())
      for (auto k : {"access_token", "access_token_secret", "refresh_token"}) id.get_object().erase(k);
}

/// Identity arrays (link/unlink answers) lose IdP tokens unless read:user_idp_tokens.
response without_idp_tokens(response r, const std::vector<std::string>& scopes) {
  if (r.status / 100 != 2 || has_scope(scopes, {"read:user_idp_tokens"})) return r;
  json::object wrap{{"identities", json::parse(r.body)}};
  strip_idp_tokens(wrap);
  r.body = json::serialize(wrap.at("identities"));
  return r;
}

/// fields/include_fields selection; returns an error response for names `known` refuses.
template <class Known>
std::optional<response> parse_fields(const std::vector<std::pair<std::string, std::string>>& q, Known&& known,
                                     std::vector<std::string>& fields, bool& include) {
  include = true;
  for (auto& [k, v] : q) {
    if (k == "include_fields") {
      if (v != "true" && v != "false")
        return query_error(
            "'Expected type boolean but found type string' on property include_fields (Whether specified fields are to "
            "be included (true) or excluded (false).).");
      include = v == "true";
    } else if (k == "fields") {
      std::string_view rest = v;
      while (!rest.empty()) {
        const auto c = rest.find(',');
        std::string f(rest.substr(0, c));
        rest = c == std::string_view::npos ? std::string_view{} : rest.substr(c + 1);
        if (f.empty()) continue;
        if (!known(f))
          return query_error("'String does not match pattern: " + f +
                             "' on property fields (Comma-separated list of fields to include or exclude (based on "
                             "value provided for include_fields) in the result. Leave empty to retrieve all fields.).");
        fields.push_back(std::move(f));
      }
    }
  }
  return std::nullopt;
}

json::object select_fields(const json::object& o, const std::vector<std::string>& fields, bool include) {
  if (fields.empty()) return o;
  json::object out;
  for (auto& kv : o) {
    const bool listed = std::find(fields.begin(), fields.end(), kv.key()) != fields.end();
    if (listed == include) out[kv.key()] = kv.value();
  }
  return out;
}

json::object default_db_options() {
  // Defaults of a new database connection, as a real tenant returned them (2024 recording).
  return json::parse(R"({"mfa":{"active":true,"return_enroll_settings":true},"passwordPolicy":"good",
    "strategy_version":2,"authentication_methods":{"password":{"enabled":true},"passkey":{"enabled":false}},
    "passkey_options":{"challenge_ui":"both","progressive_enrollment_enabled":true,"local_enrollment_enabled":true},
    "brute_force_protection":true})")
      .as_object();
}

}  // namespace

void generate_pairs(json::object& seed, std::size_t pairs) {
  auto& users = seed["users"].is_array() ? seed["users"].get_array() : seed["users"].emplace_array();
  users.reserve(users.size() + 2 * pairs);
  for (std::size_t i = 0; i < pairs; ++i) {
    const auto n = std::to_string(i);
    auto make = [&](const char* kind, json::object um, json::object am) {
      json::object u;
      u["user_id"] = std::string("auth0|") + kind + n;
      u["email"] = "user" + n + "@example.com";
      u["email_verified"] = true;
      u["name"] = "user" + n + "@example.com";
      u["nickname"] = "user" + n;
      u["created_at"] = "2024-01-01T00:00:00.000Z";
      u["updated_at"] = "2024-01-01T00:00:00.000Z";
      u["identities"] = json::array{json::object{{"connection", "Username-Password-Authentication"},
                                                 {"user_id", std::string(kind) + n},
                                                 {"provider", "auth0"},
                                                 {"isSocial", false}}};
      u["user_metadata"] = std::move(um);
      u["app_metadata"] = std::move(am);
      users.push_back(std::move(u));
    };
    make("p", {{"color", "red"}, {"n", i}}, {{"roles", json::array{"user"}}});
    make("s", {{"color", "blue"}, {"hobby", "chess"}}, {{"plan", "free"}});
  }
}

tenant::tenant(const json::value& seed) {
  std::array<unsigned char, 32> k{};
  if (RAND_bytes(k.data(), static_cast<int>(k.size())) != 1) throw std::runtime_error("RAND_bytes");
  key_.assign(reinterpret_cast<const char*>(k.data()), k.size());
  load(seed);
}

void tenant::load(const json::value& seed) {
  if (!seed.is_object()) throw std::invalid_argument("seed must be a JSON object");
  apply_seed(seed.get_object());  // validates everything before it replaces anything
  seed_ = seed.get_object();
}

void tenant::reset() { apply_seed(seed_); }

void tenant::apply_seed(const json::object& seed) {
  std::string domain = str_at(seed, "domain");
  if (domain.empty()) throw std::invalid_argument("seed: \"domain\" (string) is required");
  std::map<std::string, client> clients;
  if (auto it = seed.find("clients"); it != seed.end()) {
    if (!it->value().is_array()) throw std::invalid_argument("seed: \"clients\" must be an array");
    for (auto& c : it->value().get_array()) {
      if (!c.is_object()) throw std::invalid_argument("seed: client must be an object");
      client cl;
      cl.id = str_at(c.get_object(), "client_id");
      cl.secret = str_at(c.get_object(), "client_secret");
      if (cl.id.empty() || cl.secret.empty())
        throw std::invalid_argument("seed: client needs client_id and client_secret");
      if (auto a = str_at(c.get_object(), "audience"); !a.empty()) cl.audiences.push_back(a);
      if (auto s = c.get_object().find("scopes"); s != c.get_object().end() && s->value().is_array())
        for (auto& x : s->value().get_array())
          if (x.is_string()) cl.scopes.emplace_back(x.get_string());
      if (cl.scopes.empty()) cl.scopes = k_all_scopes;
      if (auto g = c.get_object().find("grant_types"); g != c.get_object().end()) {
        if (!g->value().is_array()) throw std::invalid_argument("seed: client grant_types must be an array: " + cl.id);
        for (auto& x : g->value().get_array())
          if (x.is_string()) cl.grant_types.emplace_back(x.get_string());
      } else {
        cl.grant_types = {"client_credentials"};
      }
      if (auto l = c.get_object().find("token_lifetime_s"); l != c.get_object().end() && l->value().is_number())
        cl.lifetime_s = l->value().to_number<long>();
      clients[cl.id] = std::move(cl);
    }
  }
  std::vector<json::object> conns;
  if (auto it = seed.find("connections"); it != seed.end() && it->value().is_array()) {
    for (auto& c : it->value().get_array()) {
      if (!c.is_object()) throw std::invalid_argument("seed: connection must be an object");
      auto o = c.get_object();
      const auto id = str_at(o, "id");
      if (!std::regex_match(id, k_connection_id_re))
        throw std::invalid_argument("seed: connection id must match ^con_[A-Za-z0-9]{16}$: " + id);
      if (str_at(o, "name").empty() || str_at(o, "strategy").empty())
        throw std::invalid_argument("seed: connection needs name and strategy");
      if (!o.contains("is_domain_connection")) o["is_domain_connection"] = false;
      if (!o.contains("realms")) o["realms"] = json::array{o["name"]};
      conns.push_back(std::move(o));
    }
  }
  std::map<std::string, json::object> users;
  if (auto it = seed.find("users"); it != seed.end() && it->value().is_array()) {
    for (auto& u : it->value().get_array()) {
      if (!u.is_object()) throw std::invalid_argument("seed: user must be an object");
      auto o = u.get_object();
      const auto id = str_at(o, "user_id");
      const auto bar = id.find('|');
      if (bar == std::string::npos || bar == 0 || bar + 1 == id.size())
        throw std::invalid_argument("seed: user_id must be provider|id: " + id);
      if (!o.contains("identities")) {
        const auto provider = id.substr(0, bar);
        o["identities"] = json::array{
            json::object{{"connection", provider == "auth0" ? "Username-Password-Authentication" : provider},
                         {"user_id", id.substr(bar + 1)},
                         {"provider", provider},
                         {"isSocial", provider != "auth0"}}};
      }
      if (!o["identities"].is_array() || o["identities"].get_array().empty())
        throw std::invalid_argument("seed: identities must be a non-empty array: " + id);
      users[id] = std::move(o);
    }
  }
  domain_ = std::move(domain);
  clients_ = std::move(clients);
  connections_ = std::move(conns);
  users_ = std::move(users);
  jobs_.clear();  // export jobs belong to the state a seed replaces
}

json::object tenant::dump() const {
  json::object out;
  out["domain"] = domain_;
  json::array cl;
  for (auto& [id, c] : clients_) {
    json::array sc;
    for (auto& s : c.scopes) sc.emplace_back(s);
    cl.push_back(json::object{{"client_id", id}, {"scopes", std::move(sc)}, {"token_lifetime_s", c.lifetime_s}});
  }
  out["clients"] = std::move(cl);
  json::array co;
  for (auto& c : connections_) co.push_back(c);
  out["connections"] = std::move(co);
  json::array us;
  for (auto& [id, u] : users_) us.push_back(u);
  out["users"] = std::move(us);
  return out;
}

std::vector<std::string> tenant::audiences_for(const client* cl) const {
  // The tenant's own identifier, and the two names the server answers to on its port
  // (clients derive https://DOMAIN/api/v2/ from the domain they connect to). The Host
  // header is not trusted for this: it is whatever the client sent.
  std::vector<std::string> out{"https://" + domain_ + "/api/v2/"};
  if (port_ != 0)
    for (auto host : {"127.0.0.1", "localhost"})
      out.push_back("https://" + std::string(host) + ":" + std::to_string(port_) + "/api/v2/");
  if (cl) out.insert(out.end(), cl->audiences.begin(), cl->audiences.end());
  return out;
}

std::string tenant::new_id(std::size_t n, bool hex) {
  static constexpr char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  static constexpr char hexd[] = "0123456789abcdef";
  std::string out;
  std::vector<unsigned char> buf(n);
  if (RAND_bytes(buf.data(), static_cast<int>(n)) != 1) throw std::runtime_error("RAND_bytes");
  for (auto b : buf) out.push_back(hex ? hexd[b % 16] : alnum[b % 62]);
  ++id_counter_;
  return out;
}

std::string tenant::sign(const std::string& data) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &len);
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(mac), len));
}

std::string tenant::now_iso() const {
  const auto now = clock::now();
  const auto t = clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

response tenant::handle(const request& req) {
  std::string query;
  auto segs = path_segments(req.target, &query);
  if (segs.size() == 2 && segs[0] == "oauth" && segs[1] == "token") {
    if (req.method != "POST") return mgmt_error(404, "Not Found");
    return oauth_token(req);
  }
  if (segs.size() == 2 && segs[0] == ".well-known" && segs[1] == "jwks.json") {
    if (req.method != "GET") return mgmt_error(404, "Not Found");
    return jwks();  // public: no bearer
  }
  if (segs.size() < 3 || segs[0] != "api" || segs[1] != "v2") return mgmt_error(404, "Not Found");
  response err;
  auto who = authenticate(req, err);
  if (!who) return err;
  if (segs[2] == "users") return users_route(req, segs, *who);
  if (segs[2] == "connections") return connections_route(req, segs, *who);
  if (segs[2] == "jobs") return jobs_route(req, segs, who->scopes);
  if (segs.size() == 3 && segs[2] == "users-by-email" && req.method == "GET") {
    if (!has_scope(who->scopes, {"read:users"})) return insufficient_scope({"read:users"});
    return without_idp_tokens(users_by_email(req), who->scopes);
  }
  return mgmt_error(404, "Not Found");
}

void tenant::set_behaviour(const json::object& o) {
  behaviour b = quirks_;
  for (const auto& kv : o) {
    const auto& v = kv.value();
    auto choice = [&](std::string_view a, std::string_view b2) {
      if (!v.is_string() || (v.get_string() != a && v.get_string() != b2))
        throw std::invalid_argument("behaviour: " + std::string(kv.key()) + " must be \"" + std::string(a) +
                                    "\" or \"" + std::string(b2) + "\"");
      return v.get_string() == b2;
    };
    if (kv.key() == "relink")
      b.relink_400 = choice("409", "400");
    else if (kv.key() == "nested_nulls")
      b.drop_nested_nulls = choice("keep", "drop");
    else if (kv.key() == "wrong_secret")
      b.wrong_secret_access_denied = choice("invalid_client", "access_denied");
    else if (kv.key() == "custom_domain") {
      if (!v.is_null() && !v.is_string())
        throw std::invalid_argument("behaviour: custom_domain must be a string or null");
      b.custom_domain = v.is_string() ? std::string(v.get_string()) : std::string();
    } else {
      throw std::invalid_argument("behaviour: unknown member " + std::string(kv.key()));
    }
  }
  quirks_ = std::move(b);
}

json::object tenant::behaviour_json() const {
  json::value custom = nullptr;
  if (!quirks_.custom_domain.empty()) custom = quirks_.custom_domain;
  return json::object{{"relink", quirks_.relink_400 ? "400" : "409"},
                      {"nested_nulls", quirks_.drop_nested_nulls ? "drop" : "keep"},
                      {"wrong_secret", quirks_.wrong_secret_access_denied ? "access_denied" : "invalid_client"},
                      {"custom_domain", std::move(custom)}};
}

response tenant::oauth_token(const request& req) {
  auto body = parse_body(req);
  if (!body) return oauth_error(400, "invalid_request", "Invalid request body");
  const auto grant = str_at(*body, "grant_type");
  if (grant.empty()) return oauth_error(400, "invalid_request", "Missing required parameter: grant_type");
  if (grant != "client_credentials")
    return oauth_error(400, "unsupported_grant_type", "Unsupported grant type: " + grant);
  const auto cid = str_at(*body, "client_id");
  const auto secret = str_at(*body, "client_secret");
  if (cid.empty()) return oauth_error(401, "invalid_client", "Client authentication failed");
  auto it = clients_.find(cid);
  // Constant-time compare: the emulator is a test double, but it should not teach bad habits.
  if (it == clients_.end() || it->second.secret.size() != secret.size() ||
      CRYPTO_memcmp(it->second.secret.data(), secret.data(), secret.size()) != 0) {
    // What real tenants answer to a wrong secret (node-auth0#682, #582).
    if (quirks_.wrong_secret_access_denied) return oauth_error(401, "access_denied", "Unauthorized");
    return oauth_error(401, "invalid_client", "Client authentication failed");
  }
  const auto& cl = it->second;
  if (std::find(cl.grant_types.begin(), cl.grant_types.end(), "client_credentials") == cl.grant_types.end())
    return oauth_error(403, "unauthorized_client", "Grant type 'client_credentials' not allowed for the client.");
  const auto aud = str_at(*body, "audience");
  if (aud.empty())
    return oauth_error(403, "access_denied",
                       "No audience parameter was provided, and no default audience has been configured");
  const auto ok = audiences_for(&cl);
  if (std::find(ok.begin(), ok.end(), aud) == ok.end())
    return oauth_error(403, "access_denied",
                       "Client is not authorized to access \"" + aud +
                           "\". You need to create a \"client-grant\" associated to this API. See: "
                           "https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants");
  const long lifetime = lifetime_override_.value_or(cl.lifetime_s);
  const auto iat = std::chrono::duration_cast<std::chrono::seconds>(clock::now().time_since_epoch()).count();
  std::string scope;
  for (auto& s : cl.scopes) {
    if (!scope.empty()) scope += ' ';
    scope += s;
  }
  json::object claims{{"iss", "https://" + domain_ + "/"},
                      {"sub", cid + "@clients"},
                      {"aud", aud},
                      {"iat", iat},
                      {"exp", iat + lifetime},
                      {"scope", scope},
                      {"gty", "client-credentials"},
                      {"azp", cid},
                      {"jti", new_id(16, true)}};
  const std::string head =
      base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." + base64url_encode(json::serialize(claims));
  return json_response(200, json::object{{"access_token", head + "." + sign(head)},
                                         {"scope", scope},
                                         {"expires_in", lifetime},
                                         {"token_type", "Bearer"}});
}

std::optional<tenant::token_claims> tenant::authenticate(const request& req, response& err) const {
  auto invalid = [&] {
    err = mgmt_error(401, "Invalid token");
    // Auth0 adds attributes.error to its 401 bodies.
    auto o = json::parse(err.body).as_object();
    o["attributes"] = json::object{{"error", "Invalid token"}};
    err.body = json::serialize(o);
    return std::nullopt;
  };
  std::string_view a = req.authorization;
  if (a.empty()) {
    err = mgmt_error(401, "Missing authentication");
    return std::nullopt;
  }
  if (a.size() < 7 || (a.substr(0, 7) != "Bearer " && a.substr(0, 7) != "bearer ")) return invalid();
  const auto tok = a.substr(7);
  const auto d1 = tok.find('.');
  const auto d2 = d1 == std::string_view::npos ? d1 : tok.find('.', d1 + 1);
  if (d2 == std::string_view::npos) return invalid();
  const std::string expect = sign(std::string(tok.substr(0, d2)));
  const auto sig = tok.substr(d2 + 1);
  if (sig.size() != expect.size() || CRYPTO_memcmp(sig.data(), expect.data(), sig.size()) != 0) return invalid();
  std::string payload;
  if (!base64url_decode(tok.substr(d1 + 1, d2 - d1 - 1), payload)) return invalid();
  boost::system::error_code ec;
  auto v = json::parse(payload, ec);
  if (ec || !v.is_object()) return invalid();
  auto& o = v.get_object();
  const auto exp = o.contains("exp") && o.at("exp").is_number() ? o.at("exp").to_number<long long>() : 0;
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(clock::now().time_since_epoch()).count();
  if (now >= exp) {
    err = unauthorized("Expired token received for JSON Web Token validation");
    return std::nullopt;
  }
  // The token must be for this API: one of the audiences the emulator would issue to its azp.
  const auto azp = clients_.find(str_at(o, "azp"));
  const auto ok = audiences_for(azp == clients_.end() ? nullptr : &azp->second);
  const auto aud_it = o.find("aud");
  const json::value aud = aud_it == o.end() ? json::value() : aud_it->value();
  const auto accepted = [&](const json::value& a) {
    return a.is_string() && std::find(ok.begin(), ok.end(), a.get_string()) != ok.end();
  };
  if (!(accepted(aud) || (aud.is_array() && std::any_of(aud.get_array().begin(), aud.get_array().end(), accepted)))) {
    err = unauthorized("Bad audience: " + (aud.is_string() ? std::string(aud.get_string()) : json::serialize(aud)));
    return std::nullopt;
  }
  token_claims c;
  c.sub = str_at(o, "sub");
  std::string_view sc =
      o.contains("scope") && o.at("scope").is_string() ? std::string_view(o.at("scope").get_string()) : "";
  while (!sc.empty()) {
    const auto sp = sc.find(' ');
    if (sp != 0) c.scopes.emplace_back(sc.substr(0, sp));
    sc = sp == std::string_view::npos ? std::string_view{} : sc.substr(sp + 1);
  }
  return c;
}

response tenant::users_route(const request& req, const std::vector<std::string>& segs, const token_claims& who) {
  const auto& m = req.method;
  if (segs.size() == 3) {
    if (m == "POST") {
      if (!has_scope(who.scopes, {"create:users"})) return insufficient_scope({"create:users"});
      return create_user(req);
    }
    return mgmt_error(404, "Not Found");
  }
  const auto& id = segs[3];
  // Auth0's *:current_user* scopes act on the token's own user (its sub) only.
  const auto not_own_user = [&](std::string_view any_user, std::string_view own_user) -> std::optional<response> {
    if (has_scope(who.scopes, {any_user}) || !has_scope(who.scopes, {own_user}) || who.sub == id) return std::nullopt;
    return mgmt_error(403, k_not_own_user);
  };
  if (segs.size() == 4) {
    if (m == "GET") {
      if (!has_scope(who.scopes, {"read:users", "read:current_user"}))
        return insufficient_scope({"read:users", "read:current_user"});
      if (auto e = not_own_user("read:users", "read:current_user")) return *e;
      auto r = get_user(id, req);
      if (r.status == 200 && !has_scope(who.scopes, {"read:user_idp_tokens"})) {
        auto o = json::parse(r.body).as_object();
        strip_idp_tokens(o);
        r.body = json::serialize(o);
      }
      return r;
    }
    if (m == "PATCH") {
      if (!has_scope(who.scopes, {"update:users", "update:users_app_metadata", "update:current_user_metadata"}))
        return insufficient_scope({"update:users", "update:users_app_metadata", "update:current_user_metadata"});
      if (!has_scope(who.scopes, {"update:users"})) {
        // Partial scopes: app_metadata of anyone, or user_metadata of the token's own user.
        const bool app = has_scope(who.scopes, {"update:users_app_metadata"});
        const bool own = has_scope(who.scopes, {"update:current_user_metadata"}) && who.sub == id;
        if (!app && !own) return mgmt_error(403, k_not_own_user);  // only update:current_user_metadata, other user
        auto body = parse_body(req);
        if (body)
          for (auto& kv : *body)
            if (!(kv.key() == "app_metadata" && app) && !(kv.key() == "user_metadata" && own))
              return mgmt_error(403,
                                "Some fields cannot be read with the permissions granted by the bearer token scopes.",
                                "insufficient_scope");
      }
      return patch_user(id, req);
    }
    if (m == "DELETE") {
      if (!has_scope(who.scopes, {"delete:users"})) return insufficient_scope({"delete:users"});
      return delete_user(id);
    }
    return mgmt_error(404, "Not Found");
  }
  if (segs[4] != "identities") return mgmt_error(404, "Not Found");
  if (segs.size() == 5 && m == "POST") {
    if (!has_scope(who.scopes, {"update:users", "update:current_user_identities"}))
      return insufficient_scope({"update:users", "update:current_user_identities"});
    if (auto e = not_own_user("update:users", "update:current_user_identities")) return *e;
    return without_idp_tokens(link(id, req), who.scopes);
  }
  if (segs.size() == 7 && m == "DELETE") {
    if (!has_scope(who.scopes, {"update:users", "update:current_user_identities"}))
      return insufficient_scope({"update:users", "update:current_user_identities"});
    if (auto e = not_own_user("update:users", "update:current_user_identities")) return *e;
    return without_idp_tokens(unlink(id, segs[5], segs[6]), who.scopes);
  }
  return mgmt_error(404, "Not Found");
}

response tenant::get_user(const std::string& id, const request& req) {
  std::string query;
  path_segments(req.target, &query);
  std::vector<std::string> fields;
  bool include = true;
  auto it = users_.find(id);
  // The OAS root attributes, and whatever other root attribute the stored user has
  // (additionalProperties: IdP attributes such as locale).
  const auto known = [&](const std::string& f) {
    return k_user_fields.contains(f) || (it != users_.end() && it->second.contains(f));
  };
  if (auto e = parse_fields(parse_query(query), known, fields, include)) return *e;
  if (it == users_.end()) return mgmt_error(404, "The user does not exist.", "inexistent_user");
  return json_response(200, select_fields(it->second, fields, include));
}

// GET /api/v2/users-by-email?email=: every user whose email is exactly that text. Auth0
// documents the match as case-sensitive, so "Jane@x" does not find "jane@x".
response tenant::users_by_email(const request& req) {
  std::string query;
  path_segments(req.target, &query);
  const auto q = parse_query(query);
  std::vector<std::string> fields;
  bool include = true;
  const auto known = [](const std::string& f) { return k_user_fields.contains(f); };
  if (auto e = parse_fields(q, known, fields, include)) return *e;
  const auto e = std::find_if(q.begin(), q.end(), [](const auto& kv) { return kv.first == "email"; });
  if (e == q.end()) return query_error("'Missing required property: email'.");
  json::array out;
  for (const auto& [id, user] : users_)
    if (str_at(user, "email") == e->second) out.push_back(select_fields(user, fields, include));
  return json_response(200, out);
}

response tenant::patch_user(const std::string& id, const request& req) {
  auto body = parse_body(req);
  if (!body) return invalid_body("'Expected type object' on property body.");
  // The body is validated before the user is looked up (schema first, like link), and
  // completely: a rejected PATCH changes nothing.
  for (auto name : {"user_metadata", "app_metadata"})
    if (auto e = check_metadata(*body, name)) return *e;
  for (auto k : {"user_id", "identities", "created_at", "updated_at"})
    if (body->contains(k)) return invalid_body("'Additional properties not allowed: " + std::string(k) + "'.");
  if (body->contains("password") && body->contains("email"))
    return mgmt_error(400, "Cannot update password and email simultaneously", "invalid_body");
  if (body->contains("username") && body->contains("email"))
    return mgmt_error(400, "Cannot update username and email simultaneously", "invalid_body");
  auto it = users_.find(id);
  if (it == users_.end()) return mgmt_error(404, "The user does not exist.", "inexistent_user");
  auto& user = it->second;
  const auto now = now_iso();
  for (auto& kv : *body) {
    const auto k = kv.key();
    if (k == "connection" || k == "client_id" || k == "verify_email" || k == "verify_phone_number" ||
        k == "verify_password")
      continue;
    if (k == "password") {
      user["last_password_reset"] = now;
      continue;
    }
    if (k == "user_metadata" || k == "app_metadata") {
      const auto* cur = obj_at(user, k);
      json::object sent = kv.value().get_object();
      if (quirks_.drop_nested_nulls) merge::drop_nested_nulls(sent);  // a top-level null still deletes
      auto merged = a0::test::apply_auth0_patch(cur ? *cur : json::object{}, sent);
      if (merged.empty())
        user.erase(k);
      else
        user[k] = std::move(merged);
      continue;
    }
    if (kv.value().is_null())
      user.erase(k);
    else
      user[k] = kv.value();
  }
  user["updated_at"] = now;
  return json_response(200, user);
}

response tenant::create_user(const request& req) {
  auto body = parse_body(req);
  if (!body) return invalid_body("'Expected type object' on property body.");
  const auto conn_name = str_at(*body, "connection");
  if (conn_name.empty()) return invalid_body("'Missing required property: connection'.");
  const json::object* conn = nullptr;
  for (auto& c : connections_)
    if (str_at(c, "name") == conn_name) conn = &c;
  if (!conn) return mgmt_error(400, "The connection does not exist.", "inexistent_connection");
  for (auto name : {"user_metadata", "app_metadata"})
    if (auto e = check_metadata(*body, name)) return *e;
  const auto strategy = str_at(*conn, "strategy");
  const auto email = str_at(*body, "email");
  if (strategy == "auth0" && email.empty()) return invalid_body("'Missing required property: email'.");
  for (auto& [uid, u] : users_)
    if (!email.empty() && str_at(u, "email") == email &&
        str_at(u.at("identities").get_array()[0].get_object(), "connection") == conn_name)
      return mgmt_error(409, "The user already exists.", "auth0_idp_error");
  std::string bare = str_at(*body, "user_id");
  if (bare.empty()) bare = new_id(24, true);
  const std::string provider = strategy == "auth0" ? "auth0" : strategy;
  const std::string uid = provider + "|" + bare;
  if (users_.contains(uid)) return mgmt_error(409, "The user already exists.", "auth0_idp_error");
  json::object u;
  for (auto k : {"blocked", "email", "email_verified", "family_name", "given_name", "name", "nickname", "picture",
                 "username", "phone_number", "phone_verified"})
    if (auto f = body->find(k); f != body->end() && !f->value().is_null()) u[k] = f->value();
  if (!u.contains("email_verified") && !email.empty()) u["email_verified"] = false;
  if (!u.contains("name") && !email.empty()) u["name"] = email;
  if (!u.contains("nickname") && !email.empty()) u["nickname"] = email.substr(0, email.find('@'));
  if (!u.contains("picture"))
    u["picture"] =
        "https://cdn.auth0.com/avatars/" + (email.size() >= 2 ? email.substr(0, 2) : std::string("un")) + ".png";
  const auto now = now_iso();
  u["created_at"] = now;
  u["updated_at"] = now;
  u["identities"] =
      json::array{json::object{{"connection", conn_name},
                               {"user_id", bare},
                               {"provider", provider},
                               {"isSocial", strategy != "auth0" && strategy != "email" && strategy != "sms"}}};
  u["user_id"] = uid;
  for (auto k : {"user_metadata", "app_metadata"})
    if (auto* m = obj_at(*body, k); m && !m->empty()) u[k] = *m;
  auto& stored = users_[uid] = std::move(u);
  return json_response(201, stored);
}

response tenant::delete_user(const std::string& id) {
  // Auth0 answers 204 whether or not the user exists (recorded); linked identities go too.
  users_.erase(id);
  response r;
  r.status = 204;
  return r;
}

response tenant::link(const std::string& id, const request& req) {
  auto body = parse_body(req);
  if (!body) return invalid_body("'Expected type object' on property body.");
  if (body->empty()) return invalid_body("'Too few properties defined (0), minimum 1'.");
  for (auto& kv : *body)
    if (kv.key() != "provider" && kv.key() != "user_id" && kv.key() != "connection_id" && kv.key() != "link_with")
      return invalid_body("'Additional properties not allowed: " + std::string(kv.key()) + "'.");
  auto pit = users_.find(id);
  if (pit == users_.end()) return mgmt_error(404, "The user does not exist.", "inexistent_user");

  std::string provider, full;
  const json::object* conn = nullptr;
  if (body->contains("link_with")) {
    if (body->size() != 1)
      return invalid_body("'link_with cannot be combined with provider, user_id or connection_id'.");
    const auto& lw = body->at("link_with");
    if (!lw.is_string()) return invalid_body("'Expected type string' on property link_with.");
    // The secondary's ID token, checked as auth0-api.md §2 says (id_tokens.cpp).
    if (auto refused = id_keys_.check_link_with(lw.get_string(), issuers(req), bearer_claim(req, "azp"), full))
      return *refused;
    provider = full.substr(0, full.find('|'));
  } else {
    if (!body->contains("provider")) return invalid_body("'Missing required property: provider'.");
    if (!body->contains("user_id")) return invalid_body("'Missing required property: user_id'.");
    const auto& pv = body->at("provider");
    if (!pv.is_string()) return invalid_body("'Expected type string' on property provider.");
    provider = pv.get_string();
    if (!k_providers.contains(provider))
      return invalid_body("'No enum match for: \"" + provider +
                          "\"' on property provider (Identity provider of the secondary user account being linked.).");
    const auto& uv = body->at("user_id");
    std::string uid;
    if (uv.is_string() && !uv.get_string().empty())
      uid = uv.get_string();
    else if (uv.is_int64() || uv.is_uint64())
      uid = id_text(uv);
    else
      return invalid_body("'Expected type string or integer (non-empty)' on property user_id.");
    if (auto cv = body->find("connection_id"); cv != body->end()) {
      if (!cv->value().is_string() || !std::regex_match(std::string(cv->value().get_string()), k_connection_id_re))
        return invalid_body("'String does not match pattern ^con_[A-Za-z0-9]{16}$: " +
                            (cv->value().is_string() ? std::string(cv->value().get_string()) : std::string("?")) +
                            "' on property connection_id.");
      for (auto& c : connections_)
        if (str_at(c, "id") == cv->value().get_string()) conn = &c;
      if (!conn) return mgmt_error(400, "The provider/connection is not configured.", "invalid_body");
    }
    // Both the bare id and the full prefixed id are accepted (recorded for auth0|…).
    const std::string prefixed = provider + "|" + uid;
    full = uid.rfind(provider + "|", 0) == 0 && !users_.contains(prefixed) ? uid : prefixed;
  }
  if (full == id) return mgmt_error(400, "Main identity and the new one are the same.", "invalid_body");
  const std::string bare = full.substr(provider.size() + 1);
  auto& primary = pit->second;
  // A linked secondary is no user any more: checked first, a re-link meets this 400.
  if (quirks_.relink_400 && !users_.contains(full))
    return mgmt_error(400, "Provided secondary account not found.", "invalid_body");
  for (auto& ident : primary.at("identities").get_array())
    if (ident.is_object() && str_at(ident.get_object(), "provider") == provider &&
        id_text(ident.get_object().contains("user_id") ? ident.get_object().at("user_id") : json::value()) == bare)
      return mgmt_error(409, "Specified identity already exists.", "identity_conflict");
  auto sit = users_.find(full);
  if (sit == users_.end() ||
      (conn && str_at(sit->second.at("identities").get_array()[0].get_object(), "connection") != str_at(*conn, "name")))
    return mgmt_error(400, "Provided secondary account not found.", "invalid_body");

  auto& sec_ids = sit->second.at("identities").get_array();
  auto& prim_ids = primary.at("identities").get_array();
  for (std::size_t i = 0; i < sec_ids.size(); ++i) {
    json::value ident = sec_ids[i];
    if (i == 0 && ident.is_object()) {
      json::object withpd;
      withpd["profileData"] = profile_data(sit->second);
      for (auto& kv : ident.get_object()) withpd[kv.key()] = kv.value();
      ident = std::move(withpd);
    }
    prim_ids.push_back(std::move(ident));
  }
  // The secondary leaves the user list with its metadata (Auth0 discards it).
  users_.erase(sit);
  primary["updated_at"] = now_iso();
  return json_response(201, identities_with_profile(primary));
}

response tenant::unlink(const std::string& id, const std::string& provider, const std::string& uid) {
  if (!k_providers.contains(provider))
    return mgmt_error(400,
                      "Path validation error: 'No enum match for: \"" + provider +
                          "\"' on property provider (Identity provider name of the secondary linked account (e.g. "
                          "`google-oauth2`).).",
                      "invalid_uri");
  auto pit = users_.find(id);
  if (pit == users_.end()) return mgmt_error(404, "The user does not exist.", "inexistent_user");
  auto& primary = pit->second;
  auto& ids = primary.at("identities").get_array();
  std::size_t idx = ids.size();
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (ids[i].is_object() && str_at(ids[i].get_object(), "provider") == provider &&
        id_text(ids[i].get_object().contains("user_id") ? ids[i].get_object().at("user_id") : json::value()) == uid)
      idx = i;
  if (idx == 0) return mgmt_error(400, "Main identity cannot be removed.", "invalid_body");
  if (idx < ids.size()) {
    json::object gone = ids[idx].get_object();
    ids.erase(ids.begin() + static_cast<std::ptrdiff_t>(idx));
    // The secondary comes back as a standalone user with its profile but no metadata.
    json::object u;
    if (auto* pd = obj_at(gone, "profileData"))
      for (auto& kv : *pd) u[kv.key()] = kv.value();
    // profileData leaves out a database user's name (it defaults to the email, see
    // profile_data): the recreated user gets that default back, as POST /users gives it.
    if (str_at(gone, "provider") == "auth0" && !u.contains("name") && u.contains("email")) u["name"] = u["email"];
    const auto now = now_iso();
    u["created_at"] = now;
    u["updated_at"] = now;
    gone.erase("profileData");
    for (auto k : {"access_token", "access_token_secret", "refresh_token"}) gone.erase(k);
    u["identities"] = json::array{gone};
    const auto new_id = provider + "|" + uid;
    u["user_id"] = new_id;
    users_.insert_or_assign(new_id, std::move(u));
    primary["updated_at"] = now;
  }
  return json_response(200, identities_with_profile(primary));
}

response tenant::connections_route(const request& req, const std::vector<std::string>& segs, const token_claims& who) {
  if (segs.size() == 3 && req.method == "GET") {
    if (!has_scope(who.scopes, {"read:connections"})) return insufficient_scope({"read:connections"});
    return list_connections(req);
  }
  if (segs.size() == 3 && req.method == "POST") {
    if (!has_scope(who.scopes, {"create:connections"})) return insufficient_scope({"create:connections"});
    return create_connection(req);
  }
  if (segs.size() == 4 && (req.method == "GET" || req.method == "DELETE")) {
    const bool del = req.method == "DELETE";
    if (!has_scope(who.scopes, {del ? "delete:connections" : "read:connections"}))
      return insufficient_scope({del ? "delete:connections" : "read:connections"});
    for (auto it = connections_.begin(); it != connections_.end(); ++it) {
      if (str_at(*it, "id") != segs[3]) continue;
      if (!del) return json_response(200, *it);
      connections_.erase(it);
      return json_response(202, json::object{{"deleted_at", now_iso()}});
    }
    return mgmt_error(404, "The connection does not exist", "inexistent_connection");
  }
  return mgmt_error(404, "Not Found");
}

response tenant::create_connection(const request& req) {
  auto body = parse_body(req);
  if (!body) return invalid_body("'Expected type object' on property body.");
  const auto name = str_at(*body, "name");
  const auto strategy = str_at(*body, "strategy");
  if (name.empty()) return invalid_body("'Missing required property: name'.");
  if (strategy.empty()) return invalid_body("'Missing required property: strategy'.");
  for (auto& c : connections_)
    if (str_at(c, "name") == name)
      return mgmt_error(409, "A connection with the same name already exists", "connection_conflict");
  json::object c;
  c["id"] = "con_" + new_id(16, false);
  if (auto* o = obj_at(*body, "options"))
    c["options"] = *o;
  else
    c["options"] = strategy == "auth0" ? default_db_options() : json::object{};
  c["strategy"] = strategy;
  c["name"] = name;
  c["is_domain_connection"] =
      body->contains("is_domain_connection") ? body->at("is_domain_connection") : json::value(false);
  c["enabled_clients"] = body->contains("enabled_clients") ? body->at("enabled_clients") : json::array{};
  c["realms"] = body->contains("realms") ? body->at("realms") : json::array{name};
  connections_.push_back(c);
  return json_response(201, c);
}

response tenant::list_connections(const request& req) {
  std::string query;
  path_segments(req.target, &query);
  const auto q = parse_query(query);
  std::vector<std::string> fields;
  bool include = true;
  if (auto e = parse_fields(
          q, [](const std::string& f) { return k_connection_fields.contains(f); }, fields, include))
    return *e;
  std::vector<std::string> strategies;
  std::optional<std::string> name, from;
  long page = 0, per_page = 100, take = 50;
  bool totals = false, checkpoint = false;
  auto number = [](const std::string& v, long lo, long hi, long& out) {
    try {
      std::size_t used = 0;
      const long n = std::stol(v, &used);
      if (used != v.size() || n < lo || n > hi) return false;
      out = n;
      return true;
    } catch (...) {
      return false;
    }
  };
  for (auto& [k, v] : q) {
    if (k == "strategy")
      strategies.push_back(v);
    else if (k == "name")
      name = v;
    else if (k == "page") {
      if (!number(v, 0, 1L << 30, page))
        return query_error(
            "'Expected type integer, minimum 0' on property page (Page index of the results to return. First page is "
            "0.).");
    } else if (k == "per_page") {
      if (!number(v, 1, 100, per_page))
        return query_error(
            "'Number must be between 1 and 100' on property per_page (Number of results per page. Defaults to 100.).");
    } else if (k == "include_totals") {
      if (v != "true" && v != "false")
        return query_error("'Expected type boolean but found type string' on property include_totals.");
      totals = v == "true";
    } else if (k == "from") {
      from = v;
      checkpoint = true;
    } else if (k == "take") {
      if (!number(v, 1, 100, take)) return query_error("'Number must be between 1 and 100' on property take.");
      checkpoint = true;
    }
  }
  // Listed in id order (as the recorded tenant did), which also makes checkpoints stable.
  std::vector<const json::object*> hits;
  for (auto& c : connections_) {
    if (name && str_at(c, "name") != *name) continue;
    if (!strategies.empty() &&
        std::find(strategies.begin(), strategies.end(), str_at(c, "strategy")) == strategies.end())
      continue;
    hits.push_back(&c);
  }
  std::sort(hits.begin(), hits.end(), [](auto* a, auto* b) { return str_at(*a, "id") < str_at(*b, "id"); });
  auto shape = [&](const json::object& c) {
    auto o = select_fields(c, fields, include);
    // Recorded quirk: fields=id&include_fields=true still returned is_domain_connection.
    if (!fields.empty() && include && c.contains("is_domain_connection"))
      o["is_domain_connection"] = c.at("is_domain_connection");
    return o;
  };
  json::array items;
  if (checkpoint) {
    std::size_t i = 0;
    if (from) {
      // `next`/`from` is an opaque checkpoint: here the id of the first item of the page.
      while (i < hits.size() && str_at(*hits[i], "id") < *from) ++i;
    }
    const std::size_t end = std::min(hits.size(), i + static_cast<std::size_t>(take));
    for (std::size_t j = i; j < end; ++j) items.push_back(shape(*hits[j]));
    json::object out{{"connections", std::move(items)}};
    if (end < hits.size()) out["next"] = str_at(*hits[end], "id");
    return json_response(200, out);
  }
  const auto start = static_cast<std::size_t>(page) * static_cast<std::size_t>(per_page);
  for (std::size_t j = start; j < hits.size() && j < start + static_cast<std::size_t>(per_page); ++j)
    items.push_back(shape(*hits[j]));
  if (!totals) return json_response(200, items);
  return json_response(
      200,
      json::object{{"total", hits.size()}, {"start", start}, {"limit", per_page}, {"connections", std::move(items)}});
}

}  // namespace emu
