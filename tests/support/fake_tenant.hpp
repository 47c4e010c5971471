// A small stateful Auth0 tenant on the client tests' scripted HTTPS server: users with
// identities and metadata, Auth0's top-level PATCH rule, link/unlink as auth0-api.md §2/3/8
// describe them, checkpoint-paged connections, and scripted faults (answer replaced before
// or after the request is applied). Lets the action tests run without the emulator.
#pragma once

#include "test_server.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace a0::test {

struct fault {
  std::string method;        ///< e.g. "POST"
  std::string path_prefix;   ///< e.g. "/api/v2/users/" ; matched against the decoded path
  std::string path_suffix;   ///< e.g. "/identities" ; empty = any
  bool after_apply = false;  ///< apply the request, then answer with `answer`
  reply answer;
};

class fake_tenant {
 public:
  fake_tenant();
  std::string domain() const { return server_->domain(); }
  const std::string& ca_file() const { return server_->ca_file(); }
  test_server& server() { return *server_; }

  /// Config JSON with client credentials for this tenant (max_backoff small for tests).
  std::string config(const std::string& extra = "") const;

  void put_user(boost::json::object user);  ///< needs "user_id" = provider|rest
  std::optional<boost::json::object> user(const std::string& id) const;
  void add_fault(fault f);
  /// The same, matched only by a request whose query holds `query_contains` ("fields=").
  void add_fault(fault f, std::string query_contains);
  void add_connection(std::string id, std::string name, std::string strategy);
  void expire_tokens();  ///< every issued token answers 401 from now on
  /// Every GET of a user is answered this much later (so that concurrent runs overlap).
  void set_get_delay(std::chrono::milliseconds d);

  std::size_t requests(std::string_view method = "", std::string_view prefix = "") const;

 private:
  reply handle(const seen_request& r);
  reply route(const std::string& method, const std::string& path, const std::string& query, const std::string& body);
  mutable std::mutex mu_;
  std::map<std::string, boost::json::object> users_;
  std::deque<std::pair<fault, std::string>> faults_;  ///< with the query it needs ("" = any)
  boost::json::array connections_;
  int tokens_issued_ = 0;
  int token_floor_ = 0;  ///< tokens numbered below are expired
  std::chrono::milliseconds get_delay_{0};
  std::unique_ptr<test_server> server_;
};

/// A database user "auth0|<rest>" (with one identity) or a social one.
boost::json::object make_user(const std::string& full_id, const std::string& email, bool verified,
                              boost::json::object user_metadata = {}, boost::json::object app_metadata = {});

}  // namespace a0::test
