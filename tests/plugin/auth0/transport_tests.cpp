// The client against a scripted local HTTPS server: tokens, retries, ambiguity of the
// link POST, TLS verification, keep-alive, pacing and cancellation.
#include "auth0/management_client.hpp"
#include "http/tls_pool.hpp"
#include "run_helpers.hpp"
#include "test_server.hpp"

#include <a0/version.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <thread>

using namespace a0;
using namespace a0::auth0;
using namespace a0::test;
namespace net = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

const std::string user_json = R"({"user_id":"samlp|Conn|x","email":"a@example.com","identities":[]})";

reply token_reply(std::string token = "tok-1", int expires_in = 86400) {
  return reply{200, R"({"access_token":")" + token + R"(","expires_in":)" + std::to_string(expires_in) +
                        R"(,"token_type":"Bearer"})"};
}

bool is_token(const seen_request& r) { return r.target == "/oauth/token"; }

client_config make_config(const test_server& s) {
  client_config c;
  c.domain = s.domain();
  c.client_id = "cid";
  c.client_secret = "s3cr3t value";
  c.audience = "https://" + c.domain + "/api/v2/";
  c.ca_file = s.ca_file();
  c.timeout = 5000ms;
  c.max_retries = 2;
  c.max_connections = 4;
  c.max_backoff = 2000ms;
  return c;
}

// The client's executor: two threads, so the strand confinement is exercised (TSan).
struct env {
  net::thread_pool threads{2};
  net::any_io_executor ex = threads.get_executor();

  template <class T>
  T run(net::awaitable<T> aw) {
    return start(ex, std::move(aw)).get();
  }
};

template <class F>
api_error expect_error(F&& f) {
  try {
    f();
  } catch (const api_exception& e) {
    return e.error();
  }
  FAIL("expected an api_exception");
  return {};
}

}  // namespace

TEST_CASE("GET user: percent-encoded multi-pipe id, bearer from client credentials") {
  test_server srv([](const seen_request& r) { return is_token(r) ? token_reply() : reply{200, user_json}; });
  env e;
  management_client client(e.ex, make_config(srv));
  const auto user = e.run(client.get_user("samlp|Conn|x", {"user_id", "email"}));
  CHECK(user.at("email").as_string() == "a@example.com");

  const auto log = srv.requests();
  REQUIRE(log.size() == 2);
  CHECK(log[0].method == "POST");
  CHECK(log[0].target == "/oauth/token");
  CHECK(log[0].body == "grant_type=client_credentials&client_id=cid&client_secret=s3cr3t%20value&audience=" +
                           std::string("https%3A%2F%2F127.0.0.1%3A") + std::to_string(srv.port()) + "%2Fapi%2Fv2%2F");
  CHECK(log[1].method == "GET");
  CHECK(log[1].target == "/api/v2/users/samlp%7CConn%7Cx?fields=user_id,email&include_fields=true");
  CHECK(log[1].authorization == "Bearer tok-1");
  // The one project version (project(VERSION) in CMakeLists.txt) reaches the User-Agent.
  CHECK(log[0].user_agent == "a0-link-account/" A0_VERSION);
  CHECK(log[1].user_agent == "a0-link-account/" A0_VERSION);
  const auto st = client.statistics();
  CHECK(st.requests == 1);
  CHECK(st.token_requests == 1);
  CHECK(st.retries == 0);
}

TEST_CASE("PATCH, link, unlink and connection paging send the right requests") {
  test_server srv([](const seen_request& r) -> reply {
    if (is_token(r)) return token_reply();
    if (r.method == "PATCH") return {200, R"({"user_id":"auth0|p","user_metadata":{"a":1}})"};
    if (r.method == "POST")
      return {201, R"([{"provider":"auth0","user_id":"p"},{"provider":"samlp","user_id":"NeoLink|4"}])"};
    if (r.method == "DELETE") return {200, R"([{"provider":"auth0","user_id":"p"}])"};
    if (r.target.find("from=") == std::string::npos)
      return {200, R"({"connections":[{"id":"con_1"},{"id":"con_2"}],"next":"ck2"})"};
    return {200, R"({"connections":[{"id":"con_3"}]})"};
  });
  env e;
  management_client client(e.ex, make_config(srv));

  const auto patched = e.run(client.patch_user("auth0|p", json::object{{"user_metadata", json::object{{"a", 1}}}}));
  CHECK(patched.at("user_metadata").at("a").as_int64() == 1);
  const auto ids = e.run(client.link("auth0|p", json::object{{"provider", "samlp"}, {"user_id", "NeoLink|4"}}));
  CHECK(ids.size() == 2);
  const auto left = e.run(client.unlink("auth0|p", "samlp", "NeoLink|4"));
  CHECK(left.size() == 1);
  const auto p1 = e.run(client.list_connections({"auth0"}, std::nullopt, 2));
  CHECK(p1.connections.size() == 2);
  REQUIRE(p1.next.has_value());
  CHECK(*p1.next == "ck2");
  const auto p2 = e.run(client.list_connections({"auth0"}, p1.next, 2));
  CHECK(p2.connections.size() == 1);
  CHECK_FALSE(p2.next.has_value());

  const auto log = srv.requests();
  REQUIRE(log.size() == 6);
  CHECK(log[1].target == "/api/v2/users/auth0%7Cp");
  CHECK(json::parse(log[1].body) == json::parse(R"({"user_metadata":{"a":1}})"));
  CHECK(log[2].target == "/api/v2/users/auth0%7Cp/identities");
  CHECK(json::parse(log[2].body) == json::parse(R"({"provider":"samlp","user_id":"NeoLink|4"})"));
  CHECK(log[3].target == "/api/v2/users/auth0%7Cp/identities/samlp/NeoLink%7C4");
  CHECK(log[4].target == "/api/v2/connections?strategy=auth0&take=2");
  CHECK(log[5].target == "/api/v2/connections?strategy=auth0&from=ck2&take=2");
}

