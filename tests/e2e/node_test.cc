// End to end, shared mode: the virtual node(s) that vkubelet registers for the host cluster's
// nodes, their readiness, leases and capacity, across restarts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "hostclient/resource.h"
#include "kubelet/quantity.h"
#include "tests/support/shared_mode_env.h"
#include "tests/support/wait_for.h"

namespace vk::e2e {
namespace {

using hostclient::resources::Nodes;
using kubelet::Quantity;
using ::testing::HasSubstr;
using testing::SharedModeEnv;
using testing::Succeeded;

class NodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SharedModeEnv::Options options;
    options.vkubelet_binary = VKUBELET_BINARY;
    auto env = SharedModeEnv::Start(std::move(options));
    ASSERT_TRUE(env) << env.error().ToString();
    env_ = std::move(*env);
  }

  void TearDown() override {
    if (HasFailure() && env_) std::cerr << "---- vkubelet log\n" << env_->VkubeletLog() << "----\n";
  }

  Object VirtualNode(const std::string& name) {
    auto node = env_->virtual_client().Get(Nodes(), "", name);
    EXPECT_TRUE(node) << node.error().ToString();
    return node.value_or(Object{});
  }

  // resource -> the sum of the host nodes' allocatable.
  std::map<std::string, Quantity> HostAllocatableSum() {
    std::map<std::string, Quantity> sum;
    auto list = env_->host_client().ListAll(Nodes(), "");
    EXPECT_TRUE(list) << list.error().ToString();
    if (!list) return sum;
    for (const auto& item : list->at("items").as_array()) {
      const Object* allocatable = obj::ObjectAt(item.as_object(), {"status", "allocatable"});
      if (allocatable == nullptr) continue;
      for (const auto& [name, value] : *allocatable) {
        auto quantity = Quantity::Parse(value.as_string());
        EXPECT_TRUE(quantity) << name;
        auto [it, inserted] = sum.emplace(std::string(name), quantity.value_or(Quantity()));
        if (!inserted) it->second += quantity.value_or(Quantity());
      }
    }
    return sum;
  }

  // The node's Lease in kube-node-lease, once it exists (vkubelet may create it after the Node
  // turns Ready).
  std::optional<Object> WaitForLease(const std::string& node) {
    kubesim::ApiServer& server = env_->virtual_kubesim().server();
    const auto* leases = server.catalog().Find("coordination.k8s.io", "v1", "leases");
    ObjectPtr lease;
    testing::WaitFor(
        [&] {
          auto got = server.storage().GetShared(*leases, "kube-node-lease", node);
          if (got) lease = *got;
          return got.has_value();
        },
        std::chrono::seconds(10));
    if (!lease) return std::nullopt;
    return *lease;
  }

  static Quantity Capacity(const Object& node, const std::string& resource) {
    auto q = Quantity::Parse(obj::String(node, {"status", "capacity", resource}));
    return q.value_or(Quantity::FromUnits(-1));
  }

  std::unique_ptr<SharedModeEnv> env_;
};

TEST_F(NodeTest, RegistersReadyWithALeaseAndTheHostNodesCapacity) {
  ASSERT_TRUE(Succeeded(env_->StartVkubelet({"--max-pods", "42"})));
  ASSERT_TRUE(Succeeded(env_->WaitForNodeReady(env_->node_name())));

  auto lease = WaitForLease(env_->node_name());
  ASSERT_TRUE(lease) << "no lease in kube-node-lease";
  EXPECT_EQ(obj::String(*lease, {"spec", "holderIdentity"}), env_->node_name());
  EXPECT_FALSE(obj::String(*lease, {"spec", "renewTime"}).empty());

  const Object node = VirtualNode(env_->node_name());
  const auto host_sum = HostAllocatableSum();
  ASSERT_EQ(host_sum.count("cpu"), 1u);
  EXPECT_EQ(host_sum.at("cpu").milli(), 8000 * env_->options().host_nodes);
  for (const auto& [resource, quantity] : host_sum) {
    if (resource == "pods") continue;
    EXPECT_EQ(Capacity(node, resource).milli(), quantity.milli())
        << resource << ": " << obj::String(node, {"status", "capacity", resource});
  }
  EXPECT_EQ(Capacity(node, "pods").milli(), 42000);

  auto metrics = env_->Metrics();
  ASSERT_TRUE(metrics) << metrics.error().ToString();
  EXPECT_THAT(*metrics, HasSubstr("vkubelet_build_info{"));

  EXPECT_TRUE(Succeeded(env_->StopVkubelet()));
}

TEST_F(NodeTest, PerHostNodeModeRegistersOneVirtualNodePerHostNode) {
  ASSERT_TRUE(Succeeded(env_->StartVkubelet({"--node-mode", "per-host-node"})));
  const auto& host_nodes = env_->host_simulator().node_names();
  ASSERT_EQ(host_nodes.size(), 3u);
  for (const auto& name : host_nodes) {
    ASSERT_TRUE(Succeeded(env_->WaitForNodeReady(name)));
    EXPECT_EQ(Capacity(VirtualNode(name), "cpu").milli(), 8000) << name;
    EXPECT_TRUE(WaitForLease(name)) << "no lease in kube-node-lease for " << name;
  }
  auto list = env_->virtual_client().ListAll(Nodes(), "");
  ASSERT_TRUE(list) << list.error().ToString();
  std::set<std::string> virtual_nodes;
  for (const auto& item : list->at("items").as_array()) {
    virtual_nodes.emplace(obj::Name(item.as_object()));
  }
  EXPECT_EQ(virtual_nodes, std::set<std::string>(host_nodes.begin(), host_nodes.end()));
}

TEST_F(NodeTest, AKilledVkubeletComesBackToTheSameNode) {
  ASSERT_TRUE(Succeeded(env_->StartVkubelet()));
  ASSERT_TRUE(Succeeded(env_->WaitForNodeReady(env_->node_name())));
  const std::string uid(obj::Uid(VirtualNode(env_->node_name())));

  env_->KillVkubelet();
  EXPECT_FALSE(env_->VkubeletRunning());
  ASSERT_TRUE(Succeeded(env_->StartVkubelet()));
  EXPECT_TRUE(Succeeded(env_->WaitForReadyz()));
  ASSERT_TRUE(Succeeded(env_->WaitForNodeReady(env_->node_name())));
  EXPECT_EQ(obj::Uid(VirtualNode(env_->node_name())), uid);
}

}  // namespace
}  // namespace vk::e2e
