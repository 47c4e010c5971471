// Issue 13 (Discover): auth0.export-users and auth0.users-by-email through the C ABI
// against the auth0-emulator: the export job, its storage host (which refuses an
// Authorization header), failed/404 jobs, expired links, corrupt files, cancellation.
#include "actions/discover.hpp"
#include "actions/gzip_lines.hpp"
#include "demo_tenant.hpp"
#include "emulator_fixture.hpp"
#include "plugin_host.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <doctest/doctest.h>

#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace a0::test;
using namespace a0::test::demo;
namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr const char* k_export = "auth0.export-users";
constexpr const char* k_by_email = "auth0.users-by-email";
constexpr const char* k_fast = R"({"poll_interval_ms":20,"max_poll_interval_ms":100})";

// A fresh folder per test, removed at the end.
struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string t = (fs::temp_directory_path() / "a0-export-XXXXXX").string();
    REQUIRE(::mkdtemp(t.data()));
    path = t;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path, ec);
  }
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(path)) out.push_back(e.path().filename().string());
    return out;
  }
};

// PUT /__emulator/exports (the job knobs, tests/emulator/README.md).
void exports(emulator& e, const json::object& cfg) {
  auto r =
      e.client().request("PUT", "/__emulator/exports", json::serialize(cfg), {{"content-type", "application/json"}});
  REQUIRE_MESSAGE(r.status == 200, r.body);
}

std::string inputs_for(const fs::path& file) { return json::serialize(json::object{{"output_file", file.string()}}); }

// The lines of a gzip file (zlib's gz reader: CRC and length checked).
std::vector<std::string> gz_lines(const fs::path& file) {
  gzFile f = gzopen(file.c_str(), "rb");
  REQUIRE(f);
  std::string all;
  char buf[65536];
  for (int n; (n = gzread(f, buf, sizeof buf)) > 0;) all.append(buf, static_cast<std::size_t>(n));
  int err = 0;
  gzerror(f, &err);
  CHECK(err == Z_OK);
  gzclose(f);
  std::vector<std::string> lines;
  for (std::size_t at = 0; at < all.size();) {
    const auto nl = all.find('\n', at);
    lines.push_back(all.substr(at, nl - at));
    at = nl == std::string::npos ? all.size() : nl + 1;
  }
  return lines;
}

// One plugin instance on `emu` exporting into a fresh folder.
struct export_env {
  explicit export_env(emulator& e) : inst(host, config(e)) {}
  captured run() { return inst.run(k_export, k_fast, inputs_for(dir.path / "users.ndjson.gz")); }
  temp_dir dir;
  plugin_host host;
  plugin_instance inst;
};

std::size_t job_gets(emulator& e) {
  std::size_t n = 0;
  for (const auto& r : e.request_log())
    if (r.at("method") == "GET" && r.at("path").as_string().starts_with("/api/v2/jobs/")) ++n;
  return n;
}

}  // namespace

TEST_CASE("export-users: every user in a gzipped NDJSON file, counted, with the fields planning needs") {
  emulator emu(emulator::default_seed(), {"--generate-users", "60"});
  exports(emu, {{"duration_ms", 300}});
  temp_dir dir;
  plugin_host host;
  plugin_instance inst(host, config(emu));
  const auto file = dir.path / "users.ndjson.gz";
  auto r = inst.run(k_export, k_fast, inputs_for(file));
  REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
  const auto out = r.json();
  const auto users = emu.dump().at("users").as_array();
  CHECK(out.at("file").as_string() == file.string());
  CHECK(out.at("count").to_number<std::size_t>() == users.size());
  CHECK(out.at("job_id").as_string().starts_with("job_"));
  CHECK(out.at("bytes").to_number<std::uintmax_t>() == fs::file_size(file));
  CHECK(dir.files() == std::vector<std::string>{"users.ndjson.gz"});  // no part file left
  CHECK((fs::status(file).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));

  const auto lines = gz_lines(file);
  REQUIRE(lines.size() == users.size());
  std::set<std::string> exported, stored;
  for (const auto& l : lines) {
    const auto u = json::parse(l).as_object();
    exported.insert(std::string(u.at("user_id").as_string()));
    for (const auto& kv : u)
      CHECK(std::set<std::string>{"user_id", "email", "email_verified", "created_at", "logins_count", "identities",
                                  "blocked"}
                .count(std::string(kv.key())) == 1);
    CHECK(u.contains("email"));
    CHECK(u.contains("created_at"));
    CHECK(u.at("identities").is_array());
  }
  for (const auto& u : users) stored.insert(std::string(u.at("user_id").as_string()));
  CHECK(exported == stored);

  // Progress through the host log; the pre-signed URL's query (its credential) never.
  const auto logs = host.all_logs();
  CHECK(logs.find("processing") != std::string::npos);
  CHECK(logs.find("% done") != std::string::npos);
  CHECK(logs.find("signature") == std::string::npos);
  CHECK(r.outputs.find("signature") == std::string::npos);
  CHECK(job_gets(emu) >= 2);  // polled while pending/processing
}

