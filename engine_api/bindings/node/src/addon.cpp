// wfa_runner.node: the native part of @wfa/runner, an N-API addon over libwfa_runner.so
// (wfa/runner.h). index.js wraps it; README.md states the lifetime rules this file keeps:
//  - a row's done callback arrives on a runner thread: its borrowed wfa_row_result is copied
//    there (WFA-6) and handed to the JS thread through the flow's napi_threadsafe_function;
//  - the threadsafe function is ref'd (keeps the event loop alive) while rows are pending and
//    unref'd when none are; the flow's JS object is strongly referenced while rows are
//    pending, so garbage collection never finalizes a flow with rows in flight;
//  - wfa_runner_close() never runs on the JS thread while anything can be pending: close()
//    and the finalizer of a collected flow hand it to a thread of their own; the JS side
//    learns the end from the threadsafe function's finalizer, which runs after every queued
//    completion was delivered (close()'s promise resolves there).
#include <wfa/runner.h>

#include <node_api.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

// Flows opened and not yet closed (wfa_runner_close returned), for the tests.
std::atomic<int64_t> g_open_flows{0};
// wfa_runner_close calls made on the JS thread while rows were pending (the rule is that
// there are none; for the tests).
std::atomic<int64_t> g_js_thread_closes_with_rows{0};
// Flow objects the collector took while open (their finalizer started the close).
std::atomic<int64_t> g_collected_flows{0};

// ---- small N-API helpers ----------------------------------------------------------------

// Throws a JS Error for a failed N-API call (unless one is pending already); returns false.
bool napi_ok_or_throw(napi_env env, napi_status s) {
  if (s == napi_ok) return true;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) {
    const napi_extended_error_info* info = nullptr;
    napi_get_last_error_info(env, &info);
    napi_throw_error(env, "ERR_WFA_NAPI", info && info->error_message ? info->error_message : "N-API call failed");
  }
  return false;
}

#define WFA_TRY(call)                              \
  do {                                             \
    if (!napi_ok_or_throw(env, (call))) return {}; \
  } while (0)

bool get_string(napi_env env, napi_value v, std::string& out) {
  size_t size = 0;
  if (napi_get_value_string_utf8(env, v, nullptr, 0, &size) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected a string");
    return false;
  }
  out.resize(size + 1);
  if (!napi_ok_or_throw(env, napi_get_value_string_utf8(env, v, out.data(), out.size(), &size))) return false;
  out.resize(size);
  return true;
}

napi_value make_string(napi_env env, const std::string& s) {
  napi_value v = nullptr;
  napi_create_string_utf8(env, s.data(), s.size(), &v);
  return v;
}

napi_value undefined(napi_env env) {
  napi_value v = nullptr;
  napi_get_undefined(env, &v);
  return v;
}

// Rethrows an exception left by a JS callback called from the event loop (a threadsafe
// function's delivery) as an uncaught exception, as a throwing plain callback would be.
void report_pending_exception(napi_env env) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) != napi_ok || !pending) return;
  napi_value error = nullptr;
  if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
}

// No C++ exception may cross into Node (a callback's frames are V8's): every function the
// addon hands to Node runs inside guarded<>, which turns one (out of memory) into a JS error.
template <napi_value (*F)(napi_env, napi_callback_info)>
napi_value guarded(napi_env env, napi_callback_info info) noexcept {
  try {
    return F(env, info);
  } catch (const std::exception& e) {
    napi_throw_error(env, "internal", e.what());
  } catch (...) {
    napi_throw_error(env, "internal", "unexpected exception");
  }
  return nullptr;
}

const char* code_name(int32_t code) {
  static const char* const names[] = {"ok",        "invalid_input", "unauthorized", "forbidden",
                                      "not_found", "conflict",      "rate_limited", "unavailable",
                                      "timeout",   "cancelled",     "internal",     "incompatible"};
  return code >= 0 && code < static_cast<int32_t>(std::size(names)) ? names[code] : nullptr;
}

std::string code_string(int32_t code) {
  const char* name = code_name(code);
  return name ? std::string(name) : "code_" + std::to_string(code);
}

// Type tags: napi_unwrap of an object of the other class would misread its pointer.
const napi_type_tag k_pool_tag = {0x7766615f706f6f6cULL, 0x1d2c3b4a59687786ULL};
const napi_type_tag k_flow_tag = {0x7766615f666c6f77ULL, 0x8a9bacbdcedfe0f1ULL};

