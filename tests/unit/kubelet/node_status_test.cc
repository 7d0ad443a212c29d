#include "kubelet/node_status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kubelet/lease_renewer.h"
#include "kubelet/version.h"

namespace vk::kubelet {
namespace {

using std::chrono::seconds;
using ::testing::ElementsAre;

WallTime At(int64_t seconds_since_epoch) {
  return WallTime(std::chrono::seconds(seconds_since_epoch));
}

NodeTemplate Template() {
  SystemInfo system{"arm64", "6.1.0-18", "Debian GNU/Linux 12 (bookworm)"};
  NodeTemplate node;
  node.name = "vk-node";
  node.labels = NodeLabels("vk-node", system.architecture, {{"team", "ml"}, {"type", "custom"}});
  node.taints = {Taint{"virtual-kubelet.io/provider", "vkubelet", "NoSchedule"}};
  node.internal_ip = "10.0.0.7";
  node.kubelet_port = 10250;
  node.info = MakeNodeInfo("vk-node", system);
  return node;
}

const Object* Condition(const Object& node, std::string_view type) {
  const auto* conditions = obj::Find(node, {"status", "conditions"});
  if (conditions == nullptr) return nullptr;
  for (const auto& c : conditions->get_array()) {
    if (obj::String(c.get_object(), {"type"}) == type) return &c.get_object();
  }
  return nullptr;
}

TEST(NodeStatusTest, FormatsAndParsesKubeTimes) {
  EXPECT_EQ(FormatTime(At(1714557600)), "2024-05-01T10:00:00Z");
  EXPECT_EQ(FormatMicroTime(At(1714557600) + std::chrono::microseconds(123456)),
            "2024-05-01T10:00:00.123456Z");
  EXPECT_EQ(ParseTime("2024-05-01T10:00:00Z"), At(1714557600));
  EXPECT_EQ(ParseTime("2024-05-01T12:00:00+02:00"), At(1714557600));
  EXPECT_EQ(ParseTime("2024-05-01T10:00:00.5Z"), At(1714557600) + std::chrono::milliseconds(500));
  EXPECT_FALSE(ParseTime("yesterday").has_value());
  EXPECT_FALSE(ParseTime("2024-05-01T10:00:00").has_value());
  EXPECT_FALSE(ParseTime("2024-05-01T10:00:00.Z").has_value());
}

TEST(NodeStatusTest, StandardLabelsWinOverConfiguredOnes) {
  auto labels = NodeLabels("n1", "amd64", {{"team", "ml"}, {"type", "custom"}});
  EXPECT_EQ(labels["type"], "virtual-kubelet");
  EXPECT_EQ(labels["team"], "ml");
  EXPECT_EQ(labels["kubernetes.io/os"], "linux");
  EXPECT_EQ(labels["kubernetes.io/arch"], "amd64");
  EXPECT_EQ(labels["kubernetes.io/hostname"], "n1");
  EXPECT_EQ(labels["node.kubernetes.io/instance-type"], "virtual");
  EXPECT_EQ(labels["kubernetes.io/role"], "agent");
  EXPECT_FALSE(labels.contains("node-role.kubernetes.io/agent"));
}

TEST(NodeStatusTest, ArchitectureInGoSpelling) {
  EXPECT_EQ(GoArch("x86_64"), "amd64");
  EXPECT_EQ(GoArch("aarch64"), "arm64");
  EXPECT_EQ(GoArch("armv7l"), "arm");
  EXPECT_EQ(GoArch("riscv64"), "riscv64");
  EXPECT_FALSE(ReadSystemInfo().kernel_version.empty());
}

TEST(NodeStatusTest, NodeInfoIdsAreStablePerNodeName) {
  SystemInfo system{"amd64", "6.1", "Linux"};
  auto a = MakeNodeInfo("node-a", system);
  auto again = MakeNodeInfo("node-a", system);
  auto b = MakeNodeInfo("node-b", system);
  EXPECT_EQ(a.machine_id, again.machine_id);
  EXPECT_EQ(a.system_uuid, again.system_uuid);
  EXPECT_EQ(a.boot_id, again.boot_id);
  EXPECT_NE(a.machine_id, b.machine_id);
  EXPECT_NE(a.system_uuid, a.boot_id);
  EXPECT_EQ(a.machine_id.size(), 32u);
  EXPECT_THAT(a.system_uuid,
              ::testing::MatchesRegex(
                  "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
  EXPECT_EQ(a.kubelet_version, kKubeletVersion);
  EXPECT_EQ(a.container_runtime_version, std::string("vkubelet://") + kVersion);
  EXPECT_EQ(a.operating_system, "linux");
}

TEST(NodeStatusTest, BuildsTheNodeToRegister) {
  ConditionTracker tracker;
  tracker.Update(true, "", "", At(1000));
  ResourceList capacity{{"cpu", Quantity::FromUnits(8)}, {"pods", Quantity::FromUnits(110)}};
  auto node = BuildNode(Template(), capacity, tracker.conditions(), At(2000));

  EXPECT_EQ(obj::Name(node), "vk-node");
  EXPECT_EQ(obj::Kind(node), "Node");
  EXPECT_EQ(obj::Label(node, "type"), "virtual-kubelet");
  EXPECT_EQ(obj::Label(node, "kubernetes.io/arch"), "arm64");
  const auto& taints = obj::Find(node, {"spec", "taints"})->get_array();
  ASSERT_EQ(taints.size(), 1u);
  EXPECT_EQ(obj::String(taints[0].get_object(), {"key"}), "virtual-kubelet.io/provider");
  EXPECT_EQ(obj::String(taints[0].get_object(), {"effect"}), "NoSchedule");

  const auto& addresses = obj::Find(node, {"status", "addresses"})->get_array();
  ASSERT_EQ(addresses.size(), 2u);
  EXPECT_EQ(obj::String(addresses[0].get_object(), {"type"}), "InternalIP");
  EXPECT_EQ(obj::String(addresses[0].get_object(), {"address"}), "10.0.0.7");
  EXPECT_EQ(obj::String(addresses[1].get_object(), {"type"}), "Hostname");
  EXPECT_EQ(obj::String(addresses[1].get_object(), {"address"}), "vk-node");
  EXPECT_EQ(obj::Int(node, {"status", "daemonEndpoints", "kubeletEndpoint", "Port"}), 10250);
  EXPECT_EQ(obj::String(node, {"status", "nodeInfo", "kubeletVersion"}), kKubeletVersion);
  EXPECT_EQ(obj::String(node, {"status", "nodeInfo", "kernelVersion"}), "6.1.0-18");
  EXPECT_EQ(obj::String(node, {"status", "nodeInfo", "osImage"}), "Debian GNU/Linux 12 (bookworm)");
  EXPECT_EQ(obj::String(node, {"status", "capacity", "cpu"}), "8");
  EXPECT_EQ(obj::String(node, {"status", "allocatable", "pods"}), "110");

  const Object* ready = Condition(node, "Ready");
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(obj::String(*ready, {"status"}), "True");
  EXPECT_EQ(obj::String(*ready, {"reason"}), "KubeletReady");
  EXPECT_EQ(obj::String(*ready, {"message"}), "kubelet is posting ready status");
  EXPECT_EQ(obj::String(*ready, {"lastHeartbeatTime"}), FormatTime(At(2000)));
  EXPECT_EQ(obj::String(*ready, {"lastTransitionTime"}), FormatTime(At(1000)));
  for (auto type : {"MemoryPressure", "DiskPressure", "PIDPressure"}) {
    const Object* c = Condition(node, type);
    ASSERT_NE(c, nullptr) << type;
    EXPECT_EQ(obj::String(*c, {"status"}), "False");
  }
  EXPECT_EQ(Condition(node, "NetworkUnavailable"), nullptr);
}

TEST(NodeStatusTest, NoInternalIpMeansOnlyTheHostname) {
  auto node_template = Template();
  node_template.internal_ip.clear();
  auto node = BuildNode(node_template, {}, {}, At(0));
  const auto& addresses = obj::Find(node, {"status", "addresses"})->get_array();
  ASSERT_EQ(addresses.size(), 1u);
  EXPECT_EQ(obj::String(addresses[0].get_object(), {"type"}), "Hostname");
}

TEST(NodeStatusTest, TransitionTimeMovesOnlyWhenStatusChanges) {
  ConditionTracker tracker;
  tracker.Update(true, "", "", At(100));
  tracker.Update(true, "", "", At(200));
  EXPECT_EQ(tracker.conditions()[0].type, "Ready");
  EXPECT_EQ(tracker.conditions()[0].last_transition, At(100));
  tracker.Update(false, "NoHostNodes", "none", At(300));
  EXPECT_EQ(tracker.conditions()[0].status, "False");
  EXPECT_EQ(tracker.conditions()[0].reason, "NoHostNodes");
  EXPECT_EQ(tracker.conditions()[0].last_transition, At(300));
  // The pressure conditions did not change.
  EXPECT_EQ(tracker.conditions()[1].last_transition, At(100));
  tracker.Update(true, "", "", At(400));
  EXPECT_EQ(tracker.conditions()[0].last_transition, At(400));
  std::vector<std::string> types;
  for (const auto& c : tracker.conditions()) types.push_back(c.type);
  EXPECT_THAT(types, ElementsAre("Ready", "MemoryPressure", "DiskPressure", "PIDPressure"));
}

TEST(NodeStatusTest, SeededTransitionTimesSurviveARestart) {
  Object stored = BuildNode(
      Template(), {},
      [] {
        ConditionTracker t;
        t.Update(true, "", "", At(100));
        return t.conditions();
      }(),
      At(150));
  // Someone else's condition is not ours to seed.
  obj::EnsureObject(stored, {"status"})["conditions"].as_array().push_back(
      Object{{"type", "Custom"}, {"status", "True"}, {"lastTransitionTime", FormatTime(At(5))}});
  ConditionTracker restarted;
  restarted.Seed(stored);
  restarted.Update(true, "", "", At(900));
  ASSERT_EQ(restarted.conditions().size(), 4u);
  for (const auto& c : restarted.conditions()) {
    EXPECT_EQ(c.last_transition, At(100)) << c.type;
  }
  // A stored status that differs from ours transitions now.
  ConditionTracker other;
  other.Seed(stored);
  other.Update(false, "NoHostNodes", "none", At(900));
  EXPECT_EQ(other.conditions()[0].last_transition, At(900));
}

TEST(NodeStatusTest, MetadataPatchAddsLabelsAndKeepsOthersTaints) {
  Object existing{
      {"metadata", Object{{"name", "vk-node"},
                          {"resourceVersion", "42"},
                          {"labels", Object{{"type", "virtual-kubelet"}}}}},
      {"spec",
       Object{{"taints", boost::json::array{Object{{"key", "node.kubernetes.io/unreachable"},
                                                   {"effect", "NoExecute"},
                                                   {"timeAdded", "2024-01-01T00:00:00Z"}}}}}}};
  auto text = BuildMetadataPatch(Template(), existing);
  auto patch = obj::Parse(text);
  ASSERT_TRUE(patch.has_value()) << text;
  EXPECT_EQ(obj::Find(*patch, {"metadata", "labels", "type"}), nullptr);  // already right
  EXPECT_EQ(obj::String(*patch, {"metadata", "labels", "team"}), "ml");
  EXPECT_EQ(obj::String(*patch, {"metadata", "resourceVersion"}), "42");
  const auto& taints = obj::Find(*patch, {"spec", "taints"})->get_array();
  ASSERT_EQ(taints.size(), 2u);
  EXPECT_EQ(obj::String(taints[0].get_object(), {"key"}), "virtual-kubelet.io/provider");
  EXPECT_EQ(obj::String(taints[1].get_object(), {"key"}), "node.kubernetes.io/unreachable");
  EXPECT_EQ(obj::String(taints[1].get_object(), {"timeAdded"}), "2024-01-01T00:00:00Z");
}

TEST(NodeStatusTest, MetadataPatchIsEmptyWhenNothingChanges) {
  auto node = BuildNode(Template(), {}, {}, At(0));
  obj::EnsureObject(node, {"metadata"})["resourceVersion"] = "7";
  EXPECT_EQ(BuildMetadataPatch(Template(), node), "");
}

TEST(NodeStatusTest, StatusPatchCarriesOnlyOurConditionsAndNullsDroppedResources) {
  ConditionTracker tracker;
  tracker.Update(true, "", "", At(10));
  ResourceList capacity{{"cpu", Quantity::FromUnits(4)}};
  auto patch = BuildStatusPatch(Template(), capacity, {"cpu", "nvidia.com/gpu"},
                                tracker.conditions(), At(20));
  EXPECT_EQ(patch.size(), 1u);  // status only
  EXPECT_EQ(obj::String(patch, {"status", "capacity", "cpu"}), "4");
  const auto* gpu = obj::Find(patch, {"status", "capacity", "nvidia.com/gpu"});
  ASSERT_NE(gpu, nullptr);
  EXPECT_TRUE(gpu->is_null());
  EXPECT_TRUE(obj::Find(patch, {"status", "allocatable", "nvidia.com/gpu"})->is_null());
  EXPECT_EQ(obj::Find(patch, {"status", "conditions"})->as_array().size(), 4u);
  EXPECT_EQ(obj::String(patch, {"status", "nodeInfo", "architecture"}), "arm64");
}

TEST(NodeStatusTest, LeaseHasHolderDurationRenewTimeAndOwner) {
  auto lease = BuildLease("vk-node", "uid-1", 40, At(1714557600));
  EXPECT_EQ(obj::Namespace(lease), "kube-node-lease");
  EXPECT_EQ(obj::Name(lease), "vk-node");
  EXPECT_EQ(obj::String(lease, {"spec", "holderIdentity"}), "vk-node");
  EXPECT_EQ(obj::Int(lease, {"spec", "leaseDurationSeconds"}), 40);
  EXPECT_EQ(obj::String(lease, {"spec", "renewTime"}), "2024-05-01T10:00:00.000000Z");
  const auto& owner = obj::Find(lease, {"metadata", "ownerReferences"})->as_array()[0].as_object();
  EXPECT_EQ(obj::String(owner, {"kind"}), "Node");
  EXPECT_EQ(obj::String(owner, {"uid"}), "uid-1");
  EXPECT_EQ(obj::Find(BuildLease("n", "", 40, At(0)), {"metadata", "ownerReferences"}), nullptr);
}

}  // namespace
}  // namespace vk::kubelet
