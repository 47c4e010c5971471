#include "http/rate_pacer.hpp"

#include "http/retry_policy.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace a0::http {

namespace {

using std::chrono::milliseconds;
using seconds_d = std::chrono::duration<double>;

// Windows shorter than this say little (x-ratelimit-remaining is an integer); windows are
// restarted after kLongest so that the estimate follows a changing share of the bucket.
constexpr milliseconds kShortest{1000}, kLongest{3000};
// Without a reset hint, a drained bucket is tried again after this.
constexpr milliseconds kDefaultReset{1000};
// A whole token, allowing for the rounding of rate * elapsed time.
constexpr double kOneToken = 1.0 - 1e-9;

}  // namespace

std::optional<rate_headers> read_rate_headers(std::string_view limit, std::string_view remaining,
                                              std::string_view reset, std::chrono::system_clock::time_point now) {
  const auto l = parse_header_int(limit);
  const auto r = parse_header_int(remaining);
  if (!l || !r || *l < 1) return std::nullopt;
  return rate_headers{*l, *r, parse_ratelimit_reset(reset, now)};
}

void rate_pacer::advance(bucket& b, time_point now) {
  if (now <= b.avail_at) return;
  if (b.rate > 0) {
    b.avail = std::min(b.avail + b.rate * seconds_d(now - b.avail_at).count(), static_cast<double>(b.limit));
  } else if (b.credit_at && now >= *b.credit_at) {
    b.avail += 1;  // x-ratelimit-reset: the next token is there
    b.credit_at.reset();
  }
  b.avail_at = now;
}

void rate_pacer::set_budget(unsigned api, double per_second, time_point now) {
  budget_ = {};
  if (!(per_second > 0)) return;
  budget_.api = api;
  budget_.rate = per_second;
  budget_.tokens = std::max(1.0, per_second);
  budget_.at = now;
}

rate_pacer::decision rate_pacer::try_admit(route r, time_point now) {
  decision d;
  const bool budgeted = budget_.rate > 0 && r.api == budget_.api;
  if (budgeted) {
    const double burst = std::max(1.0, budget_.rate);
    if (now > budget_.at) {
      budget_.tokens = std::min(burst, budget_.tokens + seconds_d(now - budget_.at).count() * budget_.rate);
      budget_.at = now;
    }
    if (budget_.tokens < kOneToken) {
      // A wait we impose on ourselves: not capped by max_wait (the caller chose the pace).
      const auto need = std::chrono::ceil<milliseconds>(seconds_d((1 - budget_.tokens) / budget_.rate));
      d.retry_at = now + std::max(need, milliseconds{1});
      return d;
    }
  }
  route_state* rs = max_wait_ > milliseconds::zero() ? &routes_[key(r)] : nullptr;
  const std::uint64_t bucket_id = rs ? rs->bucket : 0;
  const bool probing = rs && bucket_id == 0 && !rs->unmetered;
  if (probing && rs->probe != 0) {
    d.retry_at = time_point::max();  // the probe's answer tells the bucket
    return d;
  }
  if (bucket_id != 0) {
    auto& b = buckets_.at(bucket_id);
    advance(b, now);
    if (b.avail < kOneToken) {
      if (b.rate > 0) {
        const auto need = std::chrono::ceil<milliseconds>(seconds_d((1 - b.avail) / b.rate));
        d.retry_at = now + std::clamp(need, milliseconds{1}, max_wait_);
      } else if (b.credit_at) {
        d.retry_at = *b.credit_at;
      } else if (b.in_flight == 0) {
        // Nothing in flight will tell us more: trust the default reset once.
        b.credit_at = now + std::min(kDefaultReset, max_wait_);
        d.retry_at = *b.credit_at;
      } else {
        d.retry_at = time_point::max();
      }
      return d;
    }
    b.avail -= 1;
    ++b.sent;
    ++b.in_flight;
  }
  if (budgeted) budget_.tokens -= 1;
  d.admitted = true;
  d.ticket = next_ticket_++;
  flights_.emplace(d.ticket, flight{r, bucket_id});
  if (probing) rs->probe = d.ticket;
  return d;
}

std::uint64_t rate_pacer::queue_of(route r) {
  if (max_wait_ <= milliseconds::zero()) return 0;
  auto& rs = routes_[key(r)];
  if (rs.bucket != 0) return rs.bucket;
  if (rs.unmetered) return 0;
  if (rs.line == 0) rs.line = next_bucket_++;  // ids shared with buckets: never equal
  return rs.line;
}

std::uint64_t rate_pacer::bucket_for(unsigned api, long long limit, time_point now) {
  auto [it, fresh] = bucket_ids_.try_emplace({api, limit}, next_bucket_);
  if (fresh) {
    ++next_bucket_;
    bucket b;
    b.limit = limit;
    b.avail = static_cast<double>(limit);
    b.avail_at = now;
    buckets_.emplace(it->second, b);
  }
  return it->second;
}

// The route reports bucket `to` now: its requests in flight count against that one.
void rate_pacer::attribute(route r, std::uint64_t to) {
  auto& rs = routes_[key(r)];
  rs.unmetered = false;
  if (rs.bucket == to) return;
  rs.bucket = to;
  auto& dest = buckets_.at(to);
  for (auto& [ticket, f] : flights_) {
    if (key(f.r) != key(r) || f.bucket == to) continue;
    if (f.bucket != 0) {
      auto& old = buckets_.at(f.bucket);
      --old.in_flight;
      old.anchor.reset();  // its request count no longer adds up
    }
    f.bucket = to;
    ++dest.sent;
    ++dest.in_flight;
  }
}

