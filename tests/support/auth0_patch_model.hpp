// Auth0's PATCH rule for metadata, as the tests model the server (moved out of merge/:
// the production merge only builds what is sent; this is what the server does with it).
// Used by the merge tests (invariant 10) and by the emulator's PATCH /users/{id}.
#pragma once

#include <boost/json/object.hpp>

namespace a0::test {

/// Auth0's PATCH rule for one metadata object: top-level keys of `patch` overwrite,
/// a top-level null deletes the key, nested objects are replaced whole, and an empty
/// `patch` object wipes everything. Returns the new metadata object.
boost::json::object apply_auth0_patch(const boost::json::object& current, const boost::json::object& patch);

}  // namespace a0::test
