// Seeds: POST /__emulator/seed and --seed are all-or-nothing; every example seed in
// manifests/emulator/ loads and serves what it declares.
#include "helpers.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace emutest;
namespace fs = std::filesystem;

namespace {

/// The seed control call's raw answer (the fixture's seed() throws on 400).
http_result post_seed(harness& h, const json::value& seed) {
  return h.emu.client().request("POST", "/__emulator/seed", json::serialize(seed));
}

std::vector<std::string> user_ids(const json::object& state) {
  std::vector<std::string> out;
  for (auto& u : state.at("users").as_array()) out.emplace_back(u.at("user_id").as_string());
  return out;
}

std::vector<std::string> bucket_names(const json::object& state) {
  std::vector<std::string> out;
  for (auto& b : state.at("rate_limits").as_array()) out.emplace_back(b.at("name").as_string());
  return out;
}

struct run_result {
  int exit_code = -1;
  std::string output;
};

/// Runs the emulator on a seed file that should be refused; stdin is /dev/null and
/// --exit-on-stdin-eof, so a seed that is wrongly accepted still ends the run.
run_result run_with_seed(const std::string& file) {
  // workaround(gcc12): appended piecewise, GCC gives a false -Wrestrict on a chain of operator+ here.
  std::string cmd = "'";
  cmd.append(a0::test::emulator::default_executable()).append("' --seed '").append(file);
  cmd.append("' --port 0 --exit-on-stdin-eof </dev/null 2>&1");
  run_result out;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[512];
  while (std::fgets(buf, sizeof buf, p)) out.output += buf;
  const int st = ::pclose(p);
  out.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
  return out;
}

std::string pct(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      char b[4];
      std::snprintf(b, sizeof b, "%%%02X", c);
      out += b;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("POST seed: a seed with bad rate_limits is refused whole, state and reset target unchanged") {
  harness h;
  // A change made at runtime, that a refused seed must not undo either.
  REQUIRE(h.call("POST", "/api/v2/users/auth0%7Cprimary1/identities", R"({"provider":"auth0","user_id":"secondary1"})")
              .status == 201);
  const auto before = h.emu.dump();
  const auto good_tenant = json::parse(R"({"domain":"other.local","clients":[{"client_id":"c","client_secret":"s"}],
                                           "users":[{"user_id":"auth0|only"}]})");
  struct bad_case {
    json::value rate_limits;
    std::string says;
  };
  for (auto& [limits, says] : std::vector<bad_case>{
           {json::parse(R"([{"name":"x","burst":0,"per_second":1}])"), "rate_limits[0]: bucket needs burst >= 1"},
           {json::parse(R"([{"burst":5,"per_second":1}])"), "rate_limits[0]: bucket name is required"},
           {json::parse(R"([{"name":"a","burst":5,"per_second":1},{"name":"a","burst":5,"per_second":1}])"),
            "rate_limits[1]: duplicate bucket name"},
           {json::parse(R"([{"name":"a","burst":5,"per_second":1,"methods":"GET"}])"), "methods must be an array"},
           {json::parse(R"([{"name":"default","burst":5,"per_second":1}])"), "reserved"},
           {json::parse(R"({"name":"a"})"), "\"rate_limits\" must be an array"},
           {json::parse(R"([1])"), "rate_limits[0] must be an object"}}) {
    auto seed = good_tenant;
    seed.as_object()["rate_limits"] = limits;
    auto r = post_seed(h, seed);
    INFO(json::serialize(limits) << " -> " << r.body);
    CHECK(r.status == 400);
    CHECK(std::string(obj(r).at("message").as_string()).find(says) != std::string::npos);
    CHECK(h.emu.dump() == before);
  }
  // A bad tenant part: refused as well, and the runtime change survives it.
  auto r =
      post_seed(h, json::parse(R"({"domain":"x","connections":[{"id":"con_bad","name":"a","strategy":"auth0"}]})"));
  CHECK(r.status == 400);
  CHECK(h.emu.dump() == before);
  // reset goes back to the last seed that loaded (the test seed), not to a refused one.
  h.emu.reset();
  const auto after_reset = h.emu.dump();
  CHECK(after_reset.at("domain").as_string() == "test-tenant.auth0.local");
  CHECK(after_reset.at("users").as_array().size() == 8);
  CHECK(bucket_names(after_reset) == std::vector<std::string>{"management", "token", "default"});
  CHECK(h.get("/api/v2/users/auth0%7Csecondary1").status == 200);
  // And a good seed with rate_limits still loads both parts.
  auto seed = good_tenant;
  seed.as_object()["rate_limits"] = json::parse(R"([{"name":"only","burst":7,"per_second":1}])");
  REQUIRE(post_seed(h, seed).status == 200);
  CHECK(bucket_names(h.emu.dump()) == std::vector<std::string>{"only", "default"});
  CHECK(user_ids(h.emu.dump()) == std::vector<std::string>{"auth0|only"});
}

TEST_CASE("--seed: an invalid seed file stops the emulator with a message naming the file, exit != 0") {
  char tmpl[] = "/tmp/emu-seeds-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  struct bad_file {
    std::string name, content, says;
  };
  for (auto& [name, content, says] :
       std::vector<bad_file>{{"syntax.json", R"({"domain": )", "not valid JSON"},
                             {"array.json", "[1]", "seed must be a JSON object"},
                             {"nodomain.json", R"({"users":[]})", "\"domain\" (string) is required"},
                             {"limits.json", R"({"domain":"d","rate_limits":[{"name":"x","burst":1,"per_second":-1}]})",
                              "rate_limits[0]: bucket needs burst >= 1 and per_second >= 0"}}) {
    const auto file = dir + "/" + name;
    std::ofstream(file) << content;
    const auto r = run_with_seed(file);
    INFO(name << ": exit " << r.exit_code << ": " << r.output);
    CHECK(r.exit_code != 0);
    CHECK(r.output.find("--seed " + file + ": ") != std::string::npos);
    CHECK(r.output.find(says) != std::string::npos);
    CHECK(r.output.find("\"port\"") == std::string::npos);  // never got ready
  }
  const auto missing = run_with_seed(dir + "/absent.json");
  CHECK(missing.exit_code != 0);
  CHECK(missing.output.find("absent.json") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("every example seed in manifests/emulator loads and serves its users and connections") {
  std::vector<fs::path> seeds;
  for (auto& e : fs::directory_iterator(A0_EMULATOR_MANIFEST_DIR))
    if (e.path().string().ends_with(".seed.json")) seeds.push_back(e.path());
  std::sort(seeds.begin(), seeds.end());
  CHECK(seeds.size() >= 2);  // the demo tenant and at least one more example
  for (auto& path : seeds) {
    INFO(path.string());
    const auto seed = read_json(path.string()).as_object();
    a0::test::emulator emu(path.string());
    auto http = emu.client();
    const auto& first = seed.at("clients").at(0).as_object();
    const auto tok =
        emu.token(std::string(first.at("client_id").as_string()), std::string(first.at("client_secret").as_string()));
    const std::vector<std::pair<std::string, std::string>> auth{{"Authorization", "Bearer " + tok}};

    // Every user by its (percent-encoded) id, with the identities it was seeded with.
    for (auto& u : seed.at("users").as_array()) {
      const std::string id(u.at("user_id").as_string());
      auto r = http.request("GET", "/api/v2/users/" + pct(id), {}, auth);
      INFO(id << ": " << r.body);
      REQUIRE(r.status == 200);
      CHECK(r.json().at("user_id").as_string() == id);
      CHECK_FALSE(r.header("x-ratelimit-limit").empty());
      if (u.as_object().contains("identities"))
        CHECK(r.json().at("identities").as_array().size() == u.at("identities").as_array().size());
    }
    // Every connection, two per page, in id order, with the totals.
    std::vector<std::string> want;
    for (auto& c : seed.at("connections").as_array()) want.emplace_back(c.at("id").as_string());
    std::sort(want.begin(), want.end());
    std::vector<std::string> got;
    for (int page = 0; page < 100; ++page) {
      auto r = http.request("GET", "/api/v2/connections?per_page=2&include_totals=true&page=" + std::to_string(page),
                            {}, auth);
      REQUIRE(r.status == 200);
      auto o = r.json().as_object();
      CHECK(o.at("total").to_number<std::size_t>() == want.size());
      if (o.at("connections").as_array().empty()) break;
      for (auto& c : o.at("connections").as_array()) got.emplace_back(c.at("id").as_string());
    }
    CHECK(got == want);
    // The whole state: users and buckets as declared.
    auto state = emu.dump();
    CHECK(state.at("users").as_array().size() == seed.at("users").as_array().size());
    if (seed.contains("rate_limits")) {
      auto names = bucket_names(state);
      for (auto& b : seed.at("rate_limits").as_array())
        CHECK(std::find(names.begin(), names.end(), std::string(b.at("name").as_string())) != names.end());
    }
  }
}
