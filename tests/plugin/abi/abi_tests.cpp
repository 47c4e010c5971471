// The plugin side of the C ABI: negotiation, descriptor, create errors, asynchronous
// exactly-once completion, cancel, destroy (WFA-1..10).
#include "fake_tenant.hpp"
#include "plugin_host.hpp"

#include <boost/json/parse.hpp>
#include <doctest/doctest.h>

#include <dlfcn.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fstream>
#include <algorithm>
#include <mutex>
#include <set>
#include <thread>
#include <vector>
#include <sstream>

using namespace a0::test;
namespace json = boost::json;

namespace {
std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
constexpr const char* k_bad_tenant_config =
    R"({"domain":"127.0.0.1:9","client_id":"id","client_secret":"TOP-SECRET-cs-123"})";
}  // namespace

TEST_CASE("entry negotiates the major version and fills the error") {
  void* h = dlopen(A0_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  REQUIRE(h);
  auto entry = reinterpret_cast<wfa_plugin_entry_fn>(dlsym(h, WFA_ENTRY_SYMBOL));
  REQUIRE(reinterpret_cast<void*>(entry) != nullptr);
  wfa_error err{};
  err.struct_size = sizeof err;
  CHECK(entry(2, 0, &err) == nullptr);
  CHECK(err.code == WFA_INCOMPATIBLE);
  CHECK(std::string(err.message).find("major") != std::string::npos);
  CHECK(entry(0, 9, nullptr) == nullptr);                               // null err is allowed
  const wfa_plugin* p = entry(WFA_ABI_MAJOR, WFA_ABI_MINOR + 3, &err);  // newer host minor
  REQUIRE(p);
  CHECK(p->struct_size == sizeof(wfa_plugin));
  CHECK(p->abi_major == WFA_ABI_MAJOR);
  CHECK(p == entry(WFA_ABI_MAJOR, 0, nullptr));  // static descriptor
  // A 1.1 plugin (it may call wfa_host.acquire) that still serves a 1.0 host: it reads
  // acquire only within the host's struct_size (budget_tests.cpp), so min_host_minor is 0.
  CHECK(p->abi_minor == 1);
  // A small (older) wfa_error: the message is truncated to what the host said it has.
  struct small_error {
    uint32_t struct_size;
    int32_t code;
    char message[8];
    char guard[8];
  } small{};
  small.struct_size = offsetof(small_error, message) + 8;
  std::memset(small.guard, 'G', sizeof small.guard);
  CHECK(entry(7, 0, reinterpret_cast<wfa_error*>(&small)) == nullptr);
  CHECK(small.code == WFA_INCOMPATIBLE);
  CHECK(std::strlen(small.message) == 7);
  CHECK(std::string(small.guard, 8) == "GGGGGGGG");
  dlclose(h);
}

TEST_CASE("descriptor lists the six actions with the manifests embedded from manifests/actions") {
  plugin_host host;
  const auto& p = host.plugin();
  REQUIRE(p.action_count == 6);
  std::set<std::string> ids;
  for (uint32_t i = 0; i < p.action_count; ++i) {
    const auto& a = p.actions[i];
    CHECK(a.struct_size == sizeof(wfa_action));
    ids.insert(a.id);
    const auto file = read_file(std::string(A0_MANIFEST_DIR) + "/" + a.id + ".json");
    CHECK(std::string(a.manifest_json) == file);  // one source of truth, byte for byte
    auto m = json::parse(a.manifest_json).as_object();
    CHECK(m.at("title") == a.title);
    CHECK(m.at("description") == a.description);
    for (auto key : {"connection", "options", "inputs", "outputs"}) CHECK(m.at(key).is_object());
    auto& conn = m.at("connection").as_object().at("properties").as_object();
    CHECK(conn.at("client_secret").as_object().at("x-secret") == true);
    CHECK(conn.at("token").as_object().at("x-secret") == true);
    CHECK(conn.at("domain").as_object().at("x-env") == "AUTH0_DOMAIN");
  }
  CHECK(ids == std::set<std::string>{"auth0.link-account", "auth0.unlink-account", "auth0.get-user",
                                     "auth0.update-user-metadata", "auth0.export-users", "auth0.users-by-email"});
}

TEST_CASE("create refuses a bad config naming the field, never the secret") {
  plugin_host host;
  for (auto [config, field] :
       {std::pair{"not json", "config"},
        std::pair{R"({"client_id":"a","client_secret":"TOP-SECRET-cs-123"})", "domain"},
        std::pair{R"({"domain":"x.auth0.com","client_secret":"TOP-SECRET-cs-123"})", "client_id"},
        std::pair{
            R"({"domain":"x.auth0.com","token":"TOP-SECRET-tok","client_id":"a","client_secret":"TOP-SECRET-cs-123"})",
            "token"},
        std::pair{R"({"domain":"x.auth0.com","token":"TOP-SECRET-tok","timeout_ms":0})", "timeout_ms"},
        std::pair{R"({"domain":"x.auth0.com","token":"TOP-SECRET-tok","ca_file":"/nonexistent.pem"})", "ca_file"}}) {
    plugin_instance inst(host, config);
    CHECK(inst.get() == nullptr);
    CHECK(inst.create_code() == WFA_INVALID_INPUT);
    CHECK(inst.create_error().find(field) != std::string::npos);
    CHECK(inst.create_error().find("TOP-SECRET") == std::string::npos);
  }
}

TEST_CASE("bad input completes asynchronously, exactly once, with no request sent") {
  plugin_host host;
  fake_tenant tenant;
  plugin_instance inst(host, tenant.config());
  REQUIRE(inst.get());
  struct bad_case {
    const char* action;
    const char* options;
    const char* inputs;
    const char* mention;
  };
  const bad_case cases[] = {
      {"auth0.nope", "{}", "{}", "action_id"},
      {"auth0.link-account", "not json", "{}", "options_json"},
      {"auth0.link-account", R"({"merge_metadata":true})", "[1]", "inputs_json"},
      {"auth0.link-account", "{}", R"({"primary_user_id":"auth0|p","secondary_user_id":"auth0|s"})", "merge_metadata"},
      {"auth0.link-account", R"({"merge_metadata":true})",
       R"({"primary_user_id":"auth0|p","secondary_user_id":"auth0|p"})", "itself"},
      {"auth0.link-account", R"({"merge_metadata":true})",
       R"({"primary_user_id":"auth0|p","secondary_user_id":"x","secondary_provider":"nope"})", "secondary_provider"},
      {"auth0.link-account", R"({"merge_metadata":true,"merge_exclude":["/x"]})",
       R"({"primary_user_id":"auth0|p","secondary_user_id":"auth0|s"})", "merge_exclude"},
      {"auth0.unlink-account", "{}", R"({"primary_user_id":"auth0|p"})", "secondary_user_id"},
      {"auth0.get-user", "{}", R"({"user_id":3})", "user_id"},
      {"auth0.update-user-metadata", "{}", R"({"user_id":"auth0|p","user_metadata":{"a$b":1}})", "a$b"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.inputs);
    auto r = inst.run(c.action, c.options, c.inputs);
    CHECK(r.code == WFA_INVALID_INPUT);
    CHECK(r.calls == 1);
    CHECK(r.retryable == false);
    CHECK(r.message.find(c.mention) != std::string::npos);
    CHECK(r.thread != std::this_thread::get_id());  // never inside execute (WFA-4)
  }
  CHECK(tenant.server().requests().empty());
}

TEST_CASE("op handles are unique and non-zero, cancel of unknown or finished ops is ignored") {
  plugin_host host;
  plugin_instance inst(host, k_bad_tenant_config);
  REQUIRE(inst.get());
  auto a = inst.start("auth0.nope", "{}", "{}");
  auto b = inst.start("auth0.nope", "{}", "{}");
  CHECK(a.op != 0);
  CHECK(a.op != b.op);
  a.wait();
  b.wait();
  inst.cancel(a.op);
  inst.cancel(987654);
  CHECK(a.s->calls == 1);
}

TEST_CASE("cancel ends an op in flight with WFA_CANCELLED, destroy cancels and waits") {
  plugin_host host;
  fake_tenant tenant;
  tenant.put_user(make_user("auth0|p", "a@example.com", true));
  // The server holds the GET for 5 s: long enough to cancel it in flight.
  reply slow(200, "{}");
  slow.delay = std::chrono::milliseconds(5000);
  tenant.add_fault({"GET", "/api/v2/users/auth0|p", "", false, slow});
  tenant.add_fault({"GET", "/api/v2/users/auth0|p", "", false, slow});
  plugin_instance inst(host, tenant.config());
  auto p = inst.start("auth0.get-user", "{}", R"({"user_id":"auth0|p"})");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto t0 = std::chrono::steady_clock::now();
  inst.cancel(p.op);
  auto r = p.wait();
  CHECK(r.code == WFA_CANCELLED);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(3));
  inst.cancel(p.op);  // idempotent
  // destroy() with an op in flight: it completes (cancelled) before destroy returns.
  auto q = inst.start("auth0.get-user", "{}", R"({"user_id":"auth0|p"})");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  inst.destroy();
  CHECK(q.done());
  CHECK(q.s->calls == 1);
  CHECK(q.s->result.code == WFA_CANCELLED);
}

