// rate_pacer: the arithmetic of rate-limit pacing on a synthetic clock (no I/O, no sleeps):
// the probe that learns a route's bucket, remaining minus in-flight, overtaken responses,
// the learnt refill rate, the x-ratelimit-reset fallback and its cap, buckets told apart
// by limit, and a simulated
// token bucket (the emulator's formulas) under a closed loop of concurrent requests.
#include "http/rate_pacer.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <vector>

using namespace a0::http;
using std::chrono::milliseconds;
using time_point = rate_pacer::time_point;

namespace {

const time_point t0 = time_point{} + std::chrono::hours{1};
const rate_pacer::route reads{0, 0}, writes{0, 1}, tokens{1, 0};

rate_headers headers(long long limit, long long remaining, std::optional<milliseconds> reset_in = std::nullopt) {
  return rate_headers{limit, remaining, reset_in};
}

std::uint64_t admit(rate_pacer& p, rate_pacer::route r, time_point now) {
  const auto d = p.try_admit(r, now);
  REQUIRE(d.admitted);
  return d.ticket;
}

// One round trip that tells the pacer the route's bucket.
void learn(rate_pacer& p, rate_pacer::route r, time_point now, long long limit, long long remaining) {
  p.on_response(admit(p, r, now), now, headers(limit, remaining), false);
}

// A server-side token bucket computed as the emulator does (tests/emulator control.cpp):
// refill, take one if there is one, report floor(tokens) and the epoch second of the next
// token. `epoch_offset` places t0 inside a second, as a real clock would.
struct server_bucket {
  double burst, per_second, tokens;
  time_point last;
  double epoch_offset = 0.37;

  struct answer {
    bool allowed;
    rate_headers h;
  };
  answer take(time_point now) {
    const double dt = std::chrono::duration<double>(now - last).count();
    tokens = std::min(burst, tokens + dt * per_second);
    last = now;
    const bool allowed = tokens >= 1;
    if (allowed) tokens -= 1;
    const double epoch = epoch_offset + std::chrono::duration<double>(now - t0).count();
    const double until_one = tokens >= 1 ? 0.0 : (1.0 - tokens) / per_second;
    const double reset_epoch = std::floor(epoch) + std::ceil(until_one);
    const auto reset_in = milliseconds{static_cast<long>(std::max(0.0, std::ceil((reset_epoch - epoch) * 1000)))};
    return {allowed, headers(static_cast<long long>(burst), static_cast<long long>(std::floor(std::max(0.0, tokens))),
                             reset_in)};
  }
};

}  // namespace

TEST_CASE("pacer: a route with no known bucket sends one request, the rest wait for its answer") {
  rate_pacer p(milliseconds{10000});
  const auto probe = admit(p, reads, t0);
  CHECK(p.bucket_of(reads) == 0);
  CHECK(p.queue_of(reads) != 0);
  const auto held = p.try_admit(reads, t0);
  CHECK_FALSE(held.admitted);
  CHECK(held.retry_at == time_point::max());  // until the probe is answered
  CHECK(p.try_admit(tokens, t0).admitted);    // another route probes for itself
  p.on_response(probe, t0 + milliseconds{20}, headers(50, 49), false);
  CHECK(p.bucket_of(reads) != 0);
  CHECK(p.queue_of(reads) == p.bucket_of(reads));
  for (int i = 0; i < 49; ++i) CHECK(p.try_admit(reads, t0 + milliseconds{20}).admitted);
  CHECK_FALSE(p.try_admit(reads, t0 + milliseconds{20}).admitted);
}

TEST_CASE("pacer: answers without rate-limit headers: the route is not paced, a failed probe lets the next one go") {
  rate_pacer p(milliseconds{10000});
  const auto probe = admit(p, reads, t0);
  p.on_response(probe, t0, std::nullopt, false);
  CHECK(p.queue_of(reads) == 0);
  for (int i = 0; i < 100; ++i) CHECK(p.try_admit(reads, t0).admitted);

  rate_pacer q(milliseconds{10000});
  const auto lost = admit(q, writes, t0);
  CHECK_FALSE(q.try_admit(writes, t0).admitted);
  q.on_failure(lost, false);
  CHECK(q.try_admit(writes, t0).admitted);  // the new probe
  CHECK_FALSE(q.try_admit(writes, t0).admitted);
}

