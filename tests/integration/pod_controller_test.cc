// The shared-mode PodController against two kubesims: "virtual" (where users create pods bound to
// our node) and "host" (where a NodeSimulator plays the kubelets of three nodes).
#include "syncer/shared/pod_controller.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "hostclient/base/base64.h"
#include "hostclient/rest_client.h"
#include "syncer/shared/host_naming.h"
#include "syncer/shared/token_secrets.h"
#include "tests/kubesim/node_simulator.h"
#include "tests/support/kubesim_instance.h"
#include "tests/support/sample_objects.h"
#include "tests/support/wait_for.h"

namespace vk::syncer::shared {
namespace {

using hostclient::RestClient;
using hostclient::resources::ConfigMaps;
using hostclient::resources::Namespaces;
using hostclient::resources::Pods;
using hostclient::resources::Secrets;
using std::chrono::seconds;
using vk::testing::WaitFor;

constexpr char kCluster[] = "tenant-a";
constexpr char kHostNamespace[] = "vc-tenant-a";
constexpr char kNode[] = "vk-tenant-a";

struct RecordedEvent {
  std::string object;  // ns/name
  std::string type;
  std::string reason;
  std::string message;
};

Object SimplePod(const std::string& ns, const std::string& name, const std::string& node = kNode) {
  Object pod{
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", Object{{"name", name}, {"namespace", ns}, {"labels", Object{{"app", "web"}}}}},
      {"spec", Object{{"nodeName", node},
                      {"containers",
                       boost::json::array{Object{{"name", "app"}, {"image", "nginx:1.25"}}}}}}};
  return pod;
}

std::string FirstImage(const Object& pod) {
  const auto* containers = obj::Find(pod, {"spec", "containers"});
  if (containers == nullptr || !containers->is_array() || containers->as_array().empty()) return {};
  return std::string(obj::String(containers->as_array()[0].as_object(), {"image"}));
}

class PodControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    virtual_ = testing::StartKubesimWithClient("virtual", true, virtual_client_);
    host_ = testing::StartKubesimWithClient("host", false, host_client_);
    ASSERT_TRUE(virtual_ && host_);
    ASSERT_TRUE(host_client_->Create(Namespaces(), "", testing::NamespaceObject(kHostNamespace))
                    .has_value());
    kubesim::NodeSimulator::Options sim;
    sim.nodes = 3;
    sim.schedule = true;
    sim.lease_interval = std::chrono::milliseconds(0);
    sim.node_status_interval = std::chrono::milliseconds(0);
    simulator_ = std::make_unique<kubesim::NodeSimulator>(host_->server().storage(),
                                                          host_->server().catalog(), sim);
    ASSERT_TRUE(simulator_->Start().has_value());
  }

  void TearDown() override {
    StopController();
    if (simulator_) simulator_->Stop();
  }

  PodControllerOptions Options() {
    PodControllerOptions options;
    options.translation.cluster = kCluster;
    options.translation.host_namespace = kHostNamespace;
    options.node_name = kNode;
    options.workers = 4;
    options.virtual_ca_pem = "fallback-ca";
    options.events = [this](const Object& involved, std::string_view type, std::string_view reason,
                            std::string message) {
      std::lock_guard lock(events_mutex_);
      events_.push_back({obj::Key(involved), std::string(type), std::string(reason), message});
    };
    return options;
  }

  void StartController(PodControllerOptions options) {
    registry_ = std::make_shared<prometheus::Registry>();
    controller_ = std::make_unique<PodController>(*virtual_client_, *host_client_,
                                                  std::move(options), registry_.get());
    controller_->Start();
    ASSERT_TRUE(WaitFor([&] { return controller_->Synced(); }, seconds(10)));
  }
  void StartController() { StartController(Options()); }

  void StopController() {
    if (controller_) controller_->Stop();
    controller_.reset();
  }

  std::string Metrics() { return prometheus::TextSerializer().Serialize(registry_->Collect()); }

  Result<Object> VirtualPod(const std::string& ns, const std::string& name) {
    return virtual_client_->Get(Pods(), ns, name);
  }
  Result<Object> Twin(const std::string& ns, const std::string& name) {
    return host_client_->Get(Pods(), kHostNamespace, HostName(kCluster, ns, name));
  }
  bool Gone(const Result<Object>& result) {
    return !result && result.error().code() == ErrorCode::kNotFound;
  }
  size_t HostPodCount() {
    auto list = host_client_->List(Pods(), kHostNamespace);
    return list ? list->at("items").as_array().size() : 0;
  }

