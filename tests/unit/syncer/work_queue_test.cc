#include "syncer/work_queue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <thread>
#include <vector>

namespace vk::syncer {
namespace {

using namespace std::chrono_literals;

// Polls a condition until it holds or a deadline passes (for state that has no notification).
bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

class WorkQueueTest : public ::testing::Test {
 protected:
  WorkQueueOptions Options() {
    WorkQueueOptions options;
    options.name = "test";
    options.clock = &clock_;
    return options;
  }

  FakeClock clock_;
};

TEST_F(WorkQueueTest, DeduplicatesAndKeepsOrder) {
  WorkQueue queue(Options());
  queue.Add("a");
  queue.Add("b");
  queue.Add("a");
  queue.Add("c");
  queue.Add("b");
  EXPECT_EQ(queue.Len(), 3u);
  EXPECT_EQ(queue.Get(), "a");
  EXPECT_EQ(queue.Get(), "b");
  EXPECT_EQ(queue.Get(), "c");
  EXPECT_EQ(queue.Len(), 0u);
}

TEST_F(WorkQueueTest, ReAddWhileProcessingIsDeferredUntilDone) {
  WorkQueue queue(Options());
  queue.Add("a");
  ASSERT_EQ(queue.Get(), "a");
  queue.Add("a");
  queue.Add("a");
  // Not handed out again while a worker holds it.
  EXPECT_EQ(queue.Len(), 0u);
  queue.Add("b");
  EXPECT_EQ(queue.Get(), "b");
  queue.Done("a");
  EXPECT_EQ(queue.Len(), 1u);
  EXPECT_EQ(queue.Get(), "a");
  queue.Done("a");
  queue.Done("b");
  EXPECT_EQ(queue.Len(), 0u);
}

TEST_F(WorkQueueTest, DoneWithoutReAddDoesNotRequeue) {
  WorkQueue queue(Options());
  queue.Add("a");
  ASSERT_EQ(queue.Get(), "a");
  queue.Done("a");
  queue.Done("never-handed-out");
  EXPECT_EQ(queue.Len(), 0u);
}

TEST_F(WorkQueueTest, NoKeyIsEverProcessedByTwoWorkersAtOnce) {
  WorkQueue queue(Options());
  constexpr int kKeys = 5;
  constexpr int kWorkers = 8;
  constexpr int kAddsPerProducer = 3000;
  constexpr int kMinProcessed = 100;
  std::array<std::atomic<int>, kKeys> in_flight{};
  std::atomic<int> violations{0};
  std::atomic<int> processed{0};
  // Per key: how many times a worker started on it after the producers finished.
  std::array<std::atomic<int>, kKeys> after_last_add{};
  std::atomic<bool> producers_done{false};

  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&] {
      while (auto key = queue.Get()) {
        const int k = std::stoi(*key);
        if (in_flight[k].fetch_add(1) != 0) ++violations;
        if (producers_done.load()) ++after_last_add[k];
        std::this_thread::yield();
        in_flight[k].fetch_sub(1);
        ++processed;
        queue.Done(*key);
      }
    });
  }
  std::vector<std::thread> producers;
  for (int p = 0; p < 2; ++p) {
    producers.emplace_back([&, p] {
      // Keep producing until workers have really run concurrently with the adds.
      const auto deadline = std::chrono::steady_clock::now() + 5s;
      for (int i = 0; i < kAddsPerProducer || (processed.load() < kMinProcessed &&
                                               std::chrono::steady_clock::now() < deadline);
           ++i) {
        queue.Add(std::to_string((i + p) % kKeys));
        std::this_thread::yield();
      }
    });
  }
  for (auto& t : producers) t.join();
  producers_done = true;
  // Each key must be seen once more after its last add: add them all again and drain.
  for (int k = 0; k < kKeys; ++k) queue.Add(std::to_string(k));
  ASSERT_TRUE(WaitFor([&] {
    for (int k = 0; k < kKeys; ++k) {
      if (after_last_add[k].load() == 0) return false;
    }
    return true;
  }));
  queue.ShutDownWithDrain();
  for (auto& t : workers) t.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_GE(processed.load(), kMinProcessed);
}