TEST_CASE("bad input is refused before any request") {
  test_server srv([](const seen_request&) { return reply{}; });
  env e;
  management_client client(e.ex, make_config(srv));
  CHECK(expect_error([&] { e.run(client.get_user("")); }).code == a0::auth0::client_errc::invalid_argument);
  CHECK(expect_error([&] { e.run(client.list_connections({}, std::nullopt, 0)); }).code ==
        a0::auth0::client_errc::invalid_argument);
  CHECK(srv.requests().empty());
}

TEST_CASE("one token request however many calls wait for it") {
  test_server srv([](const seen_request& r) {
    if (is_token(r)) {
      auto t = token_reply();
      t.delay = 150ms;  // keep the fetch in flight while the other calls arrive
      return t;
    }
    return reply{200, user_json};
  });
  env e;
  auto cfg = make_config(srv);
  cfg.max_connections = 8;
  management_client client(e.ex, cfg);
  std::vector<call_future<json::object>> calls;
  for (int i = 0; i < 20; ++i) calls.push_back(start(e.ex, client.get_user("auth0|u")));
  for (auto& f : calls) CHECK(f.get().at("email").as_string() == "a@example.com");
  CHECK(srv.count("POST", "/oauth/token") == 1);
  CHECK(srv.count("GET", "/api/v2/users/") == 20);
  CHECK(client.statistics().token_requests == 1);
}

TEST_CASE("a short-lived token is refreshed before it expires") {
  std::atomic<int> issued{0};
  test_server srv([&](const seen_request& r) {
    if (is_token(r)) return token_reply("tok-" + std::to_string(++issued), 1);  // refreshed after 0.5 s
    return reply{200, user_json};
  });
  env e;
  management_client client(e.ex, make_config(srv));
  e.run(client.get_user("auth0|u"));
  e.run(client.get_user("auth0|u"));
  CHECK(srv.count("POST", "/oauth/token") == 1);  // cached
  std::this_thread::sleep_for(600ms);
  e.run(client.get_user("auth0|u"));
  CHECK(srv.count("POST", "/oauth/token") == 2);
  CHECK(srv.requests().back().authorization == "Bearer tok-2");
}

TEST_CASE("a 401 triggers one token refresh and one retry") {
  std::atomic<int> issued{0};
  test_server srv([&](const seen_request& r) -> reply {
    if (is_token(r)) return token_reply("tok-" + std::to_string(++issued));
    if (r.authorization == "Bearer tok-1")
      return {
          401,
          R"({"statusCode":401,"error":"Unauthorized","message":"Expired token received for JSON Web Token validation"})"};
    return {200, user_json};
  });
  env e;
  management_client client(e.ex, make_config(srv));
  CHECK(e.run(client.get_user("auth0|u")).contains("user_id"));
  CHECK(srv.count("POST", "/oauth/token") == 2);
  CHECK(srv.count("GET", "/api/v2/users/") == 2);
}

TEST_CASE("a second 401 is final: unauthorized") {
  test_server srv([&](const seen_request& r) -> reply {
    if (is_token(r)) return token_reply();
    return {401, R"({"statusCode":401,"error":"Unauthorized","message":"Invalid token"})"};
  });
  env e;
  management_client client(e.ex, make_config(srv));
  const auto err = expect_error([&] { e.run(client.get_user("auth0|u")); });
  CHECK(err.code == a0::auth0::client_errc::unauthorized);
  CHECK(err.http_status == 401);
  CHECK(err.message == "401 Invalid token");
  CHECK(srv.count("GET", "/api/v2/users/") == 2);
  CHECK(srv.count("POST", "/oauth/token") == 2);
}

TEST_CASE("a fixed token: no token request, and a 401 is final") {
  test_server srv([&](const seen_request&) -> reply {
    return {401, R"({"statusCode":401,"error":"Unauthorized","message":"Invalid token"})"};
  });
  env e;
  auto cfg = make_config(srv);
  cfg.client_id.clear();
  cfg.client_secret.clear();
  cfg.token = "fixed-token";
  management_client client(e.ex, cfg);
  CHECK(expect_error([&] { e.run(client.get_user("auth0|u")); }).code == a0::auth0::client_errc::unauthorized);
  const auto log = srv.requests();
  REQUIRE(log.size() == 1);
  CHECK(log[0].authorization == "Bearer fixed-token");
}

