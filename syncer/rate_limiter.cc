#include "syncer/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace vk::syncer {

ItemExponentialFailureRateLimiter::ItemExponentialFailureRateLimiter(Clock::Duration base,
                                                                     Clock::Duration max)
    : base_(base), max_(max) {}

Clock::Duration ItemExponentialFailureRateLimiter::When(const std::string& item) {
  int exponent = 0;
  {
    std::lock_guard lock(mutex_);
    exponent = failures_[item]++;
  }
  // In floating point: base * 2^n overflows the duration's integer long before n is large.
  const double delay = static_cast<double>(base_.count()) * std::pow(2.0, exponent);
  if (!(delay < static_cast<double>(max_.count()))) return max_;
  return Clock::Duration(static_cast<Clock::Duration::rep>(delay));
}

void ItemExponentialFailureRateLimiter::Forget(const std::string& item) {
  std::lock_guard lock(mutex_);
  failures_.erase(item);
}

int ItemExponentialFailureRateLimiter::NumRequeues(const std::string& item) const {
  std::lock_guard lock(mutex_);
  auto it = failures_.find(item);
  return it == failures_.end() ? 0 : it->second;
}

BucketRateLimiter::BucketRateLimiter(double qps, int burst, Clock& clock)
    : bucket_(qps, burst, clock) {}

Clock::Duration BucketRateLimiter::When(const std::string&) { return bucket_.Reserve(); }

MaxOfRateLimiter::MaxOfRateLimiter(std::vector<RateLimiterPtr> limiters)
    : limiters_(std::move(limiters)) {}

Clock::Duration MaxOfRateLimiter::When(const std::string& item) {
  Clock::Duration longest = Clock::Duration::zero();
  // Every limiter must record the retry, so no short-circuit.
  for (auto& limiter : limiters_) longest = std::max(longest, limiter->When(item));
  return longest;
}

void MaxOfRateLimiter::Forget(const std::string& item) {
  for (auto& limiter : limiters_) limiter->Forget(item);
}

int MaxOfRateLimiter::NumRequeues(const std::string& item) const {
  int most = 0;
  for (const auto& limiter : limiters_) most = std::max(most, limiter->NumRequeues(item));
  return most;
}

RateLimiterPtr DefaultControllerRateLimiter(Clock& clock) {
  std::vector<RateLimiterPtr> limiters;
  limiters.push_back(std::make_unique<ItemExponentialFailureRateLimiter>(
      std::chrono::milliseconds(5), std::chrono::seconds(1000)));
  limiters.push_back(std::make_unique<BucketRateLimiter>(10.0, 100, clock));
  return std::make_unique<MaxOfRateLimiter>(std::move(limiters));
}

}  // namespace vk::syncer