TEST_CASE("pacer: what remains is x-ratelimit-remaining minus the requests sent after it and still in flight") {
  rate_pacer p(milliseconds{10000});
  learn(p, reads, t0, 10, 9);
  const auto a = admit(p, reads, t0);
  const auto b = admit(p, reads, t0);
  (void)admit(p, reads, t0);
  p.on_response(a, t0 + milliseconds{20}, headers(10, 4), false);  // the two after a not counted yet
  CHECK(p.available(reads, t0 + milliseconds{20}) == doctest::Approx(2));
  CHECK(p.try_admit(reads, t0 + milliseconds{20}).admitted);
  CHECK(p.try_admit(reads, t0 + milliseconds{20}).admitted);
  const auto refused = p.try_admit(reads, t0 + milliseconds{20});
  CHECK_FALSE(refused.admitted);
  // No refill rate known yet and requests in flight: wait for their answers.
  CHECK(refused.retry_at == time_point::max());
  // b's answer: the three requests sent after it are still in flight.
  p.on_response(b, t0 + milliseconds{25}, headers(10, 6), false);
  CHECK(p.available(reads, t0 + milliseconds{25}) == doctest::Approx(6 - 3));
}

TEST_CASE("pacer: a request sent earlier but still in flight counts too (the server may not have seen it)") {
  rate_pacer p(milliseconds{10000});
  learn(p, reads, t0, 10, 9);
  (void)admit(p, reads, t0);  // say, waiting for a new connection's handshake
  const auto b = admit(p, reads, t0);
  p.on_response(b, t0 + milliseconds{20}, headers(10, 5), false);
  CHECK(p.available(reads, t0 + milliseconds{20}) == doctest::Approx(5 - 1));
}

TEST_CASE("pacer: an answer overtaken by a newer one does not rewind the count") {
  rate_pacer p(milliseconds{10000});
  learn(p, reads, t0, 10, 9);
  const auto a = admit(p, reads, t0);
  const auto b = admit(p, reads, t0);
  const auto c = admit(p, reads, t0);
  p.on_response(b, t0 + milliseconds{20}, headers(10, 0), false);
  CHECK(p.available(reads, t0 + milliseconds{20}) == doctest::Approx(0 - 2));  // a and c may come after b
  p.on_response(a, t0 + milliseconds{30}, headers(10, 7), false);              // older, and c still in flight
  CHECK(p.available(reads, t0 + milliseconds{30}) == doctest::Approx(-2));     // not 7 - 1
  CHECK_FALSE(p.try_admit(reads, t0 + milliseconds{30}).admitted);
  // Nothing in flight after c: a is taken as counted in b's 0, c (newer) is applied.
  p.on_response(c, t0 + milliseconds{40}, headers(10, 0), false);
  CHECK(p.available(reads, t0 + milliseconds{40}) == doctest::Approx(0));
}

TEST_CASE("pacer: a burst of reordered answers does not leave the mirror below what the server has") {
  // The newest request is answered first (429, 0 left), then the older ones: ten more 429s
  // (they took nothing) and nine 200s the server counted before it. Holding all 19 as
  // taken would keep the bucket shut for 19 reset periods with nothing in flight.
  rate_pacer p(milliseconds{10000});
  learn(p, reads, t0, 50, 49);
  std::vector<std::uint64_t> sent;
  for (int i = 0; i < 20; ++i) sent.push_back(admit(p, reads, t0));
  const auto at = t0 + milliseconds{30};
  p.on_response(sent.back(), at, headers(50, 0, milliseconds{500}), true);
  for (int i = 0; i < 19; ++i) p.on_response(sent[i], at, headers(50, 9 - std::min(i, 9)), i >= 9);
  CHECK(p.in_flight() == 0);
  CHECK(p.available(reads, at) == doctest::Approx(0));
  const auto d = p.try_admit(reads, at);
  CHECK_FALSE(d.admitted);
  CHECK(d.retry_at == at + milliseconds{500});  // x-ratelimit-reset, not 19 of them
  CHECK(p.try_admit(reads, d.retry_at).admitted);
}

TEST_CASE("pacer: with no refill rate known, a drained bucket waits for x-ratelimit-reset, capped by max_wait") {
  SUBCASE("the reset") {
    rate_pacer p(milliseconds{10000});
    p.on_response(admit(p, reads, t0), t0, headers(10, 0, milliseconds{400}), false);
    const auto d = p.try_admit(reads, t0 + milliseconds{1});
    CHECK_FALSE(d.admitted);
    CHECK(d.retry_at == t0 + milliseconds{400});
    CHECK_FALSE(p.try_admit(reads, t0 + milliseconds{399}).admitted);
    CHECK(p.try_admit(reads, t0 + milliseconds{400}).admitted);  // one token is back
    CHECK_FALSE(p.try_admit(reads, t0 + milliseconds{400}).admitted);
  }
  SUBCASE("the cap") {
    rate_pacer p(milliseconds{2000});
    p.on_response(admit(p, reads, t0), t0, headers(10, 0, milliseconds{60000}), false);
    CHECK(p.try_admit(reads, t0).retry_at == t0 + milliseconds{2000});
  }
  SUBCASE("no reset header: one second") {
    rate_pacer p(milliseconds{10000});
    p.on_response(admit(p, reads, t0), t0, headers(10, 0), false);
    CHECK(p.try_admit(reads, t0).retry_at == t0 + milliseconds{1000});
  }
}