TEST_CASE("an access_token with CR/LF is refused: no injected header, no smuggled request") {
  // The audit's token: ends the Authorization header, closes the request with an empty
  // body and starts a DELETE on the same connection.
  const std::string smuggle =
      "tok\\r\\nContent-Length: 0\\r\\n\\r\\nDELETE /api/v2/users/auth0%7Cvictim HTTP/1.1\\r\\nX-A: ";
  for (const std::string& token :
       {smuggle, std::string("tok\\r\\nX-Injected: 1"), std::string("tok\\u0000x"), std::string("tok en")}) {
    CAPTURE(token);
    test_server srv([&](const seen_request& r) { return is_token(r) ? token_reply(token) : reply{200, user_json}; });
    env e;
    management_client client(e.ex, make_config(srv));
    const auto err = expect_error([&] { e.run(client.get_user("auth0|u")); });
    CHECK(err.code == a0::auth0::client_errc::bad_response);
    CHECK(err.message.find("not an RFC 6750 bearer token") != std::string::npos);
    CHECK(err.message.find("DELETE") == std::string::npos);
    // Only the token request reached the server: nothing with the token, nothing smuggled.
    const auto log = srv.requests();
    REQUIRE(log.size() == 1);
    CHECK(log[0].target == "/oauth/token");
    CHECK(srv.count("DELETE", "/") == 0);
  }
}

TEST_CASE("the pool refuses a request whose header or target holds CR, LF or NUL, before sending") {
  test_server srv([](const seen_request&) { return reply{200, "{}"}; });
  env e;
  auto strand = net::make_strand(e.ex);
  http::tls_pool pool(strand, http::origin{"127.0.0.1", std::to_string(srv.port()), {}},
                      http::pool_options{2, 5000ms, srv.ca_file()});
  auto send = [&](http::request req) {
    return net::co_spawn(strand, pool.exchange(std::move(req), true), net::use_future).get();
  };
  for (const std::string& value : {std::string("a\r\nX-Injected: 1"), std::string("a\nb"), std::string("a\0b", 3)}) {
    http::request req{boost::beast::http::verb::get, "/ok", 11};
    req.set(boost::beast::http::field::authorization, value);
    const auto r = send(std::move(req));
    CHECK(r.kind == http::failure::refused);
    CHECK_FALSE(r.maybe_sent);
  }
  const auto bad_target = send(http::request{boost::beast::http::verb::get, "/x HTTP/1.1\r\nX: y", 11});
  CHECK(bad_target.kind == http::failure::refused);
  CHECK(srv.requests().empty());
  CHECK(send(http::request{boost::beast::http::verb::get, "/ok", 11}).kind == http::failure::none);
  net::post(strand, net::use_future([&] { pool.shutdown(); })).get();
}

TEST_CASE("a server reflecting the request never makes an error show the bearer token or the client secret") {
  const std::string jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl/abc+def";
  SUBCASE("the Management API reflects the Authorization header (plain and JSON-escaped)") {
    test_server srv([&](const seen_request& r) -> reply {
      if (is_token(r)) return token_reply(jwt);
      std::string esc;
      for (char ch : r.authorization) esc += ch == '/' ? std::string("\\/") : std::string(1, ch);
      return {400, R"({"statusCode":400,"message":"bad header )" + esc + " / " + r.authorization +
                       R"(","errorCode":")" + r.authorization.substr(7) + R"("})"};
    });
    env e;
    management_client client(e.ex, make_config(srv));
    const auto err = expect_error([&] { e.run(client.get_user("auth0|u")); });
    CHECK(err.code == a0::auth0::client_errc::bad_request);
    CHECK(err.message.find("bad header Bearer ***") != std::string::npos);
    CHECK(err.message.find("eyJ") == std::string::npos);
    CHECK(err.message.find("c2lnbmF0dXJl") == std::string::npos);
    CHECK(err.error_code == "***");
  }
  SUBCASE("a message clipped in the middle of the token shows none of it") {
    test_server srv([&](const seen_request& r) -> reply {
      if (is_token(r)) return token_reply(jwt);
      // The first letter \u-escaped: only the parsed text holds the token, and the clip
      // at 400 characters cuts it after 20.
      return {500, R"({"message":")" + std::string(380, 'x') + "\\u0065" + r.authorization.substr(8) + R"("})"};
    });
    env e;
    auto cfg = make_config(srv);
    cfg.max_retries = 0;
    management_client client(e.ex, cfg);
    const auto err = expect_error([&] { e.run(client.get_user("auth0|u")); });
    CHECK(err.message.find("eyJhbGci") == std::string::npos);
    CHECK(err.message.ends_with("***..."));
  }
  SUBCASE("the token endpoint reflects the form body: the secret percent-encoded, base64 of id:secret") {
    test_server srv([&](const seen_request& r) -> reply {
      return {401, R"({"error":"invalid_client","error_description":"got )" + r.body + " basic " +
                       "Y2lkOnMzY3IzdCB2YWx1ZQ==" + R"("})"};
    });
    env e;
    management_client client(e.ex, make_config(srv));
    const auto err = expect_error([&] { e.run(client.get_user("auth0|u")); });
    CHECK(err.code == a0::auth0::client_errc::unauthorized);
    CHECK(err.message.find("client_secret=***&") != std::string::npos);
    CHECK(err.message.find("s3cr3t") == std::string::npos);
    CHECK(err.message.find("Y2lkOnMzY3IzdCB2YWx1ZQ") == std::string::npos);
  }
}

