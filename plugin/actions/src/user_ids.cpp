#include "actions/user_ids.hpp"

#include "actions/errors.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

namespace a0::actions {

namespace {
// auth0-api.md §2, UserIdentityProviderEnum. Kept sorted for binary search.
constexpr std::array<std::string_view, 55> k_providers = [] {
  std::array<std::string_view, 55> a{"ad",
                                     "adfs",
                                     "amazon",
                                     "apple",
                                     "dropbox",
                                     "bitbucket",
                                     "auth0-oidc",
                                     "auth0",
                                     "baidu",
                                     "bitly",
                                     "box",
                                     "custom",
                                     "daccount",
                                     "dwolla",
                                     "email",
                                     "evernote-sandbox",
                                     "evernote",
                                     "exact",
                                     "facebook",
                                     "fitbit",
                                     "github",
                                     "google-apps",
                                     "google-oauth2",
                                     "instagram",
                                     "ip",
                                     "line",
                                     "linkedin",
                                     "oauth1",
                                     "oauth2",
                                     "office365",
                                     "oidc",
                                     "okta",
                                     "paypal",
                                     "paypal-sandbox",
                                     "pingfederate",
                                     "planningcenter",
                                     "salesforce-community",
                                     "salesforce-sandbox",
                                     "salesforce",
                                     "samlp",
                                     "sharepoint",
                                     "shopify",
                                     "shop",
                                     "sms",
                                     "soundcloud",
                                     "thirtysevensignals",
                                     "twitter",
                                     "untappd",
                                     "vkontakte",
                                     "waad",
                                     "weibo",
                                     "windowslive",
                                     "wordpress",
                                     "yahoo",
                                     "yandex"};
  std::sort(a.begin(), a.end());
  return a;
}();
// The bare id is a path segment of the unlink DELETE; "." or ".." would be a dot
// segment that servers and proxies resolve (/identities/auth0/.. is another resource).
secondary_id checked(std::string provider, std::string bare) {
  if (bare == "." || bare == "..") throw input_error("secondary_user_id: '" + bare + "' is not a user id");
  return {std::move(provider), std::move(bare)};
}
}  // namespace

std::span<const std::string_view> known_providers() noexcept { return k_providers; }

bool is_known_provider(std::string_view name) noexcept {
  return std::binary_search(k_providers.begin(), k_providers.end(), name);
}

std::optional<split_id> split_user_id(std::string_view full_id) {
  const auto pipe = full_id.find('|');
  if (pipe == std::string_view::npos || pipe == 0 || pipe + 1 == full_id.size()) return std::nullopt;
  return split_id{std::string(full_id.substr(0, pipe)), std::string(full_id.substr(pipe + 1))};
}

secondary_id resolve_secondary(std::string_view user_id, std::string_view provider) {
  if (user_id.empty()) throw input_error("secondary_user_id: must be a non-empty string");
  const auto split = split_user_id(user_id);
  // A prefix that names a known provider makes the id a full id; otherwise the pipe is
  // part of a bare enterprise id such as "NeoLink|40813347" (provider samlp).
  const bool full = split && is_known_provider(split->provider);
  if (!provider.empty()) {
    if (!is_known_provider(provider))
      throw input_error("secondary_provider: '" + std::string(provider) +
                        "' is not a provider the link endpoint accepts");
    if (full && split->provider != provider)
      throw input_error("secondary_user_id: is a full id of provider '" + split->provider +
                        "' but secondary_provider is '" + std::string(provider) + "'");
    if (full) return checked(split->provider, split->rest);
    return checked(std::string(provider), std::string(user_id));
  }
  if (!full)
    throw input_error(
        "secondary_provider: is required when secondary_user_id is not a full 'provider|id' "
        "with a known provider");
  return checked(split->provider, split->rest);
}

}  // namespace a0::actions