TEST_CASE("pacer: the refill rate is learnt from the count and our own requests over a window") {
  rate_pacer p(milliseconds{10000});
  // 20 requests answered over 1.5 s while the count went from 8 down to 2: the bucket
  // refilled 20 - 6 = 14 tokens, minus one for rounding -> 13 / 1.5 s.
  time_point now = t0;
  p.on_response(admit(p, reads, now), now, headers(50, 8), false);
  for (int i = 1; i <= 20; ++i) {
    now = t0 + milliseconds{75 * i};
    p.on_response(admit(p, reads, now), now, headers(50, i == 20 ? 2 : 5), false);
    if (i <= 13) CHECK(p.refill_rate(reads) == 0.0);  // window shorter than a second
  }
  CHECK(p.refill_rate(reads) == doctest::Approx(13.0 / 1.5));
  // Drained: the next request waits 1/rate, then goes.
  p.on_response(admit(p, reads, now), now, headers(50, 0), false);
  const double rate = p.refill_rate(reads);
  REQUIRE(rate > 0);
  const auto d = p.try_admit(reads, now);
  CHECK_FALSE(d.admitted);
  const double wait_ms = std::chrono::duration<double, std::milli>(d.retry_at - now).count();
  CHECK(wait_ms == doctest::Approx(1000.0 / rate).epsilon(0.01));
  CHECK_FALSE(p.try_admit(reads, d.retry_at - milliseconds{2}).admitted);
  CHECK(p.try_admit(reads, d.retry_at).admitted);
}

TEST_CASE("pacer: 429 answers took no token, and neither did a request that never reached the server") {
  rate_pacer p(milliseconds{10000});
  learn(p, reads, t0, 50, 49);  // (nearly) full: no rate window starts here
  std::vector<std::uint64_t> sent;
  for (int i = 0; i < 12; ++i) sent.push_back(admit(p, reads, t0));
  p.on_response(sent[0], t0, headers(50, 0), false);
  for (int i = 1; i <= 10; ++i) p.on_response(sent[i], t0 + milliseconds{100 * i}, headers(50, 0), true);
  // 0 -> 3 in 1.1 s with only the last request taking a token: 3 - 1 (rounding) = 3 / 1.1.
  // Counting the refused ones as taken would make it 13 / 1.1.
  p.on_response(sent[11], t0 + milliseconds{1100}, headers(50, 3), false);
  CHECK(p.refill_rate(reads) == doctest::Approx(3 / 1.1));

  rate_pacer q(milliseconds{10000});
  learn(q, reads, t0, 10, 1);
  const auto lost = admit(q, reads, t0);
  CHECK_FALSE(q.try_admit(reads, t0).admitted);
  q.on_failure(lost, false);  // connect failed: its token is still there
  CHECK(q.try_admit(reads, t0).admitted);
}

TEST_CASE("pacer: routes reporting the same limit share one bucket, other limits and APIs do not") {
  rate_pacer p(milliseconds{10000});
  learn(p, reads, t0, 50, 1);
  learn(p, writes, t0, 50, 1);
  CHECK(p.bucket_of(reads) == p.bucket_of(writes));
  CHECK(p.try_admit(writes, t0).admitted);
  CHECK_FALSE(p.try_admit(reads, t0).admitted);  // the write took the last one

  learn(p, tokens, t0, 50, 30);
  CHECK(p.bucket_of(tokens) != p.bucket_of(reads));
  const rate_pacer::route connections{0, 3};
  learn(p, connections, t0, 5, 4);
  CHECK(p.bucket_of(connections) != p.bucket_of(reads));
  CHECK(p.try_admit(connections, t0).admitted);
}

TEST_CASE("pacer: max_wait 0 turns pacing off") {
  rate_pacer p(milliseconds{0});
  for (int i = 0; i < 5; ++i) CHECK(p.try_admit(reads, t0).admitted);  // no probe either
  learn(p, reads, t0, 10, 0);
  for (int i = 0; i < 5; ++i) CHECK(p.try_admit(reads, t0).admitted);
  CHECK(p.queue_of(reads) == 0);
}