TEST_CASE("an answer over the 8 MB body limit is never resent, and after a 2xx to a PATCH it is applied-unread") {
  const std::string big = R"({"user_id":"auth0|u","blob":")" + std::string(max_response_bytes, 'x') + R"("})";
  test_server srv([&](const seen_request& r) { return is_token(r) ? token_reply() : reply{200, big}; });
  env e;
  management_client client(e.ex, make_config(srv));
  const auto get = expect_error([&] { e.run(client.get_user("auth0|u")); });
  CHECK(get.code == a0::auth0::client_errc::response_too_large);
  CHECK(get.message == "200 answer to GET /api/v2/users/auth0%7Cu is larger than the client reads (8 MB body limit)");
  CHECK_FALSE(get.retryable);
  CHECK_FALSE(get.ambiguous);
  CHECK(srv.count("GET", "/api/v2/users/") == 1);  // formerly retried as a connection failure
  const auto patch = expect_error([&] {
    e.run(client.patch_user("auth0|u", json::object{{"user_metadata", json::object{{"a", 1}}}}));
  });
  CHECK(patch.ambiguous);
  CHECK_FALSE(patch.retryable);
  CHECK(patch.error_code == "response_too_large");
  CHECK(patch.message.ends_with("; the request was applied"));
  CHECK(srv.count("PATCH", "/api/v2/users/") == 1);
}

TEST_CASE("token endpoint refusals map to unauthorized/forbidden without the secret") {
  SUBCASE("invalid_client") {
    test_server srv([](const seen_request&) {
      return reply{401, R"({"error":"invalid_client","error_description":"Client authentication failed"})"};
    });
    env e;
    management_client client(e.ex, make_config(srv));
    const auto err = expect_error([&] { e.run(client.get_user("auth0|u")); });
    CHECK(err.code == a0::auth0::client_errc::unauthorized);
    CHECK(err.message == "401 Client authentication failed (invalid_client)");
    CHECK(err.message.find("s3cr3t") == std::string::npos);
    CHECK(srv.count("GET", "/") == 0);
  }
  SUBCASE("access_denied") {
    test_server srv([](const seen_request&) {
      return reply{403,
                   R"({"error":"access_denied","error_description":"Client is not authorized to access the API"})"};
    });
    env e;
    management_client client(e.ex, make_config(srv));
    const auto err = expect_error([&] { e.run(client.get_user("auth0|u")); });
    CHECK(err.code == a0::auth0::client_errc::forbidden);
    CHECK(err.error_code == "access_denied");
  }
}

TEST_CASE("upstream errors map to WFA codes with the Auth0 message") {
  test_server srv([](const seen_request& r) -> reply {
    if (is_token(r)) return token_reply();
    return {
        404,
        R"({"statusCode":404,"error":"Not Found","message":"The user does not exist.","errorCode":"inexistent_user"})"};
  });
  env e;
  management_client client(e.ex, make_config(srv));
  const auto err = expect_error([&] { e.run(client.get_user("auth0|nobody")); });
  CHECK(err.code == a0::auth0::client_errc::not_found);
  CHECK(err.error_code == "inexistent_user");
  CHECK(err.message == "404 The user does not exist. (inexistent_user)");
  CHECK_FALSE(err.retryable);
  CHECK(srv.count("GET", "/api/v2/users/") == 1);  // 404 is not retried
}

TEST_CASE("503 then success: GET is retried with backoff") {
  std::atomic<int> gets{0};
  test_server srv([&](const seen_request& r) -> reply {
    if (is_token(r)) return token_reply();
    if (++gets == 1) return {503, R"({"statusCode":503,"error":"Service Unavailable","message":"try later"})"};
    return {200, user_json};
  });
  env e;
  management_client client(e.ex, make_config(srv));
  CHECK(e.run(client.get_user("auth0|u")).contains("user_id"));
  CHECK(gets == 2);
  CHECK(client.statistics().retries == 1);
}

TEST_CASE("429 is retried after the advertised Retry-After, then 429s exhaust to RATE_LIMITED") {
  SUBCASE("recovers") {
    std::atomic<int> gets{0};
    test_server srv([&](const seen_request& r) -> reply {
      if (is_token(r)) return token_reply();
      if (++gets == 1)
        return {
            429,
            R"({"statusCode":429,"error":"Too Many Requests","message":"Global limit has been reached","errorCode":"too_many_requests"})",
            {{"Retry-After", "1"}}};
      return {200, user_json};
    });
    env e;
    management_client client(e.ex, make_config(srv));
    CHECK(e.run(client.get_user("auth0|u")).contains("user_id"));
    const auto log = srv.requests();
    REQUIRE(log.size() == 3);
    CHECK(log[2].at - log[1].at >= 900ms);  // waited as told, not the 250 ms backoff
  }
  SUBCASE("exhausted") {
    test_server srv([&](const seen_request& r) -> reply {
      if (is_token(r)) return token_reply();
      return {429,
              R"({"statusCode":429,"error":"Too Many Requests","message":"Global limit has been reached"})",
              {{"Retry-After", "0"}}};
    });
    env e;
    management_client client(e.ex, make_config(srv));
    const auto err = expect_error([&] { e.run(client.get_user("auth0|u")); });
    CHECK(err.code == a0::auth0::client_errc::rate_limited);
    CHECK(err.retryable);
    CHECK(srv.count("GET", "/api/v2/users/") == 3);  // 1 + max_retries
  }
}

