// Error-body parsing (Management and OAuth shapes) and status -> client_errc mapping.
#include "auth0/errors.hpp"

#include <doctest/doctest.h>

using namespace a0;
using namespace a0::auth0;

TEST_CASE("Management error shape: message and errorCode") {
  const auto b = parse_error_body(
      R"({"statusCode":404,"error":"Not Found","message":"The user does not exist.","errorCode":"inexistent_user"})");
  CHECK(b.code == "inexistent_user");
  CHECK(b.message == "The user does not exist.");
}

TEST_CASE("Management error shape without errorCode or message") {
  const auto b = parse_error_body(R"({"statusCode":404,"error":"Not Found","message":"The role does not exist."})");
  CHECK(b.code.empty());  // the reason phrase is not a machine code
  CHECK(b.message == "The role does not exist.");
  const auto early429 = parse_error_body(R"({"statusCode":429,"error":"Too Many Requests"})");
  CHECK(early429.code.empty());
  CHECK(early429.message == "Too Many Requests");
}

TEST_CASE("OAuth error shape: error is the code, error_description the message") {
  const auto b = parse_error_body(R"({"error":"access_denied","error_description":"Client is not authorized"})");
  CHECK(b.code == "access_denied");
  CHECK(b.message == "Client is not authorized");
}

TEST_CASE("non-JSON and odd bodies parse to nothing rather than failing") {
  CHECK(parse_error_body("<html>Bad Gateway</html>").message.empty());
  CHECK(parse_error_body("").code.empty());
  CHECK(parse_error_body("[1,2]").message.empty());
  CHECK(parse_error_body(R"({"message":42})").message.empty());
}

TEST_CASE("status mapping to the client's codes") {
  CHECK(error_from_status(400, "", endpoint_kind::management).code == client_errc::bad_request);
  CHECK(error_from_status(401, "", endpoint_kind::management).code == client_errc::unauthorized);
  CHECK(error_from_status(403, "", endpoint_kind::management).code == client_errc::forbidden);
  CHECK(error_from_status(404, "", endpoint_kind::management).code == client_errc::not_found);
  CHECK(error_from_status(409, "", endpoint_kind::link).code == client_errc::conflict);
  const auto rl = error_from_status(429, "", endpoint_kind::management);
  CHECK(rl.code == client_errc::rate_limited);
  CHECK(rl.retryable);
  const auto un = error_from_status(503, "", endpoint_kind::management);
  CHECK(un.code == client_errc::server_error);
  CHECK(un.retryable);
  CHECK(error_from_status(408, "", endpoint_kind::management).code == client_errc::timed_out);
  CHECK(error_from_status(302, "", endpoint_kind::management).code == client_errc::bad_response);
  CHECK_FALSE(error_from_status(404, "", endpoint_kind::management).retryable);
}

TEST_CASE("message is '<status> <message> (errorCode)'") {
  const auto e = error_from_status(
      404,
      R"({"statusCode":404,"error":"Not Found","message":"The user does not exist.","errorCode":"inexistent_user"})",
      endpoint_kind::management);
  CHECK(e.message == "404 The user does not exist. (inexistent_user)");
  CHECK(e.http_status == 404);
  CHECK(e.error_code == "inexistent_user");
  CHECK(error_from_status(502, "oops", endpoint_kind::management).message == "502 unexpected response");
}

TEST_CASE("link: 400 'already exists' is a conflict, other 400s are bad input") {
  const auto e = error_from_status(
      400, R"({"statusCode":400,"error":"Bad Request","message":"Specified identity already exists."})",
      endpoint_kind::link);
  CHECK(e.code == client_errc::conflict);
  const auto same = error_from_status(
      400, R"({"statusCode":400,"error":"Bad Request","message":"Main identity and the new one are the same."})",
      endpoint_kind::link);
  CHECK(same.code == client_errc::bad_request);
  // Only the link endpoint gets that reading.
  CHECK(error_from_status(400, R"({"message":"Specified identity already exists."})", endpoint_kind::management).code ==
        client_errc::bad_request);
}

TEST_CASE("token endpoint errors: invalid_client is unauthorized, access_denied forbidden") {
  const auto ic = error_from_status(
      401, R"({"error":"invalid_client","error_description":"Client authentication failed"})", endpoint_kind::token);
  CHECK(ic.code == client_errc::unauthorized);
  CHECK(ic.message == "401 Client authentication failed (invalid_client)");
  CHECK(
      error_from_status(403, R"({"error":"access_denied","error_description":"no client-grant"})", endpoint_kind::token)
          .code == client_errc::forbidden);
  // A wrong client secret on real tenants: 401 access_denied "Unauthorized" (the status decides).
  const auto wrong =
      error_from_status(401, R"({"error":"access_denied","error_description":"Unauthorized"})", endpoint_kind::token);
  CHECK(wrong.code == client_errc::unauthorized);
  CHECK_FALSE(wrong.retryable);
  CHECK(error_from_status(400, R"({"error":"unauthorized_client","error_description":"Grant type not allowed"})",
                          endpoint_kind::token)
            .code == client_errc::forbidden);
  CHECK(error_from_status(429, R"({"error":"too_many_requests","error_description":"Rate limit exceeded"})",
                          endpoint_kind::token)
            .code == client_errc::rate_limited);
}

TEST_CASE("upstream text is bounded") {
  const std::string big(5000, 'x');
  const auto e = error_from_status(400, R"({"message":")" + big + R"("})", endpoint_kind::management);
  CHECK(e.message.size() < 500);
}
