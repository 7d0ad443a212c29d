#include "syncer/rate_limiter.h"

#include <gtest/gtest.h>

namespace vk::syncer {
namespace {

using namespace std::chrono_literals;

TEST(ItemExponentialFailureRateLimiterTest, DoublesPerFailureUpToTheCap) {
  ItemExponentialFailureRateLimiter limiter(5ms, 1000s);
  EXPECT_EQ(limiter.When("a"), 5ms);
  EXPECT_EQ(limiter.When("a"), 10ms);
  EXPECT_EQ(limiter.When("a"), 20ms);
  EXPECT_EQ(limiter.When("a"), 40ms);
  EXPECT_EQ(limiter.NumRequeues("a"), 4);
  // 5 ms * 2^17 = 655 s; 2^18 passes the cap.
  for (int i = 4; i < 17; ++i) (void)limiter.When("a");
  EXPECT_EQ(limiter.When("a"), 5ms * (1 << 17));
  EXPECT_EQ(limiter.When("a"), 1000s);
  // Far beyond where base * 2^n overflows 64-bit nanoseconds.
  for (int i = 0; i < 200; ++i) (void)limiter.When("a");
  EXPECT_EQ(limiter.When("a"), 1000s);
}

TEST(ItemExponentialFailureRateLimiterTest, ItemsAreIndependentAndForgetResets) {
  ItemExponentialFailureRateLimiter limiter(5ms, 1000s);
  (void)limiter.When("a");
  (void)limiter.When("a");
  EXPECT_EQ(limiter.When("b"), 5ms);
  EXPECT_EQ(limiter.NumRequeues("a"), 2);
  EXPECT_EQ(limiter.NumRequeues("b"), 1);
  limiter.Forget("a");
  EXPECT_EQ(limiter.NumRequeues("a"), 0);
  EXPECT_EQ(limiter.When("a"), 5ms);
  EXPECT_EQ(limiter.NumRequeues("unknown"), 0);
}

TEST(BucketRateLimiterTest, BurstThenSpacedByQps) {
  FakeClock clock;
  BucketRateLimiter limiter(10, 100, clock);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(limiter.When("x" + std::to_string(i)), 0ns) << i;
  EXPECT_EQ(limiter.When("late"), 100ms);
  EXPECT_EQ(limiter.When("later"), 200ms);
  clock.Advance(1s);
  // 10 tokens refilled, 2 of them already promised.
  for (int i = 0; i < 8; ++i) ASSERT_EQ(limiter.When("y"), 0ns) << i;
  EXPECT_EQ(limiter.When("y"), 100ms);
  EXPECT_EQ(limiter.NumRequeues("y"), 0);
}

TEST(MaxOfRateLimiterTest, TakesTheLongestAndForgetsEverywhere) {
  FakeClock clock;
  auto limiter = DefaultControllerRateLimiter(clock);
  // Per-item backoff dominates while the bucket has tokens.
  EXPECT_EQ(limiter->When("a"), 5ms);
  EXPECT_EQ(limiter->When("a"), 10ms);
  EXPECT_EQ(limiter->NumRequeues("a"), 2);
  limiter->Forget("a");
  EXPECT_EQ(limiter->NumRequeues("a"), 0);
  // Drain the bucket (2 of its 100 tokens went above): the overall limit then dominates new items.
  for (int i = 0; i < 98; ++i) (void)limiter->When("k" + std::to_string(i));
  EXPECT_EQ(limiter->When("fresh"), 100ms);
}

}  // namespace
}  // namespace vk::syncer
