// Unit tests of the plugin's own input validation (WFA-10) and output shaping.
#include "actions/errors.hpp"
#include "actions/requests.hpp"
#include "actions/shaping.hpp"
#include "actions/user_ids.hpp"

#include <boost/json/parse.hpp>
#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace a0::actions;
namespace json = boost::json;

namespace {
json::object obj(std::string_view s) { return json::parse(s).as_object(); }
std::string link_error(std::string_view options, std::string_view inputs) {
  try {
    parse_link(obj(options), obj(inputs));
  } catch (const input_error& e) {
    return e.what();
  }
  return "";
}
constexpr std::string_view k_merge = R"({"merge_metadata":true})";
// {"alg":"RS256","kid":"k"}.{"sub":"auth0|tok123"}.sig: well-formed, not verified yet
constexpr std::string_view k_jwt = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.eyJzdWIiOiJhdXRoMHx0b2sxMjMifQ.c2ln";
std::string token_inputs(std::string_view token) {
  return std::string(R"({"primary_user_id":"auth0|p","secondary_token":")") + std::string(token) + "\"}";
}
}  // namespace

TEST_CASE("user ids split at the first pipe only and keep the rest whole") {
  auto s = split_user_id("samlp|NeoLink|40813347");
  REQUIRE(s);
  CHECK(s->provider == "samlp");
  CHECK(s->rest == "NeoLink|40813347");
  CHECK_FALSE(split_user_id("nopipe"));
  CHECK_FALSE(split_user_id("|x"));
  CHECK_FALSE(split_user_id("auth0|"));
}

TEST_CASE("secondary resolution: bare, full, derived, mismatched") {
  CHECK(resolve_secondary("auth0|abc", "").full() == "auth0|abc");
  CHECK(resolve_secondary("abc", "auth0").full() == "auth0|abc");
  CHECK(resolve_secondary("auth0|abc", "auth0").bare == "abc");
  // A bare enterprise id with pipes stays whole.
  auto saml = resolve_secondary("NeoLink|40813347", "samlp");
  CHECK(saml.provider == "samlp");
  CHECK(saml.bare == "NeoLink|40813347");
  CHECK(resolve_secondary("samlp|NeoLink|40813347", "").bare == "NeoLink|40813347");
  CHECK_THROWS_WITH_AS(resolve_secondary("google-oauth2|1", "auth0"),
                       doctest::Contains("full id of provider 'google-oauth2'"), input_error);
  CHECK_THROWS_WITH_AS(resolve_secondary("abc", ""), doctest::Contains("secondary_provider"), input_error);
  CHECK_THROWS_WITH_AS(resolve_secondary("abc", "myspace"), doctest::Contains("not a provider"), input_error);
  CHECK(is_known_provider("google-oauth2"));
  CHECK_FALSE(is_known_provider("Auth0"));
}