  std::vector<RecordedEvent> Events() {
    std::lock_guard lock(events_mutex_);
    return events_;
  }

  std::unique_ptr<testing::KubesimInstance> virtual_;
  std::unique_ptr<testing::KubesimInstance> host_;
  std::unique_ptr<RestClient> virtual_client_;
  std::unique_ptr<RestClient> host_client_;
  std::unique_ptr<kubesim::NodeSimulator> simulator_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<PodController> controller_;
  std::mutex events_mutex_;
  std::vector<RecordedEvent> events_;
};

TEST_F(PodControllerTest, RunsAVirtualPodOnTheHostAndReportsItsStatusBack) {
  StartController();
  ASSERT_TRUE(virtual_client_->Create(Pods(), "default", SimplePod("default", "web-1")));

  ASSERT_TRUE(WaitFor(
      [&] {
        auto pod = VirtualPod("default", "web-1");
        return pod && obj::String(*pod, {"status", "phase"}) == "Running";
      },
      seconds(10)));
  auto twin = Twin("default", "web-1");
  ASSERT_TRUE(twin) << twin.error().ToString();
  EXPECT_EQ(obj::Annotation(*twin, kAnnotationOriginName), "web-1");
  EXPECT_EQ(obj::Label(*twin, kLabelCluster), kCluster);
  EXPECT_EQ(FirstImage(*twin), "nginx:1.25");
  auto pod = VirtualPod("default", "web-1");
  ASSERT_TRUE(pod);
  EXPECT_EQ(obj::String(*pod, {"status", "podIP"}), obj::String(*twin, {"status", "podIP"}));
  EXPECT_FALSE(obj::String(*pod, {"status", "podIP"}).empty());
  EXPECT_FALSE(obj::String(*pod, {"status", "startTime"}).empty());

  // The metrics are updated once the status write has returned to the controller, which can be
  // after this test already read the Running pod: wait for them rather than read them once.
  const std::vector<std::string> expected = {
      "vkubelet_pods{state=\"running\"} 1",
      "vkubelet_pod_sync_latency_seconds_count{stage=\"virtual_create_to_host_create\"} 1",
      "vkubelet_pod_sync_latency_seconds_count{stage=\"host_running_to_virtual_running\"} 1"};
  std::string metrics;
  const bool all_present = WaitFor(
      [&] {
        metrics = Metrics();
        return std::ranges::all_of(expected, [&](const std::string& line) {
          return metrics.find(line) != std::string::npos;
        });
      },
      seconds(10));
  EXPECT_TRUE(all_present) << metrics;
}

TEST_F(PodControllerTest, IgnoresPodsOfOtherNodes) {
  StartController();
  ASSERT_TRUE(virtual_client_->Create(Pods(), "default", SimplePod("default", "other", "node-b")));
  ASSERT_TRUE(virtual_client_->Create(Pods(), "default", SimplePod("default", "mine")));
  ASSERT_TRUE(WaitFor([&] { return Twin("default", "mine").has_value(); }, seconds(10)));
  EXPECT_TRUE(Gone(Twin("default", "other")));
}

