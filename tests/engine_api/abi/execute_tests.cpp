// The raw ABI, one operation at a time: echo chaining and typed values, the plugin's own
// input checks (WFA-10), test.fail's error mapping, deadlines, list_options, callbacks
// never inside the starting call (WFA-4), logging and secrets (WFA-2, WFA-8).
#include "raw_plugin.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

namespace json = boost::json;
using namespace abi_test;

namespace {

// Runs one execute() on a fresh instance and returns its completion.
completion run_one(std::string_view action, std::string_view options, std::string_view inputs,
                   std::string_view config = "{}", uint32_t timeout_ms = 0) {
  wfa_instance* inst = create(config);
  collector c;
  execute(inst, action, options, inputs, c, 0, timeout_ms);
  bool done = c.wait(1);
  plugin().destroy(inst);
  REQUIRE(done);
  completion r = c.get(0);
  CHECK(r.calls == 1);
  CHECK(r.struct_size >= sizeof(wfa_result));
  return r;
}

json::value outputs(const completion& r) {
  INFO("code " << r.code << ": " << r.message);
  REQUIRE(r.code == WFA_OK);
  return json::parse(r.outputs);
}

}  // namespace

TEST_CASE("echo: one execute's outputs are the next one's input value") {
  wfa_instance* inst = create(R"({"prefix":"p-"})");
  collector c;
  json::value value = json::parse(R"({"name":"ada","list":[1,2]})");
  for (int step = 0; step < 3; ++step) {
    execute(inst, "test.echo", "{}", json::serialize(json::object{{"value", value}}), c, step);
    REQUIRE(c.wait(static_cast<std::size_t>(step) + 1));
    value = outputs(c.get(step));  // the whole outputs object becomes the next value
  }
  plugin().destroy(inst);
  // Three levels deep: each level's prefix and n, the original at the bottom.
  CHECK(value.at("n") == 3);
  CHECK(value.at("prefix") == "p-");
  CHECK(value.at("value").at("n") == 2);
  CHECK(value.at("value").at("value").at("n") == 1);
  CHECK(value.at("value").at("value").at("value") == json::parse(R"({"name":"ada","list":[1,2]})"));
}

TEST_CASE("echo: typed values round-trip unchanged") {
  for (const char* v : {"0", "-1", "42", "18446744073709551615", "-9223372036854775808", "1.5", "-2.25e-300", "1e300",
                        "true", "false", "null", "\"\"", R"("h\u00e9llo \"q\" \n \\ \ud83d\ude00")", "[]", "{}",
                        R"([1,"a",null,[true,{}],2.5])", R"({"a":{"b":[1,2,{"c":null}]},"d":"x"})"}) {
    CAPTURE(v);
    completion r = run_one("test.echo", "{}", std::string(R"({"value":)") + v + "}");
    json::value out = outputs(r);
    CHECK(out.at("value") == json::parse(v));
    CHECK(out.at("prefix") == "");
    CHECK(out.at("n") == 1);
    CHECK_FALSE(out.as_object().contains("tag"));
  }
}

TEST_CASE("echo: upper upper-cases every string at any depth, nothing else") {
  json::value out = outputs(
      run_one("test.echo", R"({"upper":true})", R"({"value":{"k":"abc","l":["x",1,null,{"m":"déf"}]},"tag":"t1"})"));
  CHECK(out.at("value") == json::parse(R"({"k":"ABC","l":["X",1,null,{"m":"DéF"}]})"));
  CHECK(out.at("tag") == "t1");
  CHECK(outputs(run_one("test.echo", R"({"upper":false})", R"({"value":"abc"})")).at("value") == "abc");
}

