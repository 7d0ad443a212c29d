// The NodeController against two kubesims: "virtual" (where the Node and its Lease live) and
// "host" (whose nodes and ResourceQuotas make the capacity).
#include "kubelet/node_controller.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <functional>
#include <thread>

#include "hostclient/rest_client.h"
#include "kubelet/node_status.h"
#include "tests/support/kubesim_instance.h"
#include "tests/support/sample_objects.h"
#include "tests/support/wait_for.h"

namespace vk::kubelet {
namespace {

using hostclient::PatchType;
using hostclient::RestClient;
using hostclient::resources::Leases;
using hostclient::resources::Namespaces;
using hostclient::resources::Nodes;
using hostclient::resources::ResourceQuotas;
using std::chrono::milliseconds;

constexpr char kHostNamespace[] = "tenant-a";
constexpr char kNodeName[] = "vk-tenant-a";

using vk::testing::WaitFor;

class NodeControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    virtual_ = testing::StartKubesimWithClient("virtual", false, virtual_client_);
    host_ = testing::StartKubesimWithClient("host", false, host_client_);
    ASSERT_TRUE(virtual_ && host_);
    ASSERT_TRUE(host_client_->Create(Namespaces(), "", testing::NamespaceObject(kHostNamespace))
                    .has_value());
  }

  void TearDown() override {
    if (controller_) controller_->Stop();
  }

  NodeControllerOptions Options() {
    NodeControllerOptions options;
    options.node_name = kNodeName;
    options.labels = {{"tenant", "a"}};
    options.taints = {Taint{"virtual-kubelet.io/provider", "vkubelet", "NoSchedule"}};
    options.internal_ip = "10.1.2.3";
    options.kubelet_port = 10250;
    options.max_pods = 110;
    options.host_node_selector = {{"pool", "tenants"}};
    options.host_namespace = kHostNamespace;
    options.system = SystemInfo{"amd64", "6.1.0-test", "Test Linux"};
    options.lease_renew_interval = milliseconds(100);
    options.status_update_interval = std::chrono::seconds(30);
    options.retry_interval = milliseconds(50);
    return options;
  }

  void StartController(NodeControllerOptions options) {
    controller_ = std::make_unique<NodeController>(*virtual_client_, *host_client_,
                                                   std::move(options), &registry_);
    ASSERT_TRUE(controller_->Start().has_value());
  }
  void StartController() { StartController(Options()); }

  void AddHostNode(const std::string& name, const std::string& cpu, const std::string& memory,
                   const std::string& pool = "tenants") {
    Object node{{"apiVersion", "v1"},
                {"kind", "Node"},
                {"metadata", Object{{"name", name}, {"labels", Object{{"pool", pool}}}}},
                {"status", Object{{"allocatable", Object{{"cpu", cpu}, {"memory", memory}}},
                                  {"capacity", Object{{"cpu", cpu}, {"memory", memory}}}}}};
    auto created = host_client_->Create(Nodes(), "", node);
    ASSERT_TRUE(created.has_value()) << created.error().ToString();
  }

  std::optional<Object> VirtualNode(const std::string& name = kNodeName) {
    auto node = virtual_client_->Get(Nodes(), "", name);
    if (!node) return std::nullopt;
    return std::move(*node);
  }

  std::string VirtualCapacity(const std::string& resource, const std::string& name = kNodeName) {
    auto node = VirtualNode(name);
    return node ? std::string(obj::String(*node, {"status", "capacity", resource})) : "";
  }

  bool WaitForCapacity(const std::string& resource, const std::string& value,
                       const std::string& name = kNodeName) {
    bool ok = WaitFor([&] { return VirtualCapacity(resource, name) == value; });
    EXPECT_TRUE(ok) << resource << " of " << name << " is " << VirtualCapacity(resource, name)
                    << ", want " << value;
    return ok;
  }

  std::string LeaseRenewTime(const std::string& name = kNodeName) {
    auto lease = virtual_client_->Get(Leases(), "kube-node-lease", name);
    return lease ? std::string(obj::String(*lease, {"spec", "renewTime"})) : "";
  }

