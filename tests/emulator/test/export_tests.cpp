// Users export jobs: states, the gzipped NDJSON at a pre-signed URL on another host, and
// the refusals a client must handle (unknown job, failed job, Authorization sent to the
// storage host, expired or tampered URL, bad bodies).
#include "helpers.hpp"

#include <zlib.h>

#include <chrono>
#include <thread>

using namespace emutest;

namespace {

std::string gunzip(const std::string& gz) {
  z_stream z{};
  REQUIRE(inflateInit2(&z, 15 + 16) == Z_OK);
  std::string out;
  char buf[16384];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
  }
  inflateEnd(&z);
  REQUIRE(rc == Z_STREAM_END);
  return out;
}

// Polls until the job leaves pending/processing; returns the last answer and the states seen.
json::object wait_for(harness& h, const std::string& id, std::vector<std::string>& seen) {
  for (int i = 0; i < 200; ++i) {
    auto r = h.get("/api/v2/jobs/" + id);
    REQUIRE(r.status == 200);
    auto o = obj(r);
    const std::string status(o.at("status").as_string());
    if (seen.empty() || seen.back() != status) seen.push_back(status);
    if (status == "processing") {
      CHECK(o.at("percentage_done").to_number<int>() >= 0);
      CHECK(o.at("percentage_done").to_number<int>() < 100);
      CHECK(o.contains("time_left_seconds"));
    }
    if (status != "pending" && status != "processing") return o;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  FAIL("the job never ended");
  return {};
}

struct url {
  std::uint16_t port;
  std::string target;
};

url split(const std::string& location) {
  const std::string prefix = "https://127.0.0.1:";
  REQUIRE(location.rfind(prefix, 0) == 0);
  const auto slash = location.find('/', prefix.size());
  return {static_cast<std::uint16_t>(std::stoi(location.substr(prefix.size(), slash - prefix.size()))),
          location.substr(slash)};
}

void control(harness& h, const json::object& cfg) {
  auto r = h.http.request("PUT", "/__emulator/exports", json::serialize(cfg));
  REQUIRE_MESSAGE(r.status == 200, r.body);
}

}  // namespace

TEST_CASE("exports: a job goes pending, processing, completed, and the file is the users as NDJSON, gzipped") {
  harness h;
  control(h, {{"duration_ms", 400}});
  auto created = h.call("POST", "/api/v2/jobs/users-exports",
                        R"({"format":"json","fields":[{"name":"user_id"},{"name":"email"},)"
                        R"({"name":"identities[0].connection","export_as":"connection"},{"name":"email_verified"}]})");
  REQUIRE_MESSAGE(created.status == 201, created.body);
  auto job = obj(created);
  CHECK(job.at("type") == "users_export");
  CHECK(job.at("status") == "pending");
  CHECK(job.at("format") == "json");
  const std::string id(job.at("id").as_string());
  CHECK(id.rfind("job_", 0) == 0);

  std::vector<std::string> seen;
  auto done = wait_for(h, id, seen);
  CHECK(seen == std::vector<std::string>{"pending", "processing", "completed"});
  const auto loc = split(std::string(done.at("location").as_string()));
  CHECK(loc.port != h.emu.port());  // another host than the tenant

  a0::test::https_client storage("127.0.0.1", loc.port, h.emu.ca_file());
  auto file = storage.request("GET", loc.target);
  REQUIRE(file.status == 200);
  const auto text = gunzip(file.body);
  std::size_t lines = 0;
  bool saw_enterprise = false;
  for (std::size_t at = 0; at < text.size();) {
    const auto nl = text.find('\n', at);
    REQUIRE(nl != std::string::npos);
    auto u = json::parse(text.substr(at, nl - at)).as_object();
    CHECK(u.contains("user_id"));
    CHECK_FALSE(u.contains("user_metadata"));  // only the fields asked for
    CHECK_FALSE(u.contains("identities"));
    if (u.at("user_id") == "samlp|NeoLink|40813347") {
      saw_enterprise = true;
      CHECK(u.at("connection") == "NeoLink");  // identities[0].connection, exported as connection
    }
    ++lines;
    at = nl + 1;
  }
  CHECK(lines == h.emu.dump().at("users").as_array().size());
  CHECK(saw_enterprise);

  // The same URL with the Management token as well: refused, as storage services do.
  auto twice = storage.request("GET", loc.target, {}, {{"Authorization", "Bearer " + h.bearer()}});
  CHECK(twice.status == 400);
  CHECK(twice.body.find("Only one auth mechanism allowed") != std::string::npos);
  // A tampered signature.
  auto tampered = storage.request("GET", loc.target.substr(0, loc.target.size() - 2) + "xx");
  CHECK(tampered.status == 403);
}