TEST_CASE("429 honours x-ratelimit-reset, and a drained bucket paces the next call") {
  std::atomic<int> gets{0};
  std::atomic<long long> reset_epoch{0};
  test_server srv([&](const seen_request& r) -> reply {
    if (is_token(r)) return token_reply();
    const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(r.at.time_since_epoch()).count();
    reset_epoch = now_s + 1;
    const std::vector<std::pair<std::string, std::string>> h{
        {"x-ratelimit-limit", "10"}, {"x-ratelimit-remaining", "0"}, {"x-ratelimit-reset", std::to_string(now_s + 1)}};
    if (++gets == 1) return {429, R"({"statusCode":429,"error":"Too Many Requests"})", h};
    return {200, user_json, h};
  });
  env e;
  management_client client(e.ex, make_config(srv));
  CHECK(e.run(client.get_user("auth0|u")).contains("user_id"));
  const auto reset_after_second = reset_epoch.load();
  e.run(client.get_user("auth0|u"));  // bucket said 0 remaining: waits for the reset
  const auto log = srv.requests();
  REQUIRE(log.size() == 4);
  CHECK(log[3].at >= std::chrono::system_clock::time_point{std::chrono::seconds{reset_after_second}} - 50ms);
  CHECK(gets == 3);
}

TEST_CASE("a connection dropped before the response is retried for GET") {
  std::atomic<int> gets{0};
  test_server srv([&](const seen_request& r) -> reply {
    if (is_token(r)) return token_reply();
    if (++gets == 1) return reply::dropped();
    return {200, user_json};
  });
  env e;
  management_client client(e.ex, make_config(srv));
  CHECK(e.run(client.get_user("auth0|u")).contains("user_id"));
  CHECK(gets == 2);
}

TEST_CASE("link POST: a reset after sending is ambiguous and never resent") {
  test_server srv([&](const seen_request& r) -> reply {
    if (is_token(r)) return token_reply();
    return reply::dropped();
  });
  env e;
  management_client client(e.ex, make_config(srv));
  const auto err = expect_error([&] {
    e.run(client.link("auth0|p", json::object{{"provider", "auth0"}, {"user_id", "s"}}));
  });
  CHECK(err.ambiguous);
  CHECK(err.code == a0::auth0::client_errc::connection_failed);
  CHECK(err.retryable);
  CHECK(srv.count("POST", "/api/v2/users/") == 1);
}

TEST_CASE("link POST: a 5xx is ambiguous and never resent, a 429 is retried") {
  SUBCASE("503") {
    test_server srv([&](const seen_request& r) -> reply {
      if (is_token(r)) return token_reply();
      return {503, R"({"statusCode":503,"error":"Service Unavailable","message":"upstream"})"};
    });
    env e;
    management_client client(e.ex, make_config(srv));
    const auto err = expect_error([&] {
      e.run(client.link("auth0|p", json::object{{"provider", "auth0"}, {"user_id", "s"}}));
    });
    CHECK(err.ambiguous);
    CHECK(err.code == a0::auth0::client_errc::server_error);
    CHECK(srv.count("POST", "/api/v2/users/") == 1);
  }
  SUBCASE("429") {
    std::atomic<int> posts{0};
    test_server srv([&](const seen_request& r) -> reply {
      if (is_token(r)) return token_reply();
      if (++posts == 1) return {429, R"({"statusCode":429,"error":"Too Many Requests"})", {{"Retry-After", "0"}}};
      return {201, R"([{"provider":"auth0","user_id":"p"},{"provider":"auth0","user_id":"s"}])"};
    });
    env e;
    management_client client(e.ex, make_config(srv));
    CHECK(e.run(client.link("auth0|p", json::object{{"provider", "auth0"}, {"user_id", "s"}})).size() == 2);
    CHECK(posts == 2);
  }
  SUBCASE("409 already linked") {
    test_server srv([&](const seen_request& r) -> reply {
      if (is_token(r)) return token_reply();
      return {409, R"({"statusCode":409,"error":"Conflict","message":"Specified identity already exists."})"};
    });
    env e;
    management_client client(e.ex, make_config(srv));
    const auto err = expect_error([&] {
      e.run(client.link("auth0|p", json::object{{"provider", "auth0"}, {"user_id", "s"}}));
    });
    CHECK(err.code == a0::auth0::client_errc::conflict);
    CHECK_FALSE(err.ambiguous);
  }
}

TEST_CASE("keep-alive: 100 sequential calls share one TLS connection") {
  test_server srv([](const seen_request& r) { return is_token(r) ? token_reply() : reply{200, user_json}; });
  env e;
  management_client client(e.ex, make_config(srv));
  for (int i = 0; i < 100; ++i) e.run(client.get_user("auth0|u"));
  CHECK(client.statistics().tls_handshakes == 1);
  CHECK(srv.connections_accepted() == 1);
  CHECK(client.statistics().requests == 100);
}