TEST_CASE("the plugin checks options and inputs itself: invalid_input naming the field (WFA-10)") {
  struct bad_call {
    const char* action;
    const char* options;
    const char* inputs;
    const char* says;
  };
  for (auto [action, options, inputs, says] : {
           bad_call{"test.echo", "{}", "{}", "inputs.value: required"},
           bad_call{"test.echo", "{}", R"({"value":1,"x":2})", "inputs.x: unknown field"},
           bad_call{"test.echo", "{}", R"({"value":1,"tag":3})", "inputs.tag: expected a non-empty string"},
           bad_call{"test.echo", R"({"upper":"yes"})", R"({"value":1})", "options.upper: expected a boolean"},
           bad_call{"test.echo", "[]", R"({"value":1})", "options: expected a JSON object"},
           bad_call{"test.echo", "{}", "not json", "inputs: not valid JSON"},
           bad_call{"test.echo", "{}", "[1]", "inputs: expected a JSON object"},
           bad_call{"test.delay", "{}", "{}", "inputs.ms: required"},
           bad_call{"test.delay", "{}", R"({"ms":-1})", "inputs.ms: expected an integer from 0 to 600000"},
           bad_call{"test.delay", "{}", R"({"ms":600001})", "inputs.ms: expected an integer"},
           bad_call{"test.delay", "{}", R"({"ms":1.5})", "inputs.ms: expected an integer"},
           bad_call{"test.delay", "{}", R"({"ms":"10"})", "inputs.ms: expected an integer"},
           bad_call{"test.delay", R"({"x":1})", R"({"ms":1})", "options.x: unknown field"},
           bad_call{"test.fail", "{}", R"({"code":"conflict"})", "inputs.message: required"},
           bad_call{"test.fail", "{}", R"({"code":"teapot","message":"m"})", "inputs.code: expected one of"},
           bad_call{"test.fail", "{}", R"({"code":"ok","message":"m"})", "inputs.code: expected one of"},
           bad_call{"test.fail", "{}", R"({"code":"conflict","message":"m","http_status":99})",
                    "inputs.http_status: expected an integer from 100 to 599"},
           bad_call{"test.fail", "{}", R"({"code":"conflict","message":"m","details":[]})",
                    "inputs.details: expected a JSON object"},
       }) {
    CAPTURE(action);
    CAPTURE(inputs);
    completion r = run_one(action, options, inputs);
    CHECK(r.code == WFA_INVALID_INPUT);
    CHECK(r.message.find(says) != std::string::npos);
    CHECK(r.retryable == 0);
    CHECK(r.outputs.empty());
  }
  // Integers per JSON Schema: 2.0 is one.
  CHECK(outputs(run_one("test.delay", "{}", R"({"ms":2.0,"value":[1]})")) ==
        json::parse(R"({"slept_ms":2,"value":[1]})"));
  CHECK(outputs(run_one("test.delay", "{}", R"({"ms":0})")) == json::parse(R"({"slept_ms":0})"));
}

TEST_CASE("test.fail: each code with its message, HTTP status, details and retryable") {
  struct expected {
    const char* name;
    int32_t code;
    bool retryable;
  };
  int status = 400;
  for (auto [name, code, retryable] : {
           expected{"invalid_input", WFA_INVALID_INPUT, false},
           expected{"unauthorized", WFA_UNAUTHORIZED, false},
           expected{"forbidden", WFA_FORBIDDEN, false},
           expected{"not_found", WFA_NOT_FOUND, false},
           expected{"conflict", WFA_CONFLICT, false},
           expected{"rate_limited", WFA_RATE_LIMITED, true},
           expected{"unavailable", WFA_UNAVAILABLE, true},
           expected{"timeout", WFA_TIMEOUT, true},
           expected{"cancelled", WFA_CANCELLED, false},
           expected{"internal", WFA_INTERNAL, false},
       }) {
    CAPTURE(name);
    ++status;
    json::object in{{"code", name},
                    {"message", std::string("it said ") + name},
                    {"http_status", status},
                    {"details", json::object{{"n", status}}}};
    completion r = run_one("test.fail", "{}", json::serialize(in));
    CHECK(r.code == code);
    CHECK(r.message == std::string("it said ") + name);
    CHECK(r.http_status == status);
    CHECK(r.retryable == (retryable ? 1u : 0u));
    CHECK(json::parse(r.details) == json::object{{"n", status}});
    CHECK(r.outputs.empty());
  }
  // Without an HTTP status or details: 0 and empty.
  completion r = run_one("test.fail", "{}", R"({"code":"not_found","message":"gone"})");
  CHECK(r.code == WFA_NOT_FOUND);
  CHECK(r.http_status == 0);
  CHECK(r.details.empty());
}

TEST_CASE("test.delay: a timeout_ms shorter than the wait ends it with timeout, a longer one does not") {
  completion r = run_one("test.delay", "{}", R"({"ms":600000})", "{}", 20);
  CHECK(r.code == WFA_TIMEOUT);
  CHECK(r.retryable == 1);
  CHECK(r.message.find("deadline") != std::string::npos);
  CHECK(outputs(run_one("test.delay", "{}", R"({"ms":1,"value":"v"})", "{}", 600000)) ==
        json::parse(R"({"slept_ms":1,"value":"v"})"));
}