// The native object behind `v` when v carries `tag`, else null.
void* tagged_native(napi_env env, napi_value v, const napi_type_tag& tag) {
  bool tagged = false;
  void* p = nullptr;
  if (napi_check_object_type_tag(env, v, &tag, &tagged) != napi_ok || !tagged || napi_unwrap(env, v, &p) != napi_ok)
    return nullptr;
  return p;
}

// A method call's arguments and the native object behind `this` (a TypeError when `this`
// does not carry `tag`).
void* unwrap_this(napi_env env, napi_callback_info info, size_t* argc, napi_value* argv, const napi_type_tag& tag) {
  napi_value self = nullptr;
  if (!napi_ok_or_throw(env, napi_get_cb_info(env, info, argc, argv, &self, nullptr))) return nullptr;
  void* p = tagged_native(env, self, tag);
  if (p == nullptr) napi_throw_type_error(env, "ERR_INVALID_THIS", "not called on its own object");
  return p;
}

// ---- TokenPool ----------------------------------------------------------------------------

// The token counter behind wfa_runner_options.acquire: lock-free, called on plugin threads
// (several at once) and from JS. acquire() never blocks (wfa_host.acquire's contract).
class token_pool {
 public:
  // The most a pool holds: JS reads `available` as a Number, exact up to 2^53 - 1.
  static constexpr int64_t max_tokens = (int64_t{1} << 53) - 1;

  explicit token_pool(uint32_t wait_ms) : wait_ms_(wait_ms) {}

  uint32_t acquire(uint32_t cost) noexcept {
    int64_t have = available_.load(std::memory_order_relaxed);
    while (have >= static_cast<int64_t>(cost)) {
      if (available_.compare_exchange_weak(have, have - cost, std::memory_order_acq_rel, std::memory_order_relaxed))
        return 0;
    }
    // Refused: the demand is what the holder of the budget (the queue) should fetch next.
    demand_.fetch_add(cost, std::memory_order_relaxed);
    return wait_ms_;
  }
  void add(int64_t n) noexcept {
    int64_t have = available_.load(std::memory_order_relaxed);
    while (!available_.compare_exchange_weak(have, have > max_tokens - n ? max_tokens : have + n,
                                             std::memory_order_acq_rel, std::memory_order_relaxed)) {}
  }
  int64_t drain() noexcept { return available_.exchange(0, std::memory_order_acq_rel); }
  uint64_t take_demand() noexcept { return demand_.exchange(0, std::memory_order_acq_rel); }
  int64_t available() const noexcept { return available_.load(std::memory_order_acquire); }

 private:
  const uint32_t wait_ms_;
  std::atomic<int64_t> available_{0};
  std::atomic<uint64_t> demand_{0};
};

using pool_ptr = std::shared_ptr<token_pool>;

uint32_t pool_acquire(void* ctx, wfa_str /*bucket*/, uint32_t cost) noexcept {
  return static_cast<token_pool*>(ctx)->acquire(cost);
}

// ---- flows --------------------------------------------------------------------------------

struct flow_state;

// What a runner thread hands to the JS thread: a row's copied result, or a log line.
struct message {
  bool is_log = false;
  // A row: allocated by run() on the JS thread (so that done never allocates the envelope).
  napi_ref callback = nullptr;
  int32_t status = WFA_ROW_FAILED;
  int32_t code = WFA_INTERNAL;
  bool retryable = false;
  uint32_t retry_after_s = 0;
  std::string line;
  flow_state* flow = nullptr;
  // A log line.
  int32_t level = WFA_LOG_ERROR;
};

struct flow_state {
  enum class phase { open, closing, closed };
  wfa_runner_flow* flow = nullptr;
  napi_threadsafe_function tsfn = nullptr;
  napi_ref self = nullptr;    // the JS object; strong while rows are pending, weak otherwise
  napi_ref on_log = nullptr;  // the onLog function, or null
  napi_deferred closed = nullptr;
  napi_ref close_promise = nullptr;  // close() twice returns the same promise
  pool_ptr pool;                     // kept until the flow is closed (acquire's ctx)
  std::thread closer;
  uint32_t pending = 0;  // rows started and not yet delivered (JS thread only)
  phase state = phase::open;
};

