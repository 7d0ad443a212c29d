#pragma once

#include <functional>
#include <random>

#include "hostclient/base/clock.h"

namespace vk::hostclient {

// Exponential backoff with jitter, so that many clients failing at once do not retry in step.
//
// kFull: the n-th delay (n from 0) is uniform in [0, min(max, base * 2^n)).
// kDecorrelated: each delay is uniform in [base, 3 * previous delay), capped at max; it grows
//   about as fast as the exponential but never falls below base.
// (Both from "Exponential Backoff And Jitter", AWS Architecture Blog, 2015.)
//
// The random source returns numbers uniform in [0, 1); it defaults to a per-instance
// std::mt19937_64 seeded from std::random_device. One instance follows one sequence of retries:
// not thread-safe.
class Backoff {
 public:
  enum class Jitter { kFull, kDecorrelated };
  using RandomSource = std::function<double()>;

  Backoff(Clock::Duration base, Clock::Duration max, Jitter jitter = Jitter::kFull,
          RandomSource random = {});

  // The delay before the next retry; advances the sequence.
  Clock::Duration Next();
  // Back to the first delay (after a success).
  void Reset();
  // How many delays Next has handed out since construction or Reset.
  int attempts() const { return attempts_; }

 private:
  double Random();

  Clock::Duration base_;
  Clock::Duration max_;
  Jitter jitter_;
  RandomSource random_;
  std::mt19937_64 engine_;
  int attempts_ = 0;
  Clock::Duration previous_{};
};

}  // namespace vk::hostclient
