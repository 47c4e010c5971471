// What is sent: the top-level delta, Auth0's PATCH rule, and the whole-user merge.
#include "detail.hpp"
#include "merge/merge.hpp"

namespace merge {
namespace json = boost::json;

json::object metadata_delta(const json::object& primary, const json::object& merged) {
  json::object delta;
  for (const auto& kv : merged) {
    const auto it = primary.find(kv.key());
    if (it == primary.end() || !json_equal(it->value(), kv.value())) {
      delta.emplace(kv.key(), detail::deep_copy(kv.value()));
    }
  }
  return delta;
}

json::object apply_auth0_patch(const json::object& current, const json::object& patch) {
  if (patch.empty()) return {};  // Auth0: `{}` wipes the whole metadata object
  json::object out = detail::deep_copy_object(current);
  for (const auto& kv : patch) {
    if (kv.value().is_null()) {
      out.erase(kv.key());
    } else {
      out[kv.key()] = detail::deep_copy(kv.value());  // nested objects replaced whole
    }
  }
  return out;
}

namespace {

const json::object& metadata_of(const json::object& user, std::string_view key, std::string_view who,
                                const json::object& empty) {
  const auto it = user.find(key);
  // Absent (and null, which carries nothing) count as {}.
  if (it == user.end() || it->value().is_null()) return empty;
  if (!it->value().is_object()) {
    throw invalid_argument(std::string(who) + " user: " + std::string(key) + " is not a JSON object");
  }
  return it->value().get_object();
}

}  // namespace

result merge_users(const json::object& primary, const json::object& secondary, const options& opts) {
  const json::object empty;
  const auto& pu = metadata_of(primary, "user_metadata", "primary", empty);
  const auto& pa = metadata_of(primary, "app_metadata", "primary", empty);
  const auto& su = metadata_of(secondary, "user_metadata", "secondary", empty);
  const auto& sa = metadata_of(secondary, "app_metadata", "secondary", empty);

  result r;
  r.user_metadata = merge_metadata(pu, su, opts, "/user_metadata", &r.merged_keys);
  r.app_metadata = merge_metadata(pa, sa, opts, "/app_metadata", &r.merged_keys);
  auto du = metadata_delta(pu, r.user_metadata);
  auto da = metadata_delta(pa, r.app_metadata);
  if (!du.empty()) r.patch.emplace("user_metadata", std::move(du));
  if (!da.empty()) r.patch.emplace("app_metadata", std::move(da));
  return r;
}

}  // namespace merge
