#include <linkplan/plan.hpp>

#include "timestamp.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <deque>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace a0::linkplan {
namespace json = boost::json;

namespace {

// FNV-1a: deterministic on every platform (std::hash is not), and only a first sieve:
// emails are compared exactly before any two accounts share a cluster.
std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

[[noreturn]] void bad_line(std::uint64_t line_no, std::string_view what) {
  throw error("line " + std::to_string(line_no) + ": " + std::string(what));
}

bool blank(std::string_view line) { return line.find_first_not_of(" \t\r") == std::string_view::npos; }

// One line of the export, checked. Views point into the parsed value.
struct account_view {
  std::string_view user_id;
  std::string_view email;  // empty: none
  bool verified = false;
  bool blocked = false;
  bool existing_primary = false;  // identities of its own plus linked ones
  std::string_view connection;    // identities[0].connection, if any
  std::int64_t created_ms = 0;
  std::uint32_t logins = 0;

  bool linkable() const { return !email.empty() && verified && !blocked; }
  // Takes part in clustering: linkable, or a primary whose cluster it decides.
  bool clustered() const { return linkable() || (!email.empty() && existing_primary); }
};

const json::value* field(const json::object& o, std::string_view name) { return o.if_contains(name); }

account_view read_account(const json::value& v, std::uint64_t line_no) {
  if (!v.is_object()) bad_line(line_no, "not a JSON object");
  const auto& o = v.get_object();
  account_view a;
  const auto* id = field(o, "user_id");
  if (!id) bad_line(line_no, "no user_id");
  if (!id->is_string() || id->get_string().empty()) bad_line(line_no, "user_id is not a non-empty string");
  a.user_id = id->get_string();
  if (a.user_id.size() > std::numeric_limits<std::uint16_t>::max())
    bad_line(line_no, "user_id is longer than 65535 bytes");

  if (const auto* e = field(o, "email"); e && !e->is_null()) {
    if (!e->is_string()) bad_line(line_no, "email is not a string");
    a.email = e->get_string();
    if (a.email.size() > std::numeric_limits<std::uint16_t>::max())
      bad_line(line_no, "email is longer than 65535 bytes");
  }
  auto boolean = [&](std::string_view name) {
    const auto* b = field(o, name);
    if (!b || b->is_null()) return false;
    // The export writes JSON booleans; a string "true" is not a verification.
    if (!b->is_bool()) bad_line(line_no, std::string(name) + " is not a boolean");
    return b->get_bool();
  };
  a.verified = boolean("email_verified");
  a.blocked = boolean("blocked");

  const auto* created = field(o, "created_at");
  if (!created || !created->is_string()) bad_line(line_no, "created_at is missing or not a string");
  const auto ms = detail::parse_iso8601_ms(created->get_string());
  if (!ms) bad_line(line_no, "created_at is not an ISO 8601 time (YYYY-MM-DDTHH:MM:SS[.fff]Z)");
  a.created_ms = *ms;

  if (const auto* l = field(o, "logins_count"); l && !l->is_null()) {
    if (l->is_int64() && l->get_int64() >= 0)
      a.logins =
          static_cast<std::uint32_t>(std::min<std::int64_t>(l->get_int64(), std::numeric_limits<std::uint32_t>::max()));
    else if (l->is_uint64())
      a.logins = std::numeric_limits<std::uint32_t>::max();
    else
      bad_line(line_no, "logins_count is not a non-negative integer");
  }

  if (const auto* ids = field(o, "identities"); ids && !ids->is_null()) {
    if (!ids->is_array()) bad_line(line_no, "identities is not an array");
    const auto& arr = ids->get_array();
    for (const auto& i : arr)
      if (!i.is_object()) bad_line(line_no, "an identity is not an object");
    a.existing_primary = arr.size() > 1;
    if (!arr.empty())
      if (const auto* c = arr[0].get_object().if_contains("connection"); c && c->is_string())
        a.connection = c->get_string();
  }
  return a;
}

// Strings of the kept records, in blocks that never move (a growing vector would copy
// its whole content at every doubling, twice the memory at the peak).
class arena {
 public:
  std::string_view store(std::string_view s) {
    if (blocks_.empty() || used_ + s.size() > block_size_) {
      const std::size_t n = std::max(block_size_, s.size());
      blocks_.push_back(std::make_unique<char[]>(n));
      used_ = 0;
      if (s.size() > block_size_) {  // a block of its own
        std::copy(s.begin(), s.end(), blocks_.back().get());
        used_ = block_size_;
        return {blocks_.back().get(), s.size()};
      }
    }
    char* at = blocks_.back().get() + used_;
    std::copy(s.begin(), s.end(), at);
    used_ += s.size();
    return {at, s.size()};
  }

