#include "link_driver.hpp"

#include <dlfcn.h>

#include <condition_variable>
#include <deque>
#include <stdexcept>

namespace a0::bench {

namespace {
wfa_str str(const std::string& s) { return wfa_str{s.data(), s.size()}; }
}  // namespace

loaded_plugin::loaded_plugin(const std::string& path) {
  // RTLD_NODELETE as wfa.h recommends (WFA-9).
  handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (!handle_) throw std::runtime_error(std::string("dlopen: ") + dlerror());
  auto entry = reinterpret_cast<wfa_plugin_entry_fn>(dlsym(handle_, WFA_ENTRY_SYMBOL));
  if (!entry) throw std::runtime_error("no " WFA_ENTRY_SYMBOL " in " + path);
  wfa_error err{};
  err.struct_size = sizeof err;
  plugin_ = entry(WFA_ABI_MAJOR, WFA_ABI_MINOR, &err);
  if (!plugin_) throw std::runtime_error(std::string("entry refused: ") + err.message);
  host_.struct_size = sizeof host_;
  host_.ctx = this;
  host_.log = &loaded_plugin::on_log;
  host_.log_enabled = &loaded_plugin::on_log_enabled;
}

loaded_plugin::~loaded_plugin() {
  if (handle_) dlclose(handle_);
}

std::string loaded_plugin::first_warning() const {
  std::lock_guard lock(mu_);
  return first_warning_;
}

// Debug/trace lines would cost formatting time the engine's host would skip too.
uint32_t loaded_plugin::on_log_enabled(void*, int32_t level) { return level >= WFA_LOG_WARN ? 1u : 0u; }

void loaded_plugin::on_log(void* ctx, int32_t level, wfa_str message) {
  if (level < WFA_LOG_WARN) return;
  auto* self = static_cast<loaded_plugin*>(ctx);
  if (self->warnings_.fetch_add(1) == 0) {
    std::lock_guard lock(self->mu_);
    self->first_warning_.assign(message.data, message.size);
  }
}

plugin_instance::plugin_instance(const loaded_plugin& p, const std::string& config_json) : plugin_(p) {
  wfa_error err{};
  err.struct_size = sizeof err;
  inst_ = p.api().create(p.host(), str(config_json), &err);
  if (!inst_) throw std::runtime_error(std::string("create: ") + err.message);
}

plugin_instance::~plugin_instance() { plugin_.api().destroy(inst_); }

namespace {

using clock = std::chrono::steady_clock;

struct loop_state;

// One in-flight position; reused once its op has completed.
struct slot {
  loop_state* loop = nullptr;
  std::size_t index = 0;
  clock::time_point started;
  int32_t code = 0;
  std::string message;
};

struct loop_state {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<slot*> done;  ///< completed slots, handed back to the starting thread
};

// On a plugin thread: copy what the report needs, hand the slot back, touch it no more.
void on_done(void* user, const wfa_result* r) {
  auto* s = static_cast<slot*>(user);
  auto* loop = s->loop;
  s->code = r->code;
  if (r->code != WFA_OK) s->message.assign(r->message.data, r->message.size);
  // Notify under the lock: once the waiter sees the slot it may return and destroy loop.
  std::lock_guard lock(loop->mu);
  loop->done.push_back(s);
  loop->cv.notify_one();
}

}  // namespace

batch_result run_closed_loop(const loaded_plugin& p, wfa_instance* inst, const batch_spec& spec) {
  batch_result out;
  if (spec.count == 0 || spec.concurrency == 0) return out;
  out.latency_ms.reserve(spec.count);
  out.finished_at_s.reserve(spec.count);
  loop_state loop;
  std::vector<slot> slots(std::min(spec.concurrency, spec.count));
  std::size_t next = 0, in_flight = 0;
  const auto t0 = clock::now();

  auto start = [&](slot& s) {
    s.loop = &loop;
    s.index = next++;
    s.message.clear();
    const auto inputs = spec.inputs(s.index);
    wfa_call call{};
    call.struct_size = sizeof call;
    call.action_id = str(spec.action);
    call.options_json = str(spec.options);
    call.inputs_json = str(inputs);
    s.started = clock::now();
    ++in_flight;
    // done may fire on a plugin thread before execute returns: no lock held here.
    p.api().execute(inst, &call, &on_done, &s);
  };
  auto may_start = [&] { return next < spec.count && (!spec.stop_at || clock::now() < *spec.stop_at); };

  for (auto& s : slots)
    if (may_start()) start(s);
  while (in_flight > 0) {
    slot* s = nullptr;
    {
      std::unique_lock lock(loop.mu);
      loop.cv.wait(lock, [&] { return !loop.done.empty(); });
      s = loop.done.front();
      loop.done.pop_front();
    }
    --in_flight;
    const auto now = clock::now();
    out.latency_ms.push_back(std::chrono::duration<double, std::milli>(now - s->started).count());
    out.finished_at_s.push_back(std::chrono::duration<double>(now - t0).count());
    if (s->code == WFA_OK) {
      ++out.ok;
    } else {
      ++out.failed;
      ++out.codes[s->code];
      if (out.first_error.empty()) out.first_error = s->message;
    }
    if (may_start()) start(*s);
  }
  out.seconds = std::chrono::duration<double>(clock::now() - t0).count();
  return out;
}

}  // namespace a0::bench