TEST_F(WorkQueueTest, AddAfterWaitsForTheClock) {
  WorkQueue queue(Options());
  queue.AddAfter("a", 10s);
  EXPECT_EQ(queue.Len(), 0u);
  EXPECT_EQ(queue.NumWaiting(), 1u);
  clock_.Advance(5s);
  queue.ProcessDelayed();
  EXPECT_EQ(queue.Len(), 0u);
  clock_.Advance(5s);
  queue.ProcessDelayed();
  EXPECT_EQ(queue.Len(), 1u);
  EXPECT_EQ(queue.NumWaiting(), 0u);
  EXPECT_EQ(queue.Get(), "a");
}

TEST_F(WorkQueueTest, EarliestDelayWinsAndDueKeysComeOutInTimeOrder) {
  WorkQueue queue(Options());
  queue.AddAfter("a", 10s);
  queue.AddAfter("a", 2s);  // sooner: replaces
  queue.AddAfter("b", 1s);
  queue.AddAfter("b", 10s);  // later: ignored
  queue.AddAfter("c", 3s);
  EXPECT_EQ(queue.NumWaiting(), 3u);
  clock_.Advance(3s);
  queue.ProcessDelayed();
  EXPECT_EQ(queue.Len(), 3u);
  EXPECT_EQ(queue.Get(), "b");
  EXPECT_EQ(queue.Get(), "a");
  EXPECT_EQ(queue.Get(), "c");
  clock_.Advance(1h);
  queue.ProcessDelayed();
  EXPECT_EQ(queue.Len(), 0u);
}

TEST_F(WorkQueueTest, DelayedKeyAlreadyQueuedIsNotDuplicated) {
  WorkQueue queue(Options());
  queue.Add("a");
  queue.AddAfter("a", 1s);
  queue.AddAfter("b", 0s);  // no delay: at once
  EXPECT_EQ(queue.Len(), 2u);
  clock_.Advance(1s);
  queue.ProcessDelayed();
  EXPECT_EQ(queue.Len(), 2u);
}

TEST(WorkQueueRealClockTest, DelayThreadReleasesDueKeys) {
  WorkQueue queue;
  queue.AddAfter("a", 5ms);
  // Get blocks until the queue's own thread moves the key in.
  EXPECT_EQ(queue.Get(), "a");
}

TEST_F(WorkQueueTest, RateLimitedAddsBackOffPerKeyUntilForgotten) {
  WorkQueue queue(Options());
  queue.AddRateLimited("a");
  EXPECT_EQ(queue.NumRequeues("a"), 1);
  EXPECT_EQ(queue.Len(), 0u);
  clock_.Advance(5ms);
  queue.ProcessDelayed();
  ASSERT_EQ(queue.Get(), "a");

  queue.AddRateLimited("a");  // second failure: 10 ms
  EXPECT_EQ(queue.NumRequeues("a"), 2);
  clock_.Advance(9ms);
  queue.ProcessDelayed();
  EXPECT_EQ(queue.Len(), 0u);
  queue.Done("a");
  clock_.Advance(1ms);
  queue.ProcessDelayed();
  ASSERT_EQ(queue.Get(), "a");

  queue.Forget("a");
  EXPECT_EQ(queue.NumRequeues("a"), 0);
  queue.Done("a");
  queue.AddRateLimited("a");  // back to 5 ms
  clock_.Advance(5ms);
  queue.ProcessDelayed();
  EXPECT_EQ(queue.Len(), 1u);
}

TEST_F(WorkQueueTest, CustomRateLimiter) {
  auto options = Options();
  options.rate_limiter = std::make_unique<ItemExponentialFailureRateLimiter>(1s, 4s);
  WorkQueue queue(std::move(options));
  for (int i = 0; i < 4; ++i) queue.AddRateLimited("a");
  // The earliest (1 s) of the four requests wins.
  clock_.Advance(1s);
  queue.ProcessDelayed();
  EXPECT_EQ(queue.Len(), 1u);
  EXPECT_EQ(queue.NumRequeues("a"), 4);
}

TEST_F(WorkQueueTest, ShutDownWakesEveryGetter) {
  WorkQueue queue(Options());
  std::atomic<int> returned{0};
  std::vector<std::thread> getters;
  for (int i = 0; i < 4; ++i) {
    getters.emplace_back([&] {
      EXPECT_EQ(queue.Get(), std::nullopt);
      ++returned;
    });
  }
  queue.ShutDown();
  for (auto& t : getters) t.join();
  EXPECT_EQ(returned.load(), 4);
  EXPECT_TRUE(queue.ShuttingDown());
}

