// Output shaping: what of an identity or user leaves the plugin.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstddef>
#include <string_view>

namespace a0::actions {

/// The manifest's identity shape: connection, user_id (always a string, the API may send
/// a number), provider, profileData (only the eight documented keys, with their
/// documented types), isSocial, and the IdP tokens only when include_idp_tokens.
boost::json::object shape_identity(const boost::json::object& identity, bool include_idp_tokens);
boost::json::array shape_identities(const boost::json::array& identities, bool include_idp_tokens);

/// A user object as returned by the API with its identities shaped as above (so IdP
/// tokens only when include_idp_tokens); other fields unchanged.
boost::json::object shape_user(boost::json::object user, bool include_idp_tokens);

/// Nesting depth of arrays and objects as Boost.JSON's max_depth counts it (a scalar is
/// 0, {} is 1). Iterative: the value may be deeper than the stack allows recursion.
std::size_t json_depth(const boost::json::value& v);

/// A JSON scalar id as text: "abc" -> abc, 12345 -> 12345 (GitHub/Twitter ids are numbers).
std::string id_text(const boost::json::value& v);

/// True when `identities` holds provider + bare user_id.
bool has_identity(const boost::json::array& identities, std::string_view provider, std::string_view bare_user_id);

}  // namespace a0::actions