TEST_CASE("the whole-operation deadline answers WFA_TIMEOUT, retryable") {
  plugin_host host;
  fake_tenant tenant;
  tenant.put_user(make_user("auth0|p", "a@example.com", true));
  reply slow(200, "{}");
  slow.delay = std::chrono::milliseconds(3000);
  tenant.add_fault({"GET", "/api/v2/users/", "", false, slow});
  plugin_instance inst(host, tenant.config());
  auto r = inst.run("auth0.get-user", "{}", R"({"user_id":"auth0|p"})", 200);
  CHECK(r.code == WFA_TIMEOUT);
  CHECK(r.retryable);
  CHECK(r.calls == 1);
}

TEST_CASE("fields beyond the caller's struct_size are not read (WFA-2)") {
  plugin_host host;
  fake_tenant t;
  plugin_instance inst(host, t.config());
  auto slot_ = std::make_shared<slot>();
  const std::string action = "auth0.get-user", inputs = R"({"user_id":"auth0|x"})";
  wfa_call call{};
  call.struct_size = offsetof(wfa_call, inputs_json);  // a host that knows only action_id + options
  call.action_id = {action.data(), action.size()};
  call.inputs_json = {inputs.data(), inputs.size()};  // beyond struct_size: must be ignored
  auto done = [](void* user, const wfa_result* r) {
    auto* s = static_cast<slot*>(user);
    std::lock_guard lk(s->mu);
    s->result.code = r->code;
    s->result.message.assign(r->message.data, r->message.size);
    ++s->calls;
    s->cv.notify_all();
  };
  host.plugin().execute(inst.get(), &call, done, slot_.get());
  std::unique_lock lk(slot_->mu);
  REQUIRE(slot_->cv.wait_for(lk, std::chrono::seconds(10), [&] { return slot_->calls.load() == 1; }));
  CHECK(slot_->result.code == WFA_INVALID_INPUT);
  CHECK(slot_->result.message.find("user_id") != std::string::npos);
  CHECK(t.server().requests().empty());
}

