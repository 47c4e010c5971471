// Transport-neutral request/response: the API and control logic never see Beast,
// which keeps those TUs light and testable without sockets.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace emu {

struct request {
  std::string method;         ///< "GET", "POST", ...
  std::string target;         ///< origin-form, still percent-encoded: /api/v2/users/auth0%7C1?fields=x
  std::string host;           ///< Host header as sent (e.g. 127.0.0.1:8443)
  std::string authorization;  ///< Authorization header as sent (may be empty)
  std::string content_type;
  std::string body;
};

struct response {
  unsigned status = 200;
  std::string body;  ///< empty for 204
  std::string content_type = "application/json; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra headers
};

}  // namespace emu
