# Mutation check of the merge tests (property and hand-written): makes one copy of merge/ per mutation under
# OUT/<name>, each with one rule of docs/merge-semantics.md deliberately broken ("base" is the
# unchanged copy). The repository itself is never modified.
# Usage: mutate.py OUT [name...]
import os, shutil, sys
SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'merge')
OUT = sys.argv[1]
M = {}
def mut(name, file, old, new):
    M.setdefault(name, []).append((file, old, new))

# 1: scalar collisions take S's value (lodash-like overwrite)
mut('m01_scalar_overwrite', 'merge.cpp',
    "    // Anything else (scalars, nulls, type conflicts, arrays under `primary`): P's value.",
    "    else if (!mv.is_structured() && !sv.is_structured() && !sv.is_null()) { mv = sv; }")
# 2: new keys only at the top level
mut('m02_no_nested_new_keys', 'merge.cpp',
    "      if (sv.is_null()) continue;\n      f.m->emplace",
    "      if (sv.is_null() || stack.size() > 1) continue;\n      f.m->emplace")
# 3: new keys stored under their escaped pointer token (invents "a~1b")
mut('m03_escaped_key_names', 'merge.cpp',
    "      f.m->emplace(kv.key(), clean(sv, path, opts.exclude));",
    "      f.m->emplace(escape_pointer_token(kv.key()), clean(sv, path, opts.exclude));")
# 4: clean() ignores exclusions inside a new subtree
mut('m04_clean_ignores_exclusions', 'merge.cpp',
    "      if (is_excluded(path, excluded)) continue;\n    }\n    if (kv.value().is_object()) {",
    "    }\n    if (kv.value().is_object()) {")
# 5: clean() keeps nulls
mut('m05_clean_keeps_nulls', 'merge.cpp',
    "    if (kv.value().is_null()) continue;\n    if (!excluded.empty()) {",
    "    if (!excluded.empty()) {")
# 6: a secondary object beats a primary array (lodash)
mut('m06_object_beats_array', 'merge.cpp',
    "    // Anything else (scalars, nulls, type conflicts, arrays under `primary`): P's value.",
    "    else if (mv.is_array() && sv.is_object()) { mv = clean(sv, path, opts.exclude); }")
# 7: union de-duplicates S's elements only among themselves, not against P's
mut('m07_union_ignores_primary', 'merge.cpp',
    "  for (const auto& item : target) seen.emplace(detail::deep_hash(item), &item);",
    "")
# 8: clean() drops empty objects
mut('m08_clean_drops_empty_objects', 'merge.cpp',
    "    if (kv.value().is_null()) continue;\n    if (!excluded.empty()) {",
    "    if (kv.value().is_null()) continue;\n    if (kv.value().is_object() && kv.value().get_object().empty()) continue;\n    if (!excluded.empty()) {")
# 9: a new subtree is copied verbatim (no clean: nested nulls kept)
mut('m09_no_clean', 'merge.cpp',
    "      f.m->emplace(kv.key(), clean(sv, path, opts.exclude));",
    "      f.m->emplace(kv.key(), sv.is_object() ? deep_copy(sv) : clean(sv, path, opts.exclude));")
# 10: the delta leaves out changed nested objects
mut('m10_delta_skips_objects', 'patch.cpp',
    "    if (it == primary.end() || !json_equal(it->value(), kv.value())) {",
    "    if (it != primary.end() && it->value().is_object()) continue;\n    if (it == primary.end() || !json_equal(it->value(), kv.value())) {")
# 11: the delta also sends unchanged objects
mut('m11_delta_sends_unchanged_objects', 'patch.cpp',
    "    if (it == primary.end() || !json_equal(it->value(), kv.value())) {",
    "    if (it == primary.end() || kv.value().is_object() || !json_equal(it->value(), kv.value())) {")
# 12: the whole merged object is sent when anything changed (the old Auth0 rule)
mut('m12_delta_whole_object', 'patch.cpp',
    "  return delta;\n}",
    "  if (!delta.empty()) return deep_copy_object(merged);\n  return delta;\n}")
# 13: merged_keys reports the raw key, not its escaped token
mut('m13_merged_keys_unescaped', 'merge.cpp',
    "      if (merged_keys != nullptr) merged_keys->push_back(path);",
    "      if (merged_keys != nullptr) merged_keys->push_back(path.substr(0, f.path_len) + \"/\" + std::string(kv.key()));")
# 14: the merge drops the secondary's top-level nulls from its input
mut('m14_mutates_input', 'merge.cpp',
    "  return merged;\n}\n\n}  // namespace merge",
    "  auto& s = const_cast<json::object&>(secondary);\n  for (auto it = s.begin(); it != s.end();) it = it->value().is_null() ? s.erase(it) : it + 1;\n  return merged;\n}\n\n}  // namespace merge")