TEST_CASE("two copies of the plugin (different file names) load and run side by side") {
  const std::string copy = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") +
                           "/libauth0_actions_copy_" + std::to_string(::getpid()) + ".so";
  {
    std::ifstream in(A0_PLUGIN_PATH, std::ios::binary);
    std::ofstream out(copy, std::ios::binary);
    out << in.rdbuf();
  }
  fake_tenant t;
  t.put_user(make_user("auth0|p", "p@example.com", true));
  {
    plugin_host a, b(copy.c_str());
    CHECK(&a.plugin() != &b.plugin());  // really two images
    plugin_instance ia(a, t.config()), ib(b, t.config());
    auto ra = ia.start("auth0.get-user", "{}", R"({"user_id":"auth0|p"})");
    auto rb = ib.start("auth0.get-user", "{}", R"({"user_id":"auth0|p"})");
    CHECK(ra.wait().code == WFA_OK);
    CHECK(rb.wait().code == WFA_OK);
  }
  std::remove(copy.c_str());
}

TEST_CASE("execute and cancel from many host threads at once: every op completes exactly once") {
  plugin_host host;
  fake_tenant t;
  t.put_user(make_user("auth0|p", "p@example.com", true));
  plugin_instance inst(host, t.config());
  constexpr int threads = 4, per_thread = 12;
  std::vector<std::vector<plugin_instance::pending>> started(threads);
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i)
    pool.emplace_back([&, i] {
      for (int k = 0; k < per_thread; ++k) {
        auto p = inst.start(k % 3 == 0 ? "auth0.nope" : "auth0.get-user", "{}", R"({"user_id":"auth0|p"})");
        if (k % 4 == 1) inst.cancel(p.op);  // cancel() itself is called concurrently
        started[i].push_back(p);
      }
    });
  for (auto& th : pool) th.join();
  std::set<wfa_op> ids;
  for (auto& list : started)
    for (auto& p : list) {
      auto r = p.wait();
      ids.insert(p.op);
      CHECK((r.code == WFA_OK || r.code == WFA_CANCELLED || r.code == WFA_INVALID_INPUT));
    }
  CHECK(ids.size() == threads * per_thread);  // unique handles
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (auto& list : started)
    for (auto& p : list) CHECK(p.s->calls == 1);
}