using flow_ptr = std::shared_ptr<flow_state>;

void note_closed() { g_open_flows.fetch_sub(1, std::memory_order_relaxed); }

// Runner thread. WFA-6: the result is borrowed for this call only: copy it now.
void on_row_done(void* user, const wfa_row_result* r) noexcept {
  std::unique_ptr<message> m(static_cast<message*>(user));
  m->status = r->status;
  m->code = r->code;
  m->retryable = r->retryable != 0;
  m->retry_after_s = r->retry_after_s;
  try {
    m->line.assign(r->line.data ? r->line.data : "", r->line.size);
  } catch (...) {  // out of memory: the row still settles, as an internal failure
    m->status = WFA_ROW_FAILED;
    m->code = WFA_INTERNAL;
    m->line.clear();
  }
  // Non-blocking (an unbounded queue): done must not wait for the JS thread, which may be
  // the one waiting in wfa_runner_close() (the finalizer at exit). napi_closing: Node is
  // tearing the environment down and nobody awaits the row any more.
  if (napi_call_threadsafe_function(m->flow->tsfn, m.get(), napi_tsfn_nonblocking) == napi_ok) m.release();
}

// Runner thread, one call at a time. A line that cannot be copied is dropped.
void on_log_line(void* ctx, int32_t level, wfa_str line) noexcept {
  auto* fs = static_cast<flow_state*>(ctx);
  try {
    auto m = std::make_unique<message>();
    m->is_log = true;
    m->level = level;
    m->line.assign(line.data ? line.data : "", line.size);
    if (napi_call_threadsafe_function(fs->tsfn, m.get(), napi_tsfn_nonblocking) == napi_ok) m.release();
  } catch (...) {}
}

uint32_t flow_acquire(void* ctx, wfa_str bucket, uint32_t cost) noexcept {
  auto* fs = static_cast<flow_state*>(ctx);
  return fs->pool ? pool_acquire(fs->pool.get(), bucket, cost) : 0;
}

// JS thread: a log line, to onLog.
void deliver_log(napi_env env, flow_state& fs, const message& m) {
  napi_value fn = nullptr;
  if (fs.on_log == nullptr || napi_get_reference_value(env, fs.on_log, &fn) != napi_ok || fn == nullptr) return;
  napi_value args[2] = {nullptr, make_string(env, m.line)};
  napi_create_int32(env, m.level, &args[0]);  // WFA_LOG_*: index.js names it
  napi_call_function(env, undefined(env), fn, 2, args, nullptr);
  report_pending_exception(env);
}

// JS thread: a row's result, to the callback run() was given.
void deliver_row(napi_env env, const message& m, napi_value fn) {
  napi_value result = nullptr, v = nullptr;
  napi_create_object(env, &result);
  const char* status = m.status == WFA_ROW_OK ? "ok" : m.status == WFA_ROW_CANCELLED ? "cancelled" : "failed";
  napi_set_named_property(env, result, "status", make_string(env, status));
  napi_set_named_property(env, result, "line", make_string(env, m.line));
  napi_set_named_property(env, result, "code", make_string(env, code_string(m.code)));
  napi_get_boolean(env, m.retryable, &v);
  napi_set_named_property(env, result, "retryable", v);
  napi_create_uint32(env, m.retry_after_s, &v);
  napi_set_named_property(env, result, "retryAfterS", v);
  napi_call_function(env, undefined(env), fn, 1, &result, nullptr);
  report_pending_exception(env);
}

// JS thread (the threadsafe function's call_js): a row's result or a log line arrives. env
// is null when Node tears the environment down with items still queued: only freed then.
void deliver(napi_env env, napi_value /*js_cb*/, void* context, void* data) noexcept {
  std::unique_ptr<message> m(static_cast<message*>(data));
  if (env == nullptr) return;
  auto& fs = *static_cast<flow_state*>(context);
  try {
    if (m->is_log) return deliver_log(env, fs, *m);
    // The row has ended: the last one lets the event loop and the collector go.
    if (--fs.pending == 0) {
      if (fs.state == flow_state::phase::open) napi_unref_threadsafe_function(env, fs.tsfn);
      uint32_t count = 0;
      napi_reference_unref(env, fs.self, &count);
    }
    napi_value fn = nullptr;
    napi_get_reference_value(env, m->callback, &fn);
    napi_delete_reference(env, std::exchange(m->callback, nullptr));
    if (fn != nullptr) deliver_row(env, *m, fn);
  } catch (...) {  // out of memory building a result (std::string): nothing else to do here
  }
}

