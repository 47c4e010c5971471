#include "tenant_gen.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cstdio>
#include <random>
#include <stdexcept>

namespace a0::linkplan::test {
namespace json = boost::json;

namespace {

std::string hex(std::mt19937_64& rng, int n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < n; ++i) s += digits[rng() % 16];
  return s;
}

// Each letter upper- or lower-case at random: the same address as Auth0 might store it
// from different sign-ups.
std::string mixed_case(std::mt19937_64& rng, const std::string& s) {
  std::string out = s;
  for (auto& c : out)
    if (c >= 'a' && c <= 'z' && rng() % 3 == 0) c = static_cast<char>(c - 'a' + 'A');
  return out;
}

}  // namespace

std::vector<gen_account> generate(const gen_options& o) {
  std::mt19937_64 rng(o.seed);
  std::vector<gen_account> out;
  out.reserve(o.people * 2);
  for (std::uint64_t p = 0; p < o.people; ++p) {
    const std::string email = "person" + std::to_string(p) + ".x@example" + std::to_string(p % 7) + ".com";
    const unsigned n = 1 + static_cast<unsigned>(rng() % o.max_cluster);
    const bool has_primary = n > 1 && rng() % 100 < o.primary_pct;
    for (unsigned k = 0; k < n; ++k) {
      gen_account a;
      switch (rng() % 4) {
        case 0:
          a.user_id = "auth0|" + hex(rng, 24);
          a.connection = "Username-Password-Authentication";
          break;
        case 1:
          a.user_id = "google-oauth2|" + std::to_string(100000000000000000ull + rng() % 899999999999999999ull);
          a.connection = "google-oauth2";
          break;
        case 2:  // enterprise ids carry more pipes: provider|connection|id
          a.user_id = "samlp|acme-sso|" + email;
          a.connection = "acme-sso";
          break;
        default:
          a.user_id = "waad|contoso|" + hex(rng, 12) + "|" + hex(rng, 8);
          a.connection = "contoso";
          break;
      }
      if (rng() % 100 < o.no_email_pct) {
        a.email.clear();
      } else {
        a.email = mixed_case(rng, email);
      }
      a.verified = rng() % 100 >= o.unverified_pct;
      a.blocked = rng() % 100 < o.blocked_pct;
      a.existing_primary = has_primary && k == 0;
      a.logins = static_cast<std::uint32_t>(rng() % 500);
      char when[32];
      const unsigned year = 2015 + static_cast<unsigned>(rng() % 11), month = 1 + static_cast<unsigned>(rng() % 12),
                     day = 1 + static_cast<unsigned>(rng() % 28), hour = static_cast<unsigned>(rng() % 24),
                     minute = static_cast<unsigned>(rng() % 60), second = static_cast<unsigned>(rng() % 60),
                     milli = static_cast<unsigned>(rng() % 1000);
      std::snprintf(when, sizeof when, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", year, month, day, hour, minute, second,
                    milli);
      a.created_at = when;
      out.push_back(std::move(a));
    }
  }
  // Two accounts of one person may get the same samlp id: keep ids unique.
  for (std::size_t i = 0; i < out.size(); ++i)
    if (out[i].user_id.rfind("samlp|", 0) == 0) out[i].user_id += "#" + std::to_string(i);
  std::shuffle(out.begin(), out.end(), rng);
  return out;
}

std::string to_export_line(const gen_account& a) {
  json::array identities;
  const auto bar = a.user_id.find('|');
  identities.push_back(json::object{{"provider", a.user_id.substr(0, bar)},
                                    {"user_id", a.user_id.substr(bar + 1)},
                                    {"connection", a.connection},
                                    {"isSocial", a.connection == "google-oauth2"}});
  if (a.existing_primary)
    identities.push_back(json::object{{"provider", "auth0"},
                                      {"user_id", "linked" + a.user_id.substr(bar + 1, 8)},
                                      {"connection", "Username-Password-Authentication"},
                                      {"isSocial", false}});
  json::object o{{"user_id", a.user_id},
                 {"email_verified", a.verified},
                 {"created_at", a.created_at},
                 {"logins_count", a.logins},
                 {"identities", std::move(identities)}};
  if (!a.email.empty()) o["email"] = a.email;
  if (a.blocked) o["blocked"] = true;
  return json::serialize(o);
}

expected_plan plan_by_rules(const std::vector<gen_account>& accounts, const std::string& policy) {
  const std::string prefer = "prefer-connection:";
  const bool most_logins = policy == "most-logins";
  const std::string connection = policy.rfind(prefer, 0) == 0 ? policy.substr(prefer.size()) : "";
  if (policy != "oldest" && !most_logins && connection.empty())
    throw std::invalid_argument("plan_by_rules: unknown policy " + policy);
  auto fold = [](std::string s) {
    for (auto& c : s)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
  };
  // Group linkable accounts (and existing primaries, which decide for their email) by
  // folded email; the primary is the linkable existing primary, else the best by the
  // policy's order.
  std::map<std::string, std::vector<const gen_account*>> by_email;
  for (const auto& a : accounts)
    if (!a.email.empty() && ((a.verified && !a.blocked) || a.existing_primary)) by_email[fold(a.email)].push_back(&a);
  expected_plan out;
  for (const auto& a : accounts) {
    if (a.email.empty())
      out.refused[a.user_id] = "no_email";
    else if (!a.verified)
      out.refused[a.user_id] = "unverified";
    else if (a.blocked)
      out.refused[a.user_id] = "blocked";
  }
  auto before = [&](const gen_account* a, const gen_account* b) {
    if (most_logins && a->logins != b->logins) return a->logins > b->logins;
    if (!connection.empty() && (a->connection == connection) != (b->connection == connection))
      return a->connection == connection;
    if (a->created_at != b->created_at) return a->created_at < b->created_at;  // one format: text order is time order
    return a->user_id < b->user_id;
  };
  for (auto& [email, group] : by_email) {
    std::vector<const gen_account*> ok, primaries;
    bool bad_primary = false;
    for (const auto* a : group) {
      const bool linkable = a->verified && !a->blocked;
      if (linkable) ok.push_back(a);
      if (a->existing_primary) (linkable ? primaries.push_back(a) : void(bad_primary = true));
    }
    const char* reason = primaries.size() + bad_primary > 1 ? "conflicting_primaries"
                         : bad_primary                      ? "primary_ineligible"
                         : ok.size() < 2                    ? "alone"
                                                            : nullptr;
    if (reason) {
      for (const auto* a : ok) out.refused[a->user_id] = reason;
      continue;
    }
    const auto* primary = primaries.empty() ? *std::min_element(ok.begin(), ok.end(), before) : primaries[0];
    for (const auto* a : ok)
      if (a != primary) out.pairs.emplace(primary->user_id, a->user_id);
  }
  return out;
}

}  // namespace a0::linkplan::test
