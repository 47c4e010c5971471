#include "plugin_host.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <dlfcn.h>

#include <stdexcept>

namespace a0::test {

namespace json = boost::json;

namespace {
// As the host parses them (WFA-11), not with Boost.JSON's default depth of 32.
json::parse_options wfa_depth() {
  json::parse_options o;
  o.max_depth = WFA_JSON_MAX_DEPTH;
  return o;
}
}  // namespace

json::object captured::json() const { return json::parse(outputs, {}, wfa_depth()).as_object(); }
json::object captured::details_obj() const {
  return details.empty() ? json::object{} : json::parse(details, {}, wfa_depth()).as_object();
}

plugin_host::plugin_host(const char* path) {
  // RTLD_NODELETE as wfa.h recommends (WFA-9).
  handle_ = dlopen(path ? path : A0_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (!handle_) throw std::runtime_error(std::string("dlopen: ") + dlerror());
  auto entry = reinterpret_cast<wfa_plugin_entry_fn>(dlsym(handle_, WFA_ENTRY_SYMBOL));
  if (!entry) throw std::runtime_error("no wfa_plugin_entry");
  wfa_error err{};
  err.struct_size = sizeof err;
  plugin_ = entry(WFA_ABI_MAJOR, WFA_ABI_MINOR, &err);
  if (!plugin_) throw std::runtime_error(std::string("entry refused: ") + err.message);
  host_.struct_size = sizeof host_;
  host_.ctx = this;
  host_.log = &plugin_host::on_log;
  host_.log_enabled = nullptr;
}

plugin_host::~plugin_host() {
  if (handle_) dlclose(handle_);
}

void plugin_host::on_log(void* ctx, int32_t level, wfa_str message) {
  auto* self = static_cast<plugin_host*>(ctx);
  std::lock_guard lk(self->mu_);
  self->logs_.emplace_back(level, std::string(message.data, message.size));
}

void plugin_host::set_acquire(acquire_fn f) {
  acquire_ = std::move(f);
  host_.acquire = acquire_ ? &plugin_host::on_acquire : nullptr;
}

uint32_t plugin_host::on_acquire(void* ctx, wfa_str bucket, uint32_t cost) {
  auto* self = static_cast<plugin_host*>(ctx);
  return self->acquire_(std::string_view(bucket.data ? bucket.data : "", bucket.size), cost);
}

std::vector<std::pair<int32_t, std::string>> plugin_host::logs() const {
  std::lock_guard lk(mu_);
  return logs_;
}

std::string plugin_host::all_logs() const {
  std::string all;
  for (const auto& [level, text] : logs()) all += text + "\n";
  return all;
}

namespace {
void on_done(void* user, const wfa_result* r) {
  auto* s = static_cast<slot*>(user);
  std::lock_guard lk(s->mu);
  auto& c = s->result;
  c.calls = ++s->calls;
  c.code = r->code;
  c.outputs.assign(r->outputs_json.data ? r->outputs_json.data : "", r->outputs_json.size);
  c.message.assign(r->message.data ? r->message.data : "", r->message.size);
  c.details.assign(r->details_json.data ? r->details_json.data : "", r->details_json.size);
  c.http_status = r->http_status;
  c.retryable = r->retryable != 0;
  c.thread = std::this_thread::get_id();
  s->cv.notify_all();
}

wfa_str str(const std::string& s) { return {s.data(), s.size()}; }
}  // namespace

plugin_instance::plugin_instance(plugin_host& h, const std::string& config_json) : host_(h) {
  wfa_error err{};
  err.struct_size = sizeof err;
  inst_ = h.plugin().create(h.host(), str(config_json), &err);
  if (!inst_) {
    error_ = err.message;
    code_ = err.code;
  }
}

plugin_instance::~plugin_instance() { destroy(); }  // before slots_ go

void plugin_instance::destroy() {
  if (inst_) host_.plugin().destroy(inst_);
  inst_ = nullptr;
}

// A slot for one call's completion, kept until the instance is destroyed.
plugin_instance::pending plugin_instance::new_pending() {
  pending p;
  p.s = std::make_shared<slot>();
  p.s->started_on = std::this_thread::get_id();
  std::lock_guard lk(slots_mu_);
  slots_.push_back(p.s);
  return p;
}

plugin_instance::pending plugin_instance::start(const std::string& action, const std::string& options,
                                                const std::string& inputs, uint32_t timeout_ms) {
  if (!inst_) throw std::runtime_error("no instance: " + error_);
  pending p = new_pending();
  wfa_call call{};
  call.struct_size = sizeof call;
  call.action_id = str(action);
  call.options_json = str(options);
  call.inputs_json = str(inputs);
  const std::string run_id = "run-1", step_id = "step-1";
  call.run_id = str(run_id);
  call.step_id = str(step_id);
  call.timeout_ms = timeout_ms;
  p.op = host_.plugin().execute(inst_, &call, &on_done, p.s.get());
  return p;
}

plugin_instance::pending plugin_instance::start_options(const std::string& action, const std::string& field,
                                                        const std::string& page_token) {
  pending p = new_pending();
  wfa_options_call call{};
  call.struct_size = sizeof call;
  call.action_id = str(action);
  call.field = str(field);
  call.page_token = str(page_token);
  p.op = host_.plugin().list_options(inst_, &call, &on_done, p.s.get());
  return p;
}

captured plugin_instance::pending::wait(std::chrono::milliseconds limit) const {
  std::unique_lock lk(s->mu);
  if (!s->cv.wait_for(lk, limit, [&] { return s->calls.load() > 0; }))
    throw std::runtime_error("done callback did not fire in time");
  return s->result;
}

bool plugin_instance::pending::done() const { return s->calls.load() > 0; }

captured plugin_instance::run(const std::string& action, const std::string& options, const std::string& inputs,
                              uint32_t timeout_ms) {
  auto p = start(action, options, inputs, timeout_ms);
  auto r = p.wait();
  // A second (wrong) callback would land within this grace period.
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  r.calls = p.s->calls.load();
  return r;
}

captured plugin_instance::run(const std::string& action, const json::object& options, const json::object& inputs,
                              uint32_t timeout_ms) {
  return run(action, json::serialize(options), json::serialize(inputs), timeout_ms);
}

}  // namespace a0::test