// JS thread: the threadsafe function is gone. Normally after the closer thread's release,
// every queued item delivered: the flow is closed, close()'s promise resolves now. When
// Node tears the environment down (the process ends with the flow open), this runs before
// the flow object's finalizer; no JS runs any more, so the runner is closed right here
// (its done callbacks get napi_closing and return at once).
void tsfn_finalized(napi_env env, void* data, void* /*hint*/) {
  std::unique_ptr<flow_ptr> holder(static_cast<flow_ptr*>(data));
  flow_state& fs = **holder;
  if (fs.state == flow_state::phase::open) {
    fs.state = flow_state::phase::closing;
    wfa_runner_close(fs.flow);
    fs.flow = nullptr;
    note_closed();
  }
  if (fs.closer.joinable()) fs.closer.join();
  fs.state = flow_state::phase::closed;
  if (fs.closed != nullptr) {
    napi_resolve_deferred(env, fs.closed, undefined(env));
    fs.closed = nullptr;
  }
  for (napi_ref* r : {&fs.on_log, &fs.self, &fs.close_promise}) {
    if (*r != nullptr) napi_delete_reference(env, *r);
    *r = nullptr;
  }
}

// JS thread. Starts closing: wfa_runner_close() waits for the done callbacks of the rows in
// flight, so it runs on a thread of its own, which then releases the threadsafe function;
// its finalizer (above) ends the close on the JS thread. keep_alive: keep the event loop
// running until then (close(); not for a collected flow).
void start_close(napi_env env, flow_state& fs, bool keep_alive) {
  fs.state = flow_state::phase::closing;
  if (keep_alive) napi_ref_threadsafe_function(env, fs.tsfn);
  wfa_runner_flow* flow = std::exchange(fs.flow, nullptr);
  napi_threadsafe_function tsfn = fs.tsfn;
  const bool rows_pending = fs.pending > 0;
  auto close_and_release = [flow, tsfn, rows_pending, js_thread = std::this_thread::get_id()] {
    if (rows_pending && std::this_thread::get_id() == js_thread)
      g_js_thread_closes_with_rows.fetch_add(1, std::memory_order_relaxed);
    wfa_runner_close(flow);
    note_closed();
    napi_release_threadsafe_function(tsfn, napi_tsfn_release);
  };
  try {
    fs.closer = std::thread(close_and_release);
  } catch (...) {  // no thread to be had: close here (the done callbacks never wait for JS)
    close_and_release();
  }
}

// Per environment (the main thread's, a worker's): the flows the collector took, closing on
// their threads, so that the process's exit can wait for them (joinClosers).
struct env_data {
  std::vector<std::weak_ptr<flow_state>> collected;
};

void env_data_finalized(napi_env, void* data, void*) { std::unique_ptr<env_data> holder(static_cast<env_data*>(data)); }

// The flow object was collected. Rows cannot be pending (the object is strongly referenced
// while they are), but closing still destroys instances and joins plugin threads: not on
// the JS thread.
void flow_finalized(napi_env env, void* data, void* /*hint*/) {
  std::unique_ptr<flow_ptr> holder(static_cast<flow_ptr*>(data));
  if ((*holder)->state != flow_state::phase::open) return;
  g_collected_flows.fetch_add(1, std::memory_order_relaxed);
  start_close(env, **holder, false);
  void* p = nullptr;
  if (napi_get_instance_data(env, &p) != napi_ok || p == nullptr) return;
  auto& collected = static_cast<env_data*>(p)->collected;
  try {
    std::erase_if(collected, [](const std::weak_ptr<flow_state>& w) { return w.expired(); });
    collected.push_back(*holder);
  } catch (...) {  // out of memory: that close is not waited for at exit
  }
}

// joinClosers(): the process is exiting (index.js's 'exit' listener): wait for the closes of
// the collected flows still running on their threads, as closeAtExit does for the others.
napi_value join_closers(napi_env env, napi_callback_info) {
  void* p = nullptr;
  if (napi_get_instance_data(env, &p) == napi_ok && p != nullptr) {
    for (const auto& w : static_cast<env_data*>(p)->collected) {
      if (flow_ptr fs = w.lock(); fs && fs->closer.joinable()) fs->closer.join();
    }
  }
  return undefined(env);
}

