#pragma once

#include <mutex>
#include <optional>

#include "hostclient/base/clock.h"
#include "hostclient/sleeper.h"

namespace vk::hostclient {

// A token bucket: holds at most `burst` (at least 1) tokens and refills at `qps` tokens a second. A
// full bucket lets `burst` requests through at once, then `qps` a second. Reserve hands out tokens
// from the future, so that concurrent callers queue fairly in arrival order instead of racing for
// each refill (golang.org/x/time/rate's Reserve, which client-go's limiter is built on).
//
// qps <= 0 disables limiting: every token is free. Thread-safe; time comes from the injected
// Clock, which must outlive the bucket.
class TokenBucket {
 public:
  TokenBucket(double qps, int burst, Clock& clock = Clock::Real());

  // Takes a token if one is available now; false (and nothing taken) otherwise.
  [[nodiscard]] bool TryTake();
  // Takes a token and returns how long the caller must wait before using it (zero when one was
  // available now). The token is the caller's even if it then does not wait.
  [[nodiscard]] Clock::Duration Reserve();
  // Reserve, then wait through the sleeper. Returns the time waited, or nullopt when the sleeper
  // was shut down.
  [[nodiscard]] std::optional<Clock::Duration> Wait(Sleeper& sleeper);

  // Tokens available now; negative when reservations are waiting for future tokens.
  double Available() const;
  double qps() const { return qps_; }
  int burst() const { return burst_; }

 private:
  void RefillLocked(Clock::TimePoint now) const;

  const double qps_;
  const int burst_;
  Clock& clock_;
  mutable std::mutex mutex_;
  mutable double tokens_;
  mutable Clock::TimePoint last_;
};

}  // namespace vk::hostclient
