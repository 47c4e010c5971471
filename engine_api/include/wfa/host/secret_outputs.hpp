// wfa/host/secret_outputs.hpp -- the parts of an action's outputs its manifest marks secret.
//
// A subschema of a manifest's "outputs" with "x-secret": true marks the value it
// describes as a secret (an access token inside a list of accounts). flowrun shows such a
// value as "***" and redacts its text from the rest of the row's result line (a flow
// output or an error that repeats it), while later steps still get the real value
// through ${{ steps.ID.outputs... }}.
//
// Followed from the root: properties, additionalProperties (a schema), items (a schema)
// and prefixItems. A mark that only other keywords lead to (allOf, $ref, if/then, ...)
// would be missed, so validate() refuses an action whose outputs carry one.
#pragma once

#include <boost/json/value.hpp>

#include <string>
#include <vector>

namespace wfa::host {

/// True when `outputs_schema` holds any "x-secret": true mark.
bool has_secret_marks(const boost::json::value& outputs_schema);

/// JSON Pointers (within `outputs_schema`) of the schemas whose "x-secret": true mark the
/// walk above does not reach; empty when every mark is honoured.
std::vector<std::string> unreachable_secret_marks(const boost::json::value& outputs_schema);

/// `outputs` with each secret part replaced by "***" (whatever its type). The strings
/// and numbers inside the replaced parts are appended to `found` (see secret_leaves).
boost::json::value mask_secret_outputs(const boost::json::value& outputs_schema, const boost::json::value& outputs,
                                       std::vector<std::string>& found);

}  // namespace wfa::host