flow_state* unwrap_flow(napi_env env, napi_callback_info info, size_t* argc, napi_value* argv) {
  void* p = unwrap_this(env, info, argc, argv, k_flow_tag);
  return p ? static_cast<flow_ptr*>(p)->get() : nullptr;
}

bool require_open(napi_env env, flow_state* fs) {
  if (fs->state == flow_state::phase::open) return true;
  napi_throw_error(env, "flow_closed", "the flow is closed");
  return false;
}

// new NativeFlow(path, {pool, logThreshold, maxRetryWaitS, noStepOutputs, onLog})
napi_value flow_construct(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2] = {nullptr, nullptr}, self = nullptr;
  WFA_TRY(napi_get_cb_info(env, info, &argc, argv, &self, nullptr));
  std::string path;
  if (argc < 2 || !get_string(env, argv[0], path)) return {};
  auto fs = std::make_shared<flow_state>();
  wfa_runner_options opts{};
  opts.struct_size = sizeof opts;
  opts.ctx = fs.get();
  napi_value v = nullptr;
  bool has = false;
  auto get_u32 = [&](const char* name, uint32_t& out) {
    if (napi_has_named_property(env, argv[1], name, &has) != napi_ok || !has) return true;
    return napi_ok_or_throw(env, napi_get_named_property(env, argv[1], name, &v)) &&
           napi_ok_or_throw(env, napi_get_value_uint32(env, v, &out));
  };
  uint32_t threshold = 0, no_step_outputs = 0;
  if (!get_u32("logThreshold", threshold) || !get_u32("maxRetryWaitS", opts.max_retry_wait_s) ||
      !get_u32("noStepOutputs", no_step_outputs))
    return {};
  opts.log_threshold = static_cast<int32_t>(threshold);
  opts.no_step_outputs = no_step_outputs;
  WFA_TRY(napi_get_named_property(env, argv[1], "pool", &v));
  napi_valuetype type = napi_undefined;
  WFA_TRY(napi_typeof(env, v, &type));
  if (type == napi_object) {
    void* p = tagged_native(env, v, k_pool_tag);
    if (p == nullptr) {
      napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "budget: expected a TokenPool");
      return {};
    }
    fs->pool = *static_cast<pool_ptr*>(p);
    opts.acquire = flow_acquire;
  }
  WFA_TRY(napi_get_named_property(env, argv[1], "onLog", &v));
  WFA_TRY(napi_typeof(env, v, &type));
  if (type == napi_function) {
    WFA_TRY(napi_create_reference(env, v, 1, &fs->on_log));
    opts.log = on_log_line;
  }

  // The threadsafe function exists before the first callback can; unref'd until a row runs.
  napi_value name = make_string(env, "wfa_runner");
  auto tsfn_holder = std::make_unique<flow_ptr>(fs);
  if (!napi_ok_or_throw(env, napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, tsfn_holder.get(),
                                                             tsfn_finalized, fs.get(), deliver, &fs->tsfn))) {
    if (fs->on_log) napi_delete_reference(env, fs->on_log);
    return {};
  }
  tsfn_holder.release();  // owned by the threadsafe function now (freed by tsfn_finalized)
  napi_unref_threadsafe_function(env, fs->tsfn);

  wfa_error err{};
  err.struct_size = sizeof err;
  fs->flow = wfa_runner_open(WFA_RUNNER_MAJOR, WFA_RUNNER_MINOR, wfa_str{path.data(), path.size()}, &opts, &err);
  if (fs->flow == nullptr) {
    // Nothing runs: releasing the threadsafe function ends it (tsfn_finalized frees the rest).
    fs->state = flow_state::phase::closing;
    napi_release_threadsafe_function(fs->tsfn, napi_tsfn_release);
    err.message[sizeof err.message - 1] = '\0';
    std::string code = code_string(err.code != WFA_OK ? err.code : WFA_INTERNAL);
    napi_throw_error(env, code.c_str(), err.message[0] ? err.message : "the flow could not be opened");
    return {};
  }
  g_open_flows.fetch_add(1, std::memory_order_relaxed);
  // From here the flow is open; errors below still leave the flow to the finalizers.
  auto wrap_holder = std::make_unique<flow_ptr>(fs);
  WFA_TRY(napi_wrap(env, self, wrap_holder.get(), flow_finalized, nullptr, nullptr));
  wrap_holder.release();
  WFA_TRY(napi_type_tag_object(env, self, &k_flow_tag));
  WFA_TRY(napi_create_reference(env, self, 0, &fs->self));
  return self;
}

