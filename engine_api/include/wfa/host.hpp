// wfa/host.hpp -- C++ RAII over the wfa.h plugin ABI, for hosts (workflow runners).
//
//   auto lib = wfa::host::library::open("./libcrm_actions.so");      // throws load_error
//   wfa::host::instance account(lib, R"({"host":"..."})");           // throws create_error
//   account.execute("crm.get-contact", "{}", R"({"contact_id":"c-1"})",
//                   [](wfa::host::op_result r) { /* exactly once, on a plugin thread */ });
//
// Thread safety: a library is immutable after open(); an instance's execute(),
// list_options() and cancel() may be called from any thread (WFA-4). Destroying an
// instance waits for every operation of it to complete (WFA-9).
#pragma once

#include <wfa/wfa.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace wfa::host {

/// Why a plugin could not be loaded.
class load_error : public std::runtime_error {
 public:
  enum class kind {
    not_found,     ///< no such file (or not found on the dlopen search path)
    load_failed,   ///< dlopen refused it (not an ELF, missing dependency, ...)
    not_a_plugin,  ///< loaded, but exports no wfa_plugin_entry
    incompatible,  ///< the plugin refused our ABI version (message holds its reason)
    invalid,       ///< the descriptor breaks the ABI (NULL function, short struct, ...)
  };
  load_error(kind k, const std::string& what) : std::runtime_error(what), kind_(k) {}
  kind which() const noexcept { return kind_; }

 private:
  kind kind_;
};

/// A loaded plugin: dlopen(RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) + negotiated descriptor.
/// Copies share the handle. RTLD_NODELETE keeps the code mapped even after the last
/// copy is gone, so that late thread-local destructors of the plugin stay safe (WFA-9).
class library {
 public:
  /// `path_or_name`: a path when it contains '/', otherwise a name for the dlopen search.
  static library open(const std::string& path_or_name);

  const wfa_plugin& plugin() const noexcept { return *plugin_; }
  std::span<const wfa_action> actions() const noexcept;
  /// The action with this id, or nullptr.
  const wfa_action* find(std::string_view action_id) const noexcept;
  const std::string& path() const noexcept { return path_; }

 private:
  library(std::shared_ptr<void> handle, const wfa_plugin* plugin, std::string path)
      : handle_(std::move(handle)), plugin_(plugin), path_(std::move(path)) {}
  std::shared_ptr<void> handle_;
  const wfa_plugin* plugin_;
  std::string path_;
};

/// An owned copy of a wfa_result (WFA-6: copied inside the callback).
struct op_result {
  int32_t code = WFA_INTERNAL;
  std::string outputs_json;  ///< WFA_OK: a JSON object
  std::string message;       ///< error text
  int32_t http_status = 0;
  bool retryable = false;
  std::string details_json;  ///< optional JSON object; empty when none
};

/// "ok", "invalid_input", ... "incompatible"; "unknown" for codes we do not know.
const char* code_name(int32_t code) noexcept;

/// Called exactly once per operation, on a plugin thread. Must not block for long and
/// must not destroy the instance. Exceptions thrown from it are swallowed (WFA-3).
using completion = std::function<void(op_result)>;

/// Receives the plugin's log lines (any thread, concurrently). Must not block.
using log_sink = std::function<void(int32_t level, std::string_view message)>;

/// The host's rate budget (ABI 1.1, wfa_host::acquire): asked by the plugin before each
/// request that counts against a server's rate limit. Returns 0 to go now (`cost` is
/// taken) or the milliseconds to wait before asking again. Any thread, concurrently; must
/// not block. Exceptions thrown from it are swallowed and count as "go now".
using rate_acquire = std::function<uint32_t(std::string_view bucket, uint32_t cost)>;

/// The plugin refused a connection config; what() is the plugin's reason.
class create_error : public std::runtime_error {
 public:
  create_error(int32_t code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int32_t code() const noexcept { return code_; }

 private:
  int32_t code_;
};

/// One plugin instance (one configured connection). Movable, not copyable.
class instance {
 public:
  /// Creates it from a connection config (a JSON object). Lines below `min_level`
  /// are not even formatted by the plugin (wfa_host::log_enabled). `acquire`, when set,
  /// is offered to the plugin as wfa_host::acquire (a plugin built for 1.0 ignores it).
  instance(const library& lib, std::string_view config_json, log_sink sink = {}, int32_t min_level = WFA_LOG_INFO,
           rate_acquire acquire = {});
  /// destroy(): cancels what is in flight and returns once no callback can fire.
  /// Operations the plugin failed to complete are then completed here with
  /// WFA_INTERNAL, so that every completion still runs exactly once.
  ~instance();
  instance(instance&&) noexcept;
  instance& operator=(instance&&) noexcept;

  /// Starts an action; returns the plugin's handle at once. `done` may run on a plugin
  /// thread before this returns (WFA-4). When the plugin could not start the operation
  /// (it returned 0, WFA-5), `done` runs here, on the calling thread, with WFA_INTERNAL,
  /// and 0 is returned: either way `done` runs exactly once.
  wfa_op execute(std::string_view action_id, std::string_view options_json, std::string_view inputs_json,
                 completion done, std::string_view run_id = {}, std::string_view step_id = {}, uint32_t timeout_ms = 0);

  /// Starts listing the choices of a dynamic field; the same contract as execute().
  /// When the plugin has no list_options, `done` receives WFA_INVALID_INPUT on the
  /// calling thread before this returns, and 0 is returned.
  wfa_op list_options(std::string_view action_id, std::string_view field, std::string_view context_json,
                      std::string_view page_token, completion done);

  /// Asks an operation to stop; its completion still runs once (WFA_CANCELLED).
  void cancel(wfa_op op) noexcept;

  const library& lib() const noexcept;

  struct state;

 private:
  std::unique_ptr<state> state_;
};

}  // namespace wfa::host