TEST_F(PodControllerTest, CopiesReferencedObjectsAndTheTokenBeforeTheTwin) {
  StartController();
  ASSERT_TRUE(virtual_client_->Create(ConfigMaps(), "default",
                                      testing::SampleConfigMap("default", "shop-config")));
  ASSERT_TRUE(
      virtual_client_->Create(Secrets(), "default",
                              Object{{"apiVersion", "v1"},
                                     {"kind", "Secret"},
                                     {"metadata", Object{{"name", "db"}, {"namespace", "default"}}},
                                     {"data", Object{{"password", Base64Encode("s3cret")}}}}));
  ASSERT_TRUE(
      virtual_client_->Create(Pods(), "default", testing::SamplePod("default", "shop", kNode)));

  ASSERT_TRUE(WaitFor([&] { return Twin("default", "shop").has_value(); }, seconds(10)));
  // The copies were written before the twin, so they exist now.
  auto config =
      host_client_->Get(ConfigMaps(), kHostNamespace, HostName(kCluster, "default", "shop-config"));
  ASSERT_TRUE(config) << config.error().ToString();
  auto secret = host_client_->Get(Secrets(), kHostNamespace, HostName(kCluster, "default", "db"));
  ASSERT_TRUE(secret) << secret.error().ToString();
  EXPECT_EQ(obj::String(*secret, {"data", "password"}), Base64Encode("s3cret"));
  auto token = host_client_->Get(Secrets(), kHostNamespace,
                                 HostTokenSecretName(kCluster, "default", "shop"));
  ASSERT_TRUE(token) << token.error().ToString();
  auto token_text = Base64Decode(obj::String(*token, {"data", "token"}));
  ASSERT_TRUE(token_text);
  EXPECT_FALSE(token_text->empty());
  auto ca = Base64Decode(obj::String(*token, {"data", "ca.crt"}));
  ASSERT_TRUE(ca);
  EXPECT_NE(ca->find("BEGIN CERTIFICATE"), std::string::npos);  // from kube-root-ca.crt
  auto twin = Twin("default", "shop");
  ASSERT_TRUE(twin);
  const std::string twin_text = obj::Serialize(*twin);
  EXPECT_NE(twin_text.find(HostName(kCluster, "default", "shop-config")), std::string::npos);
  EXPECT_NE(twin_text.find(HostTokenSecretName(kCluster, "default", "shop")), std::string::npos);

  // A change of the virtual ConfigMap follows.
  ASSERT_TRUE(virtual_client_->Patch(ConfigMaps(), "default", "shop-config",
                                     hostclient::PatchType::kMergePatch,
                                     R"({"data":{"extra":"1"}})"));
  ASSERT_TRUE(WaitFor(
      [&] {
        auto copy = host_client_->Get(ConfigMaps(), kHostNamespace,
                                      HostName(kCluster, "default", "shop-config"));
        return copy && obj::String(*copy, {"data", "extra"}) == "1";
      },
      seconds(10)));

  // The last referencing pod gone: copies and token Secret go too.
  hostclient::DeleteOptions now;
  now.grace_period_seconds = 0;
  ASSERT_TRUE(virtual_client_->Delete(Pods(), "default", "shop", now));
  ASSERT_TRUE(WaitFor(
      [&] {
        return Gone(host_client_->Get(ConfigMaps(), kHostNamespace,
                                      HostName(kCluster, "default", "shop-config"))) &&
               Gone(host_client_->Get(Secrets(), kHostNamespace,
                                      HostName(kCluster, "default", "db"))) &&
               Gone(host_client_->Get(Secrets(), kHostNamespace,
                                      HostTokenSecretName(kCluster, "default", "shop")));
      },
      seconds(10)));
}

TEST_F(PodControllerTest, DeniedPrivilegesFailThePodWithAnEvent) {
  StartController();
  Object pod = SimplePod("default", "sniffer");
  pod["spec"].as_object()["hostNetwork"] = true;
  ASSERT_TRUE(virtual_client_->Create(Pods(), "default", pod));
  ASSERT_TRUE(WaitFor(
      [&] {
        auto got = VirtualPod("default", "sniffer");
        return got && obj::String(*got, {"status", "phase"}) == "Failed";
      },
      seconds(10)));
  auto got = VirtualPod("default", "sniffer");
  EXPECT_EQ(obj::String(*got, {"status", "reason"}), "HostPrivilegeDenied");
  EXPECT_NE(obj::String(*got, {"status", "message"}).find("spec.hostNetwork"), std::string::npos);
  EXPECT_NE(obj::String(*got, {"status", "message"}).find("pods.allow_host_network"),
            std::string::npos);
  EXPECT_TRUE(Gone(Twin("default", "sniffer")));
  auto events = Events();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0].object, "default/sniffer");
  EXPECT_EQ(events[0].reason, "HostPrivilegeDenied");
  EXPECT_NE(Metrics().find("vkubelet_pod_sync_errors_total{reason=\"privilege_denied\"} 1"),
            std::string::npos);
}

TEST_F(PodControllerTest, AllowedPrivilegesRun) {
  PodControllerOptions options = Options();
  options.translation.privileges.allow_host_network = true;
  StartController(std::move(options));
  Object pod = SimplePod("default", "net");
  pod["spec"].as_object()["hostNetwork"] = true;
  ASSERT_TRUE(virtual_client_->Create(Pods(), "default", pod));
  ASSERT_TRUE(WaitFor([&] { return Twin("default", "net").has_value(); }, seconds(10)));
  EXPECT_EQ(Twin("default", "net")->at("spec").at("hostNetwork"), true);
}