TEST_CASE("struct_size: a wfa_call without timeout_ms has none (missing fields are zero, WFA-2)") {
  wfa_instance* inst = create();
  collector c;
  wfa_call call{};
  call.struct_size = static_cast<uint32_t>(offsetof(wfa_call, timeout_ms));  // a call from before timeout_ms
  call.action_id = str("test.delay");
  call.inputs_json = str(R"({"ms":30})");
  call.timeout_ms = 1;  // beyond struct_size: must not be read
  plugin().execute(inst, &call, &collector::done, c.user(0));
  REQUIRE(c.wait(1));
  plugin().destroy(inst);
  CHECK(c.get(0).code == WFA_OK);
}

TEST_CASE("list_options: test.echo's /inputs/tag in two pages, other fields and actions are refused") {
  wfa_instance* inst = create(R"({"prefix":"p-"})");
  collector c;
  auto list = [&](std::string_view action, std::string_view field, std::string_view page, int key,
                  std::string_view context = "") {
    wfa_options_call call{};
    call.struct_size = sizeof call;
    call.action_id = str(action);
    call.field = str(field);
    call.context_json = str(context);
    call.page_token = str(page);
    CHECK(plugin().list_options(inst, &call, &collector::done, c.user(key)) != 0);
  };
  list("test.echo", "/inputs/tag", "", 0, R"({"options":{},"inputs":{"value":1}})");
  list("test.echo", "/inputs/tag", "2", 1);
  list("test.echo", "/inputs/value", "", 2);
  list("test.nope", "/inputs/tag", "", 3);
  list("test.echo", "/inputs/tag", "", 4, "{bad");
  list("test.echo", "/inputs/tag", "99", 5);
  REQUIRE(c.wait(6));
  plugin().destroy(inst);
  CHECK(json::parse(c.get(0).outputs) ==
        json::parse(R"({"items":[{"value":"a","label":"p-A"},{"value":"b","label":"p-B"}],"next_page_token":"2"})"));
  CHECK(json::parse(c.get(1).outputs) ==
        json::parse(R"({"items":[{"value":"c","label":"p-C"}],"next_page_token":null})"));
  for (int key : {2, 3, 4, 5}) {
    CAPTURE(key);
    CHECK(c.get(key).code == WFA_INVALID_INPUT);
    CHECK(c.get(key).calls == 1);
  }
  CHECK(c.get(2).message.find("/inputs/value: not a field with dynamic options") != std::string::npos);
  CHECK(c.get(3).message.find("unknown action 'test.nope'") != std::string::npos);
  CHECK(c.get(4).message.find("context: not valid JSON") != std::string::npos);
}

namespace {

// Records whether its callback ran while the starting call was still in progress: the
// test holds `gate` (recursive) across the call and sets `returned` before releasing it.
// A callback on another thread blocks on the gate until then; one run inside the call,
// on the calling thread, gets through at once and sees returned == false.
struct async_probe {
  std::recursive_mutex gate;
  bool returned = false;
  std::mutex mu;
  std::condition_variable cv;
  int calls = 0;
  bool saw_returned = false;
  std::thread::id thread;
  int32_t code = -1;
  std::string message;

  static void done(void* user, const wfa_result* r) {
    auto* p = static_cast<async_probe*>(user);
    bool returned_then;
    {
      std::lock_guard g(p->gate);
      returned_then = p->returned;
    }
    std::lock_guard lock(p->mu);
    ++p->calls;
    p->saw_returned = returned_then;
    p->thread = std::this_thread::get_id();
    p->code = r->code;
    p->message = text(r->message);
    p->cv.notify_all();
  }
  void wait() {
    std::unique_lock lock(mu);
    REQUIRE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return calls > 0; }));
  }
};

}  // namespace

