#include "hostclient/backoff.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace vk::hostclient {

Backoff::Backoff(Clock::Duration base, Clock::Duration max, Jitter jitter, RandomSource random)
    : base_(std::max(base, Clock::Duration(1))),
      max_(std::max(max, base_)),
      jitter_(jitter),
      random_(std::move(random)) {
  if (!random_) engine_.seed(std::random_device{}());
}

double Backoff::Random() {
  double r = random_ ? random_() : std::uniform_real_distribution<double>(0.0, 1.0)(engine_);
  // A misbehaving source must not produce negative or runaway delays.
  if (!(r >= 0.0)) r = 0.0;
  if (r >= 1.0) r = std::nextafter(1.0, 0.0);
  return r;
}

Clock::Duration Backoff::Next() {
  const double base = static_cast<double>(base_.count());
  const double max = static_cast<double>(max_.count());
  double delay = 0;
  if (jitter_ == Jitter::kFull) {
    // Computed in floating point: base * 2^n overflows integer durations after ~60 attempts.
    const double ceiling = std::min(max, base * std::pow(2.0, std::min(attempts_, 1000)));
    delay = Random() * ceiling;
  } else {
    const double previous = attempts_ == 0 ? base : static_cast<double>(previous_.count());
    const double upper = std::max(base, previous * 3);
    delay = std::min(max, base + Random() * (upper - base));
  }
  ++attempts_;
  previous_ = Clock::Duration(static_cast<Clock::Duration::rep>(delay));
  return previous_;
}

void Backoff::Reset() {
  attempts_ = 0;
  previous_ = {};
}

}  // namespace vk::hostclient
