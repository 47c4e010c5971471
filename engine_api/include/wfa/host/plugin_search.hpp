// wfa/host/plugin_search.hpp -- where a plugin named by a bare file name is looked for.
//
// A flow names its plugin by file name ("libcrm_actions.so") so that the same flow
// runs from a checkout, an install prefix or the Debian packages. A bare name is
// looked up, in order:
//   1. beside the flow file;
//   2. in the installed plugin folder relative to the running executable:
//      <dir of the executable>/../lib/wfa/plugins (the layout `cmake --install` and the
//      .deb packages create, so an installed flowrun needs no LD_LIBRARY_PATH);
//   3. by the dynamic loader (LD_LIBRARY_PATH, the ld.so cache, the default folders).
// Steps 1 and 2 are resolved when the flow is parsed (flow_plugin::location); step 3 is
// dlopen's own search of the name left bare.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace wfa::host {

/// The installed plugin folder of step 2 for this process (empty when the running
/// executable cannot be determined). The relative part is fixed at build time.
std::filesystem::path installed_plugin_dir();

/// Steps 1 and 2 for a bare `name`: the absolute path of the first regular file found,
/// or nothing (then the name is left to the dynamic loader).
std::optional<std::filesystem::path> find_plugin_file(const std::string& name, const std::filesystem::path& flow_dir);

}  // namespace wfa::host
