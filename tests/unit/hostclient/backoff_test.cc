#include "hostclient/backoff.h"

#include <gtest/gtest.h>

#include <vector>

namespace vk::hostclient {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Replays the given numbers in a loop.
Backoff::RandomSource Sequence(std::vector<double> values) {
  return
      [values = std::move(values), i = size_t{0}]() mutable { return values[i++ % values.size()]; };
}

TEST(BackoffTest, FullJitterDoublesTheCeilingUpToMax) {
  // r close to 1 shows the ceiling of each step.
  Backoff backoff(milliseconds(100), seconds(1), Backoff::Jitter::kFull, Sequence({0.999999}));
  EXPECT_NEAR(milliseconds(100).count(),
              std::chrono::duration_cast<milliseconds>(backoff.Next()).count(), 1);
  EXPECT_NEAR(200, std::chrono::duration_cast<milliseconds>(backoff.Next()).count(), 1);
  EXPECT_NEAR(400, std::chrono::duration_cast<milliseconds>(backoff.Next()).count(), 1);
  EXPECT_NEAR(800, std::chrono::duration_cast<milliseconds>(backoff.Next()).count(), 1);
  EXPECT_NEAR(1000, std::chrono::duration_cast<milliseconds>(backoff.Next()).count(), 1);
  EXPECT_NEAR(1000, std::chrono::duration_cast<milliseconds>(backoff.Next()).count(), 1);
  EXPECT_EQ(backoff.attempts(), 6);
}

TEST(BackoffTest, FullJitterScalesByTheRandomNumber) {
  Backoff backoff(milliseconds(100), seconds(10), Backoff::Jitter::kFull,
                  Sequence({0.5, 0.0, 0.25}));
  EXPECT_EQ(backoff.Next(), milliseconds(50));
  EXPECT_EQ(backoff.Next(), milliseconds(0));
  EXPECT_EQ(backoff.Next(), milliseconds(100));
}

TEST(BackoffTest, ResetStartsOver) {
  Backoff backoff(milliseconds(100), seconds(10), Backoff::Jitter::kFull, Sequence({0.5}));
  backoff.Next();
  backoff.Next();
  backoff.Next();
  backoff.Reset();
  EXPECT_EQ(backoff.attempts(), 0);
  EXPECT_EQ(backoff.Next(), milliseconds(50));
}

TEST(BackoffTest, DecorrelatedJitterStaysBetweenBaseAndMax) {
  Backoff low(milliseconds(100), seconds(1), Backoff::Jitter::kDecorrelated, Sequence({0.0}));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(low.Next(), milliseconds(100));

  // r = 0.5: base + 0.5 * (3 * previous - base).
  Backoff mid(milliseconds(100), seconds(1), Backoff::Jitter::kDecorrelated, Sequence({0.5}));
  EXPECT_EQ(mid.Next(), milliseconds(200));  // 100 + 0.5 * (300 - 100)
  EXPECT_EQ(mid.Next(), milliseconds(350));  // 100 + 0.5 * (600 - 100)
  EXPECT_EQ(mid.Next(), milliseconds(575));  // 100 + 0.5 * (1050 - 100)
  EXPECT_EQ(mid.Next(), milliseconds(912) + std::chrono::microseconds(500));
  EXPECT_EQ(mid.Next(), seconds(1));
  EXPECT_EQ(mid.Next(), seconds(1));
}

TEST(BackoffTest, DefaultRandomSourceStaysInBounds) {
  Backoff full(milliseconds(10), milliseconds(500));
  Backoff decorrelated(milliseconds(10), milliseconds(500), Backoff::Jitter::kDecorrelated);
  for (int i = 0; i < 200; ++i) {
    auto a = full.Next();
    EXPECT_GE(a, Clock::Duration::zero());
    EXPECT_LE(a, milliseconds(500));
    auto b = decorrelated.Next();
    EXPECT_GE(b, milliseconds(10));
    EXPECT_LE(b, milliseconds(500));
  }
}

TEST(BackoffTest, ManyAttemptsDoNotOverflow) {
  Backoff backoff(seconds(1), std::chrono::hours(1), Backoff::Jitter::kFull, Sequence({0.999}));
  for (int i = 0; i < 5000; ++i) backoff.Next();
  auto d = backoff.Next();
  EXPECT_GT(d, std::chrono::minutes(59));
  EXPECT_LE(d, std::chrono::hours(1));
}

TEST(BackoffTest, OutOfRangeRandomNumbersAreClamped) {
  Backoff backoff(milliseconds(100), seconds(1), Backoff::Jitter::kFull, Sequence({-3.0, 7.0}));
  EXPECT_EQ(backoff.Next(), Clock::Duration::zero());
  EXPECT_LE(backoff.Next(), milliseconds(200));
}

}  // namespace
}  // namespace vk::hostclient
