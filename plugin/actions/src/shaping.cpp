#include "actions/shaping.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

namespace a0::actions {

namespace json = boost::json;

namespace {
constexpr std::array<std::string_view, 3> k_idp_tokens{"access_token", "access_token_secret", "refresh_token"};
struct profile_key {
  std::string_view name;
  bool boolean;
};
constexpr std::array<profile_key, 8> k_profile_keys{{{"email", false},
                                                     {"email_verified", true},
                                                     {"name", false},
                                                     {"username", false},
                                                     {"given_name", false},
                                                     {"phone_number", false},
                                                     {"phone_verified", true},
                                                     {"family_name", false}}};
}  // namespace

std::string id_text(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_int64() || v.is_uint64()) return json::serialize(v);
  if (v.is_double()) return json::serialize(json::value(static_cast<std::int64_t>(v.get_double())));
  return {};
}

json::object shape_identity(const json::object& in, bool include_idp_tokens) {
  json::object out;
  if (const auto* c = in.if_contains("connection"); c && c->is_string()) out["connection"] = *c;
  if (const auto* u = in.if_contains("user_id")) out["user_id"] = id_text(*u);
  if (const auto* p = in.if_contains("provider"); p && p->is_string()) out["provider"] = *p;
  if (const auto* pd = in.if_contains("profileData"); pd && pd->is_object()) {
    json::object profile;
    for (const auto& k : k_profile_keys) {
      const auto* v = pd->get_object().if_contains(k.name);
      // A value of another type than documented is left out rather than breaking the
      // outputs schema the host validates against.
      if (v && (k.boolean ? v->is_bool() : v->is_string())) profile[k.name] = *v;
    }
    out["profileData"] = std::move(profile);
  }
  if (const auto* s = in.if_contains("isSocial"); s && s->is_bool()) out["isSocial"] = *s;
  if (include_idp_tokens)
    for (auto name : k_idp_tokens)
      if (const auto* t = in.if_contains(name); t && t->is_string()) out[name] = *t;
  return out;
}

json::array shape_identities(const json::array& identities, bool include_idp_tokens) {
  json::array out;
  out.reserve(identities.size());
  for (const auto& i : identities)
    if (i.is_object()) out.push_back(shape_identity(i.get_object(), include_idp_tokens));
  return out;
}

json::object shape_user(json::object user, bool include_idp_tokens) {
  if (auto* ids = user.if_contains("identities"); ids && ids->is_array())
    *ids = shape_identities(ids->get_array(), include_idp_tokens);
  return user;
}

bool has_identity(const json::array& identities, std::string_view provider, std::string_view bare_user_id) {
  for (const auto& i : identities) {
    if (!i.is_object()) continue;
    const auto& o = i.get_object();
    const auto* p = o.if_contains("provider");
    const auto* u = o.if_contains("user_id");
    if (p && p->is_string() && p->get_string() == provider && u && id_text(*u) == bare_user_id) return true;
  }
  return false;
}

std::size_t json_depth(const json::value& v) {
  std::size_t deepest = 0;
  std::vector<std::pair<const json::value*, std::size_t>> todo{{&v, 1}};
  while (!todo.empty()) {
    const auto [x, d] = todo.back();
    todo.pop_back();
    if (x->is_array()) {
      deepest = std::max(deepest, d);
      for (const auto& item : x->get_array())
        if (item.is_structured()) todo.emplace_back(&item, d + 1);
    } else if (x->is_object()) {
      deepest = std::max(deepest, d);
      for (const auto& kv : x->get_object())
        if (kv.value().is_structured()) todo.emplace_back(&kv.value(), d + 1);
    }
  }
  return deepest;
}

}  // namespace a0::actions
