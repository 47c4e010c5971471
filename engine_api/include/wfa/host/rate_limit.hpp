// wfa/host/rate_limit.hpp -- a host's rate budget (ABI 1.1, wfa_host.acquire): token
// buckets a host hands to every plugin instance it runs, so that all of them together
// stay under one limit (flowrun's --max-requests-per-second; any other host's own).
//
//   wfa::host::rate_limiter budget(12);          // 12 requests a second per bucket, burst 12
//   run_options opts; opts.acquire = budget.acquire_fn();   // budget outlives the run
//   wfa::host::instance tenant(lib, config, sink, WFA_LOG_INFO, budget.acquire_fn());
//
// One bucket per name the plugin asks for (its choice: one per server and API, say
// "crm:acme.example.com:api"), each refilled at `per_second` up to one second's worth.
// acquire() answers at once, as wfa_host.acquire must: 0 when the cost is taken, else the
// milliseconds until it could be. Thread-safe (one mutex; an answer is a few arithmetic
// operations). Header only.
#pragma once

#include <wfa/host.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace wfa::host {

class rate_limiter {
 public:
  using clock = std::chrono::steady_clock;
  /// The time source; a test passes a fake one.
  using now_fn = std::function<clock::time_point()>;

  /// Buckets beyond this many names share one: a plugin that names a new bucket for
  /// every request must not grow the host's memory without bound.
  static constexpr std::size_t max_buckets = 1024;

  /// `per_second` > 0 (finite): the refill rate of each bucket; the burst (and a new
  /// bucket's content) is one second's worth, at least 1. Throws std::invalid_argument.
  explicit rate_limiter(double per_second, now_fn now = {})
      : per_second_(per_second), burst_(std::max(1.0, per_second)), now_(std::move(now)) {
    if (!(per_second > 0) || !std::isfinite(per_second))
      throw std::invalid_argument("rate_limiter: the rate must be a positive number of requests a second");
    if (!now_) now_ = [] { return clock::now(); };
  }
  rate_limiter(const rate_limiter&) = delete;
  rate_limiter& operator=(const rate_limiter&) = delete;

  /// wfa_host.acquire's contract: 0 = `cost` taken from `bucket` now; else the
  /// milliseconds (>= 1) to wait before asking again, and nothing is taken. A cost above
  /// the burst is granted when the bucket is full, leaving it in debt (it could never be
  /// granted otherwise).
  std::uint32_t acquire(std::string_view bucket, std::uint32_t cost = 1) {
    const auto now = now_();
    std::lock_guard lock(mu_);
    bucket_state& b = find(bucket, now);
    const double elapsed = std::chrono::duration<double>(now - b.last).count();
    if (elapsed > 0) {
      b.tokens = std::min(burst_, b.tokens + elapsed * per_second_);
      b.last = now;
    }
    const double need = std::min(static_cast<double>(cost), burst_);
    // A nanosecond's worth of slack: the refill is floating point, and a token that is
    // due now must not be refused for a rounding error (nor a wait of 61 ms named for 60).
    const double slack = per_second_ * 1e-9;
    if (b.tokens + slack >= need) {
      b.tokens -= cost;
      ++granted_;
      return 0;
    }
    ++refused_;
    const double wait_ms = std::ceil((need - b.tokens - slack) / per_second_ * 1000.0);
    return static_cast<std::uint32_t>(std::clamp(wait_ms, 1.0, 4294967295.0));
  }

  /// A rate_acquire for host::instance / run_options that asks this limiter, which must
  /// outlive every instance given it.
  rate_acquire acquire_fn() {
    return [this](std::string_view bucket, std::uint32_t cost) { return acquire(bucket, cost); };
  }

  double per_second() const noexcept { return per_second_; }
  double burst() const noexcept { return burst_; }
  /// Answers so far: granted (0) and refused (a wait).
  std::uint64_t granted() const {
    std::lock_guard lock(mu_);
    return granted_;
  }
  std::uint64_t refused() const {
    std::lock_guard lock(mu_);
    return refused_;
  }

 private:
  struct bucket_state {
    double tokens;
    clock::time_point last;
  };

  // Transparent lookup: asking with a string_view allocates nothing once the bucket exists.
  struct name_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>()(s); }
  };

  bucket_state& find(std::string_view name, clock::time_point now) {
    if (auto it = buckets_.find(name); it != buckets_.end()) return it->second;
    if (buckets_.size() >= max_buckets) name = {};  // the shared overflow bucket
    return buckets_.try_emplace(std::string(name), bucket_state{burst_, now}).first->second;
  }

  const double per_second_;
  const double burst_;
  now_fn now_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, bucket_state, name_hash, std::equal_to<>> buckets_;
  std::uint64_t granted_ = 0, refused_ = 0;
};

}  // namespace wfa::host