TEST_CASE("link-account validation names the field") {
  CHECK(link_error(k_merge, R"({"primary_user_id":"auth0|p","secondary_user_id":"auth0|s"})") == "");
  CHECK(link_error("{}", R"({"primary_user_id":"auth0|p","secondary_user_id":"auth0|s"})").find("merge_metadata") == 0);
  CHECK(link_error(R"({"merge_metadata":"yes"})", R"({"primary_user_id":"auth0|p","secondary_user_id":"auth0|s"})")
            .find("merge_metadata") == 0);
  CHECK(link_error(k_merge, R"({"secondary_user_id":"auth0|s"})").find("primary_user_id") == 0);
  CHECK(link_error(k_merge, R"({"primary_user_id":"","secondary_user_id":"auth0|s"})").find("primary_user_id") == 0);
  CHECK(link_error(k_merge, R"({"primary_user_id":"p","secondary_user_id":"auth0|s"})").find("primary_user_id") == 0);
  CHECK(link_error(k_merge, R"({"primary_user_id":42,"secondary_user_id":"auth0|s"})").find("primary_user_id") == 0);
  CHECK(link_error(k_merge, R"({"primary_user_id":"auth0|p"})").find("secondary_user_id") == 0);
  CHECK(link_error(k_merge, R"({"primary_user_id":"auth0|p","secondary_user_id":"auth0|p"})")
            .find("cannot be linked to itself") != std::string::npos);
  CHECK(link_error(k_merge, R"({"primary_user_id":"auth0|p","secondary_user_id":"p","secondary_provider":"auth0"})")
            .find("itself") != std::string::npos);
  CHECK(
      link_error(k_merge,
                 R"({"primary_user_id":"auth0|p","secondary_user_id":"auth0|s","secondary_connection_id":"con_short"})")
          .find("secondary_connection_id") == 0);
  CHECK(
      link_error(
          k_merge,
          R"({"primary_user_id":"auth0|p","secondary_user_id":"auth0|s","secondary_connection_id":"con_ftSSLHb0O7rcUGmF"})") ==
      "");
  CHECK(link_error(k_merge, R"({"primary_user_id":"auth0|p","secondary_user_id":"auth0|s","extra":1})")
            .find("inputs.extra") == 0);
  CHECK(link_error(R"({"merge_metadata":true,"typo":1})",
                   R"({"primary_user_id":"auth0|p","secondary_user_id":"auth0|s"})")
            .find("options.typo") == 0);
  CHECK(link_error(R"({"merge_metadata":true,"dry_run":1})",
                   R"({"primary_user_id":"auth0|p","secondary_user_id":"auth0|s"})")
            .find("dry_run") == 0);
  CHECK(link_error(R"({"merge_metadata":true,"arrays":"zip"})",
                   R"({"primary_user_id":"auth0|p","secondary_user_id":"auth0|s"})")
            .find("arrays") != std::string::npos);
  CHECK(link_error(R"({"merge_metadata":true,"merge_exclude":["/profile"]})",
                   R"({"primary_user_id":"auth0|p","secondary_user_id":"auth0|s"})") != "");
}

TEST_CASE("secondary_token is exclusive and identifies the secondary by its sub") {
  auto r = parse_link(obj(k_merge), obj(std::string(R"({"primary_user_id":"auth0|p","secondary_token":")") +
                                        std::string(k_jwt) + "\"}"));
  CHECK(r.secondary_full_id == "auth0|tok123");
  CHECK_FALSE(r.secondary);
  const std::string both =
      std::string(R"({"primary_user_id":"auth0|p","secondary_user_id":"auth0|s","secondary_token":")") +
      std::string(k_jwt) + "\"}";
  CHECK(link_error(k_merge, both).find("secondary_user_id: must not be given together") == 0);
  const std::string bad = R"({"primary_user_id":"auth0|p","secondary_token":"not-a-jwt"})";
  CHECK(link_error(k_merge, bad).find("secondary_token") == 0);
  CHECK(link_error(k_merge, bad).find("not-a-jwt") == std::string::npos);  // never echoed
  // Refused by structure alone (no key needed): alg none, HS256, a sub that is no full id.
  CHECK(link_error(k_merge, token_inputs("eyJhbGciOiJub25lIiwia2lkIjoiayJ9.eyJzdWIiOiJhdXRoMHwyMjIifQ.c2ln")) ==
        "secondary_token: alg 'none' is not accepted (RS256 only)");
  CHECK(link_error(k_merge, token_inputs("eyJhbGciOiJIUzI1NiIsImtpZCI6ImsifQ.eyJzdWIiOiJhdXRoMHx0b2sxMjMifQ.c2ln")) ==
        "secondary_token: alg 'HS256' is not accepted (RS256 only)");
  CHECK(link_error(k_merge, token_inputs("eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.eyJzdWIiOiJub3BpcGUifQ.c2ln")) ==
        "secondary_token: has no 'sub' claim with a full user id");
  CHECK(link_error(k_merge, token_inputs("eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.eyJzdWIiOiJhdXRoMHx0b2sxMjMifQ.c2ln=")) ==
        "secondary_token: is not a JWT (its signature is not base64url)");
  // The unverified sub still refuses a self-link before anything is sent.
  CHECK(link_error(k_merge,
                   std::string(R"({"primary_user_id":"auth0|tok123","secondary_token":")") + std::string(k_jwt) + "\"}")
            .find("itself") != std::string::npos);
}

