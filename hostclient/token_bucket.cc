#include "hostclient/token_bucket.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace vk::hostclient {

TokenBucket::TokenBucket(double qps, int burst, Clock& clock)
    : qps_(qps), burst_(std::max(burst, 1)), clock_(clock), tokens_(burst_), last_(clock.Now()) {}

void TokenBucket::RefillLocked(Clock::TimePoint now) const {
  if (now <= last_) return;
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(static_cast<double>(burst_), tokens_ + elapsed * qps_);
  last_ = now;
}

bool TokenBucket::TryTake() {
  if (qps_ <= 0) return true;
  std::lock_guard lock(mutex_);
  RefillLocked(clock_.Now());
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

Clock::Duration TokenBucket::Reserve() {
  if (qps_ <= 0) return Clock::Duration::zero();
  std::lock_guard lock(mutex_);
  RefillLocked(clock_.Now());
  tokens_ -= 1;
  if (tokens_ >= 0) return Clock::Duration::zero();
  // Round up so that the caller never wakes before its token exists.
  const auto wait = std::chrono::duration<double>(-tokens_ / qps_);
  return std::chrono::ceil<Clock::Duration>(wait);
}

std::optional<Clock::Duration> TokenBucket::Wait(Sleeper& sleeper) {
  const auto delay = Reserve();
  if (!sleeper.SleepFor(delay)) return std::nullopt;
  return delay;
}

double TokenBucket::Available() const {
  if (qps_ <= 0) return burst_;
  std::lock_guard lock(mutex_);
  RefillLocked(clock_.Now());
  return tokens_;
}

}  // namespace vk::hostclient