TEST_CASE("exports: connection_id and limit restrict the file, and a URL expires") {
  harness h;
  control(h, {{"duration_ms", 0}, {"url_ttl_s", -1}});
  auto created = h.call("POST", "/api/v2/jobs/users-exports",
                        R"({"format":"json","connection_id":"con_AAAAAAAAAAAAAAA5","limit":5})");
  REQUIRE_MESSAGE(created.status == 201, created.body);
  CHECK(obj(created).at("connection") == "NeoLink");
  std::vector<std::string> seen;
  auto done = wait_for(h, std::string(obj(created).at("id").as_string()), seen);
  REQUIRE(done.at("status") == "completed");
  const auto loc = split(std::string(done.at("location").as_string()));
  a0::test::https_client storage("127.0.0.1", loc.port, h.emu.ca_file());
  auto expired = storage.request("GET", loc.target);
  CHECK(expired.status == 403);
  CHECK(expired.body.find("Request has expired") != std::string::npos);

  control(h, {{"url_ttl_s", 600}});
  created = h.call("POST", "/api/v2/jobs/users-exports", R"({"format":"json","connection_id":"con_AAAAAAAAAAAAAAA5"})");
  done = wait_for(h, std::string(obj(created).at("id").as_string()), seen);
  const auto loc2 = split(std::string(done.at("location").as_string()));
  const auto text = gunzip(storage.request("GET", loc2.target).body);
  CHECK(std::count(text.begin(), text.end(), '\n') == 1);  // the one NeoLink user
  CHECK(text.find("samlp|NeoLink|40813347") != std::string::npos);
}

TEST_CASE("exports: unknown and failed jobs, and bad bodies") {
  harness h;
  check_error(h.get("/api/v2/jobs/job_doesnotexist12345"), 404, "The job does not exist.", "inexistent_job");
  control(h, {{"duration_ms", 0}, {"fail_next", true}});
  auto created = h.call("POST", "/api/v2/jobs/users-exports", R"({"format":"json"})");
  std::vector<std::string> seen;
  CHECK(wait_for(h, std::string(obj(created).at("id").as_string()), seen).at("status") == "failed");
  // fail_next is spent: the next job completes.
  created = h.call("POST", "/api/v2/jobs/users-exports", R"({"format":"json"})");
  CHECK(wait_for(h, std::string(obj(created).at("id").as_string()), seen).at("status") == "completed");

  CHECK(h.call("POST", "/api/v2/jobs/users-exports", R"({"format":"xml"})").status == 400);
  CHECK(h.call("POST", "/api/v2/jobs/users-exports", R"({"connection_id":"con_XXXXXXXXXXXXXXXX"})").status == 400);
  CHECK(h.call("POST", "/api/v2/jobs/users-exports", R"({"fields":[{"export_as":"x"}]})").status == 400);
  CHECK(h.call("POST", "/api/v2/jobs/users-exports", "not json").status == 400);
}

TEST_CASE("users-by-email: an exact, case-sensitive match, with fields") {
  harness h;
  auto r = h.get("/api/v2/users-by-email?email=one%40example.com");
  REQUIRE(r.status == 200);
  auto found = r.json().as_array();
  REQUIRE(found.size() == 2);  // the test seed's primary1 and secondary1 share it
  for (const auto& u : found) {
    CHECK(u.at("email") == "one@example.com");
    CHECK(u.as_object().contains("user_metadata"));
  }
  CHECK((found[0].at("user_id") == "auth0|primary1" || found[1].at("user_id") == "auth0|primary1"));
  // Auth0 matches the email case-sensitively: another case finds nobody.
  r = h.get("/api/v2/users-by-email?email=ONE%40example.com");
  REQUIRE(r.status == 200);
  CHECK(r.json().as_array().empty());
  r = h.get("/api/v2/users-by-email?email=one%40example.com&fields=user_id,email&include_fields=true");
  REQUIRE(r.status == 200);
  CHECK(r.json().as_array()[0].as_object().size() == 2);
  CHECK(h.get("/api/v2/users-by-email").status == 400);
  CHECK(h.get("/api/v2/users-by-email?email=one%40example.com&fields=no_such_field").status == 400);
}
