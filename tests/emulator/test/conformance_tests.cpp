// Conformance: the recorded exchanges with a real Auth0 tenant (tests/fixtures/recorded,
// go-auth0 v1.45.0 cassettes) replayed in order against the emulator. Ids created on the
// way are mapped recorded -> emulated; timestamps are normalised; statuses and bodies must match.
#include "helpers.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

using namespace emutest;

namespace {

const std::string k_host = "https://go-auth0-dev.eu.auth0.com";

json::value load(const std::string& name) {
  std::ifstream in(std::string(A0_RECORDED_DIR) + "/" + name + ".json");
  REQUIRE_MESSAGE(in, "missing recorded fixture " << name);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

std::string replace_all(std::string s, const std::map<std::string, std::string>& ids) {
  for (auto& [from, to] : ids)
    for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
      s.replace(pos, from.size(), to);
  return s;
}

void normalise(json::value& v) {
  if (v.is_object()) {
    for (auto& kv : v.get_object()) {
      const auto k = kv.key();
      if (k == "created_at" || k == "updated_at" || k == "last_password_reset" || k == "deleted_at")
        kv.value() = "<timestamp>";
      else
        normalise(kv.value());
    }
    if (auto it = v.get_object().find("connections"); it != v.get_object().end() && it->value().is_array()) {
      auto& a = it->value().get_array();
      std::sort(a.begin(), a.end(), [](const json::value& x, const json::value& y) {
        return json::serialize(x.at("id")) < json::serialize(y.at("id"));
      });
    }
  } else if (v.is_array()) {
    for (auto& e : v.get_array()) normalise(e);
  }
}

json::object connection_from(const std::string& fixture, std::size_t interaction) {
  auto f = load(fixture);
  return f.at("interactions").at(interaction).at("response").at("body").at("connections").at(0).as_object();
}

void replay(const std::string& name, const json::array& connections) {
  a0::test::emulator emu("");
  emu.seed(json::object{
      {"domain", "go-auth0-dev.eu.auth0.com"},
      {"clients", json::array{json::object{{"client_id", "conformance"}, {"client_secret", "conf-secret"}}}},
      {"connections", connections}});
  const auto tok = emu.token("conformance", "conf-secret");
  auto http = emu.client();
  std::map<std::string, std::string> ids;
  auto f = load(name);
  int n = 0;
  for (auto& inter : f.at("interactions").as_array()) {
    ++n;
    auto& rq = inter.at("request").as_object();
    auto& rs = inter.at("response").as_object();
    std::string url(rq.at("url").as_string());
    REQUIRE(url.rfind(k_host, 0) == 0);
    const std::string target = replace_all(url.substr(k_host.size()), ids);
    const std::string body = rq.at("body").is_null() ? std::string{} : replace_all(json::serialize(rq.at("body")), ids);
    const std::string method(rq.at("method").as_string());
    auto got =
        http.request(method, target, body, {{"Authorization", "Bearer " + tok}, {"Content-Type", "application/json"}});
    INFO(name << " #" << n << " " << method << " " << target << "\n  got: " << got.body);
    const auto want_status = rs.at("status").to_number<unsigned>();
    CHECK(got.status == want_status);
    if (rs.at("body").is_null()) {
      CHECK(got.body.empty());
      continue;
    }
    CHECK(got.header("content-type") == "application/json; charset=utf-8");
    auto have = json::parse(got.body);
    // Learn the ids this step created (users and connections), then compare.
    if (method == "POST" && want_status == 201 && rs.at("body").is_object()) {
      auto& rb = rs.at("body").as_object();
      if (rb.contains("user_id")) {
        const std::string r(rb.at("user_id").as_string()), e(have.at("user_id").as_string());
        ids[r.substr(r.find('|') + 1)] = e.substr(e.find('|') + 1);
      } else if (rb.contains("id")) {
        ids[std::string(rb.at("id").as_string())] = std::string(have.at("id").as_string());
      }
    }
    auto want = json::parse(replace_all(json::serialize(rs.at("body")), ids));
    normalise(want);
    normalise(have);
    CHECK_MESSAGE(have == want, "want: " << json::serialize(want));
  }
}

json::array link_tenant_connections() { return json::array{connection_from("TestUserManager_Link", 2)}; }

}  // namespace

TEST_CASE("conformance: TestUserManager_Read") { replay("TestUserManager_Read", link_tenant_connections()); }
TEST_CASE("conformance: TestUserManager_Update") { replay("TestUserManager_Update", link_tenant_connections()); }
TEST_CASE("conformance: TestUserManager_Delete") { replay("TestUserManager_Delete", link_tenant_connections()); }
TEST_CASE("conformance: TestUserManager_Link") { replay("TestUserManager_Link", link_tenant_connections()); }
TEST_CASE("conformance: TestUserManager_Unlink") { replay("TestUserManager_Unlink", link_tenant_connections()); }
TEST_CASE("conformance: TestConnectionManager_List") {
  // The 2024 tenant of this cassette had four other connections (only their ids are recorded).
  json::array conns;
  for (auto id : {"con_7Xp23hOsnh7EQXTE", "con_NwYK1fgcPuPaFAgr", "con_WtSg8alXaOqmWHxI", "con_mTJBC8YsDRafWFmB"})
    conns.push_back(json::object{{"id", id}, {"name", std::string("conn-") + id}, {"strategy", "auth0"}});
  replay("TestConnectionManager_List", conns);
}