TEST_CASE("a pooled connection closed by the server is replaced, also for the link POST") {
  test_server srv([](const seen_request& r) -> reply {
    if (is_token(r)) return token_reply();
    if (r.method == "POST") return {201, "[]"};
    return {200, user_json};
  });
  env e;
  management_client client(e.ex, make_config(srv));
  e.run(client.get_user("auth0|u"));
  srv.drop_all_connections();  // idle timeout on the server side
  std::this_thread::sleep_for(20ms);
  CHECK(e.run(client.link("auth0|p", json::object{{"provider", "auth0"}, {"user_id", "s"}})).empty());
  CHECK(srv.count("POST", "/api/v2/users/") == 1);
  CHECK(client.statistics().retries == 0);
  CHECK(client.statistics().tls_handshakes == 2);
}

TEST_CASE("max_connections bounds the pool under concurrency") {
  test_server srv([](const seen_request& r) {
    if (is_token(r)) return token_reply();
    reply rep{200, user_json};
    rep.delay = 20ms;
    return rep;
  });
  env e;
  auto cfg = make_config(srv);
  cfg.max_connections = 2;
  management_client client(e.ex, cfg);
  std::vector<call_future<json::object>> calls;
  for (int i = 0; i < 12; ++i) calls.push_back(start(e.ex, client.get_user("auth0|u")));
  for (auto& f : calls) f.get();
  CHECK(srv.max_concurrent_connections() <= 2);
  CHECK(srv.count("GET", "/api/v2/users/") == 12);
  CHECK(client.statistics().tls_handshakes <= 2);
}

TEST_CASE("TLS: an untrusted CA is refused before anything is sent") {
  test_server srv([](const seen_request&) { return reply{}; });
  env e;
  auto cfg = make_config(srv);
  cfg.ca_file.clear();  // system store only: the test CA is unknown
  management_client client(e.ex, cfg);
  const auto err = expect_error([&] { e.run(client.get_user("auth0|u")); });
  CHECK(err.code == a0::auth0::client_errc::connection_failed);
  CHECK(err.message.find("TLS") != std::string::npos);
  CHECK(srv.requests().empty());
  CHECK(client.statistics().tls_handshakes == 0);
}

TEST_CASE("TLS: a certificate for another host name is refused") {
  test_server srv([](const seen_request&) { return reply{}; }, {"other.example"}, {});
  env e;
  management_client client(e.ex, make_config(srv));  // 127.0.0.1 is not in the certificate
  const auto err = expect_error([&] { e.run(client.get_user("auth0|u")); });
  CHECK(err.code == a0::auth0::client_errc::connection_failed);
  CHECK(srv.requests().empty());
}

TEST_CASE("TLS: host names are verified against DNS SANs (SNI path)") {
  test_server srv([](const seen_request& r) { return is_token(r) ? token_reply() : reply{200, user_json}; });
  env e;
  auto cfg = make_config(srv);
  cfg.domain = "localhost:" + std::to_string(srv.port());
  management_client client(e.ex, cfg);
  CHECK(e.run(client.get_user("auth0|u")).contains("user_id"));

  // The same server checked against a name its certificate does not hold.
  http::tls_pool pool(e.ex, http::origin{"wrong.example", std::to_string(srv.port()), "127.0.0.1"},
                      http::pool_options{1, 5000ms, srv.ca_file()});
  http::request req{boost::beast::http::verb::get, "/", 11};
  auto strand = net::make_strand(e.ex);
  const auto r = net::co_spawn(strand, pool.exchange(req, true), net::use_future).get();
  CHECK(r.kind == http::failure::tls);
  CHECK_FALSE(r.maybe_sent);
  net::post(strand, net::use_future([&] { pool.shutdown(); })).get();
}

TEST_CASE("SNI: a host name is sent as server_name, an IP literal sends none (RFC 6066)") {
  test_server srv([](const seen_request& r) { return is_token(r) ? token_reply() : reply{200, user_json}; });
  env e;
  SUBCASE("name") {
    auto cfg = make_config(srv);
    cfg.domain = "localhost:" + std::to_string(srv.port());
    management_client client(e.ex, cfg);
    e.run(client.get_user("auth0|u"));
    const auto log = srv.requests();
    REQUIRE(log.size() == 2);
    CHECK(log[0].sni == "localhost");
    CHECK(log[1].sni == "localhost");
  }
  SUBCASE("IPv4 literal") {
    management_client client(e.ex, make_config(srv));  // 127.0.0.1:PORT
    e.run(client.get_user("auth0|u"));
    const auto log = srv.requests();
    REQUIRE(log.size() == 2);
    CHECK(log[0].sni.empty());
    CHECK(log[1].sni.empty());
  }
}