TEST_CASE("WFA-4/5: every completion, also an immediate failure, fires after the call returned, on a plugin thread") {
  wfa_instance* inst = create();
  struct case_ {
    const char* action;
    const char* inputs;
    int32_t code;
  };
  for (auto [action, inputs, code] :
       {case_{"test.nope", "{}", WFA_INVALID_INPUT}, case_{"", "{}", WFA_INVALID_INPUT},
        case_{"test.echo", "{oops", WFA_INVALID_INPUT}, case_{"test.echo", R"({"value":1})", WFA_OK},
        case_{"test.fail", R"({"code":"conflict","message":"m"})", WFA_CONFLICT}}) {
    CAPTURE(action);
    async_probe p;
    wfa_call call{};
    call.struct_size = sizeof call;
    call.action_id = str(action);
    call.inputs_json = str(inputs);
    {
      std::lock_guard g(p.gate);
      CHECK(plugin().execute(inst, &call, &async_probe::done, &p) != 0);
      p.returned = true;
    }
    p.wait();
    CHECK(p.saw_returned);
    CHECK(p.thread != std::this_thread::get_id());
    CHECK(p.code == code);
    if (std::string(action) == "test.nope") CHECK(p.message == "unknown action 'test.nope'");
  }
  // A call struct too short to hold action_id, and a list_options call: the same rule.
  for (int i = 0; i < 2; ++i) {
    async_probe p;
    wfa_call short_call{};
    short_call.struct_size = offsetof(wfa_call, action_id);
    wfa_options_call oc{};
    oc.struct_size = sizeof oc;
    oc.action_id = str("test.echo");
    oc.field = str("/inputs/tag");
    {
      std::lock_guard g(p.gate);
      wfa_op op = i == 0 ? plugin().execute(inst, &short_call, &async_probe::done, &p)
                         : plugin().list_options(inst, &oc, &async_probe::done, &p);
      CHECK(op != 0);
      p.returned = true;
    }
    p.wait();
    CHECK(p.saw_returned);
    CHECK(p.thread != std::this_thread::get_id());
    CHECK(p.code == (i == 0 ? WFA_INVALID_INPUT : WFA_OK));
  }
  plugin().destroy(inst);
}

TEST_CASE("WFA-5: a call that cannot be started (NULL call or done) returns 0 and never calls back") {
  wfa_instance* inst = create();
  collector c;
  wfa_call call{};
  call.struct_size = sizeof call;
  call.action_id = str("test.echo");
  call.inputs_json = str(R"({"value":1})");
  wfa_options_call oc{};
  oc.struct_size = sizeof oc;
  oc.action_id = str("test.echo");
  oc.field = str("/inputs/tag");
  CHECK(plugin().execute(inst, nullptr, &collector::done, c.user(1)) == 0);
  CHECK(plugin().execute(inst, &call, nullptr, c.user(2)) == 0);
  CHECK(plugin().list_options(inst, nullptr, &collector::done, c.user(3)) == 0);
  CHECK(plugin().list_options(inst, &oc, nullptr, c.user(4)) == 0);
  CHECK(plugin().execute(nullptr, &call, &collector::done, c.user(5)) == 0);
  // A started call after them still completes, so nothing above was queued ahead of it.
  CHECK(plugin().execute(inst, &call, &collector::done, c.user(6)) != 0);
  REQUIRE(c.wait(1));
  plugin().destroy(inst);  // returns: nothing was left registered (WFA-9)
  CHECK(c.size() == 1);
  CHECK(c.get(6).calls == 1);
}

TEST_CASE("logging: through the host callback, honouring log_enabled") {
  log_sink warn_and_up(WFA_LOG_WARN);
  wfa_instance* inst = create("{}", warn_and_up.host());
  collector c;
  execute(inst, "test.echo", "{}", R"({"value":1})", c, 0);
  execute(inst, "test.fail", "{}", R"({"code":"unavailable","message":"down"})", c, 1);
  REQUIRE(c.wait(2));
  plugin().destroy(inst);
  CHECK(warn_and_up.enabled_calls() > 0);
  auto lines = warn_and_up.lines();
  REQUIRE_FALSE(lines.empty());
  bool saw_failure = false;
  for (const auto& [level, line] : lines) {
    CHECK(level >= WFA_LOG_WARN);  // asked for nothing below
    saw_failure = saw_failure || line.find("unavailable: down") != std::string::npos;
  }
  CHECK(saw_failure);

  // All levels: the debug lines of each op are there too.
  log_sink everything;
  inst = create("{}", everything.host());
  execute(inst, "test.echo", "{}", R"({"value":1})", c, 2);
  REQUIRE(c.wait(3));
  plugin().destroy(inst);
  bool saw_debug = false;
  for (const auto& [level, line] : everything.lines())
    saw_debug = saw_debug || (level == WFA_LOG_DEBUG && line.find("test.echo") != std::string::npos);
  CHECK(saw_debug);
}

TEST_CASE("logging: every line comes from a plugin thread, also those of create and destroy (WFA-4)") {
  log_sink logs;
  wfa_instance* inst = create(R"({"prefix":"q"})", logs.host());
  collector c;
  execute(inst, "test.echo", "{}", R"({"value":1})", c, 0);
  execute(inst, "test.fail", "{}", R"({"code":"internal","message":"m"})", c, 1);
  REQUIRE(c.wait(2));
  plugin().destroy(inst);
  bool created = false, destroyed = false;
  for (const auto& [level, line] : logs.lines()) {
    created = created || (level == WFA_LOG_INFO && line == "wfa-test: instance created (prefix 'q', no token)");
    destroyed = destroyed || (level == WFA_LOG_INFO && line == "wfa-test: instance destroyed");
  }
  CHECK(created);
  CHECK(destroyed);
  CHECK(logs.lines().size() >= 8);
  CHECK(logs.lines_from(std::this_thread::get_id()) == 0);
}