 private:
  static constexpr std::size_t block_size_ = 1 << 20;
  std::vector<std::unique_ptr<char[]>> blocks_;
  std::size_t used_ = 0;
};

enum : std::uint8_t { existing_primary_flag = 1, ineligible_flag = 2 };

struct record {
  std::uint64_t hash;
  const char* email;  // folded, in the arena
  const char* uid;
  std::int64_t created_ms;
  std::uint32_t logins;
  std::uint32_t line;
  std::uint16_t email_len, uid_len;
  std::uint8_t flags;
  bool preferred;  // prefer-connection: of that connection

  std::string_view email_sv() const { return {email, email_len}; }
  std::string_view uid_sv() const { return {uid, uid_len}; }
};

}  // namespace

std::string fold_email(std::string_view email) {
  std::string out(email);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

policy parse_policy(std::string_view text) {
  if (text == "oldest") return {policy_kind::oldest, {}};
  if (text == "most-logins") return {policy_kind::most_logins, {}};
  constexpr std::string_view prefix = "prefer-connection:";
  if (text.substr(0, prefix.size()) == prefix) {
    auto name = text.substr(prefix.size());
    if (name.empty()) throw error("--policy prefer-connection: needs a connection name (prefer-connection:NAME)");
    return {policy_kind::prefer_connection, std::string(name)};
  }
  throw error("unknown policy '" + std::string(text) + "': use oldest, most-logins or prefer-connection:NAME");
}

struct planner::state {
  policy pol;
  email_hash hash;
  json::parser parser;
  std::array<unsigned char, 64 * 1024> parse_buffer;

  // First pass.
  std::vector<std::uint64_t> hashes;
  std::uint64_t first_lines = 0, first_accounts = 0, with_email = 0;
  // Second pass.
  bool second = false;
  std::uint64_t second_lines = 0;
  std::deque<record> kept;
  arena strings;
  summary sum;

  state(policy p, email_hash h) : pol(std::move(p)), hash(h ? h : fnv1a) {}

  template <class F>
  void with_account(std::string_view line, std::uint64_t line_no, F&& f) {
    // Each line's JSON lives in a fixed buffer (and the heap only beyond it), released
    // before the next line.
    json::monotonic_resource mr(parse_buffer.data(), parse_buffer.size());
    parser.reset(&mr);
    boost::system::error_code ec;
    parser.write(line.data(), line.size(), ec);  // the whole text: no trailing garbage
    if (ec) bad_line(line_no, "not JSON (" + ec.message() + ")");
    json::value v = parser.release();
    f(read_account(v, line_no));
  }

  // True when a comes before b in the policy's order (the first is the primary).
  bool policy_before(const record& a, const record& b) const {
    switch (pol.kind) {
      case policy_kind::most_logins:
        if (a.logins != b.logins) return a.logins > b.logins;
        break;
      case policy_kind::prefer_connection:
        if (a.preferred != b.preferred) return a.preferred;
        break;
      case policy_kind::oldest: break;
    }
    if (a.created_ms != b.created_ms) return a.created_ms < b.created_ms;
    return a.uid_sv() < b.uid_sv();
  }

  void refuse(const refusal_sink& sink, std::string_view uid, std::string_view reason, std::uint64_t line) {
    ++sum.refused[std::string(reason)];
    sink(refusal{uid, reason, line});
  }
};

planner::planner(policy p, email_hash hash) : s_(std::make_unique<state>(std::move(p), hash)) {}
planner::~planner() = default;

void planner::first_pass(std::string_view line, std::uint64_t line_no) {
  ++s_->first_lines;
  if (blank(line)) return;
  s_->with_account(line, line_no, [&](const account_view& a) {
    ++s_->first_accounts;
    if (!a.email.empty()) ++s_->with_email;
    if (a.clustered()) s_->hashes.push_back(s_->hash(fold_email(a.email)));
  });
}

void planner::start_second_pass() {
  if (s_->first_accounts > 0 && s_->with_email == 0)
    throw error(
        "no account of the export has an email: export with the fields user_id, email, email_verified, "
        "created_at, logins_count, identities and blocked");
  // Keep only the hashes seen twice or more: the candidate duplicates.
  auto& h = s_->hashes;
  std::sort(h.begin(), h.end());
  std::size_t out = 0;
  for (std::size_t i = 0; i < h.size();) {
    std::size_t j = i;
    while (j < h.size() && h[j] == h[i]) ++j;
    if (j - i > 1) h[out++] = h[i];
    i = j;
  }
  h.resize(out);
  h.shrink_to_fit();
  s_->second = true;
}

void planner::second_pass(std::string_view line, std::uint64_t line_no, const refusal_sink& on_refused) {
  if (!s_->second) throw error("second_pass before start_second_pass");
  ++s_->second_lines;
  if (s_->second_lines > s_->first_lines) throw error("the export changed between the two passes (more lines)");
  if (blank(line)) return;
  s_->with_account(line, line_no, [&](const account_view& a) {
    ++s_->sum.accounts;
    if (a.email.empty()) return s_->refuse(on_refused, a.user_id, "no_email", line_no);
    if (!a.verified)
      s_->refuse(on_refused, a.user_id, "unverified", line_no);
    else if (a.blocked)
      s_->refuse(on_refused, a.user_id, "blocked", line_no);
    if (!a.clustered()) return;
    const std::string folded = fold_email(a.email);
    const auto h = s_->hash(folded);
    if (!std::binary_search(s_->hashes.begin(), s_->hashes.end(), h)) {
      // Unique hash: no other account of the export can have this email. (A primary that
      // is not linkable was refused above already; alone, it decides nothing.)
      if (a.linkable()) s_->refuse(on_refused, a.user_id, "alone", line_no);
      return;
    }
    record r{};
    r.hash = h;
    r.email = s_->strings.store(folded).data();
    r.email_len = static_cast<std::uint16_t>(folded.size());
    r.uid = s_->strings.store(a.user_id).data();
    r.uid_len = static_cast<std::uint16_t>(a.user_id.size());
    r.created_ms = a.created_ms;
    r.logins = a.logins;
    r.line = static_cast<std::uint32_t>(std::min<std::uint64_t>(line_no, std::numeric_limits<std::uint32_t>::max()));
    r.flags = static_cast<std::uint8_t>((a.existing_primary ? existing_primary_flag : 0) |
                                        (a.linkable() ? 0 : ineligible_flag));
    r.preferred = s_->pol.kind == policy_kind::prefer_connection && a.connection == s_->pol.connection;
    s_->kept.push_back(r);
  });
}

summary planner::finish(const pair_sink& on_pair, const refusal_sink& on_refused) {
  if (s_->second_lines != s_->first_lines) throw error("the export changed between the two passes (fewer lines)");
  auto& st = *s_;
  auto& kept = st.kept;
  std::sort(kept.begin(), kept.end(), [&](const record& a, const record& b) {
    if (a.hash != b.hash) return a.hash < b.hash;
    if (a.email_sv() != b.email_sv()) return a.email_sv() < b.email_sv();
    return st.policy_before(a, b);
  });

  for (std::size_t i = 0; i < kept.size();) {
    std::size_t j = i;
    while (j < kept.size() && kept[j].hash == kept[i].hash && kept[j].email_sv() == kept[i].email_sv()) ++j;
    // kept[i, j): one email, in policy order.
    std::size_t linkable = 0, primaries = 0, ineligible_primaries = 0;
    const record* primary = nullptr;
    for (std::size_t k = i; k < j; ++k) {
      const auto& r = kept[k];
      const bool ok = !(r.flags & ineligible_flag);
      if (ok) ++linkable;
      if (r.flags & existing_primary_flag) {
        if (ok) {
          ++primaries;
          primary = &r;
        } else {
          ++ineligible_primaries;
        }
      }
    }
    // An account exported twice would be linked into itself.
    if (j - i > 1) {
      std::vector<std::string_view> ids;
      for (std::size_t k = i; k < j; ++k) ids.push_back(kept[k].uid_sv());
      std::sort(ids.begin(), ids.end());
      if (auto d = std::adjacent_find(ids.begin(), ids.end()); d != ids.end())
        throw error("user_id " + std::string(*d) + " appears twice in the export");
    }

    std::string_view reason;
    if (primaries + ineligible_primaries > 1)
      reason = "conflicting_primaries";
    else if (ineligible_primaries == 1)
      reason = "primary_ineligible";
    else if (linkable < 2)
      reason = "alone";
    if (!reason.empty()) {
      for (std::size_t k = i; k < j; ++k)
        if (!(kept[k].flags & ineligible_flag)) st.refuse(on_refused, kept[k].uid_sv(), reason, kept[k].line);
    } else {
      if (!primary)
        primary = &kept[i];  // policy order: the first linkable (all are here)
      else
        ++st.sum.kept_primaries;
      ++st.sum.clusters;
      for (std::size_t k = i; k < j; ++k) {
        if (&kept[k] == primary) continue;
        ++st.sum.pairs;
        on_pair(pair{primary->uid_sv(), kept[k].uid_sv()});
      }
    }
    i = j;
  }
  return st.sum;
}

}  // namespace a0::linkplan