TEST_CASE("export-users: the storage host refuses an Authorization header, so the happy export proves none was sent") {
  // The export above succeeds only if the plugin sent no Authorization header to the
  // storage host: here the same location with one is refused, as the plugin would be.
  emulator emu;
  exports(emu, {{"duration_ms", 0}});
  const auto tok = emu.token();
  auto api = emu.client();
  auto job = api.request("POST", "/api/v2/jobs/users-exports", R"({"format":"json"})",
                         {{"authorization", "Bearer " + tok}, {"content-type", "application/json"}});
  REQUIRE(job.status == 201);
  const auto id = std::string(job.json().at("id").as_string());
  std::this_thread::sleep_for(20ms);  // the job's duration (0) rounds up to 1 ms
  auto done = api.request("GET", "/api/v2/jobs/" + id, {}, {{"authorization", "Bearer " + tok}});
  REQUIRE(done.json().at("status") == "completed");
  const std::string location(done.json().at("location").as_string());
  const auto after_host = location.find('/', std::string("https://").size());
  const auto port = std::stoi(location.substr(location.rfind(':', after_host) + 1));
  https_client storage("127.0.0.1", static_cast<std::uint16_t>(port), emu.ca_file());
  const auto target = location.substr(after_host);
  auto with = storage.request("GET", target, {}, {{"authorization", "Bearer " + tok}});
  CHECK(with.status == 400);
  CHECK(with.body.find("InvalidArgument") != std::string::npos);
  auto without = storage.request("GET", target);
  CHECK(without.status == 200);
}

TEST_CASE("export-users: a failed job is a clear, retryable error and leaves no file") {
  emulator emu;
  exports(emu, {{"duration_ms", 50}, {"fail_next", true}});
  export_env env(emu);
  auto r = env.run();
  CHECK(r.code == WFA_UNAVAILABLE);
  CHECK(r.retryable);
  CHECK(r.message.find("failed") != std::string::npos);
  CHECK(r.message.find("job_") != std::string::npos);
  CHECK(env.dir.files().empty());
}

TEST_CASE("export-users: a job that answers 404 is not_found, retryable, naming the job") {
  emulator emu;
  exports(emu, {{"duration_ms", 50}});
  emu.add_fault({{"method", "GET"},
                 {"path", "/api/v2/jobs/*"},
                 {"action", "status"},
                 {"status", 404},
                 {"message", "The job does not exist."},
                 {"error_code", "inexistent_job"}});
  export_env env(emu);
  auto r = env.run();
  CHECK(r.code == WFA_NOT_FOUND);
  CHECK(r.http_status == 404);
  CHECK(r.retryable);
  CHECK(r.message.find("does not exist") != std::string::npos);
  CHECK(r.message.find("job_") != std::string::npos);
  CHECK(env.dir.files().empty());
}

TEST_CASE("export-users: an expired download link (403) is retryable, never echoes the URL's credential") {
  emulator emu;
  exports(emu, {{"duration_ms", 0}, {"url_ttl_s", -5}});
  export_env env(emu);
  auto r = env.run();
  CHECK(r.code == WFA_FORBIDDEN);
  CHECK(r.http_status == 403);
  CHECK(r.retryable);
  CHECK(r.message.find("Request has expired") != std::string::npos);
  CHECK(r.message.find("signature") == std::string::npos);
  CHECK(env.host.all_logs().find("signature") == std::string::npos);
  CHECK(env.dir.files().empty());
}

TEST_CASE("export-users: a location that is not https is refused without a request, its query not echoed") {
  emulator emu;
  emu.add_fault(
      {{"method", "GET"},
       {"path", "/api/v2/jobs/*"},
       {"action", "status"},
       {"status", 200},
       {"body",
        {{"id", "job_x"}, {"status", "completed"}, {"location", "http://127.0.0.1:9/f.json.gz?sig=SECRET-SIG"}}}});
  export_env env(emu);
  auto r = env.run();
  CHECK(r.code == WFA_INTERNAL);
  CHECK_FALSE(r.retryable);
  CAPTURE(r.message);
  CHECK(r.message.find("only https") != std::string::npos);
  CHECK(r.message.find("SECRET-SIG") == std::string::npos);
  CHECK(env.dir.files().empty());
}

