// The doctest main of every test executable. Beside doctest's own main it refuses a run
// in which no test case passed the filters: CTest runs each case through a name filter,
// and a name doctest_discover_tests cannot pass through intact (a ';' splits it) would
// otherwise select nothing and "pass" without running anything.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

namespace {

unsigned selected_cases = 0;
bool run_ended = false;

struct selection_listener : doctest::IReporter {
  explicit selection_listener(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats& stats) override {
    run_ended = true;
    selected_cases = stats.numTestCasesPassingFilters;
  }
  void test_case_start(const doctest::TestCaseData&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};

REGISTER_LISTENER("a0_selection", 1, selection_listener);

}  // namespace

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  const int status = context.run();
  if (status != 0 || context.shouldExit() || !run_ended) return status;  // queries such as --list-test-cases
  if (selected_cases == 0) {
    std::fprintf(stderr, "no test case matched the filters: nothing ran (a test name with ';'?)\n");
    return 1;
  }
  return 0;
}
