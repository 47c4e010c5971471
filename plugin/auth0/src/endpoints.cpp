#include "auth0/endpoints.hpp"

#include "http/percent_encoding.hpp"

#include <charconv>
#include <stdexcept>

namespace a0::auth0 {

using http::pct_encode;

host_port split_domain(std::string_view d) {
  auto bad = [](const char* why) { throw std::invalid_argument(std::string("domain: ") + why); };
  if (d.empty()) bad("must not be empty");
  if (d.find("://") != std::string_view::npos) bad("must be a host name without a scheme (no https://)");
  if (d.find_first_of("/?#") != std::string_view::npos) bad("must be a host name without a path or query");
  if (d.find('@') != std::string_view::npos) bad("must not contain user info");
  for (char c : d)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) bad("must not contain spaces or control characters");
  host_port hp;
  std::string_view port;
  if (d.front() == '[') {
    const auto close = d.find(']');
    if (close == std::string_view::npos) bad("has an unterminated '[' IPv6 literal");
    hp.host = std::string(d.substr(1, close - 1));
    const auto rest = d.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') bad("expected ':port' after the IPv6 literal");
      port = rest.substr(1);
      if (port.empty()) bad("has an empty port");
    }
  } else {
    const auto colon = d.find(':');
    if (colon != std::string_view::npos) {
      if (d.find(':', colon + 1) != std::string_view::npos)
        bad("IPv6 literals must be written in brackets, e.g. [::1]:8443");
      port = d.substr(colon + 1);
      if (port.empty()) bad("has an empty port");
      d = d.substr(0, colon);
    }
    hp.host = std::string(d);
  }
  if (hp.host.empty()) bad("has an empty host");
  if (port.empty()) {
    hp.port = "443";
  } else {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (ec != std::errc{} || p != port.data() + port.size() || v == 0 || v > 65535)
      bad("port must be a number in 1..65535");
    hp.port = std::to_string(v);
  }
  return hp;
}

std::string canonical_domain(std::string_view domain) {
  const auto hp = split_domain(domain);
  const bool v6 = domain.front() == '[';
  const auto colon = v6 ? domain.find(':', domain.find(']')) : domain.find(':');
  std::string host(domain.substr(0, colon));
  if (!v6 && host.back() == '.') host.pop_back();
  // The default port names the same origin; Auth0's audiences and issuers never carry it.
  std::string out = host;
  if (colon != std::string_view::npos && hp.port != "443") out += ":" + hp.port;
  (void)split_domain(out);  // "." alone leaves no host
  return out;
}

std::string default_audience(std::string_view domain) { return "https://" + canonical_domain(domain) + "/api/v2/"; }

namespace {
// One path segment from an id. Percent-encoding makes any id one segment, except these:
// an empty one addresses the collection (GET /api/v2/users/ lists users) and "." or ".."
// are dot segments that servers and proxies resolve (RFC 3986 §5.2.4), even as %2E.
// The actions refuse such ids first; this is the last line.
std::string segment(std::string_view id, const char* what) {
  if (id.empty() || id == "." || id == "..")
    throw std::invalid_argument(std::string(what) + ": '" + std::string(id) + "' cannot be a path segment");
  return pct_encode(id);
}
}  // namespace

std::string user_target(std::string_view user_id) { return "/api/v2/users/" + segment(user_id, "user id"); }

std::string user_target(std::string_view user_id, const std::vector<std::string>& fields, bool include_fields) {
  auto t = user_target(user_id);
  if (fields.empty()) return t;
  t += "?fields=";
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) t += ',';
    t += pct_encode(fields[i]);
  }
  t += include_fields ? "&include_fields=true" : "&include_fields=false";
  return t;
}

std::string identities_target(std::string_view primary_user_id) { return user_target(primary_user_id) + "/identities"; }

std::string identity_target(std::string_view primary_user_id, std::string_view provider,
                            std::string_view secondary_user_id) {
  return identities_target(primary_user_id) + "/" + segment(provider, "provider") + "/" +
         segment(secondary_user_id, "secondary user id");
}

std::string connections_target(const std::vector<std::string>& strategies, const std::optional<std::string>& from,
                               int take) {
  std::string t = "/api/v2/connections";
  char sep = '?';
  for (const auto& s : strategies) {
    t += sep;
    t += "strategy=" + pct_encode(s);
    sep = '&';
  }
  if (from && !from->empty()) {
    t += sep;
    t += "from=" + pct_encode(*from);
    sep = '&';
  }
  t += sep;
  t += "take=" + std::to_string(take);
  return t;
}

}  // namespace a0::auth0
