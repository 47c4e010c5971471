// Classifying Auth0 answers into api_error: both error-body shapes (Management
// {statusCode,error,message,errorCode} and OAuth {error,error_description}) and the
// HTTP status -> client_errc mapping.
#pragma once

#include "auth0/client_error.hpp"

#include <string>
#include <string_view>

namespace a0::auth0 {

/// What an error body says; fields are empty when absent or the body is not JSON.
struct error_body {
  std::string code;     ///< errorCode, else OAuth "error" (the reason phrase is not a code)
  std::string message;  ///< message, else error_description, else the reason phrase "error"
};
error_body parse_error_body(std::string_view body);

/// Which endpoint answered: the mapping differs slightly per operation.
enum class endpoint_kind { management, link, token };

/// Builds the error for a non-2xx status. message = "<status> <message> (errorCode)".
api_error error_from_status(int status, std::string_view body, endpoint_kind kind);

}  // namespace a0::auth0
