#pragma once

#include <chrono>
#include <memory>
#include <mutex>

namespace vk {

// Monotonic time source, injected so that tests of timers, backoff and rate limits run without
// sleeping. Thread-safe.
class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Duration = std::chrono::steady_clock::duration;
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;

  // The process-wide real clock (a trivially constructed singleton).
  static Clock& Real();
};

// A clock that moves only when told to. For tests.
class FakeClock : public Clock {
 public:
  TimePoint Now() const override {
    std::lock_guard lock(mutex_);
    return now_;
  }
  void Advance(Duration d) {
    std::lock_guard lock(mutex_);
    now_ += d;
  }

 private:
  mutable std::mutex mutex_;
  TimePoint now_{std::chrono::hours(1)};
};

}  // namespace vk
