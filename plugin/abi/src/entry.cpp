// The only extern "C" of libauth0_actions.so: wfa_plugin_entry and the descriptor's
// function table. Every function is a noexcept trampoline with a catch-all (WFA-3).
#include "instance.hpp"
#include "manifests.hpp"

#include <auth0/management_client.hpp>
#include <a0/version.h>
#include <wfa/wfa.h>

#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>

// The C handle is our C++ instance; the ABI only ever sees the opaque pointer.
struct wfa_instance {
  a0::abi::instance impl;
  template <class... A>
  explicit wfa_instance(A&&... a) : impl(std::forward<A>(a)...) {}
};

namespace {

// The oldest host minor this plugin can work with (WFA-1).
constexpr std::uint32_t k_min_host_minor = 0;

void set_error(wfa_error* err, std::int32_t code, std::string_view message) noexcept {
  if (!err || err->struct_size < offsetof(wfa_error, message) + 1) return;
  err->code = code;
  const std::size_t room =
      std::min<std::size_t>(WFA_ERROR_MESSAGE_SIZE, err->struct_size - offsetof(wfa_error, message));
  const std::size_t n = std::min(room - 1, message.size());
  std::memcpy(err->message, message.data(), n);
  err->message[n] = '\0';
}

wfa_instance* create(const wfa_host* host, wfa_str config_json, wfa_error* err) noexcept {
  try {
    boost::system::error_code ec;
    auto v = boost::json::parse(std::string_view(config_json.data ? config_json.data : "", config_json.size), ec);
    if (ec || !v.is_object()) {
      set_error(err, WFA_INVALID_INPUT, "config: must be a JSON object");
      return nullptr;
    }
    // from_json names the field and never echoes a secret (WFA-8).
    auto cfg = a0::auth0::client_config::from_json(v.get_object());
    // Ownership passes to the host until destroy() takes it back.
    return std::make_unique<wfa_instance>(host, std::move(cfg)).release();
  } catch (const std::invalid_argument& e) {
    set_error(err, WFA_INVALID_INPUT, std::string("config: ") + e.what());
  } catch (const std::exception& e) {
    set_error(err, WFA_INTERNAL, std::string("create failed: ") + e.what());
  } catch (...) {
    set_error(err, WFA_INTERNAL, "create failed");
  }
  return nullptr;
}

void destroy(wfa_instance* instance) noexcept {
  // Destructors are noexcept: nothing can escape here (a throw would terminate, not
  // cross the ABI), so there is nothing to catch.
  std::unique_ptr<wfa_instance> owned(instance);
}

// WFA-5: 0 means "not started": no callback, nothing kept. That is the answer to a NULL
// instance (no plugin thread to call back on, and a detached thread could outlive the
// library, docs/abi.md §6), a NULL call, a NULL done (nobody to tell), and bad_alloc
// before the op was registered.
wfa_op refuse_call() noexcept { return 0; }

wfa_op execute(wfa_instance* instance, const wfa_call* call, wfa_done_fn done, void* user) noexcept {
  if (!instance || !call || !done) return refuse_call();
  try {
    return instance->impl.execute(*call, done, user);
  } catch (...) {
    return refuse_call();
  }
}

wfa_op list_options(wfa_instance* instance, const wfa_options_call* call, wfa_done_fn done, void* user) noexcept {
  if (!instance || !call || !done) return refuse_call();
  try {
    return instance->impl.list_options(*call, done, user);
  } catch (...) {
    return refuse_call();
  }
}

void cancel(wfa_instance* instance, wfa_op op) noexcept {
  if (!instance) return;
  try {
    instance->impl.cancel(op);
  } catch (...) {}
}

const wfa_plugin k_plugin = {
    sizeof(wfa_plugin),
    WFA_ABI_MAJOR,
    WFA_ABI_MINOR,
    "auth0-actions",
    A0_VERSION,  // project(VERSION) in CMakeLists.txt
    a0::abi::k_action_count,
    a0::abi::k_actions,
    &create,
    &destroy,
    &execute,
    &list_options,
    &cancel,
};

}  // namespace

extern "C" WFA_EXPORT const wfa_plugin* wfa_plugin_entry(std::uint32_t host_major, std::uint32_t host_minor,
                                                         wfa_error* err) {
  // Not declared noexcept (the C header cannot say so); nothing escapes the try below.
  try {
    if (host_major != WFA_ABI_MAJOR) {
      set_error(err, WFA_INCOMPATIBLE,
                "auth0-actions speaks ABI major " + std::to_string(WFA_ABI_MAJOR) + ", host speaks " +
                    std::to_string(host_major));
      return nullptr;
    }
    if (host_minor < k_min_host_minor) {
      set_error(err, WFA_INCOMPATIBLE, "auth0-actions needs a host with ABI minor >= 0");
      return nullptr;
    }
  } catch (...) {  // only bad_alloc while formatting the reason
    return nullptr;
  }
  // Minor differences are fine: we fill only 1.0 fields and call only 1.0 functions.
  return &k_plugin;
}