TEST_CASE("pacer: a 50 burst / 16 per second bucket under 24 requests in flight: few 429s, full sustained rate") {
  // Closed loop as the link benchmark runs it: 24 callers, each sending its next request
  // as soon as the previous one is answered (a refused one after x-ratelimit-reset, as
  // the client retries), the server taking its token 10 ms after sending and answering
  // 10 ms later. 1 ms steps over 20 s.
  server_bucket server{50, 16, 50, t0};
  rate_pacer p(milliseconds{10000});
  struct in_flight {
    std::uint64_t ticket;
    time_point arrives, answered;
    bool allowed = false;
    rate_headers h;
  };
  std::deque<time_point> wanting(24, t0);  // when each caller wants to send
  std::vector<in_flight> flying;
  long served = 0, refused = 0, served_late = 0;
  const auto end = t0 + milliseconds{20000}, late = t0 + milliseconds{10000};
  for (time_point now = t0; now < end; now += milliseconds{1}) {
    for (auto& f : flying)
      if (f.arrives == now) {
        const auto a = server.take(now);
        f.allowed = a.allowed;
        f.h = a.h;
      }
    for (auto it = flying.begin(); it != flying.end();) {
      if (it->answered != now) {
        ++it;
        continue;
      }
      p.on_response(it->ticket, now, it->h, !it->allowed);
      if (it->allowed) {
        ++served;
        if (now >= late) ++served_late;
        wanting.push_back(now);
      } else {
        ++refused;
        wanting.push_back(now + std::max(milliseconds{1}, *it->h.reset_in));
      }
      it = flying.erase(it);
    }
    std::sort(wanting.begin(), wanting.end());
    while (!wanting.empty() && wanting.front() <= now) {  // FIFO, as rate_gate does
      const auto d = p.try_admit(reads, now);
      if (!d.admitted) break;
      wanting.pop_front();
      flying.push_back({d.ticket, now + milliseconds{10}, now + milliseconds{20}, false, {}});
    }
  }
  INFO("served ", served, " refused ", refused, " rate ", p.refill_rate(reads));
  CHECK(p.refill_rate(reads) == doctest::Approx(16).epsilon(0.15));
  // The bucket allows 50 + 16/s: the second half must run at (nearly) 16 per second.
  CHECK(served_late >= 150);
  CHECK(served >= 50 + 16 * 19);
  CHECK(refused * 100 <= served);  // under 1 % (without pacing most requests meet a 429)
}

TEST_CASE("budget: at most N admissions a second on the budgeted api, a burst of one second's worth") {
  rate_pacer p(milliseconds{10000});
  p.set_budget(0, 4, t0);
  // No rate-limit headers at all (an unmetered route): the budget alone paces.
  p.on_response(admit(p, reads, t0), t0, std::nullopt, false);
  for (int i = 0; i < 3; ++i) admit(p, reads, t0);  // the burst: 4 in all at t0
  auto d = p.try_admit(writes, t0);                 // every route of api 0 shares it
  CHECK_FALSE(d.admitted);
  CHECK(d.retry_at == t0 + milliseconds{250});  // one token a quarter second
  CHECK(p.try_admit(tokens, t0).admitted);      // another api is not budgeted
  CHECK_FALSE(p.try_admit(reads, t0 + milliseconds{249}).admitted);
  admit(p, writes, t0 + milliseconds{250});
  CHECK_FALSE(p.try_admit(reads, t0 + milliseconds{260}).admitted);
  // Over ten seconds at most 4 a second get through, however often they ask.
  int admitted = 0;
  for (int ms = 260; ms < 10260; ms += 5)
    if (p.try_admit(reads, t0 + milliseconds{ms}).admitted) ++admitted;
  CHECK(admitted >= 39);
  CHECK(admitted <= 40);
}

TEST_CASE("budget: below one a second, and it holds with pacing off (max_wait 0)") {
  rate_pacer p(milliseconds{0});
  p.set_budget(0, 0.5, t0);
  admit(p, reads, t0);  // a burst of at least one
  auto d = p.try_admit(reads, t0 + milliseconds{1});
  CHECK_FALSE(d.admitted);
  CHECK(d.retry_at == t0 + milliseconds{2000});  // a wait it chose: not capped by max_wait
  admit(p, reads, t0 + milliseconds{2000});
  p.set_budget(0, 0, t0 + milliseconds{2000});  // removed: no cap
  for (int i = 0; i < 100; ++i) admit(p, reads, t0 + milliseconds{2000});
}
