// Nested nulls in metadata: Auth0 may keep or drop them on PATCH (undocumented), so the
// link action neither relies on one surviving nor reads a dropped one as a failed write.
#include <merge/merge.hpp>

#include <algorithm>
#include <utility>
#include <vector>

namespace merge {

namespace json = boost::json;

void drop_nested_nulls(json::object& metadata) {
  // Explicit stack: the walk must not depend on the document's depth (see README "Depth").
  std::vector<json::value*> todo;
  for (auto& kv : metadata) todo.push_back(&kv.value());
  while (!todo.empty()) {
    json::value* v = todo.back();
    todo.pop_back();
    if (v->is_object()) {
      auto& o = v->get_object();
      // Rebuilt rather than erased in place: object::erase moves the last member into the
      // hole (key order would change) and stable_erase is quadratic on many nulls.
      if (std::any_of(o.begin(), o.end(), [](const json::key_value_pair& kv) { return kv.value().is_null(); })) {
        json::object kept(o.storage());
        kept.reserve(o.size());
        for (auto& kv : o)
          if (!kv.value().is_null()) kept.emplace(kv.key(), std::move(kv.value()));
        o = std::move(kept);
      }
      for (auto& kv : o) todo.push_back(&kv.value());
    } else if (v->is_array()) {
      for (auto& e : v->get_array()) todo.push_back(&e);
    }
  }
}

bool equal_but_dropped_nulls(const json::value& got, const json::value& sent) {
  std::vector<std::pair<const json::value*, const json::value*>> todo{{&got, &sent}};
  while (!todo.empty()) {
    const auto [g, s] = todo.back();
    todo.pop_back();
    if (s->is_object()) {
      if (!g->is_object()) return false;
      const auto& go = g->get_object();
      const auto& so = s->get_object();
      std::size_t matched = 0;
      for (const auto& kv : so) {
        const auto* gv = go.if_contains(kv.key());
        if (gv == nullptr) {
          if (!kv.value().is_null()) return false;
          continue;
        }
        ++matched;
        todo.emplace_back(gv, &kv.value());
      }
      if (matched != go.size()) return false;  // a member that was not sent
    } else if (s->is_array()) {
      if (!g->is_array() || g->get_array().size() != s->get_array().size()) return false;
      for (std::size_t i = 0; i < s->get_array().size(); ++i) todo.emplace_back(&g->get_array()[i], &s->get_array()[i]);
    } else if (!json_equal(*g, *s)) {
      return false;
    }
  }
  return true;
}

}  // namespace merge