TEST_F(WorkQueueTest, AfterShutDownQueuedKeysDrainAndNewAddsAreRejected) {
  WorkQueue queue(Options());
  queue.Add("a");
  queue.AddAfter("later", 1s);
  queue.ShutDown();
  queue.Add("b");
  queue.AddRateLimited("c");
  EXPECT_EQ(queue.Get(), "a");
  EXPECT_EQ(queue.Get(), std::nullopt);
  clock_.Advance(1h);
  queue.ProcessDelayed();
  EXPECT_EQ(queue.Get(), std::nullopt);
  EXPECT_EQ(queue.NumWaiting(), 0u);
}

TEST_F(WorkQueueTest, ShutDownWithDrainWaitsForDone) {
  WorkQueue queue(Options());
  queue.Add("a");
  ASSERT_EQ(queue.Get(), "a");
  std::atomic<bool> drained{false};
  std::thread drainer([&] {
    queue.ShutDownWithDrain();
    drained = true;
  });
  ASSERT_TRUE(WaitFor([&] { return queue.ShuttingDown(); }));
  EXPECT_FALSE(drained.load());
  queue.Done("a");
  drainer.join();
  EXPECT_TRUE(drained.load());
}

TEST_F(WorkQueueTest, ShutDownWithDrainReturnsAtOnceWhenIdle) {
  WorkQueue queue(Options());
  queue.ShutDownWithDrain();
  EXPECT_TRUE(queue.ShuttingDown());
}

double Value(prometheus::Registry& registry, const std::string& family, const std::string& name) {
  for (const auto& f : registry.Collect()) {
    if (f.name != family) continue;
    for (const auto& m : f.metric) {
      bool match = false;
      for (const auto& l : m.label) match |= l.name == "name" && l.value == name;
      if (!match) continue;
      switch (f.type) {
        case prometheus::MetricType::Counter:
          return m.counter.value;
        case prometheus::MetricType::Gauge:
          return m.gauge.value;
        case prometheus::MetricType::Histogram:
          return m.histogram.sample_sum;
        default:
          return -1;
      }
    }
  }
  return -1;
}

TEST_F(WorkQueueTest, RecordsMetrics) {
  prometheus::Registry registry;
  auto options = Options();
  options.metrics = &registry;
  options.metrics_update_period = 1ms;
  WorkQueue queue(std::move(options));
  queue.Add("a");
  queue.Add("a");
  queue.Add("b");
  EXPECT_EQ(Value(registry, "workqueue_adds_total", "test"), 2);
  EXPECT_EQ(Value(registry, "workqueue_depth", "test"), 2);

  clock_.Advance(2s);
  ASSERT_EQ(queue.Get(), "a");
  EXPECT_EQ(Value(registry, "workqueue_depth", "test"), 1);
  EXPECT_DOUBLE_EQ(Value(registry, "workqueue_queue_duration_seconds", "test"), 2.0);

  clock_.Advance(3s);
  ASSERT_TRUE(WaitFor([&] {
    return Value(registry, "workqueue_longest_running_processor_seconds", "test") == 3.0;
  }));
  EXPECT_EQ(Value(registry, "workqueue_unfinished_work_seconds", "test"), 3.0);
  queue.Done("a");
  EXPECT_DOUBLE_EQ(Value(registry, "workqueue_work_duration_seconds", "test"), 3.0);

  queue.AddRateLimited("c");
  EXPECT_EQ(Value(registry, "workqueue_retries_total", "test"), 1);
  ASSERT_TRUE(WaitFor([&] {
    return Value(registry, "workqueue_longest_running_processor_seconds", "test") == 0.0;
  }));
}

TEST_F(WorkQueueTest, QueuesSharingARegistryKeepSeparateSeries) {
  prometheus::Registry registry;
  auto first_options = Options();
  first_options.name = "first";
  first_options.metrics = &registry;
  auto second_options = Options();
  second_options.name = "second";
  second_options.metrics = &registry;
  WorkQueue first(std::move(first_options));
  WorkQueue second(std::move(second_options));
  first.Add("a");
  second.Add("a");
  second.Add("b");
  EXPECT_EQ(Value(registry, "workqueue_adds_total", "first"), 1);
  EXPECT_EQ(Value(registry, "workqueue_adds_total", "second"), 2);
}

}  // namespace
}  // namespace vk::syncer