// run(inputsJson, row, callback) -> handle (BigInt)
napi_value flow_run(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3] = {nullptr, nullptr, nullptr};
  flow_state* fs = unwrap_flow(env, info, &argc, argv);
  if (fs == nullptr || !require_open(env, fs)) return {};
  std::string inputs;
  if (argc < 3 || !get_string(env, argv[0], inputs)) return {};
  int64_t row = 0;
  WFA_TRY(napi_get_value_int64(env, argv[1], &row));
  auto m = std::make_unique<message>();
  m->flow = fs;
  WFA_TRY(napi_create_reference(env, argv[2], 1, &m->callback));
  napi_ref callback = m->callback;
  // done may fire on a runner thread before wfa_runner_run returns (WFA-4); it only queues
  // the message, delivered on this thread after this function has counted the row.
  wfa_runner_row h =
      wfa_runner_run(fs->flow, wfa_str{inputs.data(), inputs.size()}, static_cast<uint64_t>(row), on_row_done, m.get());
  if (h == 0) {  // not started: done never fires, the message is still ours
    napi_delete_reference(env, callback);
    napi_throw_error(env, "internal", "the runner could not start the row (out of memory)");
    return {};
  }
  m.release();
  if (fs->pending++ == 0) {
    napi_ref_threadsafe_function(env, fs->tsfn);
    uint32_t count = 0;
    napi_reference_ref(env, fs->self, &count);
  }
  napi_value handle = nullptr;
  WFA_TRY(napi_create_bigint_uint64(env, h, &handle));
  return handle;
}

// cancel(handle): ignored once the flow is closing (close cancels every row itself).
napi_value flow_cancel(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1] = {nullptr};
  flow_state* fs = unwrap_flow(env, info, &argc, argv);
  if (fs == nullptr) return {};
  uint64_t h = 0;
  bool lossless = false;
  if (argc < 1 || napi_get_value_bigint_uint64(env, argv[0], &h, &lossless) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected a row handle");
    return {};
  }
  if (fs->state == flow_state::phase::open) wfa_runner_cancel(fs->flow, h);
  return undefined(env);
}

// check(inputsJson) -> null | reasons
napi_value flow_check(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1] = {nullptr};
  flow_state* fs = unwrap_flow(env, info, &argc, argv);
  if (fs == nullptr || !require_open(env, fs)) return {};
  std::string inputs;
  if (argc < 1 || !get_string(env, argv[0], inputs)) return {};
  wfa_error err{};
  err.struct_size = sizeof err;
  napi_value out = nullptr;
  if (wfa_runner_check(fs->flow, wfa_str{inputs.data(), inputs.size()}, &err) == WFA_OK) {
    WFA_TRY(napi_get_null(env, &out));
    return out;
  }
  err.message[sizeof err.message - 1] = '\0';
  return make_string(env, err.message[0] ? err.message : "the row is refused");
}

// close() -> Promise<void>; the same promise when called again.
napi_value flow_close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  flow_state* fs = unwrap_flow(env, info, &argc, nullptr);
  if (fs == nullptr) return {};
  napi_value promise = nullptr;
  if (fs->close_promise != nullptr) {
    WFA_TRY(napi_get_reference_value(env, fs->close_promise, &promise));
    return promise;
  }
  if (fs->state != flow_state::phase::open) {  // closed without close() (cannot happen from JS)
    napi_deferred d = nullptr;
    WFA_TRY(napi_create_promise(env, &d, &promise));
    napi_resolve_deferred(env, d, undefined(env));
    return promise;
  }
  WFA_TRY(napi_create_promise(env, &fs->closed, &promise));
  WFA_TRY(napi_create_reference(env, promise, 1, &fs->close_promise));
  start_close(env, *fs, true);
  return promise;
}

