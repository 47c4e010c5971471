#include "actions/actions.hpp"

#include "actions/discover.hpp"
#include "actions/requests.hpp"
#include "actions/shaping.hpp"

#include <merge/merge.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <chrono>
#include <exception>
#include <optional>

namespace a0::actions {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr std::string_view k_link = "auth0.link-account";
constexpr std::string_view k_unlink = "auth0.unlink-account";
constexpr std::string_view k_get_user = "auth0.get-user";
constexpr std::string_view k_update = "auth0.update-user-metadata";

json::array to_json_array(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

// WFA-11: outputs deeper than the host parses would turn a done write into a failed
// row. The users read are held to max_user_depth, so only an answer that grew between
// read and write lands here: the outcome is reported in the details, not lost.
json::object fit_depth(json::object outputs, const json::object& outcome) {
  if (json_depth(outputs) <= a0::auth0::host_json_depth) return outputs;
  a0::auth0::api_error e;
  e.code = action_errc::outputs_too_deep;
  e.message = "done, but the outputs would nest deeper than " + std::to_string(a0::auth0::host_json_depth) +
              " levels (the host's WFA-11 limit); the details say what was written";
  throw action_error(std::move(e), outcome);
}

json::object link_outputs(const json::array& identities, const link_request& r, bool patched,
                          const std::vector<std::string>& merged_keys, json::object patch) {
  json::object out{{"profiles", shape_identities(identities, r.include_idp_tokens)},
                   {"primary_user_id", r.primary_user_id},
                   {"metadata_patched", patched},
                   {"merged_keys", to_json_array(merged_keys)},
                   {"dry_run", r.dry_run},
                   {"patch", std::move(patch)}};
  return fit_depth(std::move(out), json::object{{"metadata_patched", patched}, {"linked", !r.dry_run}});
}

const json::array& identities_of(const json::object& user) {
  static const json::array none;
  const auto* ids = user.if_contains("identities");
  return ids && ids->is_array() ? ids->get_array() : none;
}

// ASCII only, whatever the process locale (std::tolower would follow it: in a Turkish
// locale 'I' does not lower to 'i'); other bytes, UTF-8 included, stay as they are.
std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool cancelled(const a0::auth0::api_error& e) { return e.code == a0::auth0::client_errc::cancelled; }

// The merge refuses metadata that is not an object (merge::invalid_argument): reported
// as bad input, as it always was.
merge::delta merge_both(const json::object& primary, const json::object& secondary, const merge::options& opts) {
  try {
    return merge::merge_delta(primary, secondary, opts);
  } catch (const merge::invalid_argument& e) {
    throw input_error(e.what());
  }
}

[[noreturn]] void refuse(std::string message, std::string_view reason) {
  a0::auth0::api_error e;
  e.code = action_errc::precondition_failed;
  e.message = std::move(message);
  throw action_error(std::move(e), json::object{{"reason", reason}, {"metadata_patched", false}, {"linked", false}});
}

// require_verified_email: both present, both verified (JSON true, not "true"), equal
// after ASCII lower-casing. Refused as precondition_failed (the ABI's conflict), not as
// input: the inputs are well-formed, it is the users' state that does not allow the link.
void check_verified_email(const json::object& p, const json::object& s) {
  auto email = [](const json::object& u) -> std::optional<std::string> {
    const auto* e = u.if_contains("email");
    if (!e || !e->is_string() || e->get_string().empty()) return std::nullopt;
    return lower_ascii(e->get_string());
  };
  auto verified = [](const json::object& u) {
    const auto* v = u.if_contains("email_verified");
    return v && v->is_bool() && v->get_bool();
  };
  const auto pe = email(p), se = email(s);
  if (!pe) refuse("require_verified_email: the primary has no email", "primary_email_missing");
  if (!se) refuse("require_verified_email: the secondary has no email", "secondary_email_missing");
  if (!verified(p)) refuse("require_verified_email: the primary's email is not verified", "primary_email_unverified");
  if (!verified(s))
    refuse("require_verified_email: the secondary's email is not verified", "secondary_email_unverified");
  if (*pe != *se) refuse("require_verified_email: the users' emails differ", "emails_differ");
}

// Every key of D must now equal M[k] in the PATCH response; anything else means the
// write was not applied as sent (or a concurrent writer won), so we must not link.
void confirm_patch(const json::object& updated, const json::object& patch) {
  for (const auto& part : patch) {
    const auto* now = updated.if_contains(part.key());
    for (const auto& kv : part.value().get_object()) {
      const json::value* got = now && now->is_object() ? now->get_object().if_contains(kv.key()) : nullptr;
      // A null nested in what was sent and absent from the answer is confirmed: Auth0
      // may drop such nulls (undocumented either way).
      if (!got || !merge::equal_but_dropped_nulls(*got, kv.value())) {
        a0::auth0::api_error e;
        e.code = action_errc::patch_unconfirmed;
        e.retryable = true;
        // The PATCH was answered 200, but we cannot tell what it wrote: metadata_patched
        // is null (unknown), like "linked" when the link state is unknown.
        e.message = "the PATCH was sent but its response does not show /" + std::string(part.key()) + "/" +
                    merge::escape_pointer_token(kv.key()) +
                    " as sent (metadata state unknown); not linked (re-run to repair)";
        throw action_error(std::move(e), json::object{{"metadata_patched", nullptr}, {"linked", false}});
      }
    }
  }
}

// Issue 12 item 8: a PATCH that would make the primary larger than the client reads
// back is refused before it is sent (the user could never be read again, the PATCH
// answer included). The size is the user as it was read with the patched top-level
// keys replaced, plus room for the identity the link adds. Auth0's own metadata limits
// are soft (plugin/actions/README.md) and not enforced here.
constexpr std::size_t k_link_margin = 64 * 1024;

void check_patched_size(const json::object& primary, const json::object& patch) {
  std::size_t size = json::serialize(primary).size();
  for (const auto& part : patch) {
    const auto* cur = primary.if_contains(part.key());
    for (const auto& kv : part.value().get_object()) {
      const json::value* old = cur && cur->is_object() ? cur->get_object().if_contains(kv.key()) : nullptr;
      const std::size_t key = kv.key().size() + 4;  // "key": and a comma
      if (old) size -= std::min(size, json::serialize(*old).size() + key);
      size += json::serialize(kv.value()).size() + key;
    }
  }
  if (size + k_link_margin <= a0::auth0::max_response_bytes) return;
  a0::auth0::api_error e;
  e.code = action_errc::user_too_large;
  e.message = "the merged primary would be about " + std::to_string(size / 1024) +
              " KB, more than the client can read back (" +
              std::to_string(a0::auth0::max_response_bytes / 1024 - k_link_margin / 1024) +
              " KB with room for the link); nothing written";
  throw action_error(std::move(e), json::object{{"metadata_patched", false}, {"linked", false}});
}

// After a PATCH answered 2xx but unreadable: re-read only the metadata it changed (the
// `fields` the patch names) to confirm it. When that fails too, the metadata state is
// unknown; not retryable when the user cannot be read (it never will be, as it is).
asio::awaitable<json::object> reread_patched(context& ctx, const std::string& user_id, const json::object& patch,
                                             a0::auth0::api_error unread) {
  std::vector<std::string> fields;
  for (const auto& part : patch) fields.emplace_back(part.key());
  std::optional<a0::auth0::api_error> reread_error;
  try {
    co_return co_await ctx.client.get_user(user_id, fields);
  } catch (const a0::auth0::api_exception& e) {
    reread_error = e.error();
  }
  unread.retryable = reread_error->retryable;
  unread.message +=
      "; re-reading its metadata failed too (" + reread_error->message + "): metadata state unknown, not linked";
  throw action_error(std::move(unread), json::object{{"metadata_patched", nullptr}, {"linked", false}});
}

struct both_users {
  json::object primary;
  json::object secondary;
  std::exception_ptr secondary_error;
};

// Both GETs concurrently; a failed secondary GET is kept, not thrown, because a
// secondary that is already linked answers 404 and the primary then tells the truth.
asio::awaitable<both_users> get_both(context& ctx, const std::string& primary_id, const std::string& secondary_id) {
  auto ex = co_await asio::this_coro::executor;
  auto [order, pe, p, se, s] = co_await asio::experimental::make_parallel_group(
                                   asio::co_spawn(ex, ctx.client.get_user(primary_id), asio::deferred),
                                   asio::co_spawn(ex, ctx.client.get_user(secondary_id), asio::deferred))
                                   .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
  (void)order;
  if (pe) std::rethrow_exception(pe);
  co_return both_users{std::move(p), std::move(s), se};
}

// workaround(gcc12): built outside the coroutines, GCC miscompiles braced json::object initialisers
// with string-literal keys inside co_await/co_return expressions ("array used as
// initializer").
json::object user_outputs(json::object user, bool include_idp_tokens) {
  return json::object{{"user", shape_user(std::move(user), include_idp_tokens)}};
}

// "unlinked": false when the primary still lists the identity, null when unknown.
json::object unlink_details(bool still_linked) {
  json::value unlinked = nullptr;
  if (still_linked) unlinked = false;
  return json::object{{"unlinked", std::move(unlinked)}};
}

json::object unlink_outputs(const json::array& remaining, const unlink_request& r) {
  return json::object{{"profiles", shape_identities(remaining, r.include_idp_tokens)},
                      {"primary_user_id", r.primary_user_id}};
}

json::object option_item(const json::value& id, const json::value& label) {
  return json::object{{"value", id}, {"label", label}};
}

json::object options_page(json::array items, const std::optional<std::string>& next) {
  json::value token = nullptr;
  if (next && !next->empty()) token = *next;
  return json::object{{"items", std::move(items)}, {"next_page_token", std::move(token)}};
}

// A PATCH that failed: an answered 4xx wrote nothing; a transport failure or 5xx after
// retries may have been applied (metadata_patched null). Never linked.
[[noreturn]] void patch_failed(const a0::auth0::api_exception& e) {
  const int status = e.error().http_status;
  json::value patched = nullptr;
  if (status >= 400 && status < 500) patched = false;
  throw action_error(e.error(), json::object{{"metadata_patched", std::move(patched)}, {"linked", false}});
}

// "linked": false when known not linked, null when the link request may have been applied.
json::object failure_details(bool patched, bool link_state_known) {
  json::value linked = nullptr;
  if (link_state_known) linked = false;
  return json::object{{"metadata_patched", patched}, {"linked", std::move(linked)}};
}

// Auth0 documents both answers to a link of what is linked already: 409 "Specified
// identity already exists." and 400 "Provided secondary account not found." (a linked
// secondary is no user any more; which check runs first is not documented).
bool may_be_linked_already(const a0::auth0::api_error& e) {
  return e.code == a0::auth0::client_errc::conflict || e.http_status == 409 ||
         (e.http_status == 400 && e.message.find("secondary account not found") != std::string::npos);
}

// include_idp_tokens asked for, and no identity carries one: most likely the client lacks
// the read:user_idp_tokens scope (Auth0 then leaves them out without an error).
void warn_if_no_idp_tokens(context& ctx, bool asked, const json::array& identities) {
  if (!asked) return;
  for (const auto& id : identities) {
    if (!id.is_object()) continue;
    for (auto k : {"access_token", "access_token_secret", "refresh_token"})
      if (id.get_object().contains(k)) return;
  }
  ctx.log(a0::auth0::log_level::warn,
          "include_idp_tokens: the answer carries no IdP tokens; Auth0 returns them only to a client with the "
          "read:user_idp_tokens scope (or the identities have none)");
}

// secondary_token must outlive the step by the margin: Auth0 checks it when the link POST
// arrives, after the metadata PATCH, and an expired one then leaves "patched, not linked".
void check_token_margin(const jwt::decoded& token, std::chrono::seconds margin) {
  const auto* exp = token.claims.if_contains("exp");
  if (!exp || !exp->is_number()) return;  // the verification refuses it
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const double left = exp->to_number<double>() - static_cast<double>(now);
  if (left < static_cast<double>(margin.count()))
    throw input_error(
        "secondary_token: " +
        (left <= 0 ? std::string("has expired") : "expires in " + std::to_string(static_cast<long long>(left)) + " s") +
        ", less than secondary_token_min_validity_s (" + std::to_string(margin.count()) +
        " s); nothing was written: get a fresh ID token");
}

asio::awaitable<json::object> link_account(context& ctx, link_request r) {
  // Before any Management API request: an unverified token would choose whose metadata
  // (roles included) is copied into the primary. Only the JWKS GET may precede this.
  if (!r.secondary_token.empty()) {
    r.secondary_full_id = co_await ctx.id_tokens.verify(r.token);
    if (!r.dry_run) check_token_margin(r.token, r.token_min_validity);  // exp is trusted now
  }
  auto held = co_await ctx.primary_locks.acquire(r.primary_user_id);
  const auto sec = *split_user_id(r.secondary_full_id);
  bool patched = false;
  json::object patch;
  std::vector<std::string> merged_keys;

  if (r.merge_metadata || r.require_verified_email || r.dry_run) {
    auto users = co_await get_both(ctx, r.primary_user_id, r.secondary_full_id);
    if (has_identity(identities_of(users.primary), sec.provider, sec.rest)) {
      ctx.log(a0::auth0::log_level::info,
              "link: the secondary is already linked to " + r.primary_user_id + "; nothing to do");
      co_return link_outputs(identities_of(users.primary), r, false, {}, {});
    }
    if (users.secondary_error) std::rethrow_exception(users.secondary_error);
    if (r.require_verified_email) check_verified_email(users.primary, users.secondary);
    if (r.merge_metadata) {
      // The primary's nested nulls count as absent: Auth0 may drop them on any write, and
      // a merge that kept one would then give another result when re-run.
      for (auto name : {"user_metadata", "app_metadata"})
        if (auto* m = users.primary.if_contains(name); m && m->is_object()) merge::drop_nested_nulls(m->get_object());
      // merge_delta: the PATCH body without M (issue 12 item 9: one copy of the merged
      // metadata per row, not M and the body side by side).
      auto merged = merge_both(users.primary, users.secondary, r.merge);
      patch = std::move(merged.patch);
      merged_keys = std::move(merged.merged_keys);
      users.secondary = {};  // not read again: its memory is free before the PATCH
    }
    if (!patch.empty()) check_patched_size(users.primary, patch);
    if (r.dry_run) co_return link_outputs(identities_of(users.primary), r, false, merged_keys, std::move(patch));
    users.primary = {};  // not read again either (the link answers with the identities)
    if (!patch.empty()) {
      json::object updated;
      std::optional<a0::auth0::api_error> unread;
      try {
        updated = co_await ctx.client.patch_user(r.primary_user_id, patch);
      } catch (const a0::auth0::api_exception& e) {
        // The PATCH is idempotent: ambiguous here means a 2xx whose answer could not be
        // read (over the body or depth limit). It was applied; never resent.
        if (!e.error().ambiguous || cancelled(e.error())) patch_failed(e);
        unread = e.error();
      }
      if (unread) updated = co_await reread_patched(ctx, r.primary_user_id, patch, *unread);
      confirm_patch(updated, patch);
      patched = true;
      ctx.log(a0::auth0::log_level::info, "link: metadata of " + r.primary_user_id + " patched (" +
                                              std::to_string(merged_keys.size()) + " merged keys)");
    }
  }

  json::object body;
  if (!r.secondary_token.empty()) {
    body["link_with"] = r.secondary_token;
  } else {
    body["provider"] = r.secondary->provider;
    body["user_id"] = r.secondary->bare;
    if (!r.connection_id.empty()) body["connection_id"] = r.connection_id;
  }
  std::optional<a0::auth0::api_error> failure;
  try {
    auto identities = co_await ctx.client.link(r.primary_user_id, std::move(body));
    warn_if_no_idp_tokens(ctx, r.include_idp_tokens, identities);
    co_return link_outputs(identities, r, patched, merged_keys, patch);
  } catch (const a0::auth0::api_exception& e) {
    failure = e.error();
  }
  // The link may have been applied although we saw no success (ambiguous), or it was
  // applied by an earlier run (409 "already exists"): the primary's identities say which.
  // Until they do, neither is known not to be linked.
  const bool resolve = !cancelled(*failure) && (failure->ambiguous || may_be_linked_already(*failure));
  bool link_state_known = !resolve && !cancelled(*failure);
  if (resolve) {
    try {
      auto primary = co_await ctx.client.get_user(r.primary_user_id);
      if (has_identity(identities_of(primary), sec.provider, sec.rest)) {
        ctx.log(a0::auth0::log_level::info, "link: confirmed linked by re-reading " + r.primary_user_id);
        co_return link_outputs(identities_of(primary), r, patched, merged_keys, patch);
      }
      link_state_known = true;  // the primary does not list it: not linked
    } catch (const a0::auth0::api_exception& e) {
      ctx.log(a0::auth0::log_level::warn, std::string("link: re-reading the primary failed: ") + e.what());
      // A primary that cannot be read (gone, or over the client's limits) will not be
      // readable on a re-run either: not retryable.
      failure->retryable = e.error().retryable || cancelled(e.error());
    }
    // Known not linked: the link's own answer says whether a retry can help (a 409 or a
    // 400 for a secondary that is not linked will not heal; an ambiguous 5xx may).
  }
  // Say only what we know: a link request cut off (cancelled, or ambiguous and not
  // re-read) may have been applied; re-running the step converges either way.
  if (link_state_known) {
    if (patched) failure->message = "metadata patched, not linked: " + failure->message;
  } else {
    failure->message = std::string(patched ? "metadata patched, " : "") +
                       "link state unknown (the link request may have been applied): " + failure->message;
  }
  throw action_error(*failure, failure_details(patched, link_state_known));
}

asio::awaitable<json::object> unlink_account(context& ctx, unlink_request r) {
  auto held = co_await ctx.primary_locks.acquire(r.primary_user_id);
  std::optional<a0::auth0::api_error> failure;
  try {
    auto remaining = co_await ctx.client.unlink(r.primary_user_id, r.secondary.provider, r.secondary.bare);
    co_return unlink_outputs(remaining, r);
  } catch (const a0::auth0::api_exception& e) {
    if (!e.error().ambiguous || cancelled(e.error())) throw;
    failure = e.error();
  }
  // The DELETE may have been applied although no answer said so (the client does not
  // resend it: Auth0's answer to unlinking what is no longer linked is unknown). The
  // primary's identities tell whether the identity is gone.
  failure->retryable = true;
  bool still_linked = false;
  try {
    auto primary = co_await ctx.client.get_user(r.primary_user_id);
    if (!has_identity(identities_of(primary), r.secondary.provider, r.secondary.bare)) {
      ctx.log(a0::auth0::log_level::info, "unlink: confirmed unlinked by re-reading " + r.primary_user_id);
      co_return unlink_outputs(identities_of(primary), r);
    }
    still_linked = true;
  } catch (const a0::auth0::api_exception& e) {
    ctx.log(a0::auth0::log_level::warn, std::string("unlink: re-reading the primary failed: ") + e.what());
    failure->retryable = e.error().retryable || cancelled(e.error());  // as for the link
  }
  failure->message =
      (still_linked ? "not unlinked: " : "unlink state unknown (the unlink request may have been applied): ") +
      failure->message;
  throw action_error(*failure, unlink_details(still_linked));
}

asio::awaitable<json::object> get_user(context& ctx, get_user_request r) {
  auto user = co_await ctx.client.get_user(r.user_id, r.fields);
  if (r.fields.empty() || std::find(r.fields.begin(), r.fields.end(), "identities") != r.fields.end())
    warn_if_no_idp_tokens(ctx, r.include_idp_tokens, identities_of(user));
  co_return user_outputs(std::move(user), r.include_idp_tokens);
}

asio::awaitable<json::object> update_metadata(context& ctx, update_metadata_request r) {
  json::object body;
  body["user_metadata"] = std::move(r.user_metadata);
  json::object user;
  std::optional<a0::auth0::api_error> unread;
  try {
    user = co_await ctx.client.patch_user(r.user_id, std::move(body));
  } catch (const a0::auth0::api_exception& e) {
    if (!e.error().ambiguous || cancelled(e.error())) throw;
    unread = e.error();  // a 2xx whose answer is over the client's limits: applied
  }
  if (unread) {
    unread->message = "metadata patched, but the user it returned cannot be read: " + unread->message;
    throw action_error(*unread, json::object{{"metadata_patched", true}});
  }
  co_return fit_depth(user_outputs(std::move(user), r.include_idp_tokens), json::object{{"metadata_patched", true}});
}

asio::awaitable<json::object> list_database_connections(context& ctx, std::optional<std::string> from) {
  std::vector<std::string> strategies;
  strategies.emplace_back("auth0");  // database connections only
  auto page = co_await ctx.client.list_connections(std::move(strategies), std::move(from));
  json::array items;
  for (const auto& c : page.connections) {
    if (!c.is_object()) continue;
    const auto* id = c.get_object().if_contains("id");
    const auto* name = c.get_object().if_contains("name");
    if (!id || !id->is_string()) continue;
    items.push_back(option_item(*id, name && name->is_string() ? *name : *id));
  }
  co_return options_page(std::move(items), page.next);
}

}  // namespace

bool is_known_action(std::string_view id) noexcept {
  return id == k_link || id == k_unlink || id == k_get_user || id == k_update || id == k_export_users ||
         id == k_users_by_email;
}

runner prepare_action(std::string_view id, const json::object& options, const json::object& inputs) {
  if (id == k_link) return [r = parse_link(options, inputs)](context& c) { return link_account(c, r); };
  if (id == k_unlink) return [r = parse_unlink(options, inputs)](context& c) { return unlink_account(c, r); };
  if (id == k_get_user) return [r = parse_get_user(options, inputs)](context& c) { return get_user(c, r); };
  if (id == k_update) return [r = parse_update_metadata(options, inputs)](context& c) { return update_metadata(c, r); };
  if (id == k_export_users) return [r = parse_export_users(options, inputs)](context& c) { return export_users(c, r); };
  if (id == k_users_by_email)
    return [r = parse_users_by_email(options, inputs)](context& c) { return users_by_email(c, r); };
  throw input_error("action_id: '" + std::string(id) + "' is not an action of this plugin");
}

runner prepare_list_options(std::string_view id, std::string_view field, std::string_view page_token) {
  if (!is_known_action(id)) throw input_error("action_id: '" + std::string(id) + "' is not an action of this plugin");
  if (id != k_link || field != "/inputs/secondary_connection_id")
    throw input_error("field: '" + std::string(field) + "' of " + std::string(id) + " has no dynamic options");
  std::optional<std::string> from;
  if (!page_token.empty()) from = std::string(page_token);
  return [from](context& c) { return list_database_connections(c, from); };
}

}  // namespace a0::actions
