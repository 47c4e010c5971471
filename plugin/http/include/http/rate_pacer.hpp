// A client-side mirror of the server's rate-limit token buckets, so that requests are
// spaced before the server has to refuse them. Pure arithmetic: every call is given the
// current time, so tests drive it with a synthetic clock (rate_gate is the Asio front).
//
// Model: a response's x-ratelimit-remaining R is what the server had left after it; every
// other request still in flight may yet take a token (those sent later, and those sent
// earlier but still in a handshake), so the bucket can take `R - in flight` more
// ("available"). Between responses the mirror refills at the rate observed over the last
// seconds; a request is admitted while one token is available, otherwise it waits until
// the mirror says one is back (or, while no rate is known, until x-ratelimit-reset).
// Each response corrects the mirror, so an estimate that is too low only delays a
// request until the next response shows the spare tokens.
//
// Buckets are told apart by the reported x-ratelimit-limit within one API: routes (request
// classes the caller names, e.g. "read users") that report the same limit share one mirror.
// A route whose bucket is not known yet sends one request and holds the others until its
// answer tells the bucket (or that there are no rate-limit headers: then it is not paced),
// so that a cold start with many requests at once does not overrun the burst.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <utility>

namespace a0::http {

/// What one response said about its bucket.
struct rate_headers {
  long long limit = 0;                                ///< x-ratelimit-limit: identifies the bucket
  long long remaining = 0;                            ///< x-ratelimit-remaining after this request
  std::optional<std::chrono::milliseconds> reset_in;  ///< x-ratelimit-reset (epoch s) - now
};

/// Parses x-ratelimit-limit/-remaining/-reset; nullopt unless limit (>= 1) and remaining
/// are valid integers (reset is optional).
std::optional<rate_headers> read_rate_headers(std::string_view limit, std::string_view remaining,
                                              std::string_view reset, std::chrono::system_clock::time_point now);

class rate_pacer {
 public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  /// A class of requests the caller expects to share a bucket. Buckets of different `api`s
  /// are never merged, whatever their limits.
  struct route {
    unsigned api = 0;
    unsigned group = 0;
  };

  struct decision {
    bool admitted = false;
    std::uint64_t ticket = 0;  ///< admitted: report its completion with this
    /// Refused: ask again then; time_point::max() = after the next completion.
    time_point retry_at{};
  };

  /// `max_wait` caps one wait (and the reset it trusts); 0 turns pacing off.
  explicit rate_pacer(std::chrono::milliseconds max_wait) : max_wait_(max_wait) {}

  decision try_admit(route r, time_point now);
  /// A cap below the server's limits on every route of `api` together: at most
  /// `per_second` admissions a second on average, a burst of one second's worth (at least
  /// one). It holds whether or not pacing is on; 0 removes it.
  void set_budget(unsigned api, double per_second, time_point now);
  /// A response to `ticket`: its rate-limit headers, if any; `refused` for a 429.
  void on_response(std::uint64_t ticket, time_point now, const std::optional<rate_headers>& h, bool refused);
  /// The request ended without a response; `may_have_reached_server`: it may hold a token.
  void on_failure(std::uint64_t ticket, bool may_have_reached_server);

  /// The line a held-back request of `r` waits in (requests that share it go in order):
  /// the route's bucket, or the route's own line while its bucket is being learnt; 0 =
  /// never held back.
  std::uint64_t queue_of(route r);
  std::uint64_t bucket_of(route r) const;  ///< 0 = none known yet
  /// Observed refill rate of the route's bucket, requests per second; 0 = not known yet.
  double refill_rate(route r) const;
  /// Requests the route's bucket can take at `now` by the mirror (may be negative;
  /// infinity while no bucket is known for the route).
  double available(route r, time_point now) const;
  std::size_t in_flight() const noexcept { return flights_.size(); }

 private:
  struct sample {
    time_point at;
    long long remaining = 0;
    std::int64_t took = 0;  // requests of the bucket up to this one that took a token
  };
  struct bucket {
    long long limit = 0;
    double avail = 0;  // the mirror at `avail_at`
    time_point avail_at{};
    double rate = 0;                  // tokens per second, 0 = unknown
    std::uint64_t newest = 0;         // ticket of the newest response applied
    std::uint64_t sent = 0;           // requests attributed to this bucket
    std::uint64_t took_no_token = 0;  // of those: refused, or failed before reaching it
    std::size_t in_flight = 0;
    long long lowest = 0;                 // lowest count reported since `newest` (incl. it)
    std::optional<time_point> credit_at;  // no rate known: one token is back then
    std::optional<sample> anchor;         // start of the refill-rate window
  };
  struct flight {
    route r;
    std::uint64_t bucket = 0;
  };
  struct route_state {
    std::uint64_t bucket = 0;  // 0 = not known yet
    std::uint64_t probe = 0;   // the request sent to learn the bucket, while in flight
    std::uint64_t line = 0;    // queue_of while no bucket is known
    bool unmetered = false;    // answers carry no rate-limit headers
  };
  using route_key = std::pair<unsigned, unsigned>;

  static route_key key(route r) { return {r.api, r.group}; }
  static void advance(bucket& b, time_point now);
  static void settle(bucket& b);
  std::uint64_t bucket_for(unsigned api, long long limit, time_point now);
  void attribute(route r, std::uint64_t to);
  std::size_t in_flight_after(std::uint64_t bucket_id, std::uint64_t ticket) const;
  static void learn_rate(bucket& b, const rate_headers& h, time_point now, std::int64_t took);

  // The budget (set_budget): a token bucket of its own, full at the start.
  struct budget_state {
    unsigned api = 0;
    double rate = 0;  // 0 = none
    double tokens = 0;
    time_point at{};
  };
  budget_state budget_;

  std::chrono::milliseconds max_wait_;
  std::uint64_t next_ticket_ = 1, next_bucket_ = 1;
  std::map<std::uint64_t, flight> flights_;  // by ticket = send order
  std::map<route_key, route_state> routes_;
  std::map<std::pair<unsigned, long long>, std::uint64_t> bucket_ids_;
  std::map<std::uint64_t, bucket> buckets_;
};

}  // namespace a0::http
