#include "hostclient/deadline_watchdog.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "tests/support/wait_for.h"

namespace vk::hostclient {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using vk::testing::WaitFor;

TEST(DeadlineWatchdogTest, CallsTheFunctionOnceTheDeadlinePasses) {
  DeadlineWatchdog watchdog("test-watchdog");
  std::atomic<int> calls{0};
  const auto deadline = Clock::now() + 50ms;
  std::atomic<Clock::time_point> called_at{};
  const auto id = watchdog.Add(deadline, [&] {
    called_at = Clock::now();
    ++calls;
  });
  ASSERT_TRUE(WaitFor([&] { return calls.load() == 1; }));
  EXPECT_GE(called_at.load(), deadline);
  EXPECT_TRUE(watchdog.Remove(id));  // reports that it fired
  EXPECT_EQ(calls.load(), 1);
}

TEST(DeadlineWatchdogTest, AnEarlierDeadlineAddedLaterIsNotDelayedByAPendingOne) {
  DeadlineWatchdog watchdog("test-watchdog");
  std::atomic<bool> late_fired{false};
  std::atomic<bool> early_fired{false};
  const auto late = watchdog.Add(Clock::now() + 1h, [&] { late_fired = true; });
  watchdog.Add(Clock::now() + 10ms, [&] { early_fired = true; });
  ASSERT_TRUE(WaitFor([&] { return early_fired.load(); }));
  EXPECT_FALSE(late_fired.load());
  EXPECT_FALSE(watchdog.Remove(late));
}

TEST(DeadlineWatchdogTest, ARemovedDeadlineNeverFires) {
  std::atomic<int> calls{0};
  {
    DeadlineWatchdog watchdog("test-watchdog");
    const auto removed = watchdog.Add(Clock::now() + 20ms, [&] { ++calls; });
    EXPECT_FALSE(watchdog.Remove(removed));
    std::atomic<bool> marker{false};
    // A later deadline that fires proves the watchdog went past the removed one.
    watchdog.Add(Clock::now() + 60ms, [&] { marker = true; });
    ASSERT_TRUE(WaitFor([&] { return marker.load(); }));
  }
  EXPECT_EQ(calls.load(), 0);
}

}  // namespace
}  // namespace vk::hostclient