// closeAtExit(): the process is exiting (index.js calls it from process's 'exit' event, also
// on process.exit()): no JS runs again, and process.exit() skips the environment's teardown,
// so plugin threads still running would race the process's static destructors (a crash
// seen with the real plugin). The flow is closed here, synchronously: the rows in flight are
// cancelled, their done callbacks only queue messages nobody will read. A close already
// under way is waited for.
napi_value flow_close_at_exit(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  flow_state* fs = unwrap_flow(env, info, &argc, nullptr);
  if (fs == nullptr) return {};
  if (fs->state == flow_state::phase::open) {
    fs->state = flow_state::phase::closing;
    wfa_runner_close(std::exchange(fs->flow, nullptr));
    note_closed();
    napi_release_threadsafe_function(fs->tsfn, napi_tsfn_release);
  } else if (fs->closer.joinable()) {
    fs->closer.join();
  }
  return undefined(env);
}

// ---- TokenPool class ------------------------------------------------------------------------

token_pool* unwrap_pool(napi_env env, napi_callback_info info, size_t* argc, napi_value* argv) {
  void* p = unwrap_this(env, info, argc, argv, k_pool_tag);
  return p ? static_cast<pool_ptr*>(p)->get() : nullptr;
}

void pool_finalized(napi_env, void* data, void*) { std::unique_ptr<pool_ptr> holder(static_cast<pool_ptr*>(data)); }

// new TokenPool(waitMs)
napi_value pool_construct(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1] = {nullptr}, self = nullptr;
  WFA_TRY(napi_get_cb_info(env, info, &argc, argv, &self, nullptr));
  uint32_t wait_ms = 0;
  if (argc < 1 || napi_get_value_uint32(env, argv[0], &wait_ms) != napi_ok || wait_ms == 0) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "waitMs: expected a positive integer");
    return {};
  }
  auto holder = std::make_unique<pool_ptr>(std::make_shared<token_pool>(wait_ms));
  WFA_TRY(napi_wrap(env, self, holder.get(), pool_finalized, nullptr, nullptr));
  holder.release();
  WFA_TRY(napi_type_tag_object(env, self, &k_pool_tag));
  return self;
}

napi_value pool_add(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1] = {nullptr};
  token_pool* pool = unwrap_pool(env, info, &argc, argv);
  if (pool == nullptr) return {};
  int64_t n = -1;
  if (argc < 1 || napi_get_value_int64(env, argv[0], &n) != napi_ok || n < 0 || n > token_pool::max_tokens) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "add(n): expected an integer from 0 to 2^53 - 1");
    return {};
  }
  pool->add(n);
  return undefined(env);
}

// takeDemand(), drain(), the getter of available: a count read off the pool, as a Number
// (exact: the pool never holds more than 2^53 - 1; the demand would need 2^53 refusals).
template <double (*Read)(token_pool&)>
napi_value pool_read(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  token_pool* pool = unwrap_pool(env, info, &argc, nullptr);
  if (pool == nullptr) return {};
  napi_value v = nullptr;
  WFA_TRY(napi_create_double(env, Read(*pool), &v));
  return v;
}
double read_demand(token_pool& p) { return static_cast<double>(p.take_demand()); }
double read_drain(token_pool& p) { return static_cast<double>(p.drain()); }
double read_available(token_pool& p) { return static_cast<double>(p.available()); }

// ---- test hooks ------------------------------------------------------------------------------

// _test.acquireFromThreads(pool, threads, asksPerThread, cost) -> [granted, refused]:
// the pool's acquire as the runner calls it, from many native threads at once.
napi_value test_acquire_from_threads(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4] = {nullptr, nullptr, nullptr, nullptr};
  WFA_TRY(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  void* p = argc < 4 ? nullptr : tagged_native(env, argv[0], k_pool_tag);
  uint32_t threads = 0, asks = 0, cost = 0;
  if (p == nullptr || napi_get_value_uint32(env, argv[1], &threads) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &asks) != napi_ok || napi_get_value_uint32(env, argv[3], &cost) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "acquireFromThreads(pool, threads, asks, cost)");
    return {};
  }
  pool_ptr pool = *static_cast<pool_ptr*>(p);
  std::atomic<uint32_t> granted{0}, refused{0};
  {
    std::vector<std::jthread> workers;
    for (uint32_t t = 0; t < threads; ++t) {
      workers.emplace_back([&] {
        for (uint32_t i = 0; i < asks; ++i) {
          if (pool_acquire(pool.get(), wfa_str{"test", 4}, cost) == 0)
            granted.fetch_add(1, std::memory_order_relaxed);
          else
            refused.fetch_add(1, std::memory_order_relaxed);
        }
      });
    }
  }
  napi_value out = nullptr, v = nullptr;
  WFA_TRY(napi_create_array_with_length(env, 2, &out));
  WFA_TRY(napi_create_uint32(env, granted.load(), &v));
  WFA_TRY(napi_set_element(env, out, 0, v));
  WFA_TRY(napi_create_uint32(env, refused.load(), &v));
  WFA_TRY(napi_set_element(env, out, 1, v));
  return out;
}

