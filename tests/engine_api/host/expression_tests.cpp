// ${{ }} expressions: parsing, typed vs interpolated evaluation, paths, errors.
#include <wfa/host/expression.hpp>

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <map>

namespace json = boost::json;
using namespace wfa::host;

namespace {

struct fixture {
  json::object inputs = json::parse(R"({"name":"ada","count":3,"flag":true,"obj":{"k":[10,20]}})").as_object();
  json::object steps = json::parse(R"({"a":{"user":{"id":"auth0|1","tags":["x","y"],"n":null},
                                        "list":[{"v":1},{"v":2}]}})")
                           .as_object();
  std::map<std::string, std::string> env{{"HOME_DIR", "/h"}};

  eval_context ctx() {
    eval_context c;
    c.inputs = &inputs;
    c.steps = &steps;
    c.env = [this](const std::string& n) -> std::optional<std::string> {
      auto it = env.find(n);
      if (it == env.end()) return std::nullopt;
      return it->second;
    };
    return c;
  }
  json::value eval(const char* json_text) {
    auto r = evaluate(json::parse(json_text), ctx());
    REQUIRE(r.has_value());
    return *r;
  }
};

}  // namespace

TEST_CASE("parse: a whole expression is single, text around it makes it interpolated") {
  CHECK(parse_template("${{ inputs.name }}").single());
  CHECK(parse_template("${{inputs.name}}").single());
  CHECK_FALSE(parse_template(" ${{ inputs.name }}").single());
  CHECK_FALSE(parse_template("${{ inputs.a }}${{ inputs.b }}").single());
  CHECK_FALSE(parse_template("plain text").has_references());
  auto t = parse_template("id=${{ steps.a.outputs.user.tags[1] }}!");
  REQUIRE(t.parts.size() == 3);
  const auto& r = std::get<reference>(t.parts[1]);
  CHECK(r.kind == reference::root::steps);
  CHECK(r.name == "a");
  REQUIRE(r.path.size() == 3);
  CHECK(std::get<std::string>(r.path[0]) == "user");
  CHECK(std::get<std::string>(r.path[1]) == "tags");
  CHECK(std::get<std::size_t>(r.path[2]) == 1);
}

TEST_CASE("parse: roots and their shapes") {
  CHECK(std::get<reference>(parse_template("${{ env.HOME_DIR }}").parts[0]).kind == reference::root::env);
  CHECK(std::get<reference>(parse_template("${{ inputs.x-y_z }}").parts[0]).name == "x-y_z");
  auto bad = [](const char* s) { CHECK_THROWS_AS(parse_template(s), expression_error); };
  bad("${{ inputs.name");      // unterminated
  bad("${{ }}");               // empty
  bad("${{ secrets.x }}");     // unknown root
  bad("${{ inputs }}");        // no name
  bad("${{ steps.a.user }}");  // steps.ID must be followed by outputs
  bad("${{ steps.a }}");
  bad("${{ env.A.B }}");      // env takes one name
  bad("${{ inputs.a[x] }}");  // index must be digits
  bad("${{ inputs.a[-1] }}");
  bad("${{ inputs.a[1 }}");  // unclosed [
  bad("${{ inputs.a. }}");   // trailing dot
  bad("${{ inputs..a }}");
  bad("${{ inputs.a b }}");
}

TEST_CASE("parse errors name the expression") {
  try {
    parse_template("${{ steps.a.nope }}");
    FAIL("expected an error");
  } catch (const expression_error& e) {
    CHECK(std::string(e.what()).find("steps.a.nope") != std::string::npos);
  }
}