  static const Object* Condition(const Object& node, std::string_view type) {
    const auto* conditions = obj::Find(node, {"status", "conditions"});
    if (conditions == nullptr || !conditions->is_array()) return nullptr;
    for (const auto& c : conditions->get_array()) {
      if (obj::String(c.get_object(), {"type"}) == type) return &c.get_object();
    }
    return nullptr;
  }

  std::string Metrics() { return prometheus::TextSerializer().Serialize(registry_.Collect()); }

  std::unique_ptr<testing::KubesimInstance> virtual_;
  std::unique_ptr<testing::KubesimInstance> host_;
  std::unique_ptr<RestClient> virtual_client_;
  std::unique_ptr<RestClient> host_client_;
  prometheus::Registry registry_;
  std::unique_ptr<NodeController> controller_;
};

TEST_F(NodeControllerTest, RegistersTheNodeWithItsFields) {
  AddHostNode("host-1", "4", "16Gi");
  AddHostNode("host-2", "3500m", "16Gi");
  AddHostNode("other-pool", "64", "256Gi", "system");
  StartController();
  ASSERT_TRUE(WaitForCapacity("cpu", "7500m"));
  ASSERT_TRUE(WaitFor([&] { return controller_->Ready(); }));

  auto node = VirtualNode();
  ASSERT_TRUE(node.has_value());
  EXPECT_EQ(obj::String(*node, {"status", "capacity", "memory"}), "32Gi");
  EXPECT_EQ(obj::String(*node, {"status", "allocatable", "cpu"}), "7500m");
  EXPECT_EQ(obj::String(*node, {"status", "capacity", "pods"}), "110");
  EXPECT_EQ(obj::Label(*node, "type"), "virtual-kubelet");
  EXPECT_EQ(obj::Label(*node, "kubernetes.io/hostname"), kNodeName);
  EXPECT_EQ(obj::Label(*node, "kubernetes.io/arch"), "amd64");
  EXPECT_EQ(obj::Label(*node, "tenant"), "a");
  const auto& taints = obj::Find(*node, {"spec", "taints"})->as_array();
  ASSERT_EQ(taints.size(), 1u);
  EXPECT_EQ(obj::String(taints[0].as_object(), {"key"}), "virtual-kubelet.io/provider");
  EXPECT_EQ(obj::Int(*node, {"status", "daemonEndpoints", "kubeletEndpoint", "Port"}), 10250);
  const auto& addresses = obj::Find(*node, {"status", "addresses"})->as_array();
  ASSERT_EQ(addresses.size(), 2u);
  EXPECT_EQ(obj::String(addresses[0].as_object(), {"address"}), "10.1.2.3");
  EXPECT_EQ(obj::String(*node, {"status", "nodeInfo", "kernelVersion"}), "6.1.0-test");
  EXPECT_FALSE(obj::String(*node, {"status", "nodeInfo", "machineID"}).empty());
  const Object* ready = Condition(*node, "Ready");
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(obj::String(*ready, {"status"}), "True");
  EXPECT_EQ(obj::String(*ready, {"reason"}), "KubeletReady");
  ASSERT_NE(Condition(*node, "MemoryPressure"), nullptr);

  auto lease = virtual_client_->Get(Leases(), "kube-node-lease", kNodeName);
  ASSERT_TRUE(lease.has_value());
  EXPECT_EQ(obj::String(*lease, {"spec", "holderIdentity"}), kNodeName);
  EXPECT_EQ(obj::Int(*lease, {"spec", "leaseDurationSeconds"}), 40);
  const auto& owner = obj::Find(*lease, {"metadata", "ownerReferences"})->as_array()[0].as_object();
  EXPECT_EQ(obj::String(owner, {"uid"}), obj::Uid(*node));
  EXPECT_EQ(controller_->NodeNames(), std::vector<std::string>{kNodeName});

  const std::string metrics = Metrics();
  EXPECT_NE(metrics.find("vkubelet_node_status_updates_total{node=\"vk-tenant-a\"}"),
            std::string::npos);
  EXPECT_NE(metrics.find("vkubelet_node_lease_renewals_total{node=\"vk-tenant-a\"}"),
            std::string::npos);
  EXPECT_NE(metrics.find("vkubelet_node_capacity{node=\"vk-tenant-a\",resource=\"cpu\"} 7.5"),
            std::string::npos)
      << metrics;
}

