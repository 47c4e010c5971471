#include "raw_plugin.hpp"

#include <doctest/doctest.h>

#include <dlfcn.h>

namespace abi_test {

wfa_plugin_entry_fn entry() {
  static wfa_plugin_entry_fn fn = [] {
    void* lib = dlopen(WFA_TEST_PLUGIN, RTLD_NOW | RTLD_LOCAL);
    if (!lib) FAIL("dlopen " WFA_TEST_PLUGIN ": " << dlerror());
    void* sym = dlsym(lib, WFA_ENTRY_SYMBOL);
    if (!sym) FAIL("dlsym " WFA_ENTRY_SYMBOL ": " << dlerror());
    return reinterpret_cast<wfa_plugin_entry_fn>(sym);
  }();
  return fn;
}

const wfa_plugin& plugin() {
  wfa_error err{sizeof(wfa_error), 0, {}};
  const wfa_plugin* p = entry()(WFA_ABI_MAJOR, WFA_ABI_MINOR, &err);
  if (!p) FAIL("the test plugin refused ABI " << WFA_ABI_MAJOR << "." << WFA_ABI_MINOR << ": " << err.message);
  return *p;
}

wfa_instance* create(std::string_view config, const wfa_host* host) {
  wfa_error err{sizeof(wfa_error), 0, {}};
  wfa_instance* inst = plugin().create(host, str(config), &err);
  if (!inst) FAIL("create(" << config << "): " << err.code << " " << err.message);
  return inst;
}

void* collector::user(int key) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = slots_.try_emplace(key, slot{this, key});
  REQUIRE(inserted);  // one key per operation
  return &it->second;
}

void collector::done(void* user, const wfa_result* r) {
  const auto* s = static_cast<const slot*>(user);
  collector& self = *s->owner;
  std::lock_guard lock(self.mu_);
  completion& c = self.done_[s->key];
  ++c.calls;
  c.struct_size = r->struct_size;
  c.code = r->code;
  c.outputs = text(r->outputs_json);
  c.message = text(r->message);
  c.details = text(r->details_json);
  c.http_status = r->http_status;
  c.retryable = r->retryable;
  c.thread = std::this_thread::get_id();
  c.after_close = c.after_close || self.closed_.load();
  self.cv_.notify_all();
}

bool collector::wait(std::size_t n, std::chrono::seconds limit) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, limit, [&] { return done_.size() >= n; });
}

std::size_t collector::size() const {
  std::lock_guard lock(mu_);
  return done_.size();
}

completion collector::get(int key) const {
  std::lock_guard lock(mu_);
  auto it = done_.find(key);
  return it == done_.end() ? completion{} : it->second;
}

std::map<int, completion> collector::all() const {
  std::lock_guard lock(mu_);
  return done_;
}

wfa_op execute(wfa_instance* inst, std::string_view action, std::string_view options, std::string_view inputs,
               collector& c, int key, uint32_t timeout_ms) {
  wfa_call call{};
  call.struct_size = sizeof call;
  call.action_id = str(action);
  call.options_json = str(options);
  call.inputs_json = str(inputs);
  call.timeout_ms = timeout_ms;
  return plugin().execute(inst, &call, &collector::done, c.user(key));
}

std::vector<std::pair<int32_t, std::string>> log_sink::lines() const {
  std::lock_guard lock(mu_);
  return lines_;
}

void log_sink::log(void* ctx, int32_t level, wfa_str message) {
  auto* self = static_cast<log_sink*>(ctx);
  std::lock_guard lock(self->mu_);
  self->lines_.emplace_back(level, text(message));
  self->threads_.push_back(std::this_thread::get_id());
}

std::size_t log_sink::lines_from(std::thread::id t) const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& id : threads_) n += id == t ? 1 : 0;
  return n;
}

uint32_t log_sink::enabled(void* ctx, int32_t level) {
  auto* self = static_cast<log_sink*>(ctx);
  ++self->enabled_calls_;
  return level >= self->min_level_ ? 1u : 0u;
}

}  // namespace abi_test
