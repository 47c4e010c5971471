// wfa::host::rate_limiter (wfa/host/rate_limit.hpp), the host's rate budget behind
// wfa_host.acquire, on a fake clock: burst, refill, the wait it names, one bucket per
// name, the bound on names, and many threads against one bucket.
#include <wfa/host/rate_limit.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using wfa::host::rate_limiter;
using namespace std::chrono_literals;

namespace {

// A clock the test moves by hand (read from several threads in the last case).
struct fake_clock {
  std::atomic<rate_limiter::clock::rep> ticks{0};
  rate_limiter::now_fn fn() {
    return [this] { return rate_limiter::clock::time_point(rate_limiter::clock::duration(ticks.load())); };
  }
  void advance(std::chrono::nanoseconds d) {
    ticks += std::chrono::duration_cast<rate_limiter::clock::duration>(d).count();
  }
};

}  // namespace

TEST_CASE("rate_limiter: a burst of one second's worth, then the refill rate, and the wait it names") {
  fake_clock t;
  rate_limiter lim(10, t.fn());
  CHECK(lim.burst() == 10);
  for (int i = 0; i < 10; ++i) CHECK(lim.acquire("b") == 0);
  // Empty: one token comes back in 100 ms, and nothing is taken by asking.
  CHECK(lim.acquire("b") == 100);
  CHECK(lim.acquire("b") == 100);
  t.advance(40ms);
  CHECK(lim.acquire("b") == 60);
  t.advance(60ms);
  CHECK(lim.acquire("b") == 0);
  CHECK(lim.acquire("b") == 100);
  // A long pause refills up to the burst only, never beyond.
  t.advance(1h);
  for (int i = 0; i < 10; ++i) CHECK(lim.acquire("b") == 0);
  CHECK(lim.acquire("b") > 0);
  CHECK(lim.granted() == 21);
  CHECK(lim.refused() == 5);
}

TEST_CASE("rate_limiter: over 10 s of asking every millisecond, at most burst + rate x time are granted") {
  fake_clock t;
  rate_limiter lim(16, t.fn());
  int granted = 0;
  for (int ms = 0; ms < 10000; ++ms, t.advance(1ms))
    if (lim.acquire("auth0:tenant:management") == 0) ++granted;
  CHECK(granted >= 16 + 16 * 10 - 1);
  CHECK(granted <= 16 + 16 * 10);
}

TEST_CASE("rate_limiter: each bucket name has its own budget, and a cost counts as that many requests") {
  fake_clock t;
  rate_limiter lim(2, t.fn());
  CHECK(lim.acquire("auth0:a:management", 2) == 0);
  CHECK(lim.acquire("auth0:a:management") == 500);
  CHECK(lim.acquire("auth0:b:management") == 0);  // another tenant: untouched
  CHECK(lim.acquire("auth0:a:authentication") == 0);
  // A cost above the burst is granted once the bucket is full (it could never be
  // otherwise), and leaves it in debt: the next request waits for the debt too.
  rate_limiter small(1, t.fn());
  CHECK(small.acquire("x", 3) == 0);
  CHECK(small.acquire("x") == 3000);
  t.advance(2s);
  CHECK(small.acquire("x") == 1000);
  t.advance(1s);
  CHECK(small.acquire("x") == 0);
}

TEST_CASE("rate_limiter: a fractional rate, and the smallest wait is 1 ms") {
  fake_clock t;
  rate_limiter slow(0.5, t.fn());
  CHECK(slow.burst() == 1);  // at least one request
  CHECK(slow.acquire("b") == 0);
  CHECK(slow.acquire("b") == 2000);
  rate_limiter fast(1e5, t.fn());
  for (int i = 0; i < 100000; ++i) REQUIRE(fast.acquire("b") == 0);
  CHECK(fast.acquire("b") == 1);  // 10 us to the next token: rounded up, never 0 (0 means go)
}

TEST_CASE("rate_limiter: refuses a rate that is not a positive number") {
  for (double bad : {0.0, -1.0, std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()})
    CHECK_THROWS_AS(rate_limiter{bad}, std::invalid_argument);
}

TEST_CASE("rate_limiter: bucket names beyond the bound share one bucket (memory stays bounded)") {
  fake_clock t;
  rate_limiter lim(1, t.fn());
  for (std::size_t i = 0; i < rate_limiter::max_buckets; ++i) REQUIRE(lim.acquire("b" + std::to_string(i)) == 0);
  CHECK(lim.acquire("b0") > 0);                   // a known name keeps its own bucket
  CHECK(lim.acquire("one more") == 0);            // the shared overflow bucket: full at first
  CHECK(lim.acquire("and yet another one") > 0);  // ... and the same one
}

TEST_CASE("rate_limiter: threads asking at once are granted exactly what the bucket holds") {
  fake_clock t;
  rate_limiter lim(1000, t.fn());  // burst 1000; the clock stands still
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int k = 0; k < 8; ++k)
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i)
        if (lim.acquire("shared") == 0) ++granted;
    });
  for (auto& th : threads) th.join();
  CHECK(granted == 1000);
  CHECK(lim.granted() == 1000);
  CHECK(lim.refused() == 3000);
}

TEST_CASE("rate_limiter: acquire_fn is a host::rate_acquire over the same buckets") {
  fake_clock t;
  rate_limiter lim(1, t.fn());
  wfa::host::rate_acquire a = lim.acquire_fn();
  CHECK(a("b", 1) == 0);
  CHECK(lim.acquire("b") == 1000);
}