TEST_CASE("unlink, get-user and update-user-metadata validation") {
  CHECK_THROWS_WITH_AS(parse_unlink({}, obj(R"({"primary_user_id":"auth0|p"})")),
                       doctest::Contains("secondary_user_id"), input_error);
  CHECK_THROWS_AS(parse_unlink({}, obj(R"({"primary_user_id":"auth0|p","secondary_user_id":"auth0|p"})")), input_error);
  CHECK(parse_unlink({}, obj(R"({"primary_user_id":"auth0|p","secondary_user_id":"samlp|C|x"})")).secondary.bare ==
        "C|x");
  CHECK_THROWS_WITH_AS(parse_get_user({}, obj(R"({"user_id":""})")), doctest::Contains("user_id"), input_error);
  // user_id is a full id like primary_user_id: "." and ".." would be dot segments in the path.
  for (auto bad : {".", "..", "abc", "|x", "auth0|"}) {
    CAPTURE(bad);
    const auto in = json::object{{"user_id", bad}};
    CHECK_THROWS_WITH_AS(parse_get_user({}, in), "user_id: must be a full user id 'provider|id', e.g. auth0|abc",
                         input_error);
    auto upd = in;
    upd["user_metadata"] = json::object{{"a", 1}};
    CHECK_THROWS_WITH_AS(parse_update_metadata({}, upd),
                         "user_id: must be a full user id 'provider|id', e.g. auth0|abc", input_error);
  }
  CHECK(parse_get_user({}, obj(R"({"user_id":"samlp|Conn|x"})")).user_id == "samlp|Conn|x");
  // The secondary identity id is the last path segment of the unlink DELETE.
  CHECK_THROWS_WITH_AS(
      parse_unlink({}, obj(R"({"primary_user_id":"auth0|p","secondary_user_id":"..","secondary_provider":"auth0"})")),
      "secondary_user_id: '..' is not a user id", input_error);
  CHECK_THROWS_WITH_AS(parse_unlink({}, obj(R"({"primary_user_id":"auth0|p","secondary_user_id":"auth0|."})")),
                       "secondary_user_id: '.' is not a user id", input_error);
  CHECK(parse_unlink({},
                     obj(R"({"primary_user_id":"auth0|p","secondary_user_id":"Conn|..","secondary_provider":"samlp"})"))
            .secondary.bare == "Conn|..");
  CHECK_THROWS_WITH_AS(parse_get_user({}, obj(R"({"user_id":"auth0|x","fields":["a,b"]})")),
                       doctest::Contains("fields"), input_error);
  CHECK(parse_get_user({}, obj(R"({"user_id":"auth0|x","fields":["email","user_id"]})")).fields.size() == 2);
  CHECK_THROWS_WITH_AS(parse_update_metadata({}, obj(R"({"user_id":"auth0|x","user_metadata":{}})")),
                       doctest::Contains("wipes"), input_error);
  CHECK_THROWS_WITH_AS(parse_update_metadata({}, obj(R"({"user_id":"auth0|x","user_metadata":{"a.b":1}})")),
                       doctest::Contains("'a.b'"), input_error);
  CHECK_THROWS_WITH_AS(parse_update_metadata({}, obj(R"({"user_id":"auth0|x","user_metadata":{"ok":{"$set":1}}})")),
                       doctest::Contains("/user_metadata/ok"), input_error);
  CHECK_THROWS_WITH_AS(parse_update_metadata({}, obj(R"({"user_id":"auth0|x","user_metadata":{"ok":[{"x.y":1}]}})")),
                       doctest::Contains("'x.y'"), input_error);
  CHECK(parse_update_metadata({}, obj(R"({"user_id":"auth0|x","user_metadata":{"color":"a.b$"}})"))
            .user_metadata.at("color") == "a.b$");
}

