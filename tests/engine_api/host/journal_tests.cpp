// The run journal: row keys, resume, refusal of another flow's or a corrupt journal, the
// torn last line, retry of failed rows.
#include <wfa/host/journal.hpp>

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace json = boost::json;
namespace fs = std::filesystem;
using wfa::host::journal;
using wfa::host::journal_error;
using wfa::host::row_key;

namespace {

struct temp_file {
  fs::path path;
  temp_file() {
    static int n = 0;
    path = fs::temp_directory_path() / ("wfa_journal_" + std::to_string(::getpid()) + "_" + std::to_string(++n));
    fs::remove(path);
  }
  ~temp_file() { fs::remove(path); }
  std::string read() const {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  void write(const std::string& text) const {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
  }
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream s(text);
  for (std::string l; std::getline(s, l);) out.push_back(l);
  return out;
}

std::string error_of(const temp_file& f, const std::string& digest, journal::options o = {}) {
  try {
    journal j(f.path.string(), digest, o);
  } catch (const journal_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("row_key: the same inputs in another key order or spacing give the same key") {
  auto a =
      json::parse(R"({"primary_user_id":"auth0|1","secondary_user_id":"x|y|z","opts":{"b":1,"a":[1,{"d":2,"c":3}]}})");
  auto b = json::parse(
      R"({ "opts" : {"a":[1,{"c":3,"d":2}],"b":1}, "secondary_user_id":"x|y|z","primary_user_id":"auth0|1"})");
  CHECK(row_key(a.as_object()) == row_key(b.as_object()));
  CHECK(row_key(a.as_object()).size() == 32);
  // Any change of a value, a key or the array order changes it.
  auto c =
      json::parse(R"({"primary_user_id":"auth0|1","secondary_user_id":"x|y|Z","opts":{"b":1,"a":[1,{"d":2,"c":3}]}})");
  auto d =
      json::parse(R"({"primary_user_id":"auth0|1","secondary_user_id":"x|y|z","opts":{"b":1,"a":[{"d":2,"c":3},1]}})");
  CHECK(row_key(a.as_object()) != row_key(c.as_object()));
  CHECK(row_key(a.as_object()) != row_key(d.as_object()));
  // Structure is part of the key: {"a":"b,c"} is not {"a":"b","c":...}.
  CHECK(row_key(json::parse(R"({"a":"1","b":"2"})").as_object()) !=
        row_key(json::parse(R"({"a":"1,\"b\":\"2"})").as_object()));
  CHECK(row_key(json::object{}) == row_key(json::parse("{}").as_object()));
  // Known answer: FNV-1a 128 of the canonical text {"a":1} (computed independently), so
  // that another implementation (a queue's job ids) can match it.
  CHECK(row_key(json::parse(R"({ "a" : 1 })").as_object()) == "a930e708924ff78dd36054201cd38dc9");
}

TEST_CASE("journal: a new file gets a header, finished rows are skipped when it is reopened") {
  temp_file f;
  std::string k1 = row_key(json::parse(R"({"a":1})").as_object());
  std::string k2 = row_key(json::parse(R"({"a":2})").as_object());
  std::string k3 = row_key(json::parse(R"({"a":3})").as_object());
  {
    journal j(f.path.string(), "flowdigest");
    CHECK_FALSE(j.finished(k1));
    j.record(k1, true, R"({"row":0,"status":"ok"})");
    j.record(k2, false, R"({"row":1,"status":"failed"})");
    // Rows this run finished are not held in memory: the runner does not ask about them.
    CHECK_FALSE(j.finished(k1));
  }
  auto lines = lines_of(f.read());
  REQUIRE(lines.size() == 3);
  CHECK(json::parse(lines[0]) == json::parse(R"({"wfa_journal":1,"flow":"flowdigest"})"));
  CHECK(json::parse(lines[1]).at("result").at("row") == 0);
  CHECK(json::parse(lines[2]).at("ok") == false);

  journal again(f.path.string(), "flowdigest");
  CHECK(again.finished(k1));
  CHECK(again.finished(k2));  // failed is final unless retry_failed
  CHECK_FALSE(again.finished(k3));
  CHECK(again.read_back().ok == 1);
  CHECK(again.read_back().failed == 1);
  CHECK_FALSE(again.read_back().torn_tail_cut);
}

TEST_CASE("journal: retry_failed leaves failed rows to run again") {
  temp_file f;
  std::string ok = row_key(json::parse(R"({"a":1})").as_object());
  std::string bad = row_key(json::parse(R"({"a":2})").as_object());
  {
    journal j(f.path.string(), "d");
    j.record(ok, true, "{}");
    j.record(bad, false, "{}");
  }
  journal j(f.path.string(), "d", {.retry_failed = true});
  CHECK(j.finished(ok));
  CHECK_FALSE(j.finished(bad));
  // The retried row's new result is appended; the next open sees it as ok.
  j.record(bad, true, "{}");
  j.sync();
  journal k(f.path.string(), "d", {.retry_failed = true});
  CHECK(k.finished(bad));
  CHECK(k.lookup(bad) == journal::status::ok);
  CHECK(k.read_back().ok == 2);  // distinct rows: the retried one counts once, as ok
  CHECK(k.read_back().failed == 0);
  CHECK(k.lookup(row_key(json::object{{"a", 3}})) == journal::status::none);
}

TEST_CASE("journal: another flow's journal is refused, naming both digests") {
  temp_file f;
  { journal j(f.path.string(), "digest-one"); }
  std::string e = error_of(f, "digest-two");
  CHECK(e.find("another flow") != std::string::npos);
  CHECK(e.find("digest-one") != std::string::npos);
  CHECK(e.find("digest-two") != std::string::npos);
  CHECK(e.find(f.path.string() + ":1") != std::string::npos);
  // Nothing was appended to the refused file.
  CHECK(lines_of(f.read()).size() == 1);
}

TEST_CASE("journal: a file that is not a journal is refused and left as it was") {
  temp_file f;
  f.write("{\"row\":0,\"status\":\"ok\"}\n");
  CHECK(error_of(f, "d").find("not a flowrun journal") != std::string::npos);
  CHECK(f.read() == "{\"row\":0,\"status\":\"ok\"}\n");
  f.write("{\"wfa_journal\":2,\"flow\":\"d\"}\n");
  CHECK(error_of(f, "d").find("is not 1") != std::string::npos);
}

TEST_CASE("journal: an unreadable line before the last is refused, naming its line") {
  temp_file f;
  std::string k = row_key(json::object{{"a", 1}});
  f.write("{\"wfa_journal\":1,\"flow\":\"d\"}\n{\"key\":\"" + k +
          "\",\"ok\":true,\"result\":{}}\nnot json\n{\"key\":\"" + k + "\",\"ok\":true,\"result\":{}}\n");
  std::string e = error_of(f, "d");
  CHECK(e.find(":3: unreadable journal line") != std::string::npos);
  // A key that is not 32 hex digits, or a missing "ok", is unreadable too.
  f.write("{\"wfa_journal\":1,\"flow\":\"d\"}\n{\"key\":\"XYZ\",\"ok\":true}\n");
  CHECK(error_of(f, "d").find(":2: unreadable") != std::string::npos);
  f.write("{\"wfa_journal\":1,\"flow\":\"d\"}\n{\"key\":\"" + k + "\"}\n");
  CHECK(error_of(f, "d").find(":2: unreadable") != std::string::npos);
}

TEST_CASE("journal: a torn last line is cut, its row runs again, and later lines start clean") {
  temp_file f;
  std::string k1 = row_key(json::object{{"a", 1}});
  std::string k2 = row_key(json::object{{"a", 2}});
  std::string whole = "{\"wfa_journal\":1,\"flow\":\"d\"}\n{\"key\":\"" + k1 + "\",\"ok\":true,\"result\":{}}\n";
  f.write(whole + "{\"key\":\"" + k2 + "\",\"ok\":tr");
  {
    journal j(f.path.string(), "d");
    CHECK(j.read_back().torn_tail_cut);
    CHECK(j.finished(k1));
    CHECK_FALSE(j.finished(k2));
    j.record(k2, true, "{}");
  }
  CHECK(f.read() == whole + "{\"key\":\"" + k2 + "\",\"ok\":true,\"result\":{}}\n");
  journal j(f.path.string(), "d");
  CHECK(j.finished(k2));
}

TEST_CASE("journal: records from many threads each land whole on their own line") {
  temp_file f;
  std::vector<std::string> keys;
  for (int i = 0; i < 400; ++i) keys.push_back(row_key(json::object{{"i", i}}));
  {
    journal j(f.path.string(), "d", {.sync_interval = std::chrono::milliseconds(0)});
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&, t] {
        for (int i = t; i < 400; i += 4)
          j.record(keys[static_cast<std::size_t>(i)], i % 2 == 0,
                   json::serialize(json::object{{"row", i}, {"pad", std::string(static_cast<std::size_t>(i), 'x')}}));
      });
    for (auto& th : threads) th.join();
  }
  journal j(f.path.string(), "d", {.retry_failed = true});
  CHECK(j.read_back().ok == 200);
  CHECK(j.read_back().failed == 200);
  for (int i = 0; i < 400; ++i) CHECK(j.finished(keys[static_cast<std::size_t>(i)]) == (i % 2 == 0));
}

TEST_CASE("journal: a folder that does not exist is a clear error") {
  std::string e;
  try {
    journal j("/nonexistent-dir-wfa/j.jsonl", "d");
  } catch (const journal_error& x) {
    e = x.what();
  }
  CHECK(e.find("/nonexistent-dir-wfa/j.jsonl: cannot open") != std::string::npos);
}
