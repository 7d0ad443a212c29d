#include "kubelet/node_capacity.h"

#include <gtest/gtest.h>

namespace vk::kubelet {
namespace {

ObjectPtr HostNode(const std::string& name, const std::string& cpu, const std::string& memory,
                   const std::string& pods = "110") {
  Object node{
      {"metadata", Object{{"name", name}}},
      {"status", Object{{"allocatable", Object{{"cpu", cpu}, {"memory", memory}, {"pods", pods}}},
                        {"capacity", Object{{"cpu", "999"}, {"memory", "999Gi"}}}}}};
  return std::make_shared<const Object>(std::move(node));
}

ObjectPtr Quota(Object hard) {
  return std::make_shared<const Object>(
      Object{{"metadata", Object{{"name", "q"}}}, {"spec", Object{{"hard", std::move(hard)}}}});
}

std::string Text(const ResourceList& list, const std::string& name) {
  auto it = list.find(name);
  return it == list.end() ? "<absent>" : it->second.ToString();
}

TEST(NodeCapacityTest, SumsAllocatableNotCapacity) {
  auto sum = SumAllocatable({HostNode("a", "3500m", "16Gi"), HostNode("b", "4", "15872Mi")});
  EXPECT_EQ(Text(sum, "cpu"), "7500m");
  EXPECT_EQ(Text(sum, "memory"), "32256Mi");
  EXPECT_EQ(Text(sum, "pods"), "220");
}

TEST(NodeCapacityTest, FallsBackToCapacityWithoutAllocatable) {
  auto node = std::make_shared<const Object>(
      Object{{"status", Object{{"capacity", Object{{"cpu", "2"}}}}}});
  EXPECT_EQ(Text(SumAllocatable({node}), "cpu"), "2");
}

TEST(NodeCapacityTest, SkipsCordonedAndDeletingNodesAndBadValues) {
  Object cordoned = *HostNode("c", "8", "8Gi");
  cordoned["spec"] = Object{{"unschedulable", true}};
  Object deleting = *HostNode("d", "8", "8Gi");
  deleting["metadata"].as_object()["deletionTimestamp"] = "2024-01-01T00:00:00Z";
  Object bad = *HostNode("e", "not-a-number", "1Gi");
  auto sum = SumAllocatable({HostNode("a", "1", "1Gi"),
                             std::make_shared<const Object>(std::move(cordoned)),
                             std::make_shared<const Object>(std::move(deleting)),
                             std::make_shared<const Object>(std::move(bad))});
  EXPECT_EQ(Text(sum, "cpu"), "1");
  EXPECT_EQ(Text(sum, "memory"), "2Gi");
}

TEST(NodeCapacityTest, QuotaCeilingMapsKeysAndTakesTheSmallest) {
  auto ceiling = QuotaCeiling({Quota(Object{{"requests.cpu", "10"},
                                            {"limits.cpu", "20"},
                                            {"memory", "64Gi"},
                                            {"requests.nvidia.com/gpu", "2"},
                                            {"count/deployments.apps", "5"},
                                            {"services", "3"}}),
                               Quota(Object{{"cpu", "8"}, {"pods", "50"}})});
  EXPECT_EQ(Text(ceiling, "cpu"), "8");
  EXPECT_EQ(Text(ceiling, "memory"), "64Gi");
  EXPECT_EQ(Text(ceiling, "nvidia.com/gpu"), "2");
  EXPECT_EQ(Text(ceiling, "pods"), "50");
  EXPECT_EQ(Text(ceiling, "services"), "<absent>");
  EXPECT_EQ(Text(ceiling, "count/deployments.apps"), "<absent>");
  EXPECT_EQ(ceiling.size(), 4u);
}

TEST(NodeCapacityTest, CapacityIsTheSumCappedByQuota) {
  CapacityInputs inputs;
  inputs.host_nodes = {HostNode("a", "4", "16Gi"), HostNode("b", "4", "16Gi")};
  inputs.max_pods = 110;
  auto uncapped = ComputeCapacity(inputs);
  EXPECT_EQ(Text(uncapped, "cpu"), "8");
  EXPECT_EQ(Text(uncapped, "memory"), "32Gi");
  EXPECT_EQ(Text(uncapped, "pods"), "110");

  inputs.quotas = {Quota(Object{{"requests.cpu", "6"},
                                {"requests.memory", "64Gi"},
                                {"pods", "20"},
                                {"requests.nvidia.com/gpu", "4"}})};
  auto capped = ComputeCapacity(inputs);
  EXPECT_EQ(Text(capped, "cpu"), "6");
  EXPECT_EQ(Text(capped, "memory"), "32Gi");  // the quota is above the sum
  EXPECT_EQ(Text(capped, "pods"), "20");
  // The quota allows GPUs that no node offers: none are advertised.
  EXPECT_EQ(Text(capped, "nvidia.com/gpu"), "<absent>");
}

TEST(NodeCapacityTest, ExtraResourcesAddAndAreCappedToo) {
  CapacityInputs inputs;
  inputs.host_nodes = {HostNode("a", "4", "16Gi")};
  inputs.extra = {{"nvidia.com/gpu", Quantity::FromUnits(8)}};
  EXPECT_EQ(Text(ComputeCapacity(inputs), "nvidia.com/gpu"), "8");
  inputs.quotas = {Quota(Object{{"requests.nvidia.com/gpu", "3"}})};
  EXPECT_EQ(Text(ComputeCapacity(inputs), "nvidia.com/gpu"), "3");
}

TEST(NodeCapacityTest, PodsFromHostNodesWhenNotConfigured) {
  CapacityInputs inputs;
  inputs.host_nodes = {HostNode("a", "1", "1Gi", "110"), HostNode("b", "1", "1Gi", "50")};
  inputs.max_pods = 0;
  EXPECT_EQ(Text(ComputeCapacity(inputs), "pods"), "160");
}

TEST(NodeCapacityTest, NoHostNodesMeansNothingButPods) {
  CapacityInputs inputs;
  inputs.max_pods = 110;
  auto capacity = ComputeCapacity(inputs);
  EXPECT_EQ(capacity.size(), 1u);
  EXPECT_EQ(Text(capacity, "pods"), "110");
}

TEST(NodeCapacityTest, ToJsonWritesCanonicalText) {
  ResourceList list{{"cpu", *Quantity::Parse("1500m")}, {"memory", *Quantity::Parse("1.5Gi")}};
  auto json = ToJson(list);
  EXPECT_EQ(obj::String(json, {"cpu"}), "1500m");
  EXPECT_EQ(obj::String(json, {"memory"}), "1536Mi");
}

}  // namespace
}  // namespace vk::kubelet
