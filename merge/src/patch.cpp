// What is sent: the top-level delta and the whole-user merge (with M, or only what is sent).
#include "detail.hpp"
#include "merge/merge.hpp"

namespace merge {
namespace json = boost::json;

namespace {

// D: M's top-level members that are new or differ from P's, in M's order, each value
// taken from M by `take` (a copy, or a move out of an M that is dropped afterwards).
template <class Merged, class Take>
json::object delta_of(const json::object& primary, Merged& merged, Take take) {
  json::object delta;
  for (auto& kv : merged) {
    const auto it = primary.find(kv.key());
    if (it == primary.end() || !json_equal(it->value(), kv.value())) {
      delta.emplace(kv.key(), take(kv.value()));
    }
  }
  return delta;
}

}  // namespace

json::object metadata_delta(const json::object& primary, const json::object& merged) {
  return delta_of(primary, merged, [](const json::value& v) { return deep_copy(v); });
}

json::object metadata_delta(const json::object& primary, json::object&& merged) {
  // Same storage: the subtree itself moves, nothing is copied.
  return delta_of(primary, merged, [](json::value& v) { return std::move(v); });
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

// Both users' metadata objects, checked in this order (the first bad one is reported).
struct metadata_of_both {
  const json::object empty;  // first: the references below may point to it
  const json::object& pu;
  const json::object& pa;
  const json::object& su;
  const json::object& sa;
  metadata_of_both(const json::object& primary, const json::object& secondary)
      : pu(metadata_of(primary, "user_metadata", "primary", empty)),
        pa(metadata_of(primary, "app_metadata", "primary", empty)),
        su(metadata_of(secondary, "user_metadata", "secondary", empty)),
        sa(metadata_of(secondary, "app_metadata", "secondary", empty)) {}
};

void add_part(json::object& patch, std::string_view name, json::object&& part) {
  if (!part.empty()) patch.emplace(name, std::move(part));
}

}  // namespace

result merge_users(const json::object& primary, const json::object& secondary, const options& opts) {
  const metadata_of_both m(primary, secondary);
  result r;
  r.user_metadata = merge_metadata(m.pu, m.su, opts, "/user_metadata", &r.merged_keys);
  r.app_metadata = merge_metadata(m.pa, m.sa, opts, "/app_metadata", &r.merged_keys);
  add_part(r.patch, "user_metadata", metadata_delta(m.pu, r.user_metadata));
  add_part(r.patch, "app_metadata", metadata_delta(m.pa, r.app_metadata));
  return r;
}

delta merge_delta(const json::object& primary, const json::object& secondary, const options& opts) {
  const metadata_of_both m(primary, secondary);
  // One M at a time, its changed values moved into D and the rest dropped at once: the
  // peak is one copy of the merged metadata, not M and D side by side. Same order of work
  // (and of merged_keys, and of the exclusion checks) as merge_users.
  delta d;
  add_part(d.patch, "user_metadata",
           metadata_delta(m.pu, merge_metadata(m.pu, m.su, opts, "/user_metadata", &d.merged_keys)));
  add_part(d.patch, "app_metadata",
           metadata_delta(m.pa, merge_metadata(m.pa, m.sa, opts, "/app_metadata", &d.merged_keys)));
  return d;
}

}  // namespace merge