namespace {
std::atomic<int> poisoned_enabled_calls{0};
uint32_t poisoned_enabled(void*, int32_t) {
  ++poisoned_enabled_calls;
  return 0;
}
std::mutex short_host_mu;
std::vector<std::string> short_host_lines;
void short_host_log(void*, int32_t, wfa_str message) {
  std::lock_guard lock(short_host_mu);
  short_host_lines.push_back(text(message));
}
}  // namespace

TEST_CASE("struct_size: a wfa_host that ends before log_enabled has none: every level is logged") {
  wfa_host host{};
  host.log = &short_host_log;
  host.log_enabled = &poisoned_enabled;  // beyond struct_size: must not be called
  host.struct_size = static_cast<uint32_t>(offsetof(wfa_host, log_enabled));
  wfa_instance* inst = create("{}", &host);
  collector c;
  execute(inst, "test.echo", "{}", R"({"value":1})", c, 0);
  REQUIRE(c.wait(1));
  plugin().destroy(inst);
  CHECK(poisoned_enabled_calls == 0);
  std::lock_guard lock(short_host_mu);
  bool saw_trace = false;  // the inputs line is TRACE: logged, since nothing turned it down
  for (const auto& line : short_host_lines)
    saw_trace = saw_trace || line.find("inputs {\"value\":1}") != std::string::npos;
  CHECK(saw_trace);
  // A host without a log function: nothing to call, nothing breaks.
  wfa_host silent{sizeof(wfa_host), nullptr, nullptr, &poisoned_enabled, nullptr};
  inst = create("{}", &silent);
  execute(inst, "test.echo", "{}", R"({"value":1})", c, 1);
  REQUIRE(c.wait(2));
  plugin().destroy(inst);
  CHECK(poisoned_enabled_calls == 0);
}

TEST_CASE("the connection token is never in a log line or a message (WFA-8)") {
  const std::string token = "tok-5ECRET-xyzzy";
  log_sink logs;
  std::vector<std::string> messages;
  {
    wfa_instance* inst = create(R"({"prefix":"p","token":")" + token + "\"}", logs.host());
    collector c;
    // The host sends the token back in inputs, a message, an action id and a run id.
    execute(inst, "test.echo", "{}", R"({"value":"say )" + token + "\"}", c, 0);
    execute(inst, "test.fail", "{}", R"({"code":"unauthorized","message":"denied for )" + token + "\"}", c, 1);
    execute(inst, token, "{}", "{}", c, 2);
    execute(inst, "test.delay", "{}", R"({"ms":"x)" + token + "\"}", c, 3);
    wfa_call call{};
    call.struct_size = sizeof call;
    call.action_id = str("test.echo");
    call.inputs_json = str(R"({"value":1})");
    const std::string step = "step-" + token;
    call.run_id = str(token);
    call.step_id = str(step);
    plugin().execute(inst, &call, &collector::done, c.user(4));
    REQUIRE(c.wait(5));
    plugin().destroy(inst);
    for (const auto& [key, r] : c.all()) messages.push_back(r.message);
    CHECK(c.get(1).message == "denied for ***");
    CHECK(c.get(2).message == "unknown action '***'");
  }
  // create errors with the token in the config.
  for (std::string config : {R"({"fail_create":true,"token":")" + token + "\"}",
                             R"({"token":")" + token + R"(","bogus":")" + token + "\"}"}) {
    wfa_error err{};
    err.struct_size = sizeof err;
    CHECK(plugin().create(logs.host(), str(config), &err) == nullptr);
    messages.emplace_back(err.message);
  }
  auto lines = logs.lines();
  REQUIRE(lines.size() > 5);
  bool redacted = false;
  for (const auto& [level, line] : lines) {
    CAPTURE(line);
    CHECK(line.find(token) == std::string::npos);
    CHECK(line.find("5ECRET") == std::string::npos);
    redacted = redacted || line.find("say ***") != std::string::npos;
  }
  CHECK(redacted);  // the trace line of the echo inputs was logged, with the token replaced
  for (const auto& m : messages) {
    CAPTURE(m);
    CHECK(m.find(token) == std::string::npos);
  }
}
