// Instances and operations: the C callbacks, exactly-once delivery, destroy.
#include <wfa/host.hpp>

#include <cstddef>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

namespace wfa::host {

struct instance::state {
  explicit state(const library& l) : lib(l) {}
  library lib;
  wfa_host host{};
  log_sink sink;
  rate_acquire acquire;
  int32_t min_level = WFA_LOG_INFO;
  wfa_instance* inst = nullptr;
};

namespace {

// Completions waiting for their callback, keyed by a process-wide id that is never
// reused. The `user` pointer handed to the plugin is that id, not an address: a plugin
// that (wrongly) calls back twice or after destroy finds nothing and is ignored,
// instead of touching freed memory.
class registry {
 public:
  uint64_t add(const instance::state* owner, completion done) {
    std::lock_guard lock(mu_);
    uint64_t id = next_++;
    map_.emplace(id, entry{owner, std::move(done)});
    return id;
  }
  std::optional<completion> take(uint64_t id) {
    std::lock_guard lock(mu_);
    auto it = map_.find(id);
    if (it == map_.end()) return std::nullopt;
    completion c = std::move(it->second.done);
    map_.erase(it);
    return c;
  }
  std::vector<completion> take_all(const instance::state* owner) {
    std::vector<completion> out;
    std::lock_guard lock(mu_);
    for (auto it = map_.begin(); it != map_.end();) {
      if (it->second.owner == owner) {
        out.push_back(std::move(it->second.done));
        it = map_.erase(it);
      } else {
        ++it;
      }
    }
    return out;
  }

