#include "hostclient/token_bucket.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace vk::hostclient {
namespace {

using std::chrono::milliseconds;

class TokenBucketTest : public ::testing::Test {
 protected:
  FakeClock clock_;
};

TEST_F(TokenBucketTest, BurstThenRate) {
  TokenBucket bucket(/*qps=*/10, /*burst=*/3, clock_);
  EXPECT_TRUE(bucket.TryTake());
  EXPECT_TRUE(bucket.TryTake());
  EXPECT_TRUE(bucket.TryTake());
  EXPECT_FALSE(bucket.TryTake());
  clock_.Advance(milliseconds(99));
  EXPECT_FALSE(bucket.TryTake());
  clock_.Advance(milliseconds(1));
  EXPECT_TRUE(bucket.TryTake());
  EXPECT_FALSE(bucket.TryTake());
}

TEST_F(TokenBucketTest, RefillIsCappedAtBurst) {
  TokenBucket bucket(100, 2, clock_);
  clock_.Advance(std::chrono::hours(1));
  EXPECT_DOUBLE_EQ(bucket.Available(), 2.0);
  EXPECT_TRUE(bucket.TryTake());
  EXPECT_TRUE(bucket.TryTake());
  EXPECT_FALSE(bucket.TryTake());
}

TEST_F(TokenBucketTest, ReserveQueuesCallersInOrder) {
  TokenBucket bucket(/*qps=*/2, /*burst=*/2, clock_);
  EXPECT_EQ(bucket.Reserve(), Clock::Duration::zero());
  EXPECT_EQ(bucket.Reserve(), Clock::Duration::zero());
  // Each later reservation waits one more interval: the tokens are promised in order.
  EXPECT_EQ(bucket.Reserve(), milliseconds(500));
  EXPECT_EQ(bucket.Reserve(), milliseconds(1000));
  EXPECT_EQ(bucket.Reserve(), milliseconds(1500));
  EXPECT_FALSE(bucket.TryTake());
  clock_.Advance(milliseconds(1500));
  // The promised tokens have now been used; the next one comes 500 ms later.
  EXPECT_FALSE(bucket.TryTake());
  EXPECT_EQ(bucket.Reserve(), milliseconds(500));
}

TEST_F(TokenBucketTest, WaitSleepsThroughTheSleeper) {
  TokenBucket bucket(4, 1, clock_);
  FakeSleeper sleeper(clock_);
  EXPECT_EQ(bucket.Wait(sleeper), Clock::Duration::zero());
  EXPECT_EQ(bucket.Wait(sleeper), milliseconds(250));
  EXPECT_EQ(bucket.Wait(sleeper), milliseconds(250));
  ASSERT_EQ(sleeper.sleeps().size(), 2u);
  EXPECT_EQ(sleeper.total(), milliseconds(500));
  sleeper.Shutdown();
  EXPECT_EQ(bucket.Wait(sleeper), std::nullopt);
}

TEST_F(TokenBucketTest, ZeroQpsDisablesLimiting) {
  TokenBucket bucket(0, 1, clock_);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(bucket.TryTake());
    ASSERT_EQ(bucket.Reserve(), Clock::Duration::zero());
  }
}

TEST_F(TokenBucketTest, ConcurrentTakersGetExactlyTheBurst) {
  TokenBucket bucket(1, 100, clock_);
  std::atomic<int> taken{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        if (bucket.TryTake()) taken.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(taken.load(), 100);
}

TEST(RealSleeperTest, ShutdownInterruptsASleep) {
  RealSleeper sleeper;
  std::atomic<bool> result{true};
  std::thread sleeping([&] { result = sleeper.SleepFor(std::chrono::hours(1)); });
  sleeper.Shutdown();
  sleeping.join();
  EXPECT_FALSE(result.load());
  EXPECT_FALSE(sleeper.SleepFor(milliseconds(1)));
}

}  // namespace
}  // namespace vk::hostclient
