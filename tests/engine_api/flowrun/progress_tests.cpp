// The progress bar's text: done/total, percentage, rate, failures, ETA.
#include "progress.hpp"

#include <doctest/doctest.h>

using flowrun::render_progress;

TEST_CASE("before anything is done there is no rate nor ETA") {
  CHECK(render_progress(0, 10, 0, 0.0, 10) == "[----------] 0/10 0% 0 failed");
}

TEST_CASE("rate and ETA follow from done and elapsed time") {
  // 250 of 1000 in 5 s: 50 rows/s, 750 left -> 15 s.
  CHECK(render_progress(250, 1000, 3, 5.0, 8) == "[##------] 250/1000 25% 50.0 rows/s 3 failed ETA 0:15");
  // 1 of 100 in 2 s: 0.5 rows/s, 99 left -> 198 s = 3:18.
  CHECK(render_progress(1, 100, 0, 2.0, 4) == "[----] 1/100 1% 0.5 rows/s 0 failed ETA 3:18");
  CHECK(render_progress(4, 4, 1, 1.0, 4) == "[####] 4/4 100% 4.0 rows/s 1 failed ETA 0:00");
}