TEST_F(PodControllerTest, DeletionPassesTheGracePeriodAndWaitsForTheTwin) {
  StartController();
  ASSERT_TRUE(virtual_client_->Create(Pods(), "default", SimplePod("default", "web")));
  ASSERT_TRUE(WaitFor(
      [&] {
        auto pod = VirtualPod("default", "web");
        return pod && obj::String(*pod, {"status", "phase"}) == "Running";
      },
      seconds(10)));

  hostclient::DeleteOptions graceful;
  graceful.grace_period_seconds = 7;
  ASSERT_TRUE(virtual_client_->Delete(Pods(), "default", "web", graceful));
  // The twin is deleted with the same grace period (the simulator stops containers at once and
  // then removes it).
  ASSERT_TRUE(WaitFor([&] { return Gone(VirtualPod("default", "web")); }, seconds(10)));
  EXPECT_TRUE(Gone(Twin("default", "web")));
  EXPECT_NE(Metrics().find("vkubelet_pod_host_writes_total{op=\"delete\"} 1"), std::string::npos);
}

TEST_F(PodControllerTest, GracePeriodReachesTheHost) {
  StartController();
  Object pod = SimplePod("default", "slow");
  // The simulator's containers ignore SIGTERM: the twin lives until its grace period ends.
  pod["spec"].as_object()["containers"].as_array()[0].as_object()["image"] =
      "busybox:ignore-sigterm";
  ASSERT_TRUE(virtual_client_->Create(Pods(), "default", pod));
  ASSERT_TRUE(WaitFor(
      [&] {
        auto got = VirtualPod("default", "slow");
        return got && obj::String(*got, {"status", "phase"}) == "Running";
      },
      seconds(10)));
  hostclient::DeleteOptions graceful;
  graceful.grace_period_seconds = 2;
  ASSERT_TRUE(virtual_client_->Delete(Pods(), "default", "slow", graceful));
  ASSERT_TRUE(WaitFor(
      [&] {
        auto twin = Twin("default", "slow");
        return twin && obj::Find(*twin, {"metadata", "deletionGracePeriodSeconds"}) != nullptr;
      },
      seconds(10)));
  EXPECT_EQ(obj::Int(*Twin("default", "slow"), {"metadata", "deletionGracePeriodSeconds"}), 2);
  // Still there while the host pod stops.
  EXPECT_TRUE(VirtualPod("default", "slow").has_value());
  ASSERT_TRUE(WaitFor([&] { return Gone(VirtualPod("default", "slow")); }, seconds(10)));
  EXPECT_TRUE(Gone(Twin("default", "slow")));
}

TEST_F(PodControllerTest, HostEvictionDeletesTheVirtualPod) {
  StartController();
  ASSERT_TRUE(virtual_client_->Create(Pods(), "default", SimplePod("default", "victim")));
  ASSERT_TRUE(WaitFor(
      [&] {
        auto pod = VirtualPod("default", "victim");
        return pod && obj::String(*pod, {"status", "phase"}) == "Running";
      },
      seconds(10)));
  // The host drains a node: the Eviction API deletes the twin gracefully.
  Object eviction{{"apiVersion", "policy/v1"},
                  {"kind", "Eviction"},
                  {"metadata", Object{{"name", HostName(kCluster, "default", "victim")},
                                      {"namespace", kHostNamespace}}}};
  ASSERT_TRUE(host_client_->CreateSubresource(
      Pods(), kHostNamespace, HostName(kCluster, "default", "victim"), "eviction", eviction));
  ASSERT_TRUE(WaitFor([&] { return Gone(VirtualPod("default", "victim")); }, seconds(10)));
  EXPECT_TRUE(Gone(Twin("default", "victim")));
  // Whether we saw the twin terminating (HostPodDeleted) or only gone (the simulated kubelet
  // stops at once: HostPodLost) depends on timing; either way the user is told.
  bool evented = false;
  for (const auto& event : Events()) {
    evented |= event.reason == "HostPodDeleted" || event.reason == "HostPodLost";
  }
  EXPECT_TRUE(evented);
}

