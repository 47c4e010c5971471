// PUT /__emulator/behaviour: the answers Auth0's documents leave open, each way.
#include "helpers.hpp"

using namespace emutest;

namespace {
const std::string k_link = "/api/v2/users/auth0%7Cprimary1/identities";
const std::string k_body = R"({"provider":"auth0","user_id":"secondary1"})";
}  // namespace

TEST_CASE("behaviour: defaults, a partial PUT keeps the rest, bad values are refused and change nothing") {
  harness h;
  auto now = h.emu.client().request("GET", "/__emulator/behaviour");
  REQUIRE(now.status == 200);
  CHECK(json::serialize(now.json()) ==
        R"({"relink":"409","nested_nulls":"keep","wrong_secret":"invalid_client","custom_domain":null})");
  h.emu.set_behaviour({{"relink", "400"}});
  for (auto bad :
       {R"({"relink":"401"})", R"({"nested_nulls":true})", R"({"custom_domain":1})", R"({"other":1})", R"([1])"}) {
    INFO(bad);
    CHECK(h.emu.client().request("PUT", "/__emulator/behaviour", bad).status == 400);
  }
  CHECK(h.emu.client().request("GET", "/__emulator/behaviour").json().at("relink") == "400");
  h.emu.reset();  // kept across reset, like fault rules
  CHECK(h.emu.client().request("GET", "/__emulator/behaviour").json().at("relink") == "400");
}

TEST_CASE("behaviour relink: a linked secondary is 409 by default, 400 \"secondary account not found\" when switched") {
  harness h;
  REQUIRE(h.call("POST", k_link, k_body).status == 201);
  check_error(h.call("POST", k_link, k_body), 409, "Specified identity already exists.", "identity_conflict");
  h.emu.set_behaviour({{"relink", "400"}});
  check_error(h.call("POST", k_link, k_body), 400, "Provided secondary account not found.", "invalid_body");
}

TEST_CASE("behaviour nested_nulls: PATCH keeps nested nulls, or drops them (top-level null still deletes)") {
  const std::string target = "/api/v2/users/auth0%7Cprimary1";
  const std::string body =
      R"({"user_metadata":{"color":null,"nested":{"a":null,"b":{"c":null,"d":1}},"list":[null,{"e":null}]}})";
  for (auto mode : {"keep", "drop"}) {
    INFO(mode);
    harness h;
    h.emu.set_behaviour({{"nested_nulls", mode}});
    auto r = h.call("PATCH", target, body);
    REQUIRE(r.status == 200);
    const auto md = r.json().at("user_metadata").as_object();
    CHECK_FALSE(md.contains("color"));
    CHECK(md.at("keep") == 1);
    if (std::string(mode) == "keep") {
      CHECK(json::serialize(md.at("nested")) == R"({"a":null,"b":{"c":null,"d":1}})");
      CHECK(json::serialize(md.at("list")) == R"([null,{"e":null}])");
    } else {
      CHECK(json::serialize(md.at("nested")) == R"({"b":{"d":1}})");
      CHECK(json::serialize(md.at("list")) == R"([null,{}])");
    }
  }
}

TEST_CASE("behaviour wrong_secret: 401 invalid_client by default, 401 access_denied \"Unauthorized\" as real tenants") {
  harness h;
  const std::string form = "grant_type=client_credentials&client_id=full-client&client_secret=nope&audience=https://" +
                           h.emu.domain() + "/api/v2/";
  auto post = [&] {
    return h.http.request("POST", "/oauth/token", form, {{"content-type", "application/x-www-form-urlencoded"}});
  };
  auto r = post();
  CHECK(r.status == 401);
  CHECK(r.json().at("error") == "invalid_client");
  h.emu.set_behaviour({{"wrong_secret", "access_denied"}});
  r = post();
  CHECK(r.status == 401);
  CHECK(json::serialize(r.json()) == R"({"error":"access_denied","error_description":"Unauthorized"})");
}

TEST_CASE(
    "behaviour custom_domain: ID tokens it issues are accepted as link_with, the API audience stays the tenant's") {
  harness h;
  const auto token = h.emu.id_token({{"user_id", "auth0|secondary1"}, {"iss", "https://login.custom.example/"}});
  const auto body = json::serialize(json::object{{"link_with", token}});
  check_error(h.call("POST", k_link, body), 400, "JWT (link_with) issuer must match the tenant's.", "invalid_body");
  h.emu.set_behaviour({{"custom_domain", "login.custom.example"}});
  CHECK(h.call("POST", k_link, body).status == 201);
  // No token for https://CUSTOM/api/v2/: the Management API keeps its canonical identifier.
  const std::string form =
      "grant_type=client_credentials&client_id=full-client&client_secret=full-secret"
      "&audience=https://login.custom.example/api/v2/";
  auto r = h.http.request("POST", "/oauth/token", form, {{"content-type", "application/x-www-form-urlencoded"}});
  CHECK(r.status == 403);
  CHECK(r.json().at("error") == "access_denied");
}
