// flowrun's sub-commands, one function each; each returns the process exit code.
#pragma once

#include <iosfwd>
#include <string>

namespace flowrun {

/// `flowrun describe PLUGIN.so [--json]`: the plugin, its actions and their fields.
int describe(const std::string& plugin, bool as_json, std::ostream& out, std::ostream& err);

}  // namespace flowrun
