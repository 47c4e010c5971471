// merge(P, S) of docs/merge-semantics.md: primary wins; the only information taken from S is
// keys that P lacks (and, under concat/union, elements appended to arrays both have).
#include "detail.hpp"
#include "merge/merge.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <unordered_map>

namespace merge {
namespace json = boost::json;

namespace detail {
namespace {

// One container being copied: exactly one of the object or the array pair is set.
struct copy_frame {
  const json::object* src_obj = nullptr;
  json::object* dst_obj = nullptr;
  const json::array* src_arr = nullptr;
  json::array* dst_arr = nullptr;
  std::size_t next = 0;
};

// Makes dst a shell of src (an empty container of the same kind, or the scalar itself)
// and schedules the container's children.
void start_copy(const json::value& src, json::value& dst, std::vector<copy_frame>& stack) {
  if (src.is_object()) {
    auto& o = dst.emplace_object();
    o.reserve(src.get_object().size());
    stack.push_back({&src.get_object(), &o, nullptr, nullptr, 0});
  } else if (src.is_array()) {
    auto& a = dst.emplace_array();
    a.reserve(src.get_array().size());
    stack.push_back({nullptr, nullptr, &src.get_array(), &a, 0});
  } else {
    dst = src;  // scalars copy flat
  }
}

// Children are finished before their parent takes its next member, so a parent's
// reallocation can only move values whose frames are already gone.
void run_copy(std::vector<copy_frame>& stack) {
  while (!stack.empty()) {
    copy_frame& f = stack.back();
    if (f.src_obj != nullptr) {
      if (f.next == f.src_obj->size()) {
        stack.pop_back();
        continue;
      }
      const auto& kv = f.src_obj->begin()[f.next++];
      json::value& slot = f.dst_obj->emplace(kv.key(), nullptr).first->value();
      start_copy(kv.value(), slot, stack);  // may invalidate f
    } else {
      if (f.next == f.src_arr->size()) {
        stack.pop_back();
        continue;
      }
      const json::value& item = (*f.src_arr)[f.next++];
      json::value& slot = f.dst_arr->emplace_back(nullptr);
      start_copy(item, slot, stack);
    }
  }
}

}  // namespace
}  // namespace detail

json::value deep_copy(const json::value& v) {
  json::value out;
  std::vector<detail::copy_frame> stack;
  detail::start_copy(v, out, stack);
  detail::run_copy(stack);
  return out;
}

json::object deep_copy_object(const json::object& o) {
  json::object out;
  out.reserve(o.size());
  std::vector<detail::copy_frame> stack{{&o, &out, nullptr, nullptr, 0}};
  detail::run_copy(stack);
  return out;
}

namespace {

using detail::append_token;
using detail::is_excluded;

// clean(v): a deep copy through objects that drops null and excluded members; arrays,
// and everything inside them, are copied verbatim. `path` is v's pointer.
json::value clean(const json::value& v, std::string path, const std::vector<std::string>& excluded) {
  if (!v.is_object()) return deep_copy(v);
  struct frame {
    const json::object* src;
    json::object* dst;
    std::size_t next;
    std::size_t path_len;
  };
  json::value out(json::object{});
  std::vector<frame> stack{{&v.get_object(), &out.get_object(), 0, path.size()}};
  while (!stack.empty()) {
    frame& f = stack.back();
    if (f.next == f.src->size()) {
      stack.pop_back();
      continue;
    }
    const auto& kv = f.src->begin()[f.next++];
    if (kv.value().is_null()) continue;
    if (!excluded.empty()) {
      path.resize(f.path_len);
      append_token(path, kv.key());
      if (is_excluded(path, excluded)) continue;
    }
    if (kv.value().is_object()) {
      json::object& child = f.dst->emplace(kv.key(), json::object{}).first->value().get_object();
      stack.push_back({&kv.value().get_object(), &child, 0, path.size()});  // invalidates f
    } else {
      f.dst->emplace(kv.key(), deep_copy(kv.value()));
    }
  }
  return out;
}

// union: the elements of `from` not in `target` nor earlier in `from`, in from's order. Hash
// buckets keep this linear-ish on large arrays; json_equal decides. The index holds
// addresses, so nothing is copied until the choice is made (and then only what is added).
std::vector<const json::value*> union_additions(const json::array& target, const json::array& from) {
  std::unordered_multimap<std::size_t, const json::value*> seen;
  seen.reserve(target.size() + from.size());
  for (const auto& item : target) seen.emplace(detail::deep_hash(item), &item);
  std::vector<const json::value*> added;
  for (const auto& item : from) {
    const std::size_t h = detail::deep_hash(item);
    const auto [lo, hi] = seen.equal_range(h);
    bool present = false;
    for (auto it = lo; it != hi && !present; ++it) present = json_equal(*it->second, item);
    if (present) continue;
    added.push_back(&item);
    seen.emplace(h, &item);
  }
  return added;
}

// Appends S's elements to M's array (P's elements stay first, P's duplicates stay).
void append_elements(json::array& target, const json::array& from, array_policy policy, const std::string& path,
                     std::vector<std::string>* merged_keys) {
  auto report = [&](std::size_t index) {
    if (merged_keys != nullptr) merged_keys->push_back(path + "/" + std::to_string(index));
  };
  if (policy == array_policy::concat) {
    target.reserve(target.size() + from.size());
    for (const auto& item : from) {
      target.push_back(deep_copy(item));
      report(target.size() - 1);
    }
    return;
  }
  const auto added = union_additions(target, from);
  target.reserve(target.size() + added.size());
  for (const json::value* item : added) {
    target.push_back(deep_copy(*item));
    report(target.size() - 1);
  }
}

// docs/merge-semantics.md rule 4: an exclusion never indexes into an array. Which values are arrays
// is known only once both documents are, so this runs at merge time (before any write).
void check_exclusions(std::string_view root, const json::object& primary, const json::object& secondary,
                      const std::vector<std::string>& excluded) {
  const auto root_tokens = parse_pointer(root);
  for (const auto& pointer : excluded) {
    const auto tokens = parse_pointer(pointer);
    if (tokens.size() <= root_tokens.size() || !std::equal(root_tokens.begin(), root_tokens.end(), tokens.begin())) {
      continue;  // not below this root (the root itself is fine)
    }
    for (const json::object* doc : {&primary, &secondary}) {
      const json::object* obj = doc;
      std::string prefix(root);
      for (std::size_t j = root_tokens.size(); j < tokens.size(); ++j) {
        const auto it = obj->find(tokens[j]);
        if (it == obj->end() || j + 1 == tokens.size()) break;
        append_token(prefix, tokens[j]);
        const json::value& v = it->value();
        if (v.is_array()) {
          throw invalid_argument("merge_exclude: \"" + pointer + "\" points into the array at \"" + prefix +
                                 "\"; arrays are merged whole, exclude \"" + prefix + "\" itself");
        }
        if (!v.is_object()) break;
        obj = &v.get_object();
      }
    }
  }
}

}  // namespace

json::object merge_metadata(const json::object& primary, const json::object& secondary, const options& opts,
                            std::string_view root, std::vector<std::string>* merged_keys) {
  check_exclusions(root, primary, secondary, opts.exclude);
  json::object merged = deep_copy_object(primary);
  std::string path(root);
  if (is_excluded(path, opts.exclude)) return merged;

  struct frame {
    json::object* m;  // the merged object at this level (starts as P's copy)
    const json::object* s;
    std::size_t next;
    std::size_t path_len;
  };
  std::vector<frame> stack{{&merged, &secondary, 0, path.size()}};
  while (!stack.empty()) {
    frame& f = stack.back();
    if (f.next == f.s->size()) {
      stack.pop_back();
      continue;
    }
    const auto& kv = f.s->begin()[f.next++];
    path.resize(f.path_len);
    append_token(path, kv.key());
    if (is_excluded(path, opts.exclude)) continue;

    const json::value& sv = kv.value();
    const auto it = f.m->find(kv.key());
    if (it == f.m->end()) {
      // S's keys are unique, so a key missing here is missing from P too.
      if (sv.is_null()) continue;
      f.m->emplace(kv.key(), clean(sv, path, opts.exclude));
      if (merged_keys != nullptr) merged_keys->push_back(path);
      continue;
    }
    json::value& mv = it->value();
    if (mv.is_object() && sv.is_object()) {
      stack.push_back({&mv.get_object(), &sv.get_object(), 0, path.size()});  // invalidates f
    } else if (mv.is_array() && sv.is_array() && opts.arrays != array_policy::primary) {
      append_elements(mv.get_array(), sv.get_array(), opts.arrays, path, merged_keys);
    }
    // Anything else (scalars, nulls, type conflicts, arrays under `primary`): P's value.
  }
  return merged;
}

}  // namespace merge