TEST_CASE("log_enabled is honoured and struct_size of wfa_host is respected") {
  struct sink {
    std::mutex mu;
    std::vector<int32_t> levels;
    int enabled_calls = 0;
  } s;
  wfa_host h{};
  h.struct_size = sizeof h;
  h.ctx = &s;
  h.log = [](void* ctx, int32_t level, wfa_str) {
    auto* k = static_cast<sink*>(ctx);
    std::lock_guard lk(k->mu);
    k->levels.push_back(level);
  };
  h.log_enabled = [](void* ctx, int32_t level) -> uint32_t {
    auto* k = static_cast<sink*>(ctx);
    std::lock_guard lk(k->mu);
    ++k->enabled_calls;
    return level >= WFA_LOG_WARN ? 1u : 0u;
  };
  plugin_host host;
  fake_tenant t;
  wfa_error err{};
  err.struct_size = sizeof err;
  const auto cfg = t.config();
  wfa_instance* inst = host.plugin().create(&h, {cfg.data(), cfg.size()}, &err);
  REQUIRE(inst);
  auto s1 = std::make_shared<slot>();
  auto done = [](void* user, const wfa_result*) {
    auto* k = static_cast<slot*>(user);
    std::lock_guard lk(k->mu);
    ++k->calls;
    k->cv.notify_all();
  };
  const std::string a1 = "auth0.nope", a2 = "auth0.get-user", in2 = R"({"user_id":"auth0|missing"})";
  wfa_call c1{};
  c1.struct_size = sizeof c1;
  c1.action_id = {a1.data(), a1.size()};
  wfa_call c2 = c1;
  c2.action_id = {a2.data(), a2.size()};
  c2.inputs_json = {in2.data(), in2.size()};
  host.plugin().execute(inst, &c1, done, s1.get());  // invalid input: logged at DEBUG
  host.plugin().execute(inst, &c2, done, s1.get());  // 404: logged at WARN
  {
    std::unique_lock lk(s1->mu);
    REQUIRE(s1->cv.wait_for(lk, std::chrono::seconds(10), [&] { return s1->calls.load() == 2; }));
  }
  host.plugin().destroy(inst);
  std::lock_guard lk(s.mu);
  CHECK(s.enabled_calls >= 2);
  CHECK_FALSE(s.levels.empty());
  for (auto l : s.levels) CHECK(l >= WFA_LOG_WARN);

  // A host struct that ends before log_enabled: only log is read, every level enabled.
  sink s2;
  wfa_host old{};
  old.struct_size = offsetof(wfa_host, log_enabled);
  old.ctx = &s2;
  old.log = h.log;
  old.log_enabled = [](void*, int32_t) -> uint32_t { throw 1; };  // must never be called
  wfa_instance* inst2 = host.plugin().create(&old, {cfg.data(), cfg.size()}, &err);
  REQUIRE(inst2);
  auto s3 = std::make_shared<slot>();
  host.plugin().execute(inst2, &c1, done, s3.get());
  {
    std::unique_lock lk2(s3->mu);
    REQUIRE(s3->cv.wait_for(lk2, std::chrono::seconds(10), [&] { return s3->calls.load() == 1; }));
  }
  host.plugin().destroy(inst2);
  CHECK(std::count(s2.levels.begin(), s2.levels.end(), WFA_LOG_DEBUG) == 1);
}
