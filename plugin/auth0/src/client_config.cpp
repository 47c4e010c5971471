// client_config::from_json: validation of the manifest "connection" object. Messages name
// the field and never echo a value of client_secret or token.
#include "auth0/endpoints.hpp"
#include "auth0/management_client.hpp"
#include "http/header_values.hpp"

#include <boost/json/value.hpp>

#include <fstream>
#include <stdexcept>

namespace a0::auth0 {

namespace json = boost::json;

namespace {

[[noreturn]] void fail(std::string_view field, std::string_view why) {
  throw std::invalid_argument(std::string(field) + ": " + std::string(why));
}

std::optional<std::string> opt_string(const json::object& o, std::string_view field) {
  const auto* v = o.if_contains(field);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_string()) fail(field, "must be a string");
  return std::string(v->get_string());
}

std::optional<std::int64_t> opt_int(const json::object& o, std::string_view field, std::int64_t lo, std::int64_t hi) {
  const auto* v = o.if_contains(field);
  if (!v || v->is_null()) return std::nullopt;
  std::int64_t n = 0;
  if (v->is_int64()) {
    n = v->get_int64();
  } else if (v->is_uint64()) {
    n = v->get_uint64() > static_cast<std::uint64_t>(hi) ? hi + 1 : static_cast<std::int64_t>(v->get_uint64());
  } else if (v->is_double() && v->get_double() == static_cast<double>(static_cast<std::int64_t>(v->get_double()))) {
    n = static_cast<std::int64_t>(v->get_double());  // 30000.0 from a JSON generator is fine
  } else {
    fail(field, "must be an integer");
  }
  if (n < lo || n > hi) fail(field, "must be in " + std::to_string(lo) + ".." + std::to_string(hi));
  return n;
}

}  // namespace

client_config client_config::from_json(const json::object& o) {
  client_config c;
  auto domain = opt_string(o, "domain");
  if (!domain || domain->empty()) fail("domain", "is required (host or host:port)");
  c.domain = auth0::canonical_domain(*domain);  // throws "domain: ..." with the reason

  auto id = opt_string(o, "client_id");
  auto secret = opt_string(o, "client_secret");
  auto token = opt_string(o, "token");
  const bool has_id = id && !id->empty();
  const bool has_secret = secret && !secret->empty();
  const bool has_token = token && !token->empty();
  if (has_token && (has_id || has_secret)) fail("token", "give either token or client_id + client_secret, not both");
  if (!has_token) {
    if (!has_id && !has_secret) fail("client_id", "credentials are required: client_id + client_secret, or token");
    if (!has_id) fail("client_id", "is required with client_secret");
    if (!has_secret) fail("client_secret", "is required with client_id");
    c.client_id = std::move(*id);
    c.client_secret = std::move(*secret);
  } else {
    // It goes into the Authorization header: CR/LF there would inject headers or smuggle
    // a request. Never echoed.
    if (!http::is_token68(*token))
      fail("token",
           "must be a bearer token of RFC 6750 token68 characters (A-Z a-z 0-9 - . _ ~ + / then "
           "optional trailing =); it holds a space, CR, LF or another character a bearer cannot");
    c.token = std::move(*token);
  }

  if (auto custom = opt_string(o, "custom_domain"); custom && !custom->empty()) {
    try {
      c.custom_domain = auth0::canonical_domain(*custom);
    } catch (const std::invalid_argument& e) {
      // canonical_domain names "domain"; this is the other field.
      fail("custom_domain", std::string(e.what()).substr(sizeof("domain: ") - 1));
    }
  }

  auto audience = opt_string(o, "audience");
  if (audience && !audience->empty()) {
    // Auth0's Management API identifier is https://TENANT/api/v2/ (also behind a custom
    // domain): anything else would be refused by the token endpoint (403) or the API (401).
    const std::string_view a = *audience;
    constexpr std::string_view scheme = "https://", path = "/api/v2/";
    bool ok = a.size() > scheme.size() + path.size() && a.starts_with(scheme) && a.ends_with(path);
    if (ok) {
      try {
        (void)auth0::split_domain(a.substr(scheme.size(), a.size() - scheme.size() - path.size()));
      } catch (const std::invalid_argument&) {
        ok = false;
      }
    }
    if (!ok) fail("audience", "must be the Management API identifier https://TENANT-DOMAIN/api/v2/");
  }
  c.audience = audience && !audience->empty() ? std::move(*audience) : auth0::default_audience(c.domain);

  if (auto ca = opt_string(o, "ca_file"); ca && !ca->empty()) {
    std::ifstream probe(*ca, std::ios::binary);
    if (!probe) fail("ca_file", "cannot open '" + *ca + "' for reading");
    c.ca_file = std::move(*ca);
  }
  if (auto v = opt_int(o, "timeout_ms", 1, 600000)) c.timeout = std::chrono::milliseconds{*v};
  if (auto v = opt_int(o, "connect_timeout_ms", 1, 600000)) c.connect_timeout = std::chrono::milliseconds{*v};
  if (auto v = opt_int(o, "max_retries", 0, 10)) c.max_retries = static_cast<int>(*v);
  if (auto v = opt_int(o, "max_connections", 1, 256)) c.max_connections = static_cast<int>(*v);
  if (auto v = opt_int(o, "max_backoff_ms", 0, 600000)) c.max_backoff = std::chrono::milliseconds{*v};
  if (const auto* v = o.if_contains("max_requests_per_second"); v && !v->is_null()) {
    if (!v->is_number()) fail("max_requests_per_second", "must be a number");
    const double rate = v->to_number<double>();
    if (!(rate >= 0.01 && rate <= 10000)) fail("max_requests_per_second", "must be from 0.01 to 10000");
    c.max_requests_per_second = rate;
  }
  return c;
}

}  // namespace a0::auth0
