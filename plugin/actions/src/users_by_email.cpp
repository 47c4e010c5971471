// auth0.users-by-email: GET /api/v2/users-by-email?email=. Auth0 matches the address
// exactly, case included ("Jane@x" does not find "jane@x"); the manifest says so.
#include "actions/discover.hpp"
#include "actions/shaping.hpp"

#include <boost/json/array.hpp>

namespace a0::actions {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

json::object users_outputs(json::array users, bool include_idp_tokens) {
  json::array shaped;
  shaped.reserve(users.size());
  for (auto& u : users)
    if (u.is_object()) shaped.push_back(shape_user(std::move(u.get_object()), include_idp_tokens));
  const auto n = shaped.size();
  return json::object{{"users", std::move(shaped)}, {"count", n}};
}

}  // namespace

asio::awaitable<json::object> users_by_email(context& ctx, users_by_email_request r) {
  auto users = co_await ctx.client.users_by_email(r.email, r.fields);
  co_return users_outputs(std::move(users), r.include_idp_tokens);
}

}  // namespace a0::actions
