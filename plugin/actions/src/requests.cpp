#include "actions/requests.hpp"

#include "actions/errors.hpp"
#include "actions/shaping.hpp"

#include <auth0/management_client.hpp>

#include <algorithm>
#include <filesystem>
#include <initializer_list>
#include <regex>
#include <stdexcept>

#include <unistd.h>

namespace a0::actions {

namespace json = boost::json;

namespace {

[[noreturn]] void fail(std::string_view field, std::string_view why) {
  throw input_error(std::string(field) + ": " + std::string(why));
}

// additionalProperties:false in the manifests; a typo must not be silently ignored.
void only_known(const json::object& o, std::string_view where, std::initializer_list<std::string_view> known) {
  for (const auto& kv : o)
    if (std::find(known.begin(), known.end(), kv.key()) == known.end())
      fail(std::string(where) + "." + std::string(kv.key()), "is not a known field");
}

bool opt_bool(const json::object& o, std::string_view field, bool fallback) {
  const auto* v = o.if_contains(field);
  if (!v || v->is_null()) return fallback;
  if (!v->is_bool()) fail(field, "must be a boolean");
  return v->get_bool();
}

std::string opt_string(const json::object& o, std::string_view field) {
  const auto* v = o.if_contains(field);
  if (!v || v->is_null()) return {};
  if (!v->is_string()) fail(field, "must be a string");
  if (v->get_string().empty()) fail(field, "must not be empty");
  return std::string(v->get_string());
}

std::string required_string(const json::object& o, std::string_view field) {
  auto s = opt_string(o, field);
  if (s.empty()) fail(field, "is required (a non-empty string)");
  return s;
}

// A full id is also what keeps the path segment from being "." or ".." (a dot segment
// that a server or proxy would resolve): it always holds a pipe, sent as %7C.
std::string full_user_id(const json::object& o, std::string_view field) {
  auto id = required_string(o, field);
  if (!split_user_id(id)) fail(field, "must be a full user id 'provider|id', e.g. auth0|abc");
  return id;
}

// Structure only (alg RS256, a kid, JSON segments) and a sub that is a full id; the
// signature and the claims are checked by the action against the tenant's JWKS.
std::string token_subject(std::string_view token, jwt::decoded& out) {
  try {
    out = jwt::decode(token);
  } catch (const jwt::error& e) {
    fail("secondary_token", e.what());
  }
  const auto* sub = out.claims.if_contains("sub");
  if (!sub || !sub->is_string() || !split_user_id(sub->get_string()))
    fail("secondary_token", "has no 'sub' claim with a full user id");
  return std::string(sub->get_string());
}

// Auth0 refuses field names with '.' or '$' at any depth; arrays are walked too because
// they may hold objects. Iterative so that deep documents cannot exhaust the stack.
void check_metadata_keys(const json::value& root, std::string root_pointer) {
  std::vector<std::pair<const json::value*, std::string>> todo{{&root, std::move(root_pointer)}};
  while (!todo.empty()) {
    auto [v, at] = std::move(todo.back());
    todo.pop_back();
    if (v->is_object()) {
      for (const auto& kv : v->get_object()) {
        if (kv.key().find_first_of(".$") != json::string_view::npos)
          fail("user_metadata", "key '" + std::string(kv.key()) + "' at " + at +
                                    " is not allowed (Auth0 refuses '.' and '$' in field names)");
        todo.emplace_back(&kv.value(), at + "/" + merge::escape_pointer_token(kv.key()));
      }
    } else if (v->is_array()) {
      std::size_t i = 0;
      for (const auto& e : v->get_array()) todo.emplace_back(&e, at + "/" + std::to_string(i++));
    }
  }
}

}  // namespace

link_request parse_link(const json::object& options, const json::object& inputs) {
  only_known(options, "options",
             {"merge_metadata", "include_idp_tokens", "require_verified_email", "dry_run", "merge_exclude", "arrays",
              "secondary_token_min_validity_s"});
  only_known(
      inputs, "inputs",
      {"primary_user_id", "secondary_user_id", "secondary_provider", "secondary_connection_id", "secondary_token"});
  link_request r;
  const auto* merge = options.if_contains("merge_metadata");
  if (!merge || !merge->is_bool()) fail("merge_metadata", "is required (a boolean)");
  r.merge_metadata = merge->get_bool();
  r.include_idp_tokens = opt_bool(options, "include_idp_tokens", false);
  r.require_verified_email = opt_bool(options, "require_verified_email", false);
  r.dry_run = opt_bool(options, "dry_run", false);
  if (const auto* v = options.if_contains("secondary_token_min_validity_s"); v && !v->is_null()) {
    if (!v->is_int64() && !v->is_uint64()) fail("secondary_token_min_validity_s", "must be an integer");
    const bool in_range = v->is_int64() ? v->get_int64() >= 0 && v->get_int64() <= 86400 : v->get_uint64() <= 86400;
    if (!in_range) fail("secondary_token_min_validity_s", "must be in 0..86400");
    r.token_min_validity = std::chrono::seconds{v->to_number<std::int64_t>()};
  }
  try {
    r.merge = merge::parse_options(options.if_contains("arrays"), options.if_contains("merge_exclude"));
  } catch (const merge::invalid_argument& e) {
    throw input_error(e.what());  // the merge's message names the option
  }

  r.primary_user_id = full_user_id(inputs, "primary_user_id");
  r.secondary_token = opt_string(inputs, "secondary_token");
  const auto user_id = opt_string(inputs, "secondary_user_id");
  const auto provider = opt_string(inputs, "secondary_provider");
  r.connection_id = opt_string(inputs, "secondary_connection_id");
  if (!r.secondary_token.empty()) {
    // link_with must not be combined with provider, user_id or connection_id (API rule).
    const std::pair<std::string_view, const std::string*> exclusive[] = {{"secondary_user_id", &user_id},
                                                                         {"secondary_provider", &provider},
                                                                         {"secondary_connection_id", &r.connection_id}};
    for (const auto& [name, value] : exclusive)
      if (!value->empty()) fail(name, "must not be given together with secondary_token");
    r.secondary_full_id = token_subject(r.secondary_token, r.token);
  } else {
    if (user_id.empty()) fail("secondary_user_id", "is required unless secondary_token is given");
    r.secondary = resolve_secondary(user_id, provider);
    r.secondary_full_id = r.secondary->full();
    static const std::regex k_connection_id("^con_[A-Za-z0-9]{16}$");
    if (!r.connection_id.empty() && !std::regex_match(r.connection_id, k_connection_id))
      fail("secondary_connection_id", "must match ^con_[A-Za-z0-9]{16}$");
  }
  if (r.secondary_full_id == r.primary_user_id)
    fail("secondary_user_id", "is the primary itself (a user cannot be linked to itself)");
  return r;
}

unlink_request parse_unlink(const json::object& options, const json::object& inputs) {
  only_known(options, "options", {"include_idp_tokens"});
  only_known(inputs, "inputs", {"primary_user_id", "secondary_user_id", "secondary_provider"});
  unlink_request r;
  r.include_idp_tokens = opt_bool(options, "include_idp_tokens", false);
  r.primary_user_id = full_user_id(inputs, "primary_user_id");
  r.secondary =
      resolve_secondary(required_string(inputs, "secondary_user_id"), opt_string(inputs, "secondary_provider"));
  if (r.secondary.full() == r.primary_user_id)
    fail("secondary_user_id", "is the primary's own identity (it cannot be unlinked)");
  return r;
}

namespace {
// A list of user fields (at most 100, as the manifests' maxItems say), each matching `pattern`.
std::vector<std::string> field_names(const json::object& o, std::string_view field, const std::regex& pattern) {
  std::vector<std::string> out;
  const auto* f = o.if_contains(field);
  if (!f || f->is_null()) return out;
  if (!f->is_array()) fail(field, "must be an array of field names");
  if (f->get_array().size() > 100) fail(field, "holds more than 100 names");
  for (const auto& e : f->get_array()) {
    if (!e.is_string() || !std::regex_match(e.get_string().begin(), e.get_string().end(), pattern))
      fail(field, "each item must be a field name such as user_id or app_metadata");
    out.emplace_back(e.get_string());
  }
  return out;
}

// The `fields` input of get-user and users-by-email: user field names.
std::vector<std::string> user_fields(const json::object& inputs) {
  static const std::regex k_field("^[A-Za-z0-9_.]+$");
  return field_names(inputs, "fields", k_field);
}
}  // namespace

get_user_request parse_get_user(const json::object& options, const json::object& inputs) {
  only_known(options, "options", {"include_idp_tokens"});
  only_known(inputs, "inputs", {"user_id", "fields"});
  get_user_request r;
  r.include_idp_tokens = opt_bool(options, "include_idp_tokens", false);
  r.user_id = full_user_id(inputs, "user_id");
  r.fields = user_fields(inputs);
  return r;
}

update_metadata_request parse_update_metadata(const json::object& options, const json::object& inputs) {
  only_known(options, "options", {"include_idp_tokens"});
  only_known(inputs, "inputs", {"user_id", "user_metadata"});
  update_metadata_request r;
  r.include_idp_tokens = opt_bool(options, "include_idp_tokens", false);
  r.user_id = full_user_id(inputs, "user_id");
  const auto* m = inputs.if_contains("user_metadata");
  if (!m || !m->is_object()) fail("user_metadata", "is required (an object)");
  // {} would wipe all metadata on Auth0 instead of changing nothing.
  if (m->get_object().empty()) fail("user_metadata", "must not be empty ({} wipes all metadata)");
  check_metadata_keys(*m, "/user_metadata");
  // One level below the user: a deeper one could not be read back (WFA-11).
  if (json_depth(*m) + 1 > a0::auth0::max_user_depth)
    fail("user_metadata", "nests deeper than " + std::to_string(a0::auth0::max_user_depth - 1) +
                              " levels; the user could not be read back (the host's WFA-11 limit)");
  r.user_metadata = m->get_object();
  return r;
}

// Issue 13: the export job's and users-by-email's inputs.

namespace {

std::chrono::milliseconds opt_ms(const json::object& o, std::string_view field, std::int64_t fallback, std::int64_t min,
                                 std::int64_t max) {
  const auto* v = o.if_contains(field);
  if (!v || v->is_null()) return std::chrono::milliseconds{fallback};
  if (!v->is_int64() || v->get_int64() < min || v->get_int64() > max)
    fail(field, "must be an integer in " + std::to_string(min) + ".." + std::to_string(max));
  return std::chrono::milliseconds{v->get_int64()};
}

// A folder that exists and that we may create a file in (the temp file beside the
// output), checked before the job is started: a job of hours must not end in EACCES.
std::string output_path(const json::object& inputs) {
  namespace fs = std::filesystem;
  const auto text = required_string(inputs, "output_file");
  if (text.find('\0') != std::string::npos) fail("output_file", "must not contain a NUL character");
  if (text.size() > 4096) fail("output_file", "is longer than 4096 bytes");
  std::error_code ec;
  const fs::path p = fs::absolute(fs::path(text), ec).lexically_normal();
  if (ec || p.filename().empty()) fail("output_file", "must name a file, not a folder");
  if (fs::is_directory(p, ec)) fail("output_file", "'" + p.string() + "' is a folder, not a file");
  const fs::path dir = p.parent_path();
  if (!fs::is_directory(dir, ec)) fail("output_file", "folder '" + dir.string() + "' does not exist");
  if (::access(dir.c_str(), W_OK | X_OK) != 0) fail("output_file", "folder '" + dir.string() + "' is not writable");
  return p.string();
}

}  // namespace

export_users_request parse_export_users(const json::object& options, const json::object& inputs) {
  only_known(options, "options", {"poll_interval_ms", "max_poll_interval_ms", "max_download_bytes", "extra_fields"});
  only_known(inputs, "inputs", {"output_file", "connection_id"});
  export_users_request r;
  r.poll_interval = opt_ms(options, "poll_interval_ms", 1000, 10, 600000);
  r.max_poll_interval = opt_ms(options, "max_poll_interval_ms", 30000, 10, 600000);
  if (r.max_poll_interval < r.poll_interval) fail("max_poll_interval_ms", "must not be below poll_interval_ms");
  if (const auto* v = options.if_contains("max_download_bytes"); v && !v->is_null()) {
    if (!(v->is_int64() && v->get_int64() >= 1) && !v->is_uint64())
      fail("max_download_bytes", "must be a positive integer (absent: no cap)");
    r.max_download_bytes = v->to_number<std::uint64_t>();
  }
  // Export paths: identities[0].connection, user_metadata.country.
  static const std::regex k_path("^[A-Za-z0-9_.\\[\\]]{1,128}$");
  r.extra_fields = field_names(options, "extra_fields", k_path);
  r.output_file = output_path(inputs);
  r.connection_id = opt_string(inputs, "connection_id");
  static const std::regex k_connection_id("^con_[A-Za-z0-9]{16}$");
  if (!r.connection_id.empty() && !std::regex_match(r.connection_id, k_connection_id))
    fail("connection_id", "must match ^con_[A-Za-z0-9]{16}$");
  return r;
}

users_by_email_request parse_users_by_email(const json::object& options, const json::object& inputs) {
  only_known(options, "options", {"include_idp_tokens"});
  only_known(inputs, "inputs", {"email", "fields"});
  users_by_email_request r;
  r.include_idp_tokens = opt_bool(options, "include_idp_tokens", false);
  r.email = required_string(inputs, "email");
  // One '@' with something on both sides, no space or control character, at most 512
  // bytes: Auth0 answers 400 for anything else, so it is not sent.
  static const std::regex k_email("^[^@\\s\\x00-\\x1f\\x7f]+@[^@\\s\\x00-\\x1f\\x7f]+$");
  if (r.email.size() > 512 || !std::regex_match(r.email, k_email))
    fail("email", "must be an email address (local@domain, no spaces)");
  r.fields = user_fields(inputs);
  return r;
}

}  // namespace a0::actions