TEST_CASE("connect_timeout_ms: a server that accepts TCP but never answers the TLS handshake") {
  silent_listener silent;  // the kernel completes the TCP handshake; nobody reads
  env e;
  client_config cfg;
  cfg.domain = "127.0.0.1:" + std::to_string(silent.port());
  cfg.token = "t";
  cfg.connect_timeout = 200ms;
  cfg.timeout = 60000ms;  // the request timeout must not be what ends this
  cfg.max_retries = 0;
  management_client client(e.ex, cfg);
  SUBCASE("GET") {
    const auto err = expect_error([&] { e.run(client.get_user("auth0|u")); });
    CHECK(err.code == a0::auth0::client_errc::timed_out);
    CHECK(err.retryable);
    CHECK_MESSAGE(err.message.find("connect_timeout_ms 200") != std::string::npos, err.message);
  }
  SUBCASE("link POST: nothing was sent, so not ambiguous") {
    const auto err = expect_error([&] {
      e.run(client.link("auth0|p", json::object{{"provider", "auth0"}, {"user_id", "s"}}));
    });
    CHECK(err.code == a0::auth0::client_errc::timed_out);
    CHECK_FALSE(err.ambiguous);
  }
  SUBCASE("a host name: resolve, connect and handshake share the deadline") {
    auto named = cfg;
    named.domain = "localhost:" + std::to_string(silent.port());
    management_client by_name(e.ex, named);
    const auto err = expect_error([&] { e.run(by_name.get_user("auth0|u")); });
    CHECK(err.code == a0::auth0::client_errc::timed_out);
    CHECK_MESSAGE(err.message.find("connect_timeout_ms 200") != std::string::npos, err.message);
  }
  SUBCASE("the pool says connect_timeout, nothing sent") {
    http::tls_pool pool(e.ex, http::origin{"127.0.0.1", std::to_string(silent.port()), {}},
                        http::pool_options{1, 60000ms, {}, 1 << 20, 200ms});
    auto strand = net::make_strand(e.ex);
    const auto r = net::co_spawn(strand, pool.exchange(http::request{boost::beast::http::verb::get, "/", 11}, true),
                                 net::use_future)
                       .get();
    CHECK(r.kind == http::failure::connect_timeout);
    CHECK_FALSE(r.maybe_sent);
    net::post(strand, net::use_future([&] { pool.shutdown(); })).get();
  }
}

TEST_CASE("connection refused: retried, then UNAVAILABLE and retryable") {
  unsigned short port = 0;
  {
    test_server gone([](const seen_request&) { return reply{}; });
    port = gone.port();
  }
  env e;
  client_config cfg;
  cfg.domain = "127.0.0.1:" + std::to_string(port);
  cfg.token = "t";
  cfg.max_retries = 1;
  cfg.max_backoff = 50ms;
  management_client client(e.ex, cfg);
  const auto err = expect_error([&] { e.run(client.get_user("auth0|u")); });
  CHECK(err.code == a0::auth0::client_errc::connection_failed);
  CHECK(err.retryable);
  CHECK_FALSE(err.ambiguous);
  CHECK(client.statistics().retries == 1);
}

TEST_CASE("timeout_ms: a server that completes the handshake but never answers the request") {
  test_server srv([](const seen_request& r) {
    if (is_token(r)) return token_reply();
    reply rep{200, user_json};
    rep.delay = 30000ms;
    return rep;
  });
  env e;
  auto cfg = make_config(srv);
  cfg.timeout = 300ms;
  cfg.connect_timeout = 60000ms;  // the connect timeout must not be what ends this
  cfg.max_retries = 0;
  management_client client(e.ex, cfg);
  const auto err = expect_error([&] { e.run(client.get_user("auth0|u")); });
  CHECK(err.code == a0::auth0::client_errc::timed_out);
  CHECK(err.retryable);
  CHECK_MESSAGE(err.message.find("timeout_ms 300") != std::string::npos, err.message);
  CHECK(err.message.find("connect") == std::string::npos);
  CHECK(srv.count("GET", "/api/v2/users/") == 1);  // it was sent: a request timeout
}

namespace {
// Starts call on a strand with a cancellation slot, emits `type` after `after`.
template <class T>
api_error cancel_after(env& e, net::awaitable<T> call, std::chrono::milliseconds after,
                       net::cancellation_type type = net::cancellation_type::terminal) {
  auto strand = net::make_strand(e.ex);
  net::cancellation_signal sig;
  // Like the ABI glue: the spawned operation coroutine accepts total cancellation too
  // (an awaitable thread passes only terminal by default).
  auto op = [](net::awaitable<T> inner) -> net::awaitable<T> {
    co_await net::this_coro::reset_cancellation_state(net::enable_total_cancellation());
    co_return co_await std::move(inner);
  };
  auto fut = start(strand, op(std::move(call)), net::bind_cancellation_slot(sig.slot(), net::use_future));
  std::this_thread::sleep_for(after);
  net::post(strand, net::use_future([&] { sig.emit(type); })).get();
  try {
    fut.get();
  } catch (const api_exception& ex) {
    return ex.error();
  }
  FAIL("expected cancellation");
  return {};
}
}  // namespace

TEST_CASE("cancellation ends a call waiting on a slow response, the connection is not reused") {
  test_server srv([](const seen_request& r) {
    if (is_token(r)) return token_reply();
    reply rep{200, user_json};
    rep.delay = r.target.find("slow") != std::string::npos ? 4000ms : 0ms;
    return rep;
  });
  env e;
  management_client client(e.ex, make_config(srv));
  e.run(client.get_user("auth0|warm"));  // pooled connection exists now
  const auto t0 = std::chrono::steady_clock::now();
  const auto err = cancel_after(e, client.get_user("auth0|slow"), 200ms);
  CHECK(err.code == a0::auth0::client_errc::cancelled);
  CHECK(std::chrono::steady_clock::now() - t0 < 3000ms);
  e.run(client.get_user("auth0|after"));  // works, on a fresh connection
  CHECK(client.statistics().tls_handshakes == 2);
}