TEST_F(PodControllerTest, KubeletEvictionIsReportedAsFailed) {
  StartController();
  ASSERT_TRUE(virtual_client_->Create(Pods(), "default", SimplePod("default", "hog")));
  ASSERT_TRUE(WaitFor(
      [&] {
        auto pod = VirtualPod("default", "hog");
        return pod && obj::String(*pod, {"status", "phase"}) == "Running";
      },
      seconds(10)));
  ASSERT_TRUE(simulator_->Evict(kHostNamespace, HostName(kCluster, "default", "hog")));
  ASSERT_TRUE(WaitFor(
      [&] {
        auto pod = VirtualPod("default", "hog");
        return pod && obj::String(*pod, {"status", "phase"}) == "Failed" &&
               obj::String(*pod, {"status", "reason"}) == "Evicted";
      },
      seconds(10)));
}

TEST_F(PodControllerTest, ATwinLostOnTheHostFailsAndRemovesThePod) {
  StartController();
  ASSERT_TRUE(virtual_client_->Create(Pods(), "default", SimplePod("default", "lost")));
  ASSERT_TRUE(WaitFor(
      [&] {
        auto pod = VirtualPod("default", "lost");
        return pod && obj::String(*pod, {"status", "phase"}) == "Running";
      },
      seconds(10)));
  // The twin vanishes while vkubelet is down (a force deletion seen live goes through the
  // host-deletion path instead: kubesim, like kube-apiserver, first marks the pod deleted).
  StopController();
  hostclient::DeleteOptions force;
  force.grace_period_seconds = 0;
  ASSERT_TRUE(
      host_client_->Delete(Pods(), kHostNamespace, HostName(kCluster, "default", "lost"), force));
  StartController();
  ASSERT_TRUE(WaitFor([&] { return Gone(VirtualPod("default", "lost")); }, seconds(10)));
  std::string reasons;
  for (const auto& event : Events()) reasons += event.reason + " ";
  EXPECT_NE(reasons.find("HostPodLost"), std::string::npos) << reasons;
  EXPECT_EQ(HostPodCount(), 0u);  // not recreated
}

TEST_F(PodControllerTest, RestartAdoptsTwinsCollectsOrphansAndCreatesNothingTwice) {
  StartController();
  for (const char* name : {"keep-1", "keep-2", "doomed"}) {
    ASSERT_TRUE(virtual_client_->Create(Pods(), "default", SimplePod("default", name)));
  }
  ASSERT_TRUE(WaitFor(
      [&] {
        for (const char* name : {"keep-1", "keep-2", "doomed"}) {
          auto pod = VirtualPod("default", name);
          if (!pod || obj::String(*pod, {"status", "phase"}) != "Running") return false;
        }
        return true;
      },
      seconds(10)));
  const std::string keep_uid(obj::Uid(*Twin("default", "keep-1")));
  StopController();

  // While vkubelet is down: one pod is force-deleted, one is created.
  hostclient::DeleteOptions force;
  force.grace_period_seconds = 0;
  ASSERT_TRUE(virtual_client_->Delete(Pods(), "default", "doomed", force));
  ASSERT_TRUE(virtual_client_->Create(Pods(), "default", SimplePod("default", "newcomer")));

  StartController();
  ASSERT_TRUE(WaitFor(
      [&] { return Gone(Twin("default", "doomed")) && Twin("default", "newcomer").has_value(); },
      seconds(10)));
  EXPECT_EQ(obj::Uid(*Twin("default", "keep-1")), keep_uid);  // adopted, not recreated
  EXPECT_EQ(HostPodCount(), 3u);
  // Counted once the create has returned to the controller, which can be after the twin shows.
  std::string metrics;
  EXPECT_TRUE(WaitFor([&] {
    metrics = Metrics();
    return metrics.find("vkubelet_pod_host_writes_total{op=\"create\"} 1") != std::string::npos;
  })) << metrics;
}

TEST_F(PodControllerTest, NeverTouchesAHostPodOfAnotherOrigin) {
  // Someone else's pod already holds the twin's name.
  Object foreign = SimplePod(kHostNamespace, HostName(kCluster, "default", "clash"), "");
  foreign["spec"].as_object().erase("nodeName");
  ASSERT_TRUE(host_client_->Create(Pods(), kHostNamespace, foreign));
  StartController();
  ASSERT_TRUE(virtual_client_->Create(Pods(), "default", SimplePod("default", "clash")));
  ASSERT_TRUE(WaitFor(
      [&] {
        for (const auto& event : Events()) {
          if (event.reason == "HostNameConflict") return true;
        }
        return false;
      },
      seconds(10)));
  auto held = Twin("default", "clash");
  ASSERT_TRUE(held);
  EXPECT_TRUE(obj::Annotation(*held, kAnnotationOriginName).empty());
  hostclient::DeleteOptions force;
  force.grace_period_seconds = 0;
  ASSERT_TRUE(virtual_client_->Delete(Pods(), "default", "clash", force));
  StopController();
  EXPECT_TRUE(Twin("default", "clash").has_value());  // still there: not ours to delete
}

