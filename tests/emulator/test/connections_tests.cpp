// GET /api/v2/connections: filters, offset and checkpoint paging, field selection.
#include "helpers.hpp"

using namespace emutest;

namespace {
std::vector<std::string> ids_of(const json::array& a) {
  std::vector<std::string> out;
  for (auto& c : a) out.emplace_back(c.at("id").as_string());
  return out;
}
}  // namespace

TEST_CASE("connections: plain array, strategy (repeated) and name filters") {
  harness h;
  auto r = h.get("/api/v2/connections");
  REQUIRE(r.status == 200);
  CHECK(r.json().as_array().size() == 5);
  r = h.get("/api/v2/connections?strategy=auth0");
  CHECK(ids_of(r.json().as_array()) == std::vector<std::string>{"con_AAAAAAAAAAAAAAA1", "con_AAAAAAAAAAAAAAA2"});
  r = h.get("/api/v2/connections?strategy=auth0&strategy=github");
  CHECK(r.json().as_array().size() == 3);
  r = h.get("/api/v2/connections?name=Other-Database");
  CHECK(ids_of(r.json().as_array()) == std::vector<std::string>{"con_AAAAAAAAAAAAAAA2"});
  r = h.get("/api/v2/connections?name=Nope");
  CHECK(r.json().as_array().empty());
}

TEST_CASE("connections: offset paging with and without include_totals") {
  harness h;
  auto r = h.get("/api/v2/connections?per_page=2&page=1");
  CHECK(ids_of(r.json().as_array()) == std::vector<std::string>{"con_AAAAAAAAAAAAAAA3", "con_AAAAAAAAAAAAAAA4"});
  auto o = obj(h.get("/api/v2/connections?per_page=2&page=2&include_totals=true"));
  CHECK(o.at("total").to_number<int>() == 5);
  CHECK(o.at("start").to_number<int>() == 4);
  CHECK(o.at("limit").to_number<int>() == 2);
  CHECK(ids_of(o.at("connections").as_array()) == std::vector<std::string>{"con_AAAAAAAAAAAAAAA5"});
  o = obj(h.get("/api/v2/connections?per_page=2&page=9&include_totals=true"));
  CHECK(o.at("connections").as_array().empty());
  CHECK(h.get("/api/v2/connections?per_page=0").status == 400);
  CHECK(h.get("/api/v2/connections?per_page=101").status == 400);
  CHECK(h.get("/api/v2/connections?page=-1").status == 400);
  CHECK(h.get("/api/v2/connections?include_totals=yes").status == 400);
}

TEST_CASE("connections: checkpoint paging with next, absent on the last page") {
  harness h;
  std::vector<std::string> all;
  std::string next;
  int pages = 0;
  do {
    auto o = obj(h.get("/api/v2/connections?take=2" + (next.empty() ? std::string{} : "&from=" + next)));
    for (auto& id : ids_of(o.at("connections").as_array())) all.push_back(id);
    next = o.contains("next") ? std::string(o.at("next").as_string()) : std::string{};
    ++pages;
  } while (!next.empty() && pages < 10);
  CHECK(pages == 3);
  CHECK(all.size() == 5);
  CHECK(h.get("/api/v2/connections?take=0").status == 400);
}

TEST_CASE("connections: fields/include_fields, recorded is_domain_connection quirk, unknown field") {
  harness h;
  auto a = h.get("/api/v2/connections?fields=id&include_fields=true").json().as_array();
  for (auto& c : a) {
    CHECK(c.as_object().size() == 2);
    CHECK(c.as_object().contains("is_domain_connection"));
  }
  a = h.get("/api/v2/connections?fields=options,realms&include_fields=false").json().as_array();
  CHECK_FALSE(a[0].as_object().contains("options"));
  CHECK(a[0].as_object().contains("name"));
  auto r = h.get("/api/v2/connections?fields=bogus");
  CHECK(r.status == 400);
  CHECK(obj(r).at("errorCode").as_string() == "invalid_query_string");
}

TEST_CASE("connections: create, get, delete") {
  harness h;
  auto r = h.call("POST", "/api/v2/connections", R"({"name":"New-DB","strategy":"auth0"})");
  REQUIRE(r.status == 201);
  const std::string id(obj(r).at("id").as_string());
  CHECK(id.size() == 20);
  CHECK(obj(r).at("realms") == json::array{"New-DB"});
  CHECK(h.get("/api/v2/connections/" + id).status == 200);
  CHECK(h.call("POST", "/api/v2/connections", R"({"name":"New-DB","strategy":"auth0"})").status == 409);
  r = h.call("DELETE", "/api/v2/connections/" + id);
  CHECK(r.status == 202);
  CHECK(obj(r).contains("deleted_at"));
  CHECK(h.get("/api/v2/connections/" + id).status == 404);
}

TEST_CASE("connections: per_page and take out of range, with the texts (per_page defaults to 100)") {
  harness h;
  for (std::string q : {"per_page=0", "per_page=101", "per_page=x"})
    check_error(h.get("/api/v2/connections?" + q), 400,
                "Query validation error: 'Number must be between 1 and 100' on property per_page (Number of results "
                "per page. Defaults to 100.).",
                "invalid_query_string");
  check_error(h.get("/api/v2/connections?take=101"), 400,
              "Query validation error: 'Number must be between 1 and 100' on property take.", "invalid_query_string");
  // The default page is indeed 100 long: all five connections, limit 100.
  CHECK(obj(h.get("/api/v2/connections?include_totals=true")).at("limit").to_number<int>() == 100);
}
