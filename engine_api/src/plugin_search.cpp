// Plugin search for bare names (see wfa/host/plugin_search.hpp for the order).
#include <wfa/host/plugin_search.hpp>

#include <system_error>

#ifndef WFA_PLUGIN_DIR_FROM_BINDIR
#error "WFA_PLUGIN_DIR_FROM_BINDIR is set by engine_api/CMakeLists.txt"
#endif

namespace wfa::host {

std::filesystem::path installed_plugin_dir() {
  // /proc/self/exe, not argv[0]: the real file even when started through PATH or a
  // symlink (e.g. /usr/bin/flowrun -> /usr/lib/...); canonical so that ".." is taken
  // from the folder the executable is really in.
  std::error_code ec;
  const auto exe = std::filesystem::canonical("/proc/self/exe", ec);
  if (ec || exe.empty()) return {};
  return (exe.parent_path() / WFA_PLUGIN_DIR_FROM_BINDIR).lexically_normal();
}

std::optional<std::filesystem::path> find_plugin_file(const std::string& name, const std::filesystem::path& flow_dir) {
  std::error_code ec;
  if (auto beside = flow_dir / name; std::filesystem::is_regular_file(beside, ec)) return beside;
  if (const auto dir = installed_plugin_dir(); !dir.empty()) {
    if (auto installed = dir / name; std::filesystem::is_regular_file(installed, ec)) return installed;
  }
  return std::nullopt;
}

}  // namespace wfa::host