TEST_F(NodeControllerTest, LeaseIsRenewed) {
  AddHostNode("host-1", "4", "16Gi");
  StartController();
  ASSERT_TRUE(WaitFor([&] { return !LeaseRenewTime().empty(); }));
  const std::string first = LeaseRenewTime();
  ASSERT_TRUE(WaitFor([&] {
    auto now = LeaseRenewTime();
    return !now.empty() && now != first;
  }));
  EXPECT_GT(ParseTime(LeaseRenewTime()), ParseTime(first));
}

TEST_F(NodeControllerTest, ExistingNodeIsKeptAcrossRestarts) {
  AddHostNode("host-1", "4", "16Gi");
  StartController();
  ASSERT_TRUE(WaitFor([&] { return controller_->Ready(); }));
  auto before = VirtualNode();
  ASSERT_TRUE(before.has_value());
  const std::string transition(obj::String(*Condition(*before, "Ready"), {"lastTransitionTime"}));
  controller_->Stop();
  controller_.reset();

  // A changed configuration while vkubelet was down: new label.
  auto options = Options();
  options.labels["tenant-tier"] = "gold";
  StartController(options);
  ASSERT_TRUE(WaitFor([&] {
    auto node = VirtualNode();
    return node && obj::Label(*node, "tenant-tier") == "gold";
  }));
  const std::string renewed = LeaseRenewTime();
  ASSERT_TRUE(WaitFor([&] { return LeaseRenewTime() != renewed; }));
  auto after = VirtualNode();
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(obj::Uid(*after), obj::Uid(*before));
  EXPECT_EQ(obj::String(*Condition(*after, "Ready"), {"lastTransitionTime"}), transition);
}

TEST_F(NodeControllerTest, CapacityGrowsWhenAHostNodeIsAdded) {
  AddHostNode("host-1", "4", "16Gi");
  StartController();
  ASSERT_TRUE(WaitForCapacity("cpu", "4"));
  AddHostNode("host-2", "8", "32Gi");
  ASSERT_TRUE(WaitForCapacity("cpu", "12"));
  EXPECT_EQ(VirtualCapacity("memory"), "48Gi");
  // A host node outside the selector changes nothing.
  AddHostNode("system-1", "100", "1Ti", "system");
  ASSERT_TRUE(host_client_->Delete(Nodes(), "", "host-2").has_value());
  ASSERT_TRUE(WaitForCapacity("cpu", "4"));
}

TEST_F(NodeControllerTest, QuotaLowersCapacity) {
  AddHostNode("host-1", "16", "64Gi");
  StartController();
  ASSERT_TRUE(WaitForCapacity("cpu", "16"));
  Object quota{
      {"apiVersion", "v1"},
      {"kind", "ResourceQuota"},
      {"metadata", Object{{"name", "compute"}, {"namespace", kHostNamespace}}},
      {"spec",
       Object{
           {"hard", Object{{"requests.cpu", "6"}, {"requests.memory", "20Gi"}, {"pods", "30"}}}}}};
  ASSERT_TRUE(host_client_->Create(ResourceQuotas(), kHostNamespace, quota).has_value());
  ASSERT_TRUE(WaitForCapacity("cpu", "6"));
  EXPECT_EQ(VirtualCapacity("memory"), "20Gi");
  EXPECT_EQ(VirtualCapacity("pods"), "30");
  ASSERT_TRUE(host_client_->Delete(ResourceQuotas(), kHostNamespace, "compute").has_value());
  ASSERT_TRUE(WaitForCapacity("cpu", "16"));
}

TEST_F(NodeControllerTest, OthersConditionsSurviveOurStatusPatch) {
  AddHostNode("host-1", "4", "16Gi");
  StartController();
  ASSERT_TRUE(WaitForCapacity("cpu", "4"));
  const std::string theirs =
      R"({"status":{"conditions":[{"type":"GpuHealthy","status":"True","reason":"Probe",)"
      R"("lastHeartbeatTime":"2024-01-01T00:00:00Z","lastTransitionTime":"2024-01-01T00:00:00Z"}]}})";
  ASSERT_TRUE(virtual_client_
                  ->Patch(Nodes(), "", kNodeName, PatchType::kStrategicMerge, theirs, {}, "status")
                  .has_value());
  // Our next status patch (a capacity change) must keep it.
  AddHostNode("host-2", "4", "16Gi");
  ASSERT_TRUE(WaitForCapacity("cpu", "8"));
  auto node = VirtualNode();
  ASSERT_TRUE(node.has_value());
  const Object* gpu = Condition(*node, "GpuHealthy");
  ASSERT_NE(gpu, nullptr);
  EXPECT_EQ(obj::String(*gpu, {"reason"}), "Probe");
  ASSERT_NE(Condition(*node, "Ready"), nullptr);
}