TEST_CASE("export-users: a truncated or corrupt gzip fails clearly and keeps the previous file") {
  for (const char* how : {"truncate", "garbage"}) {
    CAPTURE(how);
    emulator emu(emulator::default_seed(), {"--generate-users", "200"});
    exports(emu, {{"duration_ms", 0}, {"corrupt_next", how}});
    temp_dir dir;
    const auto file = dir.path / "users.ndjson.gz";
    std::ofstream(file) << "the previous export";
    plugin_host host;
    plugin_instance inst(host, config(emu));
    auto r = inst.run(k_export, k_fast, inputs_for(file));
    CHECK(r.code == WFA_INTERNAL);
    CHECK_FALSE(r.retryable);
    CHECK(r.message.find(std::string(how) == "truncate" ? "truncated" : "not valid gzip") != std::string::npos);
    CHECK(dir.files() == std::vector<std::string>{"users.ndjson.gz"});
    std::ifstream in(file);
    std::string kept((std::istreambuf_iterator<char>(in)), {});
    CHECK(kept == "the previous export");
  }
}

TEST_CASE("export-users: cancel while polling or mid-download stops at once and leaves no file") {
  for (bool mid_download : {false, true}) {
    CAPTURE(mid_download);
    emulator emu(emulator::default_seed(), {"--generate-users", "3000"});
    if (mid_download)
      exports(emu, {{"duration_ms", 0}, {"download_stall_ms", 20000}});
    else
      exports(emu, {{"duration_ms", 60000}});
    temp_dir dir;
    plugin_host host;
    plugin_instance inst(host, config(emu));
    auto p = inst.start(k_export, k_fast, inputs_for(dir.path / "users.ndjson.gz"));
    const std::string waiting_for = mid_download ? "downloading" : "next poll";
    for (int i = 0; i < 500 && host.all_logs().find(waiting_for) == std::string::npos; ++i)
      std::this_thread::sleep_for(10ms);
    REQUIRE(host.all_logs().find(waiting_for) != std::string::npos);
    std::this_thread::sleep_for(200ms);
    if (mid_download) CHECK(dir.files().size() == 1);  // the part file, being written
    const auto t0 = std::chrono::steady_clock::now();
    inst.cancel(p.op);
    auto r = p.wait(5s);
    CHECK(std::chrono::steady_clock::now() - t0 < 2s);
    CHECK(r.code == WFA_CANCELLED);
    CHECK(dir.files().empty());
  }
}

TEST_CASE("export-users: bad input is refused before any request") {
  emulator emu;
  temp_dir dir;
  plugin_host host;
  plugin_instance inst(host, config(emu));
  const auto ok_file = (dir.path / "u.gz").string();
  fs::create_directory(dir.path / "ro");
  fs::permissions(dir.path / "ro", fs::perms::owner_read | fs::perms::owner_exec);
  std::vector<std::pair<json::object, std::string>> cases = {
      {{}, "output_file"},
      {{{"output_file", ""}}, "output_file"},
      {{{"output_file", (dir.path / "missing" / "u.gz").string()}}, "does not exist"},
      {{{"output_file", dir.path.string()}}, "folder"},
      {{{"output_file", ok_file}, {"connection_id", "con_short"}}, "connection_id"},
      {{{"output_file", ok_file}, {"limit", 3}}, "inputs.limit"},
  };
  if (::geteuid() != 0)  // root may write anywhere
    cases.push_back({{{"output_file", (dir.path / "ro" / "u.gz").string()}}, "not writable"});
  for (const auto& [inputs, what] : cases) {
    CAPTURE(json::serialize(inputs));
    auto r = inst.run(k_export, json::object{}, inputs);
    CHECK(r.code == WFA_INVALID_INPUT);
    CHECK(r.message.find(what) != std::string::npos);
  }
  auto r = inst.run(k_export, json::object{{"poll_interval_ms", 5}}, json::object{{"output_file", ok_file}});
  CHECK(r.code == WFA_INVALID_INPUT);
  CHECK(emu.request_log().empty());
}

TEST_CASE("export-users: the poll wait grows, is capped, and follows time_left_seconds") {
  a0::actions::export_users_request r;
  r.poll_interval = 1000ms;
  r.max_poll_interval = 30000ms;
  using a0::actions::next_poll_wait;
  CHECK(next_poll_wait(1000ms, std::nullopt, r) == 1000ms);
  CHECK(next_poll_wait(60000ms, std::nullopt, r) == 30000ms);  // capped
  CHECK(next_poll_wait(10ms, std::nullopt, r) == 1000ms);      // never below the first interval
  CHECK(next_poll_wait(20000ms, 3, r) == 3000ms);              // done in 3 s: poll then
  CHECK(next_poll_wait(20000ms, 0, r) == 1000ms);
  CHECK(next_poll_wait(5000ms, 600, r) == 5000ms);  // far off: the grown interval
}

