// Auth0 user ids: "provider|rest", where rest may itself contain pipes (samlp|Conn|x).
// Split at the FIRST pipe only and keep the rest whole (auth0/rules#84).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace a0::actions {

/// The provider names the link endpoint accepts (UserIdentityProviderEnum).
bool is_known_provider(std::string_view name) noexcept;
/// All of them, sorted (the manifests' enums and patterns list the same; a test checks).
std::span<const std::string_view> known_providers() noexcept;

struct split_id {
  std::string provider;  ///< text before the first pipe
  std::string rest;      ///< everything after it, pipes included
};

/// Splits at the first pipe; nullopt when there is none or either side is empty.
std::optional<split_id> split_user_id(std::string_view full_id);

/// The secondary of a link or unlink, resolved from user id + optional provider.
struct secondary_id {
  std::string provider;
  std::string bare;  ///< identity user_id (after the provider's pipe)
  std::string full() const { return provider + "|" + bare; }
};

/// Resolves `user_id` (bare or full) and `provider` (may be empty). Throws
/// input_error naming the input when they disagree or the provider is unknown.
secondary_id resolve_secondary(std::string_view user_id, std::string_view provider);

}  // namespace a0::actions
