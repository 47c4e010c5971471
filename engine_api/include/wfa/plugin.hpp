// wfa/plugin.hpp -- the plugin-side SDK of the wfa ABI (wfa.h): header only, C++20, the
// standard library and wfa.h only (no Boost, no project header), usable out of tree.
//
// What the author writes: one instance class and one line,
//
//   class my_instance {
//    public:
//     using op_data = ...;                      // per-op state (optional: op_ptr<> without)
//     static wfa::plugin::info describe();      // name, version, actions (static, WFA-6)
//     my_instance(wfa::plugin::host_log log, std::string_view config_json);   // create()
//     // or, to use the host's rate budget (ABI 1.1, wfa_host.acquire):
//     // my_instance(wfa::plugin::host_log log, wfa::plugin::host_budget budget, std::string_view config_json);
//     void execute(const wfa::plugin::op_ptr<op_data>& op, const wfa::plugin::call& call);
//     void list_options(const wfa::plugin::op_ptr<op_data>& op, const wfa::plugin::options_call& call);
//     void cancel(const wfa::plugin::op_ptr<op_data>& op, wfa::plugin::stop why);
//     // optional: static wfa::plugin::result error_from(std::exception_ptr) noexcept;
//   };
//   WFA_PLUGIN(my_instance)        // in one .cpp: the extern "C" entry and the table
//
// and the SDK does the rest: the exported wfa_plugin_entry with the version check (WFA-1),
// the descriptor, NULL checks, reading the host's structs within their struct_size (WFA-2),
// the truncating wfa_error writer, catch-alls so nothing throws across the ABI (WFA-3), the
// operation registry with non-zero handles, exactly-once delivery of done (WFA-5), "0 and
// no callback" when an operation cannot be started, the result view valid for the call
// (WFA-6), and destroy() that stops every operation and waits for its callback (WFA-9).
//
// Operations. For each execute()/list_options() the SDK makes an op (handle, done, user
// and an op_data, constructed from (instance&, handle, call) when op_data has such a
// constructor, else by default), registers it, then calls the instance's execute() or
// list_options() on the host's thread with a view of the call (borrowed for that call
// only: copy what you keep). That function must hand the work to a thread of the plugin
// and return; some plugin thread later calls op->complete(result) (never inside the
// host's call, WFA-4). complete() is exactly once: the first call delivers, later calls
// return false. If execute() throws, the op is unregistered and the host gets 0 (no
// callback), unless it was completed meanwhile; so throw only before handing the op on.
//
// Threads. execute, list_options and cancel may come from any thread at once; the SDK's
// registry is locked, op_data is the plugin's (touch it from the op's own executor).
// cancel(op, stop::cancel) is called for the host's cancel() of a live handle (unknown or
// finished handles never reach the plugin, but an op may complete while cancel() runs:
// check op->finished() where it matters); the op must still complete, normally with
// WFA_CANCELLED. destroy() calls cancel(op, stop::destroy) for every live op, waits until
// each has completed and its done has returned, and only then destroys the instance,
// whose destructor joins the plugin's threads.
//
// Lifetime. The instance lives from create() to destroy(); its host_log and host_budget
// stay usable all that time (the host keeps wfa_host valid, WFA-6). An op lives as long as someone holds
// its op_ptr: keep it in the handlers that will complete it. The wfa_result done receives
// lives for that call only; info's pointers must be static (WFA-6).
//
// Errors. Throw wfa::plugin::error to choose the code and message exactly (from the
// constructor: create() fails with them). Anything else thrown by the constructor goes
// through the instance's error_from() when it has one, else default_error_from().
#pragma once

#include <wfa/wfa.h>

#include <algorithm>
#include <atomic>
#include <concepts>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace wfa::plugin {

/// A wfa_str as a string_view (a NULL data is the empty string).
inline std::string_view view(wfa_str s) noexcept {
  return s.data ? std::string_view(s.data, s.size) : std::string_view();
}

/// Fills a host-owned wfa_error within the host's struct_size (WFA-2): the code when it
/// fits, and as much of the message as fits, always NUL-terminated. err may be NULL.
inline void write_error(wfa_error* err, std::int32_t code, std::string_view message) noexcept {
  if (!err) return;
  if (WFA_HAS_FIELD(err, wfa_error, code)) err->code = code;
  if (err->struct_size <= offsetof(wfa_error, message)) return;
  const std::size_t room =
      std::min<std::size_t>(err->struct_size - offsetof(wfa_error, message), WFA_ERROR_MESSAGE_SIZE);
  const std::size_t n = std::min(message.size(), room - 1);
  std::memcpy(err->message, message.data(), n);
  err->message[n] = '\0';
}

