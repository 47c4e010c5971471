// Error-body parsing (Management and OAuth shapes) and status -> WFA_* mapping.
#include "auth0/errors.hpp"

#include <wfa/wfa.h>

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

TEST_CASE("status mapping to WFA codes") {
  CHECK(error_from_status(400, "", endpoint_kind::management).code == WFA_INVALID_INPUT);
  CHECK(error_from_status(401, "", endpoint_kind::management).code == WFA_UNAUTHORIZED);
  CHECK(error_from_status(403, "", endpoint_kind::management).code == WFA_FORBIDDEN);
  CHECK(error_from_status(404, "", endpoint_kind::management).code == WFA_NOT_FOUND);
  CHECK(error_from_status(409, "", endpoint_kind::link).code == WFA_CONFLICT);
  const auto rl = error_from_status(429, "", endpoint_kind::management);
  CHECK(rl.code == WFA_RATE_LIMITED);
  CHECK(rl.retryable);
  const auto un = error_from_status(503, "", endpoint_kind::management);
  CHECK(un.code == WFA_UNAVAILABLE);
  CHECK(un.retryable);
  CHECK(error_from_status(408, "", endpoint_kind::management).code == WFA_TIMEOUT);
  CHECK(error_from_status(302, "", endpoint_kind::management).code == WFA_INTERNAL);
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
  CHECK(e.code == WFA_CONFLICT);
  const auto same = error_from_status(
      400, R"({"statusCode":400,"error":"Bad Request","message":"Main identity and the new one are the same."})",
      endpoint_kind::link);
  CHECK(same.code == WFA_INVALID_INPUT);
  // Only the link endpoint gets that reading.
  CHECK(error_from_status(400, R"({"message":"Specified identity already exists."})", endpoint_kind::management).code ==
        WFA_INVALID_INPUT);
}

TEST_CASE("token endpoint errors: invalid_client is unauthorized, access_denied forbidden") {
  const auto ic = error_from_status(
      401, R"({"error":"invalid_client","error_description":"Client authentication failed"})", endpoint_kind::token);
  CHECK(ic.code == WFA_UNAUTHORIZED);
  CHECK(ic.message == "401 Client authentication failed (invalid_client)");
  CHECK(
      error_from_status(403, R"({"error":"access_denied","error_description":"no client-grant"})", endpoint_kind::token)
          .code == WFA_FORBIDDEN);
  // A wrong client secret on real tenants: 401 access_denied "Unauthorized" (the status decides).
  const auto wrong =
      error_from_status(401, R"({"error":"access_denied","error_description":"Unauthorized"})", endpoint_kind::token);
  CHECK(wrong.code == WFA_UNAUTHORIZED);
  CHECK_FALSE(wrong.retryable);
  CHECK(error_from_status(400, R"({"error":"unauthorized_client","error_description":"Grant type not allowed"})",
                          endpoint_kind::token)
            .code == WFA_FORBIDDEN);
  CHECK(error_from_status(429, R"({"error":"too_many_requests","error_description":"Rate limit exceeded"})",
                          endpoint_kind::token)
            .code == WFA_RATE_LIMITED);
}

TEST_CASE("upstream text is bounded") {
  const std::string big(5000, 'x');
  const auto e = error_from_status(400, R"({"message":")" + big + R"("})", endpoint_kind::management);
  CHECK(e.message.size() < 500);
}