std::size_t rate_pacer::in_flight_after(std::uint64_t bucket_id, std::uint64_t ticket) const {
  std::size_t n = 0;
  for (auto it = flights_.upper_bound(ticket); it != flights_.end(); ++it)
    if (it->second.bucket == bucket_id) ++n;
  return n;
}

void rate_pacer::on_response(std::uint64_t ticket, time_point now, const std::optional<rate_headers>& h, bool refused) {
  const auto it = flights_.find(ticket);
  if (it == flights_.end()) return;
  const flight f = it->second;
  flights_.erase(it);
  auto& rs = routes_[key(f.r)];
  if (rs.probe == ticket) rs.probe = 0;
  if (f.bucket != 0) --buckets_.at(f.bucket).in_flight;
  if (!h) {
    if (f.bucket != 0) {
      auto& b = buckets_.at(f.bucket);
      if (refused) ++b.took_no_token;
      advance(b, now);
      settle(b);
    }
    if (rs.bucket == 0) rs.unmetered = true;
    return;
  }
  const auto id = bucket_for(f.r.api, h->limit, now);
  attribute(f.r, id);
  auto& b = buckets_.at(id);
  if (f.bucket != id) {
    ++b.sent;  // this request belongs to the reported bucket after all
    if (f.bucket != 0) buckets_.at(f.bucket).anchor.reset();
  }
  if (refused) ++b.took_no_token;
  // Responses overtaken by a newer one carry an older count, and the newer count
  // subtracted this request as in flight: refused, it took nothing.
  if (ticket <= b.newest) {
    if (refused) b.avail += 1;
    b.lowest = std::min(b.lowest, h->remaining);
    advance(b, now);
    settle(b);
    return;
  }
  b.newest = ticket;
  b.lowest = h->remaining;

  // Every other request in flight may still take a token: also those sent earlier, which
  // the server may not have seen yet (a new connection is still in its handshake).
  b.avail = static_cast<double>(h->remaining) - static_cast<double>(b.in_flight);
  b.avail_at = now;
  b.credit_at.reset();
  // For the refill rate, assume the server saw requests in the order they were sent.
  const auto later = in_flight_after(id, ticket);
  learn_rate(b, *h, now, static_cast<std::int64_t>(b.sent - later) - static_cast<std::int64_t>(b.took_no_token));
  if (b.rate <= 0 && b.avail < 1) {
    const auto wait = h->reset_in && *h->reset_in > milliseconds::zero() ? *h->reset_in : kDefaultReset;
    b.credit_at = now + std::min(wait, max_wait_);
  }
}

// Refill rate over a window of responses: what the count went up by, plus what our own
// requests took meanwhile, minus one for the integer rounding of both ends (an estimate
// that is too low is corrected by the next response; one too high costs 429s).
void rate_pacer::learn_rate(bucket& b, const rate_headers& h, time_point now, std::int64_t took) {
  if (h.remaining >= b.limit - 1) {  // (nearly) full: the refill may have been capped
    b.anchor.reset();
    return;
  }
  if (!b.anchor) {
    b.anchor = sample{now, h.remaining, took};
    return;
  }
  const auto span = now - b.anchor->at;
  if (span < kShortest) return;
  const double gained = static_cast<double>(h.remaining - b.anchor->remaining) + static_cast<double>(took) -
                        static_cast<double>(b.anchor->took) - 1.0;
  const double rate = gained / seconds_d(span).count();
  if (rate > 0) b.rate = rate;
  if (span >= kLongest) b.anchor = sample{now, h.remaining, took};
}

void rate_pacer::on_failure(std::uint64_t ticket, bool may_have_reached_server) {
  const auto it = flights_.find(ticket);
  if (it == flights_.end()) return;
  const flight f = it->second;
  flights_.erase(it);
  if (auto& rs = routes_[key(f.r)]; rs.probe == ticket) rs.probe = 0;  // the next one probes
  if (f.bucket == 0) return;
  auto& b = buckets_.at(f.bucket);
  --b.in_flight;
  if (!may_have_reached_server) {
    ++b.took_no_token;
    b.avail += 1;  // the mirror counted it (at admission or as in flight)
  }
  settle(b);
}

// With nothing in flight no answer is coming to correct the mirror, which may still
// subtract requests that the newest count already included (the server does not answer
// in the order we sent). The server has what its last-processed request reported; in a
// burst that is the lowest count seen since the newest one (the count only falls
// between refills), so the mirror need not be lower than that.
void rate_pacer::settle(bucket& b) {
  if (b.in_flight != 0) return;
  b.avail = std::max(b.avail, static_cast<double>(b.lowest));
}

std::uint64_t rate_pacer::bucket_of(route r) const {
  const auto it = routes_.find(key(r));
  return it == routes_.end() ? 0 : it->second.bucket;
}

double rate_pacer::refill_rate(route r) const {
  const auto id = bucket_of(r);
  return id ? buckets_.at(id).rate : 0.0;
}

double rate_pacer::available(route r, time_point now) const {
  const auto id = bucket_of(r);
  if (!id) return std::numeric_limits<double>::infinity();
  bucket b = buckets_.at(id);
  advance(b, now);
  return b.avail;
}

}  // namespace a0::http
