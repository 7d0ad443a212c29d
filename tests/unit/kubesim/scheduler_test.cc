// The scheduler for nodes kubesim does not simulate: binds to Ready nodes that fit, round-robin;
// skips NotReady, tainted and cordoned nodes; reports unschedulable pods as kube-scheduler does and
// tries them again when nodes change.

#include "tests/kubesim/scheduler.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "tests/support/wait_for.h"
#include "tests/unit/kubesim/storage_fixture.h"

namespace vk::kubesim {
namespace {

using testing::J;
using vk::testing::WaitFor;

class SchedulerTest : public testing::StorageTest {
 protected:
  void SetUp() override {
    Scheduler::Options options;
    options.wall_clock = [this] { return now_; };
    scheduler_ = std::make_unique<Scheduler>(*storage_, catalog_, options);
    auto started = scheduler_->Start();
    ASSERT_TRUE(started) << started.error().ToString();
  }

  void TearDown() override { scheduler_->Stop(); }

  // A node as vkubelet registers one; ready says its Ready condition ("True", "False",
  // "Unknown"); extra_spec is added to its spec.
  void CreateNode(const std::string& name, const std::string& ready = "True",
                  const std::string& extra_spec = "", const std::string& labels = "{}") {
    CreateOk("nodes", "",
             R"({"metadata":{"name":")" + name + R"(","labels":)" + labels + R"(},"spec":{)" +
                 extra_spec + R"(},"status":{"conditions":[{"type":"Ready","status":")" + ready +
                 R"("}]}})");
  }

  void SetReady(const std::string& name, const std::string& ready) {
    Ok(storage_->Patch(
        R("nodes"), "", name, PatchKind::kStrategicMerge,
        R"({"status":{"conditions":[{"type":"Ready","status":")" + ready + R"("}]}})", "status",
        "test", false, false));
  }

  std::string NodeOf(const std::string& pod) {
    auto got = storage_->Get(R("pods"), "default", pod);
    return got ? std::string(obj::String(*got, {"spec", "nodeName"})) : "<gone>";
  }

  std::string Scheduled(const std::string& pod, std::string_view field) {
    auto got = storage_->Get(R("pods"), "default", pod);
    if (!got) return "";
    const auto* conditions = obj::Find(*got, {"status", "conditions"});
    if (conditions == nullptr || !conditions->is_array()) return "";
    for (const auto& c : conditions->get_array()) {
      if (obj::String(c.get_object(), {"type"}) == "PodScheduled") {
        return std::string(obj::String(c.get_object(), {field}));
      }
    }
    return "";
  }

  bool HasEvent(const std::string& pod, std::string_view reason) {
    ListQuery query;
    query.ns = "default";
    query.field_selector = "involvedObject.name=" + pod;
    auto list = storage_->ListObjects(R("events"), query);
    if (!list) return false;
    for (const auto& e : list->items) {
      if (obj::String(*e, {"reason"}) == reason) return true;
    }
    return false;
  }

  std::unique_ptr<Scheduler> scheduler_;
};

TEST_F(SchedulerTest, BindsToAReadyNode) {
  CreateNode("vk-node");
  CreatePod("p1");
  ASSERT_TRUE(WaitFor([&] { return NodeOf("p1") == "vk-node"; }));
  EXPECT_EQ(Scheduled("p1", "status"), "True");
  EXPECT_TRUE(WaitFor([&] { return HasEvent("p1", "Scheduled"); }));
  EXPECT_TRUE(WaitFor([&] { return scheduler_->stats().pods_bound == 1u; }));
}

TEST_F(SchedulerTest, SkipsNotReadyTaintedAndCordonedNodes) {
  CreateNode("a-not-ready", "False");
  CreateNode("b-unknown", "Unknown");
  CreateNode("c-tainted", "True",
             R"("taints":[{"key":"dedicated","value":"x","effect":"NoSchedule"}])");
  CreateNode("d-cordoned", "True", R"("unschedulable":true)");
  CreateNode("e-good");
  for (int i = 0; i < 4; ++i) CreatePod("p" + std::to_string(i));
  for (int i = 0; i < 4; ++i) {
    const std::string pod = "p" + std::to_string(i);
    EXPECT_TRUE(WaitFor([&] { return NodeOf(pod) == "e-good"; })) << pod << " on " << NodeOf(pod);
  }
  // A pod that tolerates the taint may go there too (round-robin between the two).
  CreatePod("tolerant", R"("tolerations":[{"key":"dedicated","operator":"Exists"}])");
  ASSERT_TRUE(WaitFor([&] { return !NodeOf("tolerant").empty(); }));
  EXPECT_TRUE(NodeOf("tolerant") == "c-tainted" || NodeOf("tolerant") == "e-good");
}