TEST_CASE("cancellation ends a backoff wait and a token wait (total cancellation too)") {
  SUBCASE("backoff") {
    test_server srv([](const seen_request& r) -> reply {
      if (is_token(r)) return token_reply();
      return {429, "{}", {{"Retry-After", "30"}}};
    });
    env e;
    auto cfg = make_config(srv);
    cfg.max_backoff = 30000ms;
    management_client client(e.ex, cfg);
    CHECK(cancel_after(e, client.get_user("auth0|u"), 300ms, net::cancellation_type::total).code ==
          a0::auth0::client_errc::cancelled);
    CHECK(srv.count("GET", "/api/v2/users/") == 1);
  }
  SUBCASE("token") {
    test_server srv([](const seen_request& r) {
      auto t = is_token(r) ? token_reply() : reply{200, user_json};
      t.delay = is_token(r) ? 4000ms : 0ms;
      return t;
    });
    env e;
    management_client client(e.ex, make_config(srv));
    const auto link_err =
        cancel_after(e, client.link("auth0|p", json::object{{"provider", "auth0"}, {"user_id", "s"}}), 200ms);
    CHECK(link_err.code == a0::auth0::client_errc::cancelled);
    CHECK_FALSE(link_err.ambiguous);  // nothing was sent yet
    CHECK(srv.count("POST", "/api/v2/users/") == 0);
  }
}

TEST_CASE("a link POST cancelled while it waits to be sent (pacing, backoff) is not ambiguous") {
  const json::object body{{"provider", "auth0"}, {"user_id", "s"}};
  SUBCASE("pacing: the bucket said 0 left until a reset 30 s away") {
    std::atomic<int> posts{0};
    test_server srv([&](const seen_request& r) -> reply {
      if (is_token(r)) return token_reply();
      ++posts;
      const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(r.at.time_since_epoch()).count();
      return {201,
              "[]",
              {{"x-ratelimit-limit", "10"},
               {"x-ratelimit-remaining", "0"},
               {"x-ratelimit-reset", std::to_string(now_s + 30)}}};
    });
    env e;
    auto cfg = make_config(srv);
    cfg.max_backoff = 30000ms;
    management_client client(e.ex, cfg);
    e.run(client.link("auth0|p", body));
    const auto err = cancel_after(e, client.link("auth0|p", body), 300ms);
    CHECK(err.code == a0::auth0::client_errc::cancelled);
    CHECK_FALSE(err.ambiguous);
    CHECK(posts == 1);
    CHECK(client.statistics().paced == 1);
  }
  SUBCASE("backoff: a 429 with Retry-After 30") {
    std::atomic<int> posts{0};
    test_server srv([&](const seen_request& r) -> reply {
      if (is_token(r)) return token_reply();
      ++posts;
      return {429, R"({"statusCode":429,"error":"Too Many Requests"})", {{"Retry-After", "30"}}};
    });
    env e;
    auto cfg = make_config(srv);
    cfg.max_backoff = 30000ms;
    management_client client(e.ex, cfg);
    const auto err = cancel_after(e, client.link("auth0|p", body), 300ms);
    CHECK(err.code == a0::auth0::client_errc::cancelled);
    CHECK_FALSE(err.ambiguous);  // the 429 said it was not applied
    CHECK(posts == 1);
  }
}

TEST_CASE("cancellation while queued for a pool slot leaves the pool usable") {
  test_server srv([](const seen_request& r) {
    reply rep{200, user_json};
    rep.delay = r.target.find("slow") != std::string::npos ? 1500ms : 0ms;
    return rep;
  });
  env e;
  auto cfg = make_config(srv);
  cfg.client_id.clear();
  cfg.client_secret.clear();
  cfg.token = "t";
  cfg.max_connections = 1;
  management_client client(e.ex, cfg);
  auto slow = start(e.ex, client.get_user("auth0|slow"));
  std::this_thread::sleep_for(100ms);  // the only connection is busy now
  CHECK(cancel_after(e, client.get_user("auth0|queued"), 100ms).code == a0::auth0::client_errc::cancelled);
  CHECK(slow.get().contains("user_id"));
  CHECK(e.run(client.get_user("auth0|next")).contains("user_id"));
  CHECK(srv.count("GET", "/api/v2/users/auth0%7Cqueued") == 0);
  CHECK(srv.max_concurrent_connections() == 1);
}

TEST_CASE("shutdown fails a call waiting for the token, and later calls") {
  test_server srv([](const seen_request& r) {
    auto t = is_token(r) ? token_reply() : reply{200, user_json};
    t.delay = is_token(r) ? 1500ms : 0ms;
    return t;
  });
  env e;
  management_client client(e.ex, make_config(srv));
  auto waiting = start(e.ex, client.get_user("auth0|u"));
  std::this_thread::sleep_for(100ms);
  client.shutdown();
  const auto err = expect_error([&] { waiting.get(); });
  CHECK(err.code == a0::auth0::client_errc::cancelled);
  CHECK(expect_error([&] { e.run(client.get_user("auth0|u")); }).code == a0::auth0::client_errc::cancelled);
}
