// POST /oauth/token error bodies (auth0-api.md §5) and the audience rules of tokens.
#include "helpers.hpp"

using namespace emutest;

namespace {
http_result post_form(harness& h, const std::string& body,
                      std::vector<std::pair<std::string, std::string>> extra = {}) {
  extra.emplace_back("content-type", "application/x-www-form-urlencoded");
  return h.http.request("POST", "/oauth/token", body, extra);
}
std::string form(const std::string& id, const std::string& secret, const std::string& aud) {
  return "grant_type=client_credentials&client_id=" + id + "&client_secret=" + secret + "&audience=" + aud;
}
/// The OAuth error body, exactly: these two keys and nothing else.
void check_oauth(const http_result& r, unsigned status, const std::string& error, const std::string& description) {
  INFO("body: " << r.body);
  CHECK(r.status == status);
  CHECK(r.header("content-type") == "application/json; charset=utf-8");
  CHECK(r.json() == json::value(json::object{{"error", error}, {"error_description", description}}));
}
std::string own_audience(const harness& h) { return "https://" + h.emu.domain() + "/api/v2/"; }
}  // namespace

TEST_CASE("token: every documented error body, exactly") {
  harness h;
  const auto aud = own_audience(h);
  check_oauth(post_form(h, "grant_type=client_credentials&client_secret=full-secret&audience=" + aud), 401,
              "invalid_client", "Client authentication failed");
  check_oauth(post_form(h, "grant_type=client_credentials&client_id=full-client&audience=" + aud), 401,
              "invalid_client", "Client authentication failed");
  check_oauth(post_form(h, form("full-client", "wrong", aud)), 401, "invalid_client", "Client authentication failed");
  check_oauth(post_form(h, form("nobody", "full-secret", aud)), 401, "invalid_client", "Client authentication failed");
  check_oauth(post_form(h, "grant_type=client_credentials&client_id=full-client&client_secret=full-secret"), 403,
              "access_denied", "No audience parameter was provided, and no default audience has been configured");
  check_oauth(
      post_form(h, form("full-client", "full-secret", "https://elsewhere.example/api/v2/")), 403, "access_denied",
      "Client is not authorized to access \"https://elsewhere.example/api/v2/\". You need to create a "
      "\"client-grant\" associated to this API. See: https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants");
  check_oauth(post_form(h, "grant_type=password&client_id=full-client&client_secret=full-secret&audience=" + aud), 400,
              "unsupported_grant_type", "Unsupported grant type: password");
  check_oauth(post_form(h, "client_id=full-client&client_secret=full-secret&audience=" + aud), 400, "invalid_request",
              "Missing required parameter: grant_type");
  check_oauth(h.http.request("POST", "/oauth/token", "[1,2]"), 400, "invalid_request", "Invalid request body");

  // A client without the client_credentials grant (Auth0's grant_types).
  auto seed = read_json(test_seed());
  seed.as_object()["clients"].as_array().push_back(json::object{{"client_id", "spa-client"},
                                                                {"client_secret", "spa-secret"},
                                                                {"grant_types", json::array{"authorization_code"}}});
  h.emu.seed(seed);
  check_oauth(post_form(h, form("spa-client", "spa-secret", aud)), 403, "unauthorized_client",
              "Grant type 'client_credentials' not allowed for the client.");
  CHECK(post_form(h, form("full-client", "full-secret", aud)).status == 200);  // the default grant
}

TEST_CASE("token: the API's audiences are its own, never taken from the Host header") {
  harness h;
  const auto port = std::to_string(h.emu.port());
  for (std::string aud : {own_audience(h), "https://localhost:" + port + "/api/v2/",
                          std::string("https://test-tenant.auth0.local/api/v2/")}) {
    auto r = post_form(h, form("full-client", "full-secret", aud));
    REQUIRE_MESSAGE(r.status == 200, aud);
    const std::string tok(obj(r).at("access_token").as_string());
    CHECK_MESSAGE(h.call("GET", "/api/v2/users/auth0%7Cprimary1", {}, tok).status == 200, aud);
  }
  // A client's own audience (its API identifier in the seed), for that client only.
  CHECK(post_form(h, form("aud-client", "aud-secret", "https://custom.example/api/v2/")).status == 200);
  CHECK(post_form(h, form("full-client", "full-secret", "https://custom.example/api/v2/")).status == 403);

  // Whatever Host a client sends, its name is no audience of the emulator.
  const auto evil = "https://evil.example:" + port + "/api/v2/";
  check_oauth(post_form(h, form("full-client", "full-secret", evil), {{"Host", "evil.example:" + port}}), 403,
              "access_denied",
              "Client is not authorized to access \"" + evil +
                  "\". You need to create a \"client-grant\" associated to this API. See: "
                  "https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants");
}

TEST_CASE("bearer: a token minted for another audience is refused with 401 Bad audience") {
  harness h;
  auto seed = read_json(test_seed());
  // A token for the tenant's domain audience; then the tenant moves to another domain.
  const std::string old_aud = "https://test-tenant.auth0.local/api/v2/";
  auto r = post_form(h, form("full-client", "full-secret", old_aud));
  REQUIRE(r.status == 200);
  const std::string old_tok(obj(r).at("access_token").as_string());
  const std::string custom_tok = [&] {
    auto c = post_form(h, form("aud-client", "aud-secret", "https://custom.example/api/v2/"));
    REQUIRE(c.status == 200);
    return std::string(obj(c).at("access_token").as_string());
  }();
  CHECK(h.call("GET", "/api/v2/users/auth0%7Cprimary1", {}, custom_tok).status == 200);

  seed.as_object()["domain"] = "moved-tenant.auth0.local";
  for (auto& c : seed.as_object()["clients"].as_array()) c.as_object().erase("audience");
  h.emu.seed(seed);
  auto refused = h.call("GET", "/api/v2/users/auth0%7Cprimary1", {}, old_tok);
  INFO(refused.body);
  CHECK(refused.status == 401);
  CHECK(refused.json() == json::parse(R"({"statusCode":401,"error":"Unauthorized","message":"Bad audience: )" +
                                      old_aud + R"(","attributes":{"error":"Bad audience: )" + old_aud + R"("}})"));
  // The client no longer declares its custom audience: its token is for another API now.
  check_error(h.call("GET", "/api/v2/users/auth0%7Cprimary1", {}, custom_tok), 401,
              "Bad audience: https://custom.example/api/v2/");
  // Tokens for the emulator's own address keep working across seeds.
  CHECK(h.call("GET", "/api/v2/users/auth0%7Cprimary1").status == 200);
}
