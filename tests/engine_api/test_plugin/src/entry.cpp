// The C ABI surface of the test plugin: wfa_plugin_entry (the only exported symbol),
// the descriptor, and the function table. Nothing C++ crosses it: every function
// catches what it could throw (WFA-3).
#include "instance.hpp"

#include <wfa/wfa.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <string>

namespace {

// Fills a host-owned wfa_error, within the host's struct_size (WFA-2): code when it fits,
// and as much of the message as the host's struct holds, always NUL-terminated.
void set_error(wfa_error* err, int32_t code, const std::string& message) noexcept {
  if (!err) return;
  if (err->struct_size >= offsetof(wfa_error, code) + sizeof err->code) err->code = code;
  if (err->struct_size <= offsetof(wfa_error, message)) return;
  std::size_t room = std::min<std::size_t>(err->struct_size - offsetof(wfa_error, message), WFA_ERROR_MESSAGE_SIZE);
  std::size_t n = std::min(message.size(), room - 1);
  std::memcpy(err->message, message.data(), n);
  err->message[n] = '\0';
}

wfa_instance* create(const wfa_host* host, wfa_str config_json, wfa_error* err) {
  try {
    wfa_test::connection_config config = wfa_test::parse_config(
        config_json.data ? std::string_view(config_json.data, config_json.size) : std::string_view());
    if (config.fail_create) {
      set_error(err, WFA_INVALID_INPUT, "config.fail_create: this connection is set up to fail on create");
      return nullptr;
    }
    return std::make_unique<wfa_instance>(host, std::move(config)).release();
  } catch (const wfa_test::input_error& e) {
    // Config errors name the field only, never its value: the token cannot leak (WFA-8).
    set_error(err, WFA_INVALID_INPUT, e.what());
  } catch (const std::exception& e) {
    set_error(err, WFA_INTERNAL, std::string("cannot create the instance: ") + e.what());
  } catch (...) {
    set_error(err, WFA_INTERNAL, "cannot create the instance");
  }
  return nullptr;
}

void destroy(wfa_instance* instance) {
  // Owned again here; ~wfa_instance does the WFA-9 work (it does not throw).
  std::unique_ptr<wfa_instance> owned(instance);
}

wfa_op execute(wfa_instance* instance, const wfa_call* call, wfa_done_fn done, void* user) {
  if (!instance) return 0;
  try {
    return instance->execute(call, done, user);
  } catch (...) {
    return 0;  // out of memory before the op was taken in: no callback will fire (WFA-5)
  }
}

wfa_op list_options(wfa_instance* instance, const wfa_options_call* call, wfa_done_fn done, void* user) {
  if (!instance) return 0;
  try {
    return instance->list_options(call, done, user);
  } catch (...) {
    return 0;
  }
}

void cancel(wfa_instance* instance, wfa_op op) {
  if (!instance) return;
  try {
    instance->cancel(op);
  } catch (...) {
    // Out of memory while posting the cancel: the operation ends as it would have.
  }
}

constexpr wfa_action k_actions[] = {
#include "actions.inc"
};

constexpr wfa_plugin k_plugin = {
    sizeof(wfa_plugin),
    WFA_ABI_MAJOR,
    WFA_ABI_MINOR,
    "wfa-test",
    "1.0.0",
    static_cast<uint32_t>(sizeof k_actions / sizeof k_actions[0]),
    k_actions,
    create,
    destroy,
    execute,
    list_options,
    cancel,
};

// The oldest host minor version this plugin works with (WFA-1): everything it uses is 1.0.
constexpr uint32_t k_min_host_minor = 0;

}  // namespace

extern "C" WFA_EXPORT const wfa_plugin* wfa_plugin_entry(uint32_t host_major, uint32_t host_minor, wfa_error* err) {
  if (host_major != WFA_ABI_MAJOR || host_minor < k_min_host_minor) {
    try {
      set_error(err, WFA_INCOMPATIBLE,
                "wfa-test 1.0.0 implements wfa ABI " + std::to_string(WFA_ABI_MAJOR) + "." +
                    std::to_string(WFA_ABI_MINOR) + "; the host speaks " + std::to_string(host_major) + "." +
                    std::to_string(host_minor) + " (the major version must be " + std::to_string(WFA_ABI_MAJOR) + ")");
    } catch (...) {
      set_error(err, WFA_INCOMPATIBLE, "incompatible wfa ABI major version");
    }
    return nullptr;
  }
  return &k_plugin;
}
