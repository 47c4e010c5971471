// Rate-limit headers on every answer (fault answers and routes no bucket covers included),
// the 429s of both APIs and their x-ratelimit-reset.
#include "helpers.hpp"

#include <chrono>

using namespace emutest;

namespace {
const std::string k_user = "/api/v2/users/auth0%7Cprimary1";

long long now_epoch() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

struct rate_headers {
  long long limit = -1, remaining = -1, reset = -1;
};

/// The three headers are there, are numbers and make sense together; returns them.
rate_headers check_rate_headers(const http_result& r, const std::string& what) {
  INFO(what << " -> " << r.status << " " << r.body);
  rate_headers h;
  for (auto name : {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"}) {
    const auto v = r.header(name);
    REQUIRE_MESSAGE(!v.empty(), name << " missing");
    std::size_t used = 0;
    const long long n = std::stoll(v, &used);
    REQUIRE_MESSAGE(used == v.size(), name << " not a number: " << v);
    (std::string_view(name) == "x-ratelimit-limit"       ? h.limit
     : std::string_view(name) == "x-ratelimit-remaining" ? h.remaining
                                                         : h.reset) = n;
  }
  CHECK(h.limit >= 1);
  CHECK(h.remaining >= 0);
  CHECK(h.remaining <= h.limit);
  // Epoch seconds: not in the past, and no later than an empty bucket without refill reports.
  CHECK(h.reset >= now_epoch() - 1);
  CHECK(h.reset <= now_epoch() + 3601);
  return h;
}

/// One answer of every kind the emulator gives; each must carry the three headers.
void every_kind_of_answer(harness& h) {
  const auto tok = h.bearer();
  auto expect = [&](const http_result& r, unsigned status, const std::string& what) {
    CHECK_MESSAGE(r.status == status, what << ": " << r.body);
    return check_rate_headers(r, what);
  };
  expect(h.get(k_user), 200, "GET user");
  auto created =
      h.call("POST", "/api/v2/users", R"({"connection":"Username-Password-Authentication","email":"rl@example.com"})");
  expect(created, 201, "POST user");
  expect(h.call("DELETE", "/api/v2/users/" + std::string(obj(created).at("user_id").as_string())), 204, "DELETE user");
  expect(h.call("POST", k_user + "/identities", "{}"), 400, "link, empty body");
  expect(h.call("GET", k_user, {}, ""), 401, "no token");
  expect(h.call("GET", "/api/v2/connections", {}, h.token("read-client")), 403, "scope");
  expect(h.get("/api/v2/users/auth0%7Cnobody"), 404, "unknown user");
  expect(h.get("/nothing/here"), 404, "unknown route");
  expect(h.get("/api/v2/connections"), 200, "connections");
  REQUIRE(h.call("POST", k_user + "/identities", R"({"provider":"auth0","user_id":"secondary1"})").status == 201);
  expect(h.call("POST", k_user + "/identities", R"({"provider":"auth0","user_id":"secondary1"})"), 409, "re-link");
  const auto aud = "https://" + h.emu.domain() + "/api/v2/";
  expect(h.http.request("POST", "/oauth/token",
                        json::serialize(json::object{{"grant_type", "client_credentials"},
                                                     {"client_id", "full-client"},
                                                     {"client_secret", "full-secret"},
                                                     {"audience", aud}})),
         200, "token");
  expect(h.http.request("POST", "/oauth/token", R"({"grant_type":"client_credentials","client_id":"nobody"})"), 401,
         "token error");
  const auto id = h.emu.add_fault({{"path", "/api/v2/users/*"}, {"action", "status"}, {"status", 503}, {"times", 1}});
  expect(h.get(k_user), 503, "status fault");
  h.emu.remove_fault(id);
  h.emu.add_fault({{"path", "/api/v2/users/*"}, {"action", "rate_limit"}, {"times", 1}});
  expect(h.get(k_user), 429, "rate_limit fault");
  h.emu.set_bucket("tiny", 1, 0, {{"path", "/api/v2/connections"}});
  expect(h.get("/api/v2/connections"), 200, "last token of a bucket");
  expect(h.get("/api/v2/connections"), 429, "empty bucket");
  h.emu.remove_bucket("tiny");
  (void)tok;
}
}  // namespace

TEST_CASE("rate headers: every kind of answer carries them, with the default buckets") {
  harness h;
  every_kind_of_answer(h);
}

TEST_CASE("rate headers: a seed with one bucket, routes it does not cover fall under the default bucket") {
  harness h;
  auto seed = read_json(test_seed());
  seed.as_object()["rate_limits"] =
      json::parse(R"([{"name":"read-users","burst":40,"per_second":8,"path":"/api/v2/users/*","methods":["GET"]}])");
  h.emu.seed(seed);
  auto r = h.get(k_user);
  auto v = check_rate_headers(r, "GET user");
  CHECK(v.limit == 40);
  CHECK(v.remaining == 39);
  // Not covered by the seed's bucket: the built-in fallback (generous) reports.
  v = check_rate_headers(h.get("/api/v2/connections"), "connections");
  CHECK(v.limit == 100000);
  auto rl = h.emu.dump().at("rate_limits").as_array();
  REQUIRE(rl.size() == 2);
  CHECK(rl[1].at("name").as_string() == "default");
  CHECK(rl[1].at("fallback").as_bool());
  every_kind_of_answer(h);
  CHECK_THROWS(h.emu.set_bucket("default", 5, 5));  // reserved for the fallback
}

TEST_CASE("rate headers: a status fault reports and takes a token of its bucket, a rate_limit fault takes none") {
  harness h;
  h.bearer();
  h.emu.set_bucket("management", 5, 0);
  CHECK(h.get(k_user).header("x-ratelimit-remaining") == "4");
  h.emu.add_fault({{"path", "/api/v2/users/*"}, {"action", "status"}, {"status", 500}, {"times", 1}});
  auto r = h.get(k_user);
  CHECK(r.status == 500);
  CHECK(r.header("x-ratelimit-limit") == "5");
  CHECK(r.header("x-ratelimit-remaining") == "3");  // counted like any request that reached the tenant
  h.emu.add_fault({{"path", "/api/v2/users/*"}, {"action", "rate_limit"}, {"reset_in_s", 7}, {"times", 1}});
  r = h.get(k_user);
  CHECK(r.status == 429);
  CHECK(r.header("x-ratelimit-limit") == "5");  // the matched bucket's limit
  CHECK(r.header("x-ratelimit-remaining") == "0");
  const auto reset = std::stoll(r.header("x-ratelimit-reset"));
  CHECK(reset >= now_epoch() + 6);
  CHECK(reset <= now_epoch() + 8);
  CHECK(h.get(k_user).header("x-ratelimit-remaining") == "2");  // the fault's 429 took no token

  // The rate_limit fault on the token endpoint reports the token bucket.
  h.emu.set_bucket("token", 30, 30, {{"path", "/oauth/token"}});
  h.emu.add_fault({{"path", "/oauth/token"}, {"action", "rate_limit"}, {"times", 1}});
  auto t = h.http.request("POST", "/oauth/token", R"({"grant_type":"client_credentials"})");
  CHECK(t.status == 429);
  CHECK(t.header("x-ratelimit-limit") == "30");
}

TEST_CASE("429 from an empty bucket: x-ratelimit-reset is when its next token comes") {
  harness h;
  h.bearer();
  // Burst 1, one token every 4 s: after the first call the next one is 4 s away.
  h.emu.set_bucket("management", 1, 0.25);
  REQUIRE(h.get(k_user).status == 200);
  const auto before = now_epoch();
  auto r = h.get(k_user);
  check_error(r, 429, "Global limit has been reached", "too_many_requests");
  CHECK(obj(r).at("error").as_string() == "Too Many Requests");
  CHECK(r.header("x-ratelimit-limit") == "1");
  CHECK(r.header("x-ratelimit-remaining") == "0");
  CHECK(r.header("retry-after").empty());  // Management 429s have none (README, unknown 4)
  const auto reset = std::stoll(r.header("x-ratelimit-reset"));
  CHECK(reset >= before + 3);
  CHECK(reset <= now_epoch() + 4);
  // No refill at all: an hour, the emulator's stand-in for "not soon".
  h.emu.set_bucket("management", 1, 0);
  REQUIRE(h.get(k_user).status == 200);
  r = h.get(k_user);
  CHECK(r.status == 429);
  CHECK(std::stoll(r.header("x-ratelimit-reset")) >= now_epoch() + 3599);
}

TEST_CASE("429 on /oauth/token: the OAuth body and the token bucket's headers") {
  harness h;
  h.emu.set_bucket("token", 1, 0.5, {{"path", "/oauth/token"}});
  CHECK_NOTHROW(h.token());
  const auto before = now_epoch();
  auto r = h.http.request("POST", "/oauth/token",
                          json::serialize(json::object{{"grant_type", "client_credentials"},
                                                       {"client_id", "full-client"},
                                                       {"client_secret", "full-secret"},
                                                       {"audience", "https://" + h.emu.domain() + "/api/v2/"}}));
  INFO(r.body);
  CHECK(r.status == 429);
  CHECK(r.json() == json::parse(R"({"error":"too_many_requests","error_description":"Rate limit exceeded"})"));
  CHECK(r.header("x-ratelimit-limit") == "1");
  CHECK(r.header("x-ratelimit-remaining") == "0");
  const auto reset = std::stoll(r.header("x-ratelimit-reset"));
  CHECK(reset >= before + 1);
  CHECK(reset <= now_epoch() + 2);
}
