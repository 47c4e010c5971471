#include "auth0_patch_model.hpp"

#include <merge/merge.hpp>

namespace a0::test {
namespace json = boost::json;

json::object apply_auth0_patch(const json::object& current, const json::object& patch) {
  if (patch.empty()) return {};  // Auth0: `{}` wipes the whole metadata object
  // Copies without recursion: the tests apply patches to documents thousands of levels deep.
  json::object out = merge::deep_copy_object(current);
  for (const auto& kv : patch) {
    if (kv.value().is_null()) {
      out.erase(kv.key());
    } else {
      out[kv.key()] = merge::deep_copy(kv.value());  // nested objects replaced whole
    }
  }
  return out;
}

}  // namespace a0::test
