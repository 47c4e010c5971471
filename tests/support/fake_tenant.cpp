#include "fake_tenant.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_to.hpp>

namespace a0::test {

namespace {
// A tenant stores metadata of any depth (the plugin's limits are what is tested).
boost::json::parse_options any_depth() {
  boost::json::parse_options o;
  o.max_depth = 100000;
  return o;
}
}  // namespace

namespace json = boost::json;

namespace {

std::string pct_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

reply error(int status, std::string_view error, std::string_view message, std::string_view code = "") {
  json::object o{{"statusCode", status}, {"error", error}, {"message", message}};
  if (!code.empty()) o["errorCode"] = code;
  return reply(status, json::serialize(o));
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

json::object identity_of(const json::object& user) {
  auto id = json::value_to<std::string>(user.at("user_id"));
  auto pipe = id.find('|');
  json::object i{
      {"provider", id.substr(0, pipe)},
      {"user_id", id.substr(pipe + 1)},
      {"connection", id.substr(0, pipe) == "auth0" ? "Username-Password-Authentication" : id.substr(0, pipe)},
      {"isSocial", id.substr(0, pipe) != "auth0"}};
  return i;
}

}  // namespace

json::object make_user(const std::string& full_id, const std::string& email, bool verified, json::object user_metadata,
                       json::object app_metadata) {
  json::object u{{"user_id", full_id}, {"email", email}, {"email_verified", verified}, {"name", email}};
  auto ident = identity_of(u);
  if (full_id.rfind("google-oauth2|", 0) == 0) {
    ident["access_token"] = "idp-access-token-SECRET";
    ident["refresh_token"] = "idp-refresh-token-SECRET";
  }
  u["identities"] = json::array{ident};
  if (!user_metadata.empty()) u["user_metadata"] = std::move(user_metadata);
  if (!app_metadata.empty()) u["app_metadata"] = std::move(app_metadata);
  return u;
}

fake_tenant::fake_tenant() {
  server_ = std::make_unique<test_server>([this](const seen_request& r) { return handle(r); });
}

std::string fake_tenant::config(const std::string& extra) const {
  return R"({"domain":")" + domain() + R"(","client_id":"cid-demo","client_secret":"TOP-SECRET-cs-123",)" +
         R"("ca_file":")" + ca_file() + R"(","max_backoff_ms":50,"max_retries":3)" + extra + "}";
}

void fake_tenant::put_user(json::object user) {
  std::lock_guard lk(mu_);
  auto id = json::value_to<std::string>(user.at("user_id"));
  users_[id] = std::move(user);
}

std::optional<json::object> fake_tenant::user(const std::string& id) const {
  std::lock_guard lk(mu_);
  auto it = users_.find(id);
  if (it == users_.end()) return std::nullopt;
  return it->second;
}

void fake_tenant::add_fault(fault f) { add_fault(std::move(f), {}); }

void fake_tenant::add_fault(fault f, std::string query_contains) {
  std::lock_guard lk(mu_);
  faults_.emplace_back(std::move(f), std::move(query_contains));
}

void fake_tenant::add_connection(std::string id, std::string name, std::string strategy) {
  std::lock_guard lk(mu_);
  connections_.push_back(json::object{{"id", id}, {"name", name}, {"strategy", strategy}});
}

void fake_tenant::set_get_delay(std::chrono::milliseconds d) {
  std::lock_guard lk(mu_);
  get_delay_ = d;
}

void fake_tenant::expire_tokens() {
  std::lock_guard lk(mu_);
  token_floor_ = tokens_issued_ + 1;
}

std::size_t fake_tenant::requests(std::string_view method, std::string_view prefix) const {
  std::size_t n = 0;
  for (const auto& r : server_->requests())
    if ((method.empty() || r.method == method) && starts_with(pct_decode(r.target), prefix)) ++n;
  return n;
}

reply fake_tenant::handle(const seen_request& r) {
  const auto q = r.target.find('?');
  const std::string path = pct_decode(r.target.substr(0, q));
  const std::string query = q == std::string::npos ? "" : r.target.substr(q + 1);
  std::lock_guard lk(mu_);
  std::optional<fault> hit;
  for (auto it = faults_.begin(); it != faults_.end(); ++it)
    if (const auto& f = it->first; f.method == r.method && starts_with(path, f.path_prefix) &&
                                   (f.path_suffix.empty() || ends_with(path, f.path_suffix)) &&
                                   (it->second.empty() || query.find(it->second) != std::string::npos)) {
      hit = std::move(it->first);
      faults_.erase(it);
      break;
    }
  if (hit && !hit->after_apply) return hit->answer;
  auto answer = route(r.method, path, query, r.body);
  if (path != "/oauth/token" && answer.status != 401) {
    // Authorization check happens in route for the token number.
  }
  if (hit) return hit->answer;
  if (r.method == "GET" && starts_with(path, "/api/v2/users/")) answer.delay = get_delay_;
  return answer;
}

reply fake_tenant::route(const std::string& method, const std::string& path, const std::string& query,
                         const std::string& body) {
  if (path == "/oauth/token") {
    if (body.find("client_secret=TOP-SECRET-cs-123") == std::string::npos)
      return reply(401, R"({"error":"invalid_client","error_description":"Client authentication failed"})");
    ++tokens_issued_;
    return reply(200, R"({"access_token":"mgmt-token-)" + std::to_string(tokens_issued_) +
                          R"(","expires_in":86400,"token_type":"Bearer"})");
  }
  (void)query;
  // The bearer is checked by the caller's view of requests; an expired token is modelled
  // by token_floor_: the server answers 401 to the first request after expire_tokens().
  if (token_floor_ > 0 && tokens_issued_ < token_floor_) {
    token_floor_ = 0;
    return error(401, "Unauthorized", "Expired token received for JSON Web Token validation");
  }
  const std::string users = "/api/v2/users/";
  if (path == "/api/v2/connections") {
    json::array page;
    for (const auto& c : connections_)
      if (c.as_object().at("strategy") == "auth0") page.push_back(c);
    // Two per page so that paging is exercised: from = index.
    std::size_t from = 0;
    if (auto f = query.find("from="); f != std::string::npos) from = std::stoul(query.substr(f + 5));
    json::array slice;
    for (std::size_t i = from; i < page.size() && i < from + 2; ++i) slice.push_back(page[i]);
    json::object o{{"connections", slice}};
    if (from + 2 < page.size()) o["next"] = std::to_string(from + 2);
    return reply(200, json::serialize(o));
  }
  if (!starts_with(path, users)) return error(404, "Not Found", "no route");
  std::string rest = path.substr(users.size());
  const auto ident = rest.find("/identities");
  std::string id = ident == std::string::npos ? rest : rest.substr(0, ident);
  auto it = users_.find(id);
  if (method == "GET" && ident == std::string::npos) {
    if (it == users_.end()) return error(404, "Not Found", "The user does not exist.", "inexistent_user");
    if (auto f = query.find("fields="); f != std::string::npos) {  // include_fields=true
      auto list = pct_decode(query.substr(f + 7, query.find('&', f) - (f + 7))) + ",";
      json::object only;
      for (std::size_t a = 0, b; (b = list.find(',', a)) != std::string::npos; a = b + 1)
        if (auto* v = it->second.if_contains(list.substr(a, b - a))) only[list.substr(a, b - a)] = *v;
      return reply(200, json::serialize(only));
    }
    return reply(200, json::serialize(it->second));
  }
  if (method == "PATCH" && ident == std::string::npos) {
    if (it == users_.end()) return error(404, "Not Found", "The user does not exist.", "inexistent_user");
    auto patch = json::parse(body, {}, any_depth()).as_object();
    for (const char* part : {"user_metadata", "app_metadata"}) {
      auto* p = patch.if_contains(part);
      if (!p) continue;
      for (const auto& kv : p->as_object())
        if (kv.key().find_first_of(".$") != json::string_view::npos)
          return error(400, "Bad Request", "Payload validation error", "invalid_body");
      auto& cur = it->second[part];
      if (!cur.is_object()) cur = json::object{};
      if (p->as_object().empty()) {
        it->second.erase(part);
        continue;
      }
      for (const auto& kv : p->as_object()) {
        if (kv.value().is_null())
          cur.as_object().erase(kv.key());
        else
          cur.as_object()[kv.key()] = kv.value();
      }
    }
    return reply(200, json::serialize(it->second));
  }
  if (method == "POST" && ident != std::string::npos) {
    if (it == users_.end()) return error(404, "Not Found", "The user does not exist.", "inexistent_user");
    auto b = json::parse(body).as_object();
    std::string sec;
    if (auto* lw = b.if_contains("link_with")) {
      (void)lw;
      return error(400, "Bad Request", "Invalid token (link_with).");
    }
    const auto provider = json::value_to<std::string>(b.at("provider"));
    const auto uid = json::value_to<std::string>(b.at("user_id"));
    sec = uid.rfind(provider + "|", 0) == 0 ? uid : provider + "|" + uid;
    if (sec == id) return error(400, "Bad Request", "Main identity and the new one are the same.");
    auto s = users_.find(sec);
    if (s == users_.end()) {
      for (const auto& i : it->second.at("identities").as_array())
        if (provider + "|" + json::value_to<std::string>(i.at("user_id")) == sec)
          return error(409, "Conflict", "Specified identity already exists.");
      return error(400, "Bad Request", "Provided secondary account not found.");
    }
    auto& ids = it->second["identities"].as_array();
    for (auto& i : s->second.at("identities").as_array()) {
      auto copy = i.as_object();
      copy["profileData"] = json::object{{"email", s->second.at("email")},
                                         {"email_verified", s->second.at("email_verified")},
                                         {"name", s->second.at("name")},
                                         {"nickname", "nick"}};
      ids.push_back(copy);
    }
    users_.erase(s);
    return reply(201, json::serialize(ids));
  }
  if (method == "DELETE" && ident != std::string::npos) {
    if (it == users_.end()) return error(404, "Not Found", "The user does not exist.", "inexistent_user");
    auto tail = rest.substr(ident + std::string("/identities/").size());
    auto slash = tail.find('/');
    auto provider = tail.substr(0, slash), uid = tail.substr(slash + 1);
    auto& ids = it->second["identities"].as_array();
    for (auto i = ids.begin(); i != ids.end(); ++i)
      if (i->at("provider") == provider.c_str() && json::value_to<std::string>(i->at("user_id")) == uid) {
        if (i == ids.begin()) return error(400, "Bad Request", "Main identity cannot be removed.");
        auto revived = json::object{
            {"user_id", provider + "|" + uid}, {"email", "x@example.com"}, {"email_verified", false}, {"name", uid}};
        auto copy = i->as_object();
        copy.erase("profileData");
        revived["identities"] = json::array{copy};
        ids.erase(i);
        users_[provider + "|" + uid] = std::move(revived);
        return reply(200, json::serialize(users_.at(id).at("identities")));
      }
    return reply(200, json::serialize(ids));
  }
  return error(404, "Not Found", "no route");
}

}  // namespace a0::test
