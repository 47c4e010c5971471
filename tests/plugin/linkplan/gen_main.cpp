// linkplan_gen --people N [--seed S]: a generated users export on stdout (NDJSON), for
// the planner's benchmark (tests/plugin/linkplan/bench.sh) and end-to-end tests.
#include "tenant_gen.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
  a0::linkplan::test::gen_options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--people"))
      o.people = std::strtoull(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--seed"))
      o.seed = std::strtoull(argv[i + 1], nullptr, 10);
    else {
      std::fprintf(stderr, "usage: linkplan_gen --people N [--seed S]\n");
      return 2;
    }
  }
  for (const auto& a : a0::linkplan::test::generate(o)) {
    const auto line = a0::linkplan::test::to_export_line(a);
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
  }
  return 0;
}