TEST_CASE("evaluate: a single expression keeps its JSON type") {
  fixture f;
  CHECK(f.eval(R"("${{ inputs.count }}")") == json::value(3));
  CHECK(f.eval(R"("${{ inputs.flag }}")") == json::value(true));
  CHECK(f.eval(R"("${{ inputs.obj }}")") == json::parse(R"({"k":[10,20]})"));
  CHECK(f.eval(R"("${{ steps.a.outputs.user.tags }}")") == json::parse(R"(["x","y"])"));
  CHECK(f.eval(R"("${{ steps.a.outputs.user.n }}")") == json::value(nullptr));
  CHECK(f.eval(R"("${{ steps.a.outputs.list[1].v }}")") == json::value(2));
  CHECK(f.eval(R"("${{ inputs.obj.k[0] }}")") == json::value(10));
}

TEST_CASE("evaluate: interpolation writes strings as they are and other values as JSON") {
  fixture f;
  CHECK(f.eval(R"("hi ${{ inputs.name }}")") == json::value("hi ada"));
  CHECK(f.eval(R"("n=${{ inputs.count }} f=${{ inputs.flag }}")") == json::value("n=3 f=true"));
  CHECK(f.eval(R"("${{ inputs.obj }}/")") == json::value(R"({"k":[10,20]}/)"));
  CHECK(f.eval(R"("${{ env.HOME_DIR }}/x")") == json::value("/h/x"));
  CHECK(f.eval(R"("${{ inputs.name }}${{ inputs.name }}")") == json::value("adaada"));
}

TEST_CASE("evaluate: recursion through objects and arrays, literals untouched") {
  fixture f;
  auto v = f.eval(R"({"a":["${{ inputs.count }}", "x${{ inputs.count }}", 5, null],
                      "b":{"c":"${{ steps.a.outputs.user.id }}"}, "$literal":"$ {{ not }}"})");
  CHECK(v == json::parse(R"({"a":[3,"x3",5,null],"b":{"c":"auth0|1"},"$literal":"$ {{ not }}"})"));
}

TEST_CASE("evaluate: missing values") {
  fixture f;
  // A whole-expression member that does not resolve is left out of its object.
  CHECK(f.eval(R"({"a":"${{ inputs.nope }}","b":1})") == json::parse(R"({"b":1})"));
  CHECK(f.eval(R"({"a":"${{ env.UNSET_VAR }}"})") == json::parse(R"({})"));
  CHECK(f.eval(R"({"a":"${{ steps.a.outputs.list[7] }}"})") == json::parse(R"({})"));
  CHECK(f.eval(R"({"a":"${{ steps.zzz.outputs.x }}"})") == json::parse(R"({})"));
  // ... becomes null inside an array, and nothing at the top level.
  CHECK(f.eval(R"(["${{ inputs.nope }}"])") == json::parse(R"([null])"));
  CHECK_FALSE(evaluate(json::value("${{ inputs.nope }}"), f.ctx()).has_value());
  // Interpolating a missing value is an error naming it.
  try {
    (void)evaluate(json::value("x ${{ inputs.nope }}"), f.ctx());
    FAIL("expected an error");
  } catch (const expression_error& e) {
    CHECK(std::string(e.what()).find("inputs.nope") != std::string::npos);
  }
}

TEST_CASE("evaluate: env defaults to the process environment") {
  ::setenv("WFA_EXPR_TEST_VAR", "from-process", 1);
  eval_context c;  // no env function
  CHECK(*evaluate(json::value("${{ env.WFA_EXPR_TEST_VAR }}"), c) == json::value("from-process"));
  ::unsetenv("WFA_EXPR_TEST_VAR");
  CHECK_FALSE(evaluate(json::value("${{ env.WFA_EXPR_TEST_VAR }}"), c).has_value());
}

TEST_CASE("collect_references and has_expression look inside containers") {
  auto v = json::parse(R"({"a":[1,{"b":"${{ inputs.x }} and ${{ env.Y }}"}],"c":"plain"})");
  CHECK(has_expression(v));
  CHECK_FALSE(has_expression(json::parse(R"({"a":["$","{{"]})")));
  auto refs = collect_references(v);
  REQUIRE(refs.size() == 2);
  CHECK(refs[0].text == "inputs.x");
  CHECK(refs[1].kind == reference::root::env);
}
