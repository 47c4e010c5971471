// instance over small fixture plugins (no test plugin needed): list_options completes once
// on a plugin thread; the log sink receives the plugin's lines at or above min_level only;
// an op the plugin could not start (0) is completed by the host.
#include <wfa/host.hpp>

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace json = boost::json;
using namespace wfa::host;

namespace {

struct log_capture {
  std::mutex mu;
  std::vector<std::pair<int32_t, std::string>> lines;
  log_sink sink() {
    return [this](int32_t level, std::string_view text) {
      std::lock_guard lock(mu);
      lines.emplace_back(level, std::string(text));
    };
  }
};

op_result list(instance& inst, const std::string& page, std::thread::id* thread = nullptr) {
  std::promise<std::pair<op_result, std::thread::id>> p;
  auto f = p.get_future();
  inst.list_options("fx.pick", "/inputs/choice", R"({"options":{},"inputs":{}})", page, [&p](op_result r) {
    p.set_value({std::move(r), std::this_thread::get_id()});
  });
  auto [r, id] = f.get();
  if (thread) *thread = id;
  return r;
}

}  // namespace

TEST_CASE("list_options: the page, once, on a plugin thread") {
  library lib = library::open(WFA_FIXTURE_OPTIONS);
  instance inst(lib, "{}");
  std::thread::id id;
  op_result first = list(inst, "", &id);
  CHECK(id != std::this_thread::get_id());
  REQUIRE(first.code == WFA_OK);
  json::value v = json::parse(first.outputs_json);
  CHECK(v.at("items").at(0).at("value") == "a");
  CHECK(v.at("next_page_token") == "p2");
  op_result second = list(inst, "p2");
  CHECK(json::parse(second.outputs_json).at("next_page_token").is_null());
}

TEST_CASE("the log sink gets the plugin's lines at or above min_level") {
  library lib = library::open(WFA_FIXTURE_OPTIONS);
  log_capture info, debug;
  {
    instance a(lib, "{}", info.sink(), WFA_LOG_INFO);
    instance b(lib, "{}", debug.sink(), WFA_LOG_DEBUG);
    list(a, "");
    list(b, "");
  }
  REQUIRE(info.lines.size() == 1);
  CHECK(info.lines[0] == std::pair<int32_t, std::string>{WFA_LOG_INFO, "options-fixture: answering"});
  REQUIRE(debug.lines.size() == 2);
  CHECK(debug.lines[1] == std::pair<int32_t, std::string>{WFA_LOG_DEBUG, "options-fixture: debug detail"});
  // Without a sink nothing is enabled, and nothing breaks.
  instance quiet(lib, "{}");
  CHECK(list(quiet, "").code == WFA_OK);
}

TEST_CASE("a plugin that returns 0 (not started, WFA-5): the host completes the op once, as internal") {
  library lib = library::open(WFA_FIXTURE_RETURNS_ZERO);
  std::vector<op_result> results;  // completed on this thread, before the call returns
  {
    instance inst(lib, "{}");
    CHECK(inst.execute("fx.zero", "{}", "{}", [&](op_result r) { results.push_back(std::move(r)); }) == 0);
    REQUIRE(results.size() == 1);
    CHECK(inst.list_options("fx.zero", "/inputs/choice", "{}", "",
                            [&](op_result r) { results.push_back(std::move(r)); }) == 0);
    REQUIRE(results.size() == 2);
  }  // ~instance: nothing is owed any more, so nothing is completed a second time
  REQUIRE(results.size() == 2);
  for (const auto& r : results) {
    CHECK(r.code == WFA_INTERNAL);
    CHECK(r.message.find("could not start the operation") != std::string::npos);
  }
  CHECK(results[0].message.find("execute returned 0") != std::string::npos);
  CHECK(results[1].message.find("list_options returned 0") != std::string::npos);
}