TEST_F(PodControllerTest, UpdatesReachTheTwin) {
  StartController();
  ASSERT_TRUE(virtual_client_->Create(Pods(), "default", SimplePod("default", "upd")));
  ASSERT_TRUE(WaitFor([&] { return Twin("default", "upd").has_value(); }, seconds(10)));
  ASSERT_TRUE(virtual_client_->Patch(
      Pods(), "default", "upd", hostclient::PatchType::kStrategicMerge,
      R"({"metadata":{"labels":{"tier":"gold"}},"spec":{"containers":[{"name":"app","image":"nginx:1.26"}]}})"));
  ASSERT_TRUE(WaitFor(
      [&] {
        auto twin = Twin("default", "upd");
        return twin && obj::Label(*twin, "tier") == "gold" && FirstImage(*twin) == "nginx:1.26";
      },
      seconds(10)));
}

TEST_F(PodControllerTest, EphemeralContainersReachTheRunningTwin) {
  StartController();
  ASSERT_TRUE(virtual_client_->Create(Pods(), "default", SimplePod("default", "dbg")));
  ASSERT_TRUE(WaitFor(
      [&] {
        auto pod = VirtualPod("default", "dbg");
        return pod && obj::String(*pod, {"status", "phase"}) == "Running";
      },
      seconds(10)));
  // `kubectl debug`: one allowed container and one that asks for a privilege the policy denies.
  auto debugged =
      virtual_client_->Patch(Pods(), "default", "dbg", hostclient::PatchType::kStrategicMerge,
                             R"({"spec":{"ephemeralContainers":[
          {"name":"debugger","image":"busybox","targetContainerName":"app","stdin":true},
          {"name":"root","image":"busybox","securityContext":{"privileged":true}}]}})",
                             {}, "ephemeralcontainers");
  ASSERT_TRUE(debugged) << debugged.error().ToString();

  auto status_of = [&](const Object& pod, std::string_view name) -> const Object* {
    const auto* statuses = obj::Find(pod, {"status", "ephemeralContainerStatuses"});
    if (statuses == nullptr || !statuses->is_array()) return nullptr;
    for (const auto& s : statuses->as_array()) {
      if (s.is_object() && obj::String(s.as_object(), {"name"}) == name) return &s.as_object();
    }
    return nullptr;
  };
  Object pod;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto fetched = VirtualPod("default", "dbg");
        if (!fetched) return false;
        pod = *fetched;
        const Object* debugger = status_of(pod, "debugger");
        const Object* root = status_of(pod, "root");
        return debugger != nullptr && obj::Find(*debugger, {"state", "running"}) != nullptr &&
               root != nullptr;
      },
      seconds(10)))
      << obj::Serialize(pod);
  EXPECT_EQ(obj::String(*status_of(pod, "root"), {"state", "waiting", "reason"}),
            "HostPrivilegeDenied");
  EXPECT_EQ(obj::String(pod, {"status", "phase"}), "Running") << "the pod itself keeps running";

  auto twin = Twin("default", "dbg");
  ASSERT_TRUE(twin);
  const auto& on_host = obj::Find(*twin, {"spec", "ephemeralContainers"})->as_array();
  ASSERT_EQ(on_host.size(), 1u) << "the denied container never reaches the host";
  EXPECT_EQ(obj::String(on_host[0].as_object(), {"name"}), "debugger");
  EXPECT_EQ(obj::String(on_host[0].as_object(), {"targetContainerName"}), "app");

  size_t denied_events = 0;
  for (const auto& event : Events()) {
    if (event.object == "default/dbg" && event.reason == "HostPrivilegeDenied") {
      ++denied_events;
      EXPECT_NE(event.message.find("ephemeral container root not started: "
                                   "spec.ephemeralContainers[root].securityContext.privileged"),
                std::string::npos)
          << event.message;
    }
  }
  EXPECT_EQ(denied_events, 1u);
}

}  // namespace
}  // namespace vk::syncer::shared