/// An error with an exact ABI code and message: thrown by a plugin, reported as is.
class error : public std::runtime_error {
 public:
  error(std::int32_t code, const std::string& message) : std::runtime_error(message), code_(code) {}
  std::int32_t code() const noexcept { return code_; }

 private:
  std::int32_t code_;
};

/// The owned form of a wfa_result: what an operation completes with.
struct result {
  std::int32_t code = WFA_OK;
  std::string outputs_json;  // code == WFA_OK: a JSON object
  std::string message;       // an error: text, never a secret (WFA-8)
  std::int32_t http_status = 0;
  bool retryable = false;
  std::string details_json;  // an error: a JSON object, or empty

  static result ok(std::string outputs_json) {
    result r;
    r.outputs_json = std::move(outputs_json);
    return r;
  }
  static result failure(std::int32_t code, std::string message, bool retryable = false) {
    result r;
    r.code = code;
    r.message = std::move(message);
    r.retryable = retryable;
    return r;
  }
  /// The view done receives; valid while *this lives and is not changed (WFA-6).
  wfa_result view() const noexcept {
    wfa_result r{};
    r.struct_size = sizeof r;
    r.code = code;
    if (code == WFA_OK) r.outputs_json = {outputs_json.data(), outputs_json.size()};
    r.message = {message.data(), message.size()};
    r.http_status = http_status;
    r.retryable = retryable ? 1u : 0u;
    r.details_json = {details_json.data(), details_json.size()};
    return r;
  }
};

/// error -> its code and message; anything else -> WFA_INTERNAL. Never throws.
inline result default_error_from(std::exception_ptr e) noexcept {
  try {
    try {
      std::rethrow_exception(e);
    } catch (const error& x) {
      return result::failure(x.code(), x.what());
    } catch (const std::bad_alloc&) {
      return result::failure(WFA_INTERNAL, "out of memory");
    } catch (const std::exception& x) {
      return result::failure(WFA_INTERNAL, std::string("internal error: ") + x.what());
    } catch (...) {
      return result::failure(WFA_INTERNAL, "internal error: unknown exception");
    }
  } catch (...) {  // bad_alloc while building the message
    result r;
    r.code = WFA_INTERNAL;
    return r;
  }
}

/// The host's log callback (wfa_host.log, log_enabled), copied at create(), reading only
/// the fields the host's struct_size covers (WFA-2). Thread-safe, never throws (WFA-3).
/// WFA-4: call it from plugin threads only, never inside the host's call.
class host_log {
 public:
  host_log() = default;
  explicit host_log(const wfa_host* host) noexcept {
    if (!host) return;
    if (WFA_HAS_FIELD(host, wfa_host, ctx)) ctx_ = host->ctx;
    if (WFA_HAS_FIELD(host, wfa_host, log)) log_ = host->log;
    if (WFA_HAS_FIELD(host, wfa_host, log_enabled)) log_enabled_ = host->log_enabled;
  }
  /// False when the host has no log function or turns the level down.
  bool enabled(std::int32_t level) const noexcept { return log_ && (!log_enabled_ || log_enabled_(ctx_, level)); }
  void write(std::int32_t level, std::string_view line) const noexcept {
    if (enabled(level)) log_(ctx_, level, wfa_str{line.data(), line.size()});
  }
  /// Formats only when the level is enabled: make() returns the line. A line that cannot
  /// be formatted (out of memory) is dropped.
  template <class Make>
  void operator()(std::int32_t level, Make&& make) const noexcept {
    if (!enabled(level)) return;
    try {
      const auto line = make();
      write(level, line);
    } catch (...) {}
  }

 private:
  void* ctx_ = nullptr;
  void (*log_)(void*, std::int32_t, wfa_str) = nullptr;
  std::uint32_t (*log_enabled_)(void*, std::int32_t) = nullptr;
};

