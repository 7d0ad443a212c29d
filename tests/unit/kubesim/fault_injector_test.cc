#include "tests/kubesim/fault_injector.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace vk::kubesim {
namespace {

TEST(FaultInjectorTest, FaultAppliesToTheNextNMatchingRequests) {
  FaultInjector faults;
  FaultRule rule;
  rule.verb = "list";
  rule.path_substring = "/pods";
  rule.count = 2;
  rule.status = 429;
  rule.retry_after_seconds = 3;
  faults.AddFault(rule);

  EXPECT_FALSE(faults.Evaluate("get", "GET", "/api/v1/namespaces/a/pods/x").fault);
  EXPECT_FALSE(faults.Evaluate("list", "GET", "/api/v1/nodes").fault);
  auto first = faults.Evaluate("list", "GET", "/api/v1/pods");
  ASSERT_TRUE(first.fault);
  EXPECT_EQ(first.fault->status, 429);
  EXPECT_EQ(first.fault->retry_after_seconds, 3);
  EXPECT_TRUE(faults.Evaluate("list", "GET", "/api/v1/namespaces/a/pods").fault);
  EXPECT_FALSE(faults.Evaluate("list", "GET", "/api/v1/pods").fault);
  EXPECT_EQ(faults.faults_injected(), 2u);
}

TEST(FaultInjectorTest, HttpMethodMatchesAndUnlimitedRuleStaysUntilRemoved) {
  FaultInjector faults;
  FaultRule rule;
  rule.verb = "POST";
  rule.count = -1;
  rule.status = 503;
  int id = faults.AddFault(rule);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(faults.Evaluate("create", "POST", "/x").fault);
  EXPECT_FALSE(faults.Evaluate("get", "GET", "/x").fault);
  faults.Remove(id);
  EXPECT_FALSE(faults.Evaluate("create", "POST", "/x").fault);
}

TEST(FaultInjectorTest, LatencyAddsUpAndCounts) {
  FaultInjector faults;
  faults.AddLatency({"", "/api", std::chrono::milliseconds(20), 1});
  faults.AddLatency({"get", "", std::chrono::milliseconds(5), -1});
  EXPECT_EQ(faults.Evaluate("get", "GET", "/api/v1").delay, std::chrono::milliseconds(25));
  EXPECT_EQ(faults.Evaluate("get", "GET", "/api/v1").delay, std::chrono::milliseconds(5));
  EXPECT_EQ(faults.Evaluate("list", "GET", "/api/v1").delay, std::chrono::milliseconds(0));
  faults.Clear();
  EXPECT_EQ(faults.Evaluate("get", "GET", "/api/v1").delay, std::chrono::milliseconds(0));
}

TEST(FaultInjectorTest, DropWatchesCallsSubscribers) {
  FaultInjector faults;
  int calls = 0;
  auto sub = faults.SubscribeDropWatches([&] { ++calls; });
  faults.DropWatches();
  EXPECT_EQ(calls, 1);
  faults.Unsubscribe(sub);
  faults.DropWatches();
  EXPECT_EQ(calls, 1);
}

TEST(FaultInjectorTest, ConcurrentUseConsumesEachUseOnce) {
  FaultInjector faults;
  FaultRule rule;
  rule.count = 1000;
  faults.AddFault(rule);
  std::atomic<int> hits{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        if (faults.Evaluate("get", "GET", "/").fault) ++hits;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(hits.load(), 1000);
}

}  // namespace
}  // namespace vk::kubesim