TEST_F(NodeControllerTest, NoHostNodeMeansNotReadyCondition) {
  StartController();
  ASSERT_TRUE(WaitFor([&] {
    auto node = VirtualNode();
    const Object* ready = node ? Condition(*node, "Ready") : nullptr;
    return ready && obj::String(*ready, {"reason"}) == "NoHostNodes";
  }));
  EXPECT_EQ(obj::String(*Condition(*VirtualNode(), "Ready"), {"status"}), "False");
  AddHostNode("host-1", "4", "16Gi");
  ASSERT_TRUE(WaitFor([&] {
    auto node = VirtualNode();
    const Object* ready = node ? Condition(*node, "Ready") : nullptr;
    return ready && obj::String(*ready, {"status"}) == "True";
  }));
}

TEST_F(NodeControllerTest, NodeDeletedBehindOurBackIsRegisteredAgain) {
  AddHostNode("host-1", "4", "16Gi");
  StartController();
  ASSERT_TRUE(WaitFor([&] { return controller_->Ready(); }));
  const std::string uid(obj::Uid(*VirtualNode()));
  ASSERT_TRUE(virtual_client_->Delete(Nodes(), "", kNodeName).has_value());
  // The next status write finds it gone: force one with a capacity change.
  AddHostNode("host-2", "4", "16Gi");
  ASSERT_TRUE(WaitFor([&] {
    auto node = VirtualNode();
    return node && obj::Uid(*node) != uid &&
           obj::String(*node, {"status", "capacity", "cpu"}) == "8";
  }));
  // The lease follows the new node.
  ASSERT_TRUE(WaitFor([&] {
    auto lease = virtual_client_->Get(Leases(), "kube-node-lease", kNodeName);
    const auto* owners = lease ? obj::Find(*lease, {"metadata", "ownerReferences"}) : nullptr;
    return owners &&
           obj::String(owners->as_array()[0].as_object(), {"uid"}) == obj::Uid(*VirtualNode());
  }));
}

TEST_F(NodeControllerTest, PerHostNodeModeServesOneNodePerHostNode) {
  AddHostNode("host-1", "4", "16Gi");
  AddHostNode("host-2", "8", "32Gi");
  auto options = Options();
  options.mode = NodeControllerOptions::Mode::kPerHostNode;
  options.node_prefix = "vk-";
  StartController(options);
  ASSERT_TRUE(WaitForCapacity("cpu", "4", "vk-host-1"));
  ASSERT_TRUE(WaitForCapacity("cpu", "8", "vk-host-2"));
  EXPECT_EQ(obj::Label(*VirtualNode("vk-host-1"), kHostNodeLabel), "host-1");
  ASSERT_TRUE(WaitFor([&] { return controller_->Ready(); }));
  EXPECT_EQ(controller_->NodeNames(), (std::vector<std::string>{"vk-host-1", "vk-host-2"}));
  ASSERT_TRUE(WaitFor([&] { return !LeaseRenewTime("vk-host-2").empty(); }));

  ASSERT_TRUE(host_client_->Delete(Nodes(), "", "host-2").has_value());
  ASSERT_TRUE(WaitFor([&] { return !VirtualNode("vk-host-2").has_value(); }));
  ASSERT_TRUE(WaitFor([&] { return LeaseRenewTime("vk-host-2").empty(); }));
  // The controller publishes its node set after the pass that deleted the node ends.
  EXPECT_TRUE(
      WaitFor([&] { return controller_->NodeNames() == std::vector<std::string>{"vk-host-1"}; }));
  AddHostNode("host-3", "2", "8Gi");
  ASSERT_TRUE(WaitForCapacity("cpu", "2", "vk-host-3"));
  EXPECT_TRUE(VirtualNode("vk-host-1").has_value());
}

}  // namespace
}  // namespace vk::kubelet