TEST_F(SchedulerTest, RoundRobinsAcrossNodes) {
  CreateNode("n1");
  CreateNode("n2");
  std::map<std::string, int> per_node;
  for (int i = 0; i < 6; ++i) {
    const std::string pod = "p" + std::to_string(i);
    CreatePod(pod);
    ASSERT_TRUE(WaitFor([&] { return !NodeOf(pod).empty(); }));
    ++per_node[NodeOf(pod)];
  }
  EXPECT_EQ(per_node["n1"], 3);
  EXPECT_EQ(per_node["n2"], 3);
}

TEST_F(SchedulerTest, UnschedulableUntilTheNodeBecomesReady) {
  CreateNode("vk-node", "False");
  CreatePod("waiting");
  ASSERT_TRUE(WaitFor([&] { return Scheduled("waiting", "reason") == "Unschedulable"; }));
  EXPECT_EQ(Scheduled("waiting", "status"), "False");
  EXPECT_EQ(Scheduled("waiting", "message"),
            "0/1 nodes are available: 1 node(s) had untolerated taint "
            "{node.kubernetes.io/not-ready: }. preemption: 0/1 nodes are available: 1 Preemption "
            "is not helpful for scheduling.");
  EXPECT_TRUE(WaitFor([&] { return HasEvent("waiting", "FailedScheduling"); }));
  EXPECT_EQ(NodeOf("waiting"), "");

  SetReady("vk-node", "True");
  ASSERT_TRUE(WaitFor([&] { return NodeOf("waiting") == "vk-node"; }));
  EXPECT_EQ(Scheduled("waiting", "status"), "True");
}

TEST_F(SchedulerTest, ResumesWhenTheStorageClosesItsWatches) {
  CreateNode("vk-node");
  storage_->CloseAllWatchers();  // as an API server restart would
  CreatePod("after");
  EXPECT_TRUE(WaitFor([&] { return NodeOf("after") == "vk-node"; }));
}

TEST_F(SchedulerTest, NoNodesUntilOneRegisters) {
  CreatePod("early");
  ASSERT_TRUE(WaitFor([&] { return Scheduled("early", "reason") == "Unschedulable"; }));
  EXPECT_EQ(Scheduled("early", "message"), "no nodes available to schedule pods");
  CreateNode("late");
  EXPECT_TRUE(WaitFor([&] { return NodeOf("early") == "late"; }));
}

TEST_F(SchedulerTest, FollowsNodeSelectorsAndLeavesOtherPodsAlone) {
  CreateNode("plain");
  CreateNode("ssd", "True", "", R"({"disk":"ssd"})");
  CreatePod("wants-ssd", R"("nodeSelector":{"disk":"ssd"})");
  CreatePod("other-scheduler", R"("schedulerName":"custom")");
  CreatePod("prebound", R"("nodeName":"plain")");
  ASSERT_TRUE(WaitFor([&] { return NodeOf("wants-ssd") == "ssd"; }));
  CreatePod("marker");
  ASSERT_TRUE(WaitFor([&] { return !NodeOf("marker").empty(); }));
  EXPECT_EQ(NodeOf("other-scheduler"), "");
  EXPECT_EQ(NodeOf("prebound"), "plain");
  EXPECT_TRUE(WaitFor([&] { return scheduler_->stats().pods_bound == 2u; }));

  // A selector no node matches: unschedulable, then schedulable once a node gets the label.
  CreatePod("wants-gpu", R"("nodeSelector":{"gpu":"yes"})");
  ASSERT_TRUE(WaitFor([&] { return Scheduled("wants-gpu", "reason") == "Unschedulable"; }));
  EXPECT_NE(Scheduled("wants-gpu", "message")
                .find("2 node(s) didn't match Pod's node "
                      "affinity/selector"),
            std::string::npos)
      << Scheduled("wants-gpu", "message");
  Ok(storage_->Patch(R("nodes"), "", "plain", PatchKind::kMergePatch,
                     R"({"metadata":{"labels":{"gpu":"yes"}}})", "", "test", false, false));
  EXPECT_TRUE(WaitFor([&] { return NodeOf("wants-gpu") == "plain"; }));
}

}  // namespace
}  // namespace vk::kubesim