/// The host's rate budget (wfa_host.acquire, ABI 1.1), copied at create(). Empty (every
/// ask answered 0, "go") when the host keeps no budget: acquire NULL, or a wfa_host from
/// a 1.0 host, whose struct_size ends before acquire (WFA-2: never read past it).
/// Thread-safe, never throws, never blocks (WFA-3). Ask before each request that counts
/// against a server's rate limit; when it answers N > 0, wait N ms without holding a
/// thread (a timer) and ask again; nothing was taken meanwhile.
class host_budget {
 public:
  host_budget() = default;
  explicit host_budget(const wfa_host* host) noexcept {
    if (!host || !WFA_HAS_FIELD(host, wfa_host, acquire)) return;
    if (WFA_HAS_FIELD(host, wfa_host, ctx)) ctx_ = host->ctx;
    acquire_ = host->acquire;
  }
  /// False when the host keeps no budget (acquire() would always answer 0).
  explicit operator bool() const noexcept { return acquire_ != nullptr; }
  /// 0: send now, `cost` is taken from `bucket`; else the milliseconds to wait before
  /// asking again. `bucket` names the limit (stable, never a secret).
  std::uint32_t acquire(std::string_view bucket, std::uint32_t cost = 1) const noexcept {
    return acquire_ ? acquire_(ctx_, wfa_str{bucket.data(), bucket.size()}, cost) : 0;
  }

 private:
  void* ctx_ = nullptr;
  std::uint32_t (*acquire_)(void*, wfa_str, std::uint32_t) = nullptr;
};

/// execute()'s request, BORROWED for the instance's execute() only. Fields past the
/// host's struct_size are empty / 0 (WFA-2).
struct call {
  bool has_action_id = false;  // false: the struct is too short even for action_id
  std::string_view action_id, options_json, inputs_json, run_id, step_id;
  std::uint32_t timeout_ms = 0;  // 0: the plugin's default

  static call read(const wfa_call& c) noexcept {
    call r;
    if (!WFA_HAS_FIELD(&c, wfa_call, action_id)) return r;
    r.has_action_id = true;
    r.action_id = view(c.action_id);
    if (WFA_HAS_FIELD(&c, wfa_call, options_json)) r.options_json = view(c.options_json);
    if (WFA_HAS_FIELD(&c, wfa_call, inputs_json)) r.inputs_json = view(c.inputs_json);
    if (WFA_HAS_FIELD(&c, wfa_call, run_id)) r.run_id = view(c.run_id);
    if (WFA_HAS_FIELD(&c, wfa_call, step_id)) r.step_id = view(c.step_id);
    if (WFA_HAS_FIELD(&c, wfa_call, timeout_ms)) r.timeout_ms = c.timeout_ms;
    return r;
  }
};

/// list_options()'s request, BORROWED like call.
struct options_call {
  bool has_action_id = false;
  std::string_view action_id, field, context_json, page_token;

  static options_call read(const wfa_options_call& c) noexcept {
    options_call r;
    if (!WFA_HAS_FIELD(&c, wfa_options_call, action_id)) return r;
    r.has_action_id = true;
    r.action_id = view(c.action_id);
    if (WFA_HAS_FIELD(&c, wfa_options_call, field)) r.field = view(c.field);
    if (WFA_HAS_FIELD(&c, wfa_options_call, context_json)) r.context_json = view(c.context_json);
    if (WFA_HAS_FIELD(&c, wfa_options_call, page_token)) r.page_token = view(c.page_token);
    return r;
  }
};

/// The op_data of an instance class that declares none.
struct no_data {};

/// Why the SDK asks an operation to stop.
enum class stop { cancel, destroy };

/// What describe() returns; every pointer static (WFA-6).
struct info {
  const char* name = nullptr;
  const char* version = nullptr;
  const wfa_action* actions = nullptr;
  std::uint32_t action_count = 0;
  std::uint32_t min_host_minor = 0;  // the oldest host ABI minor the plugin works with (WFA-1)
};

namespace detail {

struct op_base;

// The operations in flight of one instance: handle -> op. destroy() waits on it.
class registry {
 public:
  void add(const std::shared_ptr<op_base>& o, wfa_op id) {
    std::lock_guard lock(mu_);
    ops_.emplace(id, o);
  }
  void remove(wfa_op id) noexcept {
    std::lock_guard lock(mu_);
    ops_.erase(id);
    if (ops_.empty()) idle_.notify_all();
  }
  std::shared_ptr<op_base> find(wfa_op id) {
    std::lock_guard lock(mu_);
    auto it = ops_.find(id);
    return it == ops_.end() ? nullptr : it->second;
  }
  std::vector<std::shared_ptr<op_base>> live() {
    std::lock_guard lock(mu_);
    std::vector<std::shared_ptr<op_base>> out;
    out.reserve(ops_.size());
    for (const auto& [id, o] : ops_) out.push_back(o);
    return out;
  }
  void wait_idle() {
    std::unique_lock lock(mu_);
    idle_.wait(lock, [this] { return ops_.empty(); });
  }
  wfa_op next_id() noexcept { return ++next_id_; }  // non-zero, unique per instance