 private:
  struct entry {
    const instance::state* owner;
    completion done;
  };
  std::mutex mu_;
  std::unordered_map<uint64_t, entry> map_;
  uint64_t next_ = 1;
};

registry& pending() {
  static registry r;
  return r;
}

void* to_user(uint64_t id) { return reinterpret_cast<void*>(static_cast<std::uintptr_t>(id)); }
uint64_t from_user(void* user) { return static_cast<uint64_t>(reinterpret_cast<std::uintptr_t>(user)); }

std::string copy(wfa_str s) { return s.data && s.size ? std::string(s.data, s.size) : std::string(); }

// Runs a completion; nothing may escape into the plugin's thread (WFA-3).
void deliver(completion& done, op_result r) noexcept {
  try {
    if (done) done(std::move(r));
  } catch (...) {}
}

// WFA-6: the result is borrowed for this call only, so everything is copied here.
void on_done(void* user, const wfa_result* r) noexcept {
  std::optional<completion> done = pending().take(from_user(user));
  if (!done) return;  // duplicate or unknown: the plugin broke WFA-5; nothing to run
  op_result out;
  if (!r) {
    out.code = WFA_INTERNAL;
    out.message = "the plugin completed with a NULL result";
  } else {
    out.code = r->code;
    out.outputs_json = copy(r->outputs_json);
    out.message = copy(r->message);
    out.http_status = r->http_status;
    out.retryable = r->retryable != 0;
    if (WFA_HAS_FIELD(r, wfa_result, details_json)) out.details_json = copy(r->details_json);
  }
  deliver(*done, std::move(out));
}

void on_log(void* ctx, int32_t level, wfa_str message) noexcept {
  auto* s = static_cast<instance::state*>(ctx);
  if (!s || !s->sink || level < s->min_level) return;
  try {
    s->sink(level, std::string_view(message.data ? message.data : "", message.data ? message.size : 0));
  } catch (...) {}
}

uint32_t on_log_enabled(void* ctx, int32_t level) noexcept {
  auto* s = static_cast<instance::state*>(ctx);
  return s && s->sink && level >= s->min_level ? 1u : 0u;
}

// WFA-3: nothing escapes into the plugin's thread; a limiter that throws lets it go.
uint32_t on_acquire(void* ctx, wfa_str bucket, uint32_t cost) noexcept {
  auto* s = static_cast<instance::state*>(ctx);
  if (!s || !s->acquire) return 0;
  try {
    return s->acquire(std::string_view(bucket.data ? bucket.data : "", bucket.data ? bucket.size : 0), cost);
  } catch (...) {
    return 0;
  }
}

wfa_str view(std::string_view s) { return wfa_str{s.data(), s.size()}; }

// WFA-5: a plugin returns 0 only when it could not start the operation, and then never
// calls back. The completion is still owed to the caller: run it here, with WFA_INTERNAL.
// A plugin that broke the rule and called back anyway already took the entry: nothing runs.
wfa_op started_or_failed(wfa_op op, uint64_t id, const char* what) noexcept {
  if (op != 0) return op;
  if (std::optional<completion> done = pending().take(id)) {
    op_result r;
    r.code = WFA_INTERNAL;
    try {
      r.message = std::string("the plugin could not start the operation (") + what + " returned 0)";
    } catch (...) {}
    deliver(*done, std::move(r));
  }
  return 0;
}

}  // namespace

instance::instance(const library& lib, std::string_view config_json, log_sink sink, int32_t min_level,
                   rate_acquire acquire)
    : state_(std::make_unique<state>(lib)) {
  state_->sink = std::move(sink);
  state_->acquire = std::move(acquire);
  state_->min_level = min_level;
  state_->host.struct_size = sizeof(wfa_host);
  state_->host.ctx = state_.get();
  state_->host.log = &on_log;
  state_->host.log_enabled = &on_log_enabled;
  state_->host.acquire = state_->acquire ? &on_acquire : nullptr;

  wfa_error err{};
  err.struct_size = sizeof err;
  state_->inst = lib.plugin().create(&state_->host, view(config_json), &err);
  if (!state_->inst) {
    err.message[WFA_ERROR_MESSAGE_SIZE - 1] = '\0';
    throw create_error(err.code ? err.code : WFA_INVALID_INPUT,
                       err.message[0] ? err.message : "the plugin refused the connection config");
  }
}

instance::~instance() {
  if (!state_) return;
  state_->lib.plugin().destroy(state_->inst);
  // WFA-9 says nothing is pending now. A plugin that broke it still owes callbacks:
  // complete them here so that every caller sees exactly one completion.
  for (auto& done : pending().take_all(state_.get())) {
    op_result r;
    r.code = WFA_INTERNAL;
    r.message = "the plugin did not complete the operation before destroy returned (WFA-9)";
    deliver(done, std::move(r));
  }
}

instance::instance(instance&&) noexcept = default;
instance& instance::operator=(instance&& other) noexcept {
  if (this != &other) {
    instance dying(std::move(*this));  // destroys our current plugin instance, if any
    state_ = std::move(other.state_);
  }
  return *this;
}

const library& instance::lib() const noexcept { return state_->lib; }

wfa_op instance::execute(std::string_view action_id, std::string_view options_json, std::string_view inputs_json,
                         completion done, std::string_view run_id, std::string_view step_id, uint32_t timeout_ms) {
  wfa_call call{};
  call.struct_size = sizeof call;
  call.action_id = view(action_id);
  call.options_json = view(options_json);
  call.inputs_json = view(inputs_json);
  call.run_id = view(run_id);
  call.step_id = view(step_id);
  call.timeout_ms = timeout_ms;
  // Registered before the call: the callback may fire before execute() returns.
  uint64_t id = pending().add(state_.get(), std::move(done));
  return started_or_failed(state_->lib.plugin().execute(state_->inst, &call, &on_done, to_user(id)), id, "execute");
}

wfa_op instance::list_options(std::string_view action_id, std::string_view field, std::string_view context_json,
                              std::string_view page_token, completion done) {
  if (!state_->lib.plugin().list_options) {
    op_result r;
    r.code = WFA_INVALID_INPUT;
    r.message = "the plugin has no dynamic options (list_options is NULL)";
    deliver(done, std::move(r));
    return 0;
  }
  wfa_options_call call{};
  call.struct_size = sizeof call;
  call.action_id = view(action_id);
  call.field = view(field);
  call.context_json = view(context_json);
  call.page_token = view(page_token);
  uint64_t id = pending().add(state_.get(), std::move(done));
  return started_or_failed(state_->lib.plugin().list_options(state_->inst, &call, &on_done, to_user(id)), id,
                           "list_options");
}

void instance::cancel(wfa_op op) noexcept { state_->lib.plugin().cancel(state_->inst, op); }

}  // namespace wfa::host