// _test.openFlows() -> flows opened and not yet closed in this process;
// _test.collectedFlows() -> open flows the collector took (closed by their finalizer);
// _test.jsThreadClosesWithRows() -> wfa_runner_close calls on the JS thread with rows pending.
template <std::atomic<int64_t>& Counter>
napi_value test_counter(napi_env env, napi_callback_info) {
  napi_value v = nullptr;
  WFA_TRY(napi_create_int64(env, Counter.load(), &v));
  return v;
}

napi_value make_function(napi_env env, const char* name, napi_callback cb) {
  napi_value fn = nullptr;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, nullptr, &fn);
  return fn;
}

napi_value init(napi_env env, napi_value exports) {
  auto data = std::make_unique<env_data>();
  WFA_TRY(napi_set_instance_data(env, data.get(), env_data_finalized, nullptr));
  data.release();
  const napi_property_descriptor flow_methods[] = {
      {"run", nullptr, guarded<flow_run>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"cancel", nullptr, guarded<flow_cancel>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"check", nullptr, guarded<flow_check>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"close", nullptr, guarded<flow_close>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"closeAtExit", nullptr, guarded<flow_close_at_exit>, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_value flow_class = nullptr;
  WFA_TRY(napi_define_class(env, "NativeFlow", NAPI_AUTO_LENGTH, guarded<flow_construct>, nullptr,
                            std::size(flow_methods), flow_methods, &flow_class));
  const napi_property_descriptor pool_methods[] = {
      {"add", nullptr, guarded<pool_add>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"takeDemand", nullptr, guarded<pool_read<read_demand>>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"drain", nullptr, guarded<pool_read<read_drain>>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"available", nullptr, nullptr, guarded<pool_read<read_available>>, nullptr, nullptr, napi_default, nullptr},
  };
  napi_value pool_class = nullptr;
  WFA_TRY(napi_define_class(env, "NativeTokenPool", NAPI_AUTO_LENGTH, guarded<pool_construct>, nullptr,
                            std::size(pool_methods), pool_methods, &pool_class));
  napi_value test = nullptr;
  WFA_TRY(napi_create_object(env, &test));
  WFA_TRY(napi_set_named_property(env, test, "acquireFromThreads",
                                  make_function(env, "acquireFromThreads", guarded<test_acquire_from_threads>)));
  WFA_TRY(napi_set_named_property(env, test, "openFlows",
                                  make_function(env, "openFlows", guarded<test_counter<g_open_flows>>)));
  WFA_TRY(napi_set_named_property(env, test, "collectedFlows",
                                  make_function(env, "collectedFlows", guarded<test_counter<g_collected_flows>>)));
  WFA_TRY(napi_set_named_property(
      env, test, "jsThreadClosesWithRows",
      make_function(env, "jsThreadClosesWithRows", guarded<test_counter<g_js_thread_closes_with_rows>>)));
  WFA_TRY(napi_set_named_property(env, exports, "NativeFlow", flow_class));
  WFA_TRY(napi_set_named_property(env, exports, "NativeTokenPool", pool_class));
  WFA_TRY(napi_set_named_property(env, exports, "_test", test));
  WFA_TRY(
      napi_set_named_property(env, exports, "joinClosers", make_function(env, "joinClosers", guarded<join_closers>)));
  napi_value version = nullptr;
  WFA_TRY(napi_create_uint32(env, WFA_RUNNER_MAJOR, &version));
  WFA_TRY(napi_set_named_property(env, exports, "runnerMajor", version));
  return exports;
}

}  // namespace

NAPI_MODULE(wfa_runner, init)
