// The loader: dlopen, the entry symbol, ABI negotiation and descriptor checks.
#include <wfa/host.hpp>

#include <dlfcn.h>

#include <cstddef>
#include <cstring>
#include <filesystem>

namespace wfa::host {
namespace {

std::string dl_error() {
  const char* e = dlerror();
  return e ? e : "unknown dlopen error";
}

void check_descriptor(const wfa_plugin& p, const std::string& path) {
  auto bad = [&](const std::string& why) {
    throw load_error(load_error::kind::invalid, path + ": invalid plugin descriptor: " + why);
  };
  // The version first: another major may have a smaller (or larger) descriptor, and
  // "incompatible" is the useful answer then, not "too small".
  if (!WFA_HAS_FIELD(&p, wfa_plugin, abi_minor)) bad("struct_size too small to hold the ABI version");
  if (p.abi_major != WFA_ABI_MAJOR)
    throw load_error(load_error::kind::incompatible,
                     path + ": incompatible ABI: plugin speaks " + std::to_string(p.abi_major) + "." +
                         std::to_string(p.abi_minor) + ", host speaks " + std::to_string(WFA_ABI_MAJOR) + "." +
                         std::to_string(WFA_ABI_MINOR));
  if (!WFA_HAS_FIELD(&p, wfa_plugin, cancel)) bad("struct_size too small for ABI 1.0");
  if (!p.name || !p.version) bad("name or version is NULL");
  if (!p.create || !p.destroy || !p.execute || !p.cancel) bad("create, destroy, execute and cancel are required");
  if (p.action_count > 0 && !p.actions) bad("actions is NULL");
  for (uint32_t i = 0; i < p.action_count; ++i) {
    const wfa_action& a = p.actions[i];
    if (!WFA_HAS_FIELD(&a, wfa_action, manifest_json)) bad("action " + std::to_string(i) + ": struct_size too small");
    if (!a.id || !a.manifest_json) bad("action " + std::to_string(i) + ": id or manifest_json is NULL");
  }
}

}  // namespace

library library::open(const std::string& path_or_name) {
  const bool is_path = path_or_name.find('/') != std::string::npos;
  std::error_code ec;
  if (is_path && !std::filesystem::exists(path_or_name, ec))
    throw load_error(load_error::kind::not_found, path_or_name + ": plugin not found (no such file)");

  // RTLD_LOCAL: the plugin's symbols never interpose another plugin's (docs/abi.md §6).
  // RTLD_NODELETE: unloading is a no-op, so late TLS destructors stay mapped (WFA-9).
  void* h = dlopen(path_or_name.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (!h) {
    std::string why = dl_error();
    auto kind = (!is_path && why.find("No such file") != std::string::npos) ? load_error::kind::not_found
                                                                            : load_error::kind::load_failed;
    throw load_error(kind, path_or_name + ": cannot load: " + why);
  }
  std::shared_ptr<void> handle(h, [](void* p) { dlclose(p); });

  dlerror();
  void* sym = dlsym(h, WFA_ENTRY_SYMBOL);
  if (!sym)
    throw load_error(load_error::kind::not_a_plugin,
                     path_or_name + ": not a wfa plugin (no " WFA_ENTRY_SYMBOL " symbol)");
  wfa_plugin_entry_fn entry = nullptr;
  // Object pointer to function pointer: the POSIX dlsym idiom.
  static_assert(sizeof(entry) == sizeof(sym));
  std::memcpy(&entry, &sym, sizeof entry);

  wfa_error err{};
  err.struct_size = sizeof err;
  const wfa_plugin* p = entry(WFA_ABI_MAJOR, WFA_ABI_MINOR, &err);
  if (!p) {
    err.message[WFA_ERROR_MESSAGE_SIZE - 1] = '\0';
    std::string reason = err.message[0] ? err.message : "no reason given";
    throw load_error(load_error::kind::incompatible, path_or_name + ": the plugin refused ABI " +
                                                         std::to_string(WFA_ABI_MAJOR) + "." +
                                                         std::to_string(WFA_ABI_MINOR) + ": " + reason);
  }
  check_descriptor(*p, path_or_name);
  return library(std::move(handle), p, path_or_name);
}

std::span<const wfa_action> library::actions() const noexcept { return {plugin_->actions, plugin_->action_count}; }

const wfa_action* library::find(std::string_view action_id) const noexcept {
  for (const auto& a : actions())
    if (action_id == a.id) return &a;
  return nullptr;
}

const char* code_name(int32_t code) noexcept {
  switch (code) {
    case WFA_OK: return "ok";
    case WFA_INVALID_INPUT: return "invalid_input";
    case WFA_UNAUTHORIZED: return "unauthorized";
    case WFA_FORBIDDEN: return "forbidden";
    case WFA_NOT_FOUND: return "not_found";
    case WFA_CONFLICT: return "conflict";
    case WFA_RATE_LIMITED: return "rate_limited";
    case WFA_UNAVAILABLE: return "unavailable";
    case WFA_TIMEOUT: return "timeout";
    case WFA_CANCELLED: return "cancelled";
    case WFA_INTERNAL: return "internal";
    case WFA_INCOMPATIBLE: return "incompatible";
    default: return "unknown";
  }
}

}  // namespace wfa::host
