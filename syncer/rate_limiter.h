#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "hostclient/base/clock.h"
#include "hostclient/token_bucket.h"

namespace vk::syncer {

// Decides how long an item waits before it is retried (client-go's workqueue.RateLimiter).
// When records a retry and returns its delay; Forget clears an item's history once it succeeded;
// NumRequeues says how many retries When has recorded for it. Implementations are thread-safe.
class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  virtual Clock::Duration When(const std::string& item) = 0;
  virtual void Forget(const std::string& item) = 0;
  virtual int NumRequeues(const std::string& item) const = 0;
};

using RateLimiterPtr = std::unique_ptr<RateLimiter>;

// Per-item exponential backoff: the n-th retry of an item (n from 0) waits base * 2^n, capped at
// max. Keeps a failure count per item until Forget.
class ItemExponentialFailureRateLimiter : public RateLimiter {
 public:
  ItemExponentialFailureRateLimiter(Clock::Duration base, Clock::Duration max);

  Clock::Duration When(const std::string& item) override;
  void Forget(const std::string& item) override;
  int NumRequeues(const std::string& item) const override;

 private:
  const Clock::Duration base_;
  const Clock::Duration max_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, int> failures_;
};

// An overall limit on retries of all items together: a token bucket of `qps` a second and `burst`
// at once; each When reserves a token and waits until it exists. Tracks no per-item history.
class BucketRateLimiter : public RateLimiter {
 public:
  BucketRateLimiter(double qps, int burst, Clock& clock = Clock::Real());

  Clock::Duration When(const std::string& item) override;
  void Forget(const std::string&) override {}
  int NumRequeues(const std::string&) const override { return 0; }

 private:
  hostclient::TokenBucket bucket_;
};

// The longest delay of several limiters (each records every retry); NumRequeues is the largest
// count among them, Forget reaches all of them.
class MaxOfRateLimiter : public RateLimiter {
 public:
  explicit MaxOfRateLimiter(std::vector<RateLimiterPtr> limiters);

  Clock::Duration When(const std::string& item) override;
  void Forget(const std::string& item) override;
  int NumRequeues(const std::string& item) const override;

 private:
  std::vector<RateLimiterPtr> limiters_;
};

// client-go's DefaultControllerRateLimiter: max(per-item exponential 5 ms .. 1000 s, overall
// 10 qps with a burst of 100). The clock must outlive the limiter.
RateLimiterPtr DefaultControllerRateLimiter(Clock& clock = Clock::Real());

}  // namespace vk::syncer
