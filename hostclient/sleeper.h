#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "hostclient/base/clock.h"

namespace vk::hostclient {

// Waits for a while on behalf of retry loops and rate limiters, so that tests can replace waiting
// with bookkeeping. Shutdown interrupts every sleep in progress and makes later ones return at
// once: a component that is shutting down must not sit out a Retry-After of several minutes.
// Thread-safe.
class Sleeper {
 public:
  virtual ~Sleeper() = default;
  // Waits for d (returns at once for d <= 0). False when interrupted by Shutdown, before or
  // during the wait.
  [[nodiscard]] virtual bool SleepFor(Clock::Duration d) = 0;
  virtual void Shutdown() = 0;
};

using SleeperPtr = std::unique_ptr<Sleeper>;

// Sleeps on a condition variable against the steady clock.
class RealSleeper : public Sleeper {
 public:
  bool SleepFor(Clock::Duration d) override {
    std::unique_lock lock(mutex_);
    if (d <= Clock::Duration::zero()) return !shutdown_;
    return !cv_.wait_for(lock, d, [this] { return shutdown_; });
  }
  void Shutdown() override {
    {
      std::lock_guard lock(mutex_);
      shutdown_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool shutdown_ = false;
};

// For tests: records each requested sleep and advances a FakeClock by it instead of waiting, so
// that code which sleeps then reads the clock sees time pass. Zero-length sleeps are not recorded.
class FakeSleeper : public Sleeper {
 public:
  explicit FakeSleeper(FakeClock& clock) : clock_(clock) {}

  bool SleepFor(Clock::Duration d) override {
    std::lock_guard lock(mutex_);
    if (shutdown_) return false;
    if (d > Clock::Duration::zero()) {
      sleeps_.push_back(d);
      clock_.Advance(d);
    }
    return true;
  }
  void Shutdown() override {
    std::lock_guard lock(mutex_);
    shutdown_ = true;
  }

  std::vector<Clock::Duration> sleeps() const {
    std::lock_guard lock(mutex_);
    return sleeps_;
  }
  Clock::Duration total() const {
    std::lock_guard lock(mutex_);
    Clock::Duration sum{};
    for (auto d : sleeps_) sum += d;
    return sum;
  }

 private:
  FakeClock& clock_;
  mutable std::mutex mutex_;
  bool shutdown_ = false;
  std::vector<Clock::Duration> sleeps_;
};

}  // namespace vk::hostclient