# extra: lodash index-wise array merge under every policy (element i of S fills index i)
mut('x15_index_wise_arrays', 'merge.cpp',
    "    // Anything else (scalars, nulls, type conflicts, arrays under `primary`): P's value.",
    "    else if (mv.is_array() && sv.is_array()) { auto& a = mv.get_array(); for (std::size_t i = a.size(); i < sv.get_array().size(); ++i) a.push_back(deep_copy(sv.get_array()[i])); }")
# extra: json_equal compares numbers by kind (1 != 1.0), as Boost.JSON's == does
mut('x16_numbers_by_kind', 'json_equal.cpp',
    "    if (is_number(*x) && is_number(*y)) {",
    "    if (is_number(*x) && is_number(*y) && x->kind() == y->kind()) {")

# extra: union compares with Boost.JSON's == (1 != 1.0)
mut('x17_union_kind_equality', 'merge.cpp',
    "present = json_equal(*it->second, item);",
    "present = *it->second == item;")
# extra: union also removes the primary's own duplicates
mut('x18_union_dedupes_primary', 'merge.cpp',
    "  const auto added = union_additions(target, from);",
    "  for (std::size_t i = 0; i < target.size(); ++i) { bool dup = false; for (std::size_t j = 0; j < i; ++j) dup = dup || json_equal(target[j], target[i]); if (dup) { target.erase(target.begin() + static_cast<std::ptrdiff_t>(i)); --i; } }\n  const auto added = union_additions(target, from);")
# extra: the exclusion check of the merge walk applies to S's new keys only, not to keys both
# users have (an excluded object or array of both is still merged)
mut('x19_exclusion_skips_collisions', 'merge.cpp',
    "    if (is_excluded(path, opts.exclude)) continue;\n\n    const json::value& sv = kv.value();",
    "    if (is_excluded(path, opts.exclude) && !f.m->contains(kv.key())) continue;\n\n    const json::value& sv = kv.value();")
# extra: clean() checks exclusions on the first level of a new subtree only
mut('x20_clean_excludes_first_level_only', 'merge.cpp',
    "    if (!excluded.empty()) {\n      path.resize(f.path_len);",
    "    if (!excluded.empty() && stack.size() == 1) {\n      path.resize(f.path_len);")
# extra: no validation of exclusions that index into an array
mut('x21_exclusion_into_array_accepted', 'merge.cpp',
    "        if (v.is_array()) {\n          throw invalid_argument",
    "        if (v.is_array() && false) {\n          throw invalid_argument")
# extra: that validation looks at the primary's arrays only
mut('x22_exclusion_into_array_primary_only', 'merge.cpp',
    "    for (const json::object* doc : {&primary, &secondary}) {\n      const json::object* obj = doc;",
    "    (void)secondary;\n    for (const json::object* doc : {&primary}) {\n      const json::object* obj = doc;")
# extra: union's hash buckets numbers by kind, so 1.0 never meets 1 (see also x17)
mut('x23_union_hash_by_kind', 'json_equal.cpp',
    "      if (const auto e = as_exact_int(v)) {",
    "      if (const auto e = as_exact_int(v); e && !v.is_double()) {")
# extra: a null of S is copied where P has no such key ("secondary null never copied")
mut('x24_secondary_null_copied', 'merge.cpp',
    "      if (sv.is_null()) continue;\n      f.m->emplace",
    "      f.m->emplace")
# extra: the merge walk stops descending 32 levels down (Boost.JSON's default parser depth)
mut('x25_merge_depth_limit', 'merge.cpp',
    "    if (mv.is_object() && sv.is_object()) {\n      stack.push_back",
    "    if (mv.is_object() && sv.is_object() && stack.size() < 32) {\n      stack.push_back")
# extra: clean() walks 32 levels, below that it copies verbatim (nulls and exclusions kept)
mut('x26_clean_depth_limit', 'merge.cpp',
    "    if (kv.value().is_object()) {\n      json::object& child",
    "    if (kv.value().is_object() && stack.size() < 32) {\n      json::object& child")

names = sys.argv[2:] or ['base'] + sorted(M)
for name in names:
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(SRC, d)
    for file, old, new in M.get(name, []):
        p = os.path.join(d, 'src', file)
        s = open(p).read()
        # The source changed: update the mutation rather than silently skipping it.
        assert s.count(old) == 1, (name, file, old)
        open(p, 'w').write(s.replace(old, new))
    print(name)