 private:
  std::mutex mu_;
  std::condition_variable idle_;  // ops_ became empty
  std::unordered_map<wfa_op, std::shared_ptr<op_base>> ops_;
  std::atomic<wfa_op> next_id_{0};
};

struct op_base {
  op_base(registry& owner, wfa_op id, wfa_done_fn done, void* user) noexcept
      : owner_(owner), id_(id), done_(done), user_(user) {}
  virtual ~op_base() = default;

  registry& owner_;
  const wfa_op id_;
  const wfa_done_fn done_;
  void* const user_;
  std::atomic<bool> finished_{false};
};

}  // namespace detail

/// One operation in flight, shared by the SDK and the plugin's handlers.
template <class Data>
class op : public detail::op_base {
 public:
  template <class... A>
  op(detail::registry& owner, wfa_op id, wfa_done_fn done, void* user, A&&... a)
      : op_base(owner, id, done, user), data(std::forward<A>(a)...) {}

  wfa_op id() const noexcept { return id_; }
  /// True once the op has completed (or been given up at start).
  bool finished() const noexcept { return finished_.load(); }

  /// Exactly once (WFA-5): the first call runs before(r) (e.g. to log, redact, cancel a
  /// timer; what it throws is dropped), calls done with r's view, unregisters the op, and
  /// returns true; every later call returns false and does nothing.
  template <class Before>
  bool complete(result r, Before&& before) noexcept {
    if (finished_.exchange(true)) return false;
    try {
      std::forward<Before>(before)(r);
    } catch (...) {}
    const wfa_result v = r.view();
    try {
      done_(user_, &v);
    } catch (...) {
      // WFA-3 forbids a throwing callback; a C++ host that does must not kill our thread.
    }
    owner_.remove(id_);
    return true;
  }
  bool complete(result r) noexcept {
    return complete(std::move(r), [](result&) {});
  }

  Data data;
};

template <class Data = no_data>
using op_ptr = std::shared_ptr<op<Data>>;

namespace detail {

template <class T>
struct op_data_of {
  using type = no_data;
};
template <class T>
requires requires { typename T::op_data; }
struct op_data_of<T> {
  using type = typename T::op_data;
};

// The C handle: the registry and the author's instance. Members are destroyed in reverse
// order: the instance (joining its threads) before the registry its ops point to.
template <class Impl>
struct holder {
  using data_type = typename op_data_of<Impl>::type;

  holder(const wfa_host* host, std::string_view config) : impl(make(host, config)) {}
  // WFA-9: stop every op, wait for each done to return, then ~Impl joins the threads.
  ~holder() {
    std::vector<std::shared_ptr<op_base>> pending;
    try {
      pending = ops.live();
    } catch (...) {}
    for (const auto& o : pending) {
      try {
        impl.cancel(std::static_pointer_cast<op<data_type>>(o), stop::destroy);
      } catch (...) {}
    }
    ops.wait_idle();
  }
  holder(const holder&) = delete;
  holder& operator=(const holder&) = delete;

  // Registers the op, then has the instance start it. WFA-5: 0 when it could not start.
  template <class Call, class Start>
  wfa_op launch(const Call& c, wfa_done_fn done, void* user, Start start) {
    const wfa_op id = ops.next_id();
    op_ptr<data_type> o;
    if constexpr (std::is_constructible_v<data_type, Impl&, wfa_op, const Call&>)
      o = std::make_shared<op<data_type>>(ops, id, done, user, impl, id, c);
    else
      o = std::make_shared<op<data_type>>(ops, id, done, user);
    ops.add(o, id);
    try {
      (impl.*start)(o, c);
    } catch (...) {
      // A cancel() that found the handle may have completed it meanwhile: then done has
      // fired and the op counts as started. Otherwise nobody will complete it: take it
      // out, or destroy() would wait for it forever.
      if (o->finished_.exchange(true)) return id;
      ops.remove(id);
      return 0;
    }
    return id;
  }

  registry ops;
  Impl impl;