TEST_CASE("identities are shaped: string user ids, eight profile keys, IdP tokens only when allowed") {
  auto ids = json::parse(R"([{"provider":"github","user_id":12345,"connection":"github","isSocial":true,
     "access_token":"at","refresh_token":"rt","access_token_secret":"ats","extra":1,
     "profileData":{"email":"a@b","email_verified":true,"nickname":"n","picture":"p","phone_verified":"yes"}}])")
                 .as_array();
  auto out = shape_identities(ids, false);
  REQUIRE(out.size() == 1);
  const auto& i = out[0].as_object();
  CHECK(i.at("user_id") == "12345");
  CHECK_FALSE(i.contains("access_token"));
  CHECK_FALSE(i.contains("refresh_token"));
  CHECK_FALSE(i.contains("access_token_secret"));
  CHECK_FALSE(i.contains("extra"));
  CHECK(i.at("profileData").as_object().size() == 2);  // email, email_verified; wrong-typed dropped
  auto with = shape_identities(ids, true);
  CHECK(with[0].as_object().at("access_token") == "at");
  CHECK(with[0].as_object().at("access_token_secret") == "ats");
  CHECK(has_identity(ids, "github", "12345"));
  CHECK_FALSE(has_identity(ids, "github", "1234"));
}

namespace {
// Every provider list in a manifest: the enums of secondary_provider and the alternations
// "(a|b|...)\\|" inside patterns.
void provider_lists(const boost::json::value& v, std::vector<std::set<std::string>>& out) {
  if (const auto* o = v.if_object()) {
    for (const auto& kv : *o) {
      if (kv.key() == "secondary_provider" && kv.value().is_object())
        if (const auto* e = kv.value().get_object().if_contains("enum")) {
          std::set<std::string> names;
          for (const auto& n : e->as_array()) names.insert(std::string(n.as_string()));
          out.push_back(std::move(names));
        }
      if (kv.key() == "pattern" && kv.value().is_string()) {
        const std::string p(kv.value().get_string());
        const auto at = p.find("(ad|");
        if (at == std::string::npos) continue;
        const auto end = p.find(')', at);
        std::set<std::string> names;
        std::stringstream alts(p.substr(at + 1, end - at - 1));
        for (std::string n; std::getline(alts, n, '|');) names.insert(n);
        out.push_back(std::move(names));
      }
      provider_lists(kv.value(), out);
    }
  } else if (const auto* a = v.if_array()) {
    for (const auto& e : *a) provider_lists(e, out);
  }
}
}  // namespace

TEST_CASE("the manifests' provider enums and id patterns list exactly the providers the plugin accepts") {
  const auto known = a0::actions::known_providers();
  const std::set<std::string> plugin(known.begin(), known.end());
  CHECK(plugin.size() == known.size());
  int lists = 0;
  for (const char* name : {"auth0.link-account.json", "auth0.unlink-account.json"}) {
    INFO(name);
    std::ifstream in(std::string(A0_MANIFEST_DIR) + "/" + name);
    REQUIRE(in);
    std::stringstream ss;
    ss << in.rdbuf();
    std::vector<std::set<std::string>> found;
    provider_lists(boost::json::parse(ss.str()), found);
    CHECK(found.size() >= 3);  // the enum and the two patterns of each
    for (const auto& f : found) CHECK(f == plugin);
    lists += static_cast<int>(found.size());
  }
  CHECK(lists >= 6);
}