TEST_CASE("gzip line counter: members, a last line without newline, truncation and garbage") {
  auto gz = [](const std::string& text) {
    z_stream z{};
    REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string out(deflateBound(&z, text.size()) + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    z.avail_in = static_cast<uInt>(text.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
  };
  using a0::actions::gzip_error;
  using a0::actions::gzip_line_counter;
  const auto two = gz("{\"a\":1}\n{\"a\":2}\n") + gz("{\"a\":3}");  // two members
  {
    gzip_line_counter c;
    for (char ch : two) c.feed(std::string_view(&ch, 1));  // byte by byte
    CHECK(c.finish() == 3);
  }
  {
    gzip_line_counter c;
    std::string big;
    for (int i = 0; i < 100000; ++i) big += "{\"user_id\":\"auth0|" + std::to_string(i) + "\"}\n";
    c.feed(gz(big));
    CHECK(c.finish() == 100000);
  }
  {
    gzip_line_counter c;
    c.feed(two.substr(0, two.size() - 3));
    CHECK_THROWS_AS(c.finish(), gzip_error);
  }
  {
    gzip_line_counter c;
    CHECK_THROWS_AS(c.feed("this is not gzip at all"), gzip_error);
  }
  {
    gzip_line_counter c;
    CHECK_THROWS_AS(c.finish(), gzip_error);  // empty
  }
}

TEST_CASE("users-by-email: the users of one address, IdP tokens dropped") {
  emulator emu;
  plugin_host host;
  plugin_instance inst(host, config(emu));
  auto r = inst.run(k_by_email, "{}", R"({"email":"jane.doe@example.com"})");
  REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
  const auto out = r.json();
  CHECK(out.at("count") == 2);
  std::set<std::string> ids;
  for (const auto& u : out.at("users").as_array()) ids.insert(std::string(u.at("user_id").as_string()));
  CHECK(ids == std::set<std::string>{k_primary, k_secondary});
  CHECK(r.outputs.find("demo-google-idp-access-token") == std::string::npos);
  auto some = inst.run(k_by_email, "{}", R"({"email":"jane.doe@example.com","fields":["user_id"]})");
  REQUIRE(some.code == WFA_OK);
  CHECK(some.json().at("users").as_array()[0].as_object().size() == 1);
}

TEST_CASE("users-by-email: Auth0 matches case-sensitively, a '+' stays a '+'") {
  emulator emu;
  plugin_host host;
  plugin_instance inst(host, config(emu));
  auto r = inst.run(k_by_email, "{}", R"({"email":"Jane.Doe@example.com"})");
  REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
  CHECK(r.json().at("count") == 0);
  CHECK(r.json().at("users").as_array().empty());
  CHECK(emu.request_log().size() >= 1);  // it was asked
  auto plus = inst.run(k_by_email, "{}", R"({"email":"jane.doe+x@example.com"})");
  REQUIRE(plus.code == WFA_OK);
  CHECK(plus.json().at("count") == 0);  // not "jane.doe x@..." nor the plain address
}

TEST_CASE("users-by-email: a bad email is refused before any request") {
  emulator emu;
  plugin_host host;
  plugin_instance inst(host, config(emu));
  for (auto inputs : {R"({})", R"({"email":""})", R"({"email":"no-at-sign"})", R"({"email":"a b@example.com"})",
                      R"({"email":"a@b@c"})", R"({"email":"a@example.com\r\nX: y"})", R"({"email":42})",
                      R"({"email":"a@example.com","fields":["bad field"]})"}) {
    CAPTURE(inputs);
    auto r = inst.run(k_by_email, "{}", inputs);
    CHECK(r.code == WFA_INVALID_INPUT);
  }
  CHECK(emu.request_log().empty());
}

// Real outputs of both actions for the manifest check (manifest_check.mjs runs
// "outputs samples*" with A0_SAMPLES_DIR and validates them against the outputs schemas).
TEST_CASE("outputs samples of the export and users-by-email actions") {
  emulator emu;
  exports(emu, {{"duration_ms", 0}});
  temp_dir dir;
  plugin_host host;
  plugin_instance inst(host, config(emu));
  const char* samples = std::getenv("A0_SAMPLES_DIR");
  int n = 0;
  auto keep = [&](const std::string& action, const captured& r) {
    REQUIRE_MESSAGE(r.code == WFA_OK, r.message);
    CHECK(r.json().size() > 0);
    if (samples)
      std::ofstream(std::string(samples) + "/" + action + "--x" + std::to_string(++n) + ".json") << r.outputs;
  };
  keep(k_export, inst.run(k_export, k_fast, inputs_for(dir.path / "users.ndjson.gz")));
  keep(k_by_email, inst.run(k_by_email, "{}", R"({"email":"jane.doe@example.com"})"));
  keep(k_by_email, inst.run(k_by_email, R"({"include_idp_tokens":true})", R"({"email":"jane.doe@example.com"})"));
}