 private:
  // An instance class that takes a host_budget gets the host's (ABI 1.1); one written
  // for 1.0, (host_log, config), still builds. A prvalue: Impl need not be movable.
  static Impl make(const wfa_host* host, std::string_view config) {
    if constexpr (std::is_constructible_v<Impl, host_log, host_budget, std::string_view>)
      return Impl(host_log(host), host_budget(host), config);
    else
      return Impl(host_log(host), config);
  }
};

template <class Impl>
result error_from(std::exception_ptr e) noexcept {
  try {
    std::rethrow_exception(e);
  } catch (const error& x) {  // the plugin chose code and message
    try {
      return result::failure(x.code(), x.what());
    } catch (...) {
      return default_error_from(std::current_exception());
    }
  } catch (...) {
    if constexpr (requires { Impl::error_from(std::exception_ptr()); })
      return Impl::error_from(std::current_exception());
    else
      return default_error_from(std::current_exception());
  }
}

template <class Impl, class Instance>
struct table {
  static wfa_instance* create(const wfa_host* host, wfa_str config_json, wfa_error* err) noexcept {
    try {
      // Ownership passes to the host until destroy() takes it back.
      return std::make_unique<Instance>(host, view(config_json)).release();
    } catch (...) {
      const result r = error_from<Impl>(std::current_exception());
      write_error(err, r.code, r.message);
      return nullptr;
    }
  }
  static void destroy(wfa_instance* instance) noexcept {
    // ~holder does the WFA-9 work and does not throw.
    std::unique_ptr<Instance> owned(static_cast<Instance*>(instance));
  }
  // WFA-5: 0 means "not started": no callback, nothing kept. That is the answer to a
  // NULL instance, call or done, and to running out of memory before the op was in.
  static wfa_op execute(wfa_instance* instance, const wfa_call* c, wfa_done_fn done, void* user) noexcept {
    if (!instance || !c || !done) return 0;
    try {
      return static_cast<Instance*>(instance)->launch(call::read(*c), done, user, &Impl::execute);
    } catch (...) {
      return 0;
    }
  }
  static wfa_op list_options(wfa_instance* instance, const wfa_options_call* c, wfa_done_fn done, void* user) noexcept {
    if (!instance || !c || !done) return 0;
    try {
      return static_cast<Instance*>(instance)->launch(options_call::read(*c), done, user, &Impl::list_options);
    } catch (...) {
      return 0;
    }
  }
  static void cancel(wfa_instance* instance, wfa_op id) noexcept {
    if (!instance) return;
    auto* self = static_cast<Instance*>(instance);
    try {
      if (auto o = self->ops.find(id))  // unknown or finished handles are ignored
        self->impl.cancel(std::static_pointer_cast<op<typename Instance::data_type>>(o), stop::cancel);
    } catch (...) {
      // Out of memory while asking it to stop: the operation ends as it would have.
    }
  }

  static const wfa_plugin* entry(std::uint32_t host_major, std::uint32_t host_minor, wfa_error* err) noexcept {
    // Built once, thread-safely; static from then on (WFA-6).
    static const info i = Impl::describe();
    static const wfa_plugin descriptor = {
        sizeof(wfa_plugin), WFA_ABI_MAJOR, WFA_ABI_MINOR, i.name,   i.version,     i.action_count,
        i.actions,          &create,       &destroy,      &execute, &list_options, &cancel,
    };
    if (host_major == WFA_ABI_MAJOR && host_minor >= i.min_host_minor) return &descriptor;
    try {
      write_error(err, WFA_INCOMPATIBLE,
                  std::string(i.name) + " " + i.version + " implements wfa ABI " + std::to_string(WFA_ABI_MAJOR) + "." +
                      std::to_string(WFA_ABI_MINOR) + " and needs a host with ABI major " +
                      std::to_string(WFA_ABI_MAJOR) + ", minor >= " + std::to_string(i.min_host_minor) +
                      "; the host speaks " + std::to_string(host_major) + "." + std::to_string(host_minor));
    } catch (...) {
      write_error(err, WFA_INCOMPATIBLE, "incompatible wfa ABI version");
    }
    return nullptr;
  }
};

}  // namespace detail
}  // namespace wfa::plugin

/// In exactly one .cpp of the plugin: defines wfa_instance as the SDK's holder of Impl
/// and the one exported symbol, wfa_plugin_entry (link with a version script exporting
/// only it, and hidden visibility, docs/abi.md §6).
#define WFA_PLUGIN(Impl)                                                                                       \
  struct wfa_instance : ::wfa::plugin::detail::holder<Impl> {                                                  \
    using ::wfa::plugin::detail::holder<Impl>::holder;                                                         \
  };                                                                                                           \
  extern "C" WFA_EXPORT const wfa_plugin* wfa_plugin_entry(std::uint32_t host_major, std::uint32_t host_minor, \
                                                           wfa_error* err) {                                   \
    return ::wfa::plugin::detail::table<Impl, wfa_instance>::entry(host_major, host_minor, err);               \
  }
