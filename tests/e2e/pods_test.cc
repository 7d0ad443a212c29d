// Shared mode end to end: the real vkubelet binary between a virtual and a host kubesim, whose
// NodeSimulator plays the host's kubelets. Checks counts and objects, never logs.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "hostclient/base/base64.h"
#include "hostclient/informer.h"
#include "hostclient/lister_watcher.h"
#include "hostclient/resource.h"
#include "hostclient/rest_client.h"
#include "syncer/shared/host_naming.h"
#include "tests/kubesim/node_simulator.h"
#include "tests/support/shared_mode_env.h"
#include "tests/support/wait_for.h"

namespace vk::testing {
namespace {

using hostclient::DeleteOptions;
using hostclient::resources::ConfigMaps;
using hostclient::resources::Events;
using hostclient::resources::Pods;
using hostclient::resources::Secrets;
using std::chrono::seconds;
using syncer::shared::HostName;
using Steady = std::chrono::steady_clock;

constexpr char kNs[] = "default";

Object Pod(const std::string& name, const std::string& node, const std::string& image = "nginx") {
  return Object{
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", Object{{"name", name}, {"namespace", kNs}, {"labels", Object{{"app", "e2e"}}}}},
      {"spec",
       Object{{"nodeName", node},
              {"containers", boost::json::array{Object{{"name", "app"}, {"image", image}}}}}}};
}

std::string Phase(const Result<Object>& pod) {
  return pod ? std::string(obj::String(*pod, {"status", "phase"})) : "";
}

bool NotFound(const Result<Object>& result) {
  return !result && result.error().code() == ErrorCode::kNotFound;
}

// Records when each virtual pod was first seen Running, from a watch of the test's own.
class RunningWatcher {
 public:
  explicit RunningWatcher(hostclient::RestClient& client)
      : informer_(std::make_unique<hostclient::RestListerWatcher>(client, Pods(), kNs)) {
    auto seen = [this](const ObjectPtr& pod) {
      if (obj::String(*pod, {"status", "phase"}) != "Running") return;
      std::lock_guard lock(mutex_);
      running_.emplace(std::string(obj::Name(*pod)), Steady::now());
    };
    informer_.AddEventHandler({[seen](const ObjectPtr& pod, bool) { seen(pod); },
                               [seen](const ObjectPtr&, const ObjectPtr& pod) { seen(pod); },
                               nullptr});
    informer_.Start();
    informer_.WaitForSync(seconds(10));
  }
  ~RunningWatcher() { informer_.Stop(); }

  size_t Running() {
    std::lock_guard lock(mutex_);
    return running_.size();
  }
  std::optional<Steady::time_point> RunningAt(const std::string& name) {
    std::lock_guard lock(mutex_);
    auto it = running_.find(name);
    if (it == running_.end()) return std::nullopt;
    return it->second;
  }

 private:
  hostclient::SharedInformer informer_;
  std::mutex mutex_;
  std::map<std::string, Steady::time_point> running_;
};

class PodsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SharedModeEnv::Options options;
    options.vkubelet_binary = VKUBELET_BINARY;
    auto env = SharedModeEnv::Start(std::move(options));
    ASSERT_TRUE(env) << env.error().ToString();
    env_ = std::move(*env);
  }
  void TearDown() override {
    if (HasFailure() && env_) std::cerr << "---- vkubelet log ----\n" << env_->VkubeletLog();
  }

  void StartVkubelet(std::vector<std::string> args = {}) {
    ASSERT_TRUE(Succeeded(env_->StartVkubelet(std::move(args))));
    ASSERT_TRUE(Succeeded(env_->WaitForReadyz()));
  }

  Result<Object> VirtualPod(const std::string& name) {
    return env_->virtual_client().Get(Pods(), kNs, name);
  }
  Result<Object> Twin(const std::string& name) {
    return env_->host_client().Get(Pods(), env_->host_namespace(), HostName("e2e", kNs, name));
  }
  std::vector<ObjectPtr> HostPods() {
    std::vector<ObjectPtr> out;
    auto list = env_->host_client().ListAll(Pods(), env_->host_namespace());
    if (!list) return out;
    for (const auto& item : list->at("items").as_array()) {
      out.push_back(std::make_shared<const Object>(item.as_object()));
    }
    return out;
  }
  bool WaitRunning(const std::string& name, std::chrono::milliseconds timeout = seconds(20)) {
    return WaitFor([&] { return Phase(VirtualPod(name)) == "Running"; }, timeout);
  }
  std::vector<std::string> VirtualEventReasons(const std::string& pod) {
    std::vector<std::string> reasons;
    hostclient::ListOptions options;
    options.field_selector = "involvedObject.name=" + pod;
    auto list = env_->virtual_client().List(Events(), kNs, options);
    if (!list) return reasons;
    for (const auto& item : list->at("items").as_array()) {
      reasons.emplace_back(obj::String(item.as_object(), {"reason"}));
    }
    return reasons;
  }
  bool HasEvent(const std::string& pod, const std::string& reason) {
    auto reasons = VirtualEventReasons(pod);
    return std::find(reasons.begin(), reasons.end(), reason) != reasons.end();
  }

  std::unique_ptr<SharedModeEnv> env_;
};

TEST_F(PodsE2eTest, APodWithVolumesRunsOnTheHostAndIsDeletedWithItsGracePeriod) {
  StartVkubelet();
  auto& virt = env_->virtual_client();
  ASSERT_TRUE(virt.Create(ConfigMaps(), kNs,
                          Object{{"apiVersion", "v1"},
                                 {"kind", "ConfigMap"},
                                 {"metadata", Object{{"name", "web-config"}, {"namespace", kNs}}},
                                 {"data", Object{{"index.html", "hello"}}}}));
  ASSERT_TRUE(virt.Create(Secrets(), kNs,
                          Object{{"apiVersion", "v1"},
                                 {"kind", "Secret"},
                                 {"metadata", Object{{"name", "web-secret"}, {"namespace", kNs}}},
                                 {"data", Object{{"password", Base64Encode("pw")}}}}));
  Object pod = Pod("web", env_->node_name());
  Object& spec = pod["spec"].as_object();
  spec["volumes"] = boost::json::array{
      Object{{"name", "html"}, {"configMap", Object{{"name", "web-config"}}}},
      Object{{"name", "creds"}, {"secret", Object{{"secretName", "web-secret"}}}}};
  ASSERT_TRUE(virt.Create(Pods(), kNs, pod));
  ASSERT_TRUE(WaitRunning("web"));

  // The twin and the copies of everything it mounts, token included (kube-api-access is added
  // by the virtual API server's service-account admission).
  auto twin = Twin("web");
  ASSERT_TRUE(twin) << twin.error().ToString();
  const std::string host_ns = env_->host_namespace();
  auto& host = env_->host_client();
  EXPECT_TRUE(host.Get(ConfigMaps(), host_ns, HostName("e2e", kNs, "web-config")));
  EXPECT_TRUE(host.Get(Secrets(), host_ns, HostName("e2e", kNs, "web-secret")));
  const std::string twin_text = obj::Serialize(*twin);
  EXPECT_NE(twin_text.find(HostName("e2e", kNs, "web-config")), std::string::npos);
  EXPECT_NE(twin_text.find(HostName("e2e", kNs, "web-secret")), std::string::npos);
  size_t secrets_for_twin = 0;
  auto secrets = host.List(Secrets(), host_ns);
  ASSERT_TRUE(secrets);
  for (const auto& item : secrets->at("items").as_array()) {
    const std::string name(obj::Name(item.as_object()));
    if (twin_text.find(name) != std::string::npos) ++secrets_for_twin;
  }
  EXPECT_EQ(secrets_for_twin, 2u);  // the secret copy and the token Secret
  auto virtual_pod = VirtualPod("web");
  EXPECT_EQ(obj::String(*virtual_pod, {"status", "podIP"}),
            obj::String(*twin, {"status", "podIP"}));

  // Status and the host kubelet's events flow back.
  EXPECT_TRUE(WaitFor([&] { return HasEvent("web", "Started"); }, seconds(10)));

  DeleteOptions graceful;
  graceful.grace_period_seconds = 5;
  ASSERT_TRUE(virt.Delete(Pods(), kNs, "web", graceful));
  ASSERT_TRUE(WaitFor([&] { return NotFound(VirtualPod("web")); }, seconds(20)));
  EXPECT_TRUE(NotFound(Twin("web")));
  EXPECT_TRUE(WaitFor(
      [&] { return NotFound(host.Get(ConfigMaps(), host_ns, HostName("e2e", kNs, "web-config"))); },
      seconds(10)));
}

TEST_F(PodsE2eTest, DeniedPrivilegesFailThePodAndSaySo) {
  StartVkubelet();
  Object pod = Pod("root", env_->node_name());
  pod["spec"].as_object()["hostPID"] = true;
  ASSERT_TRUE(env_->virtual_client().Create(Pods(), kNs, pod));
  ASSERT_TRUE(WaitFor([&] { return Phase(VirtualPod("root")) == "Failed"; }, seconds(20)));
  auto got = VirtualPod("root");
  EXPECT_EQ(obj::String(*got, {"status", "reason"}), "HostPrivilegeDenied");
  EXPECT_NE(obj::String(*got, {"status", "message"}).find("spec.hostPID"), std::string::npos);
  EXPECT_TRUE(WaitFor([&] { return HasEvent("root", "HostPrivilegeDenied"); }, seconds(10)));
  EXPECT_TRUE(NotFound(Twin("root")));
}

TEST_F(PodsE2eTest, HostEvictionIsReflected) {
  StartVkubelet();
  ASSERT_TRUE(env_->virtual_client().Create(Pods(), kNs, Pod("evictee", env_->node_name())));
  ASSERT_TRUE(WaitRunning("evictee"));
  const std::string host_name = HostName("e2e", kNs, "evictee");
  Object eviction{{"apiVersion", "policy/v1"},
                  {"kind", "Eviction"},
                  {"metadata", Object{{"name", host_name}, {"namespace", env_->host_namespace()}}}};
  ASSERT_TRUE(env_->host_client().CreateSubresource(Pods(), env_->host_namespace(), host_name,
                                                    "eviction", eviction));
  ASSERT_TRUE(WaitFor([&] { return NotFound(VirtualPod("evictee")); }, seconds(20)));
  EXPECT_TRUE(NotFound(Twin("evictee")));
}

// 300 pods at once: every one runs, one twin each; prints the latency from the create call to
// the virtual pod reporting Running (the user's view), with vkubelet's own two stages.
TEST_F(PodsE2eTest, BurstOf300Pods) {
  constexpr int kPods = 300;
  // The client-side rate limit is the bound here; raised so that the figure shows vkubelet.
  StartVkubelet({"--host-qps", "1000", "--host-burst", "2000", "--virtual-qps", "1000",
                 "--virtual-burst", "2000"});
  RunningWatcher watcher(env_->virtual_client());
  std::vector<Steady::time_point> created(kPods);
  std::atomic<int> next{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> creators;
  for (int t = 0; t < 8; ++t) {
    creators.emplace_back([&] {
      for (int i = next++; i < kPods; i = next++) {
        auto made = env_->virtual_client().Create(
            Pods(), kNs, Pod("burst-" + std::to_string(i), env_->node_name()));
        created[i] = Steady::now();
        if (!made) ++failures;
      }
    });
  }
  for (auto& thread : creators) thread.join();
  ASSERT_EQ(failures.load(), 0);
  ASSERT_TRUE(WaitFor([&] { return watcher.Running() == kPods; }, seconds(120)))
      << watcher.Running() << " of " << kPods << " running";

  std::vector<double> latencies_ms;
  for (int i = 0; i < kPods; ++i) {
    auto at = watcher.RunningAt("burst-" + std::to_string(i));
    ASSERT_TRUE(at);
    latencies_ms.push_back(std::chrono::duration<double, std::milli>(*at - created[i]).count());
  }
  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto pct = [&](double p) { return latencies_ms[static_cast<size_t>(p * (kPods - 1))]; };
  std::printf(
      "burst of %d pods, create -> virtual Running: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", kPods,
      pct(0.5), pct(0.99), latencies_ms.back());

  auto host_pods = HostPods();
  std::set<std::string> origins;
  for (const auto& twin : host_pods) {
    origins.insert(std::string(obj::Annotation(*twin, syncer::shared::kAnnotationOriginName)));
  }
  EXPECT_EQ(host_pods.size(), static_cast<size_t>(kPods));
  EXPECT_EQ(origins.size(), static_cast<size_t>(kPods));
  // vkubelet updates its metrics once a status write has returned, which can be after this test
  // saw the pod Running: wait for them.
  std::string metrics_text;
  EXPECT_TRUE(WaitFor([&] {
    auto metrics = env_->Metrics();
    metrics_text = metrics ? *metrics : std::string();
    return metrics_text.find("vkubelet_pods{state=\"running\"} 300") != std::string::npos &&
           metrics_text.find(
               "vkubelet_pod_sync_latency_seconds_count{stage=\"virtual_create_to_"
               "host_create\"} 300") != std::string::npos;
  })) << metrics_text;

  // And all of them go away again.
  for (int i = 0; i < kPods; ++i) {
    DeleteOptions now;
    now.grace_period_seconds = 0;
    ASSERT_TRUE(env_->virtual_client().Delete(Pods(), kNs, "burst-" + std::to_string(i), now));
  }
  EXPECT_TRUE(WaitFor([&] { return HostPods().empty(); }, seconds(60)));
}

// kill -9 in the middle of a burst, then restart: every pod ends up with exactly one twin,
// none is lost, no twin is left without its pod, and twins that existed are kept (not restarted).
TEST_F(PodsE2eTest, KillDuringABurstLosesDuplicatesAndOrphansNothing) {
  constexpr int kPods = 150;
  StartVkubelet();
  for (int i = 0; i < kPods; ++i) {
    ASSERT_TRUE(env_->virtual_client().Create(Pods(), kNs,
                                              Pod("k-" + std::to_string(i), env_->node_name())));
    if (i == kPods / 3) {
      // Some twins exist by now (or soon): kill mid-flight.
      ASSERT_TRUE(WaitFor([&] { return !HostPods().empty(); }, seconds(20)));
      env_->KillVkubelet();
    }
  }
  // Twins that existed at the kill, from one list: a create still in flight at the kill may land
  // after it, and the doomed pod must be one whose twin is counted here.
  const auto twins_at_kill = HostPods();
  ASSERT_FALSE(twins_at_kill.empty());
  std::map<std::string, std::string> uid_before;
  for (const auto& twin : twins_at_kill)
    uid_before[std::string(obj::Name(*twin))] = std::string(obj::Uid(*twin));
  // Meanwhile one pod with a twin goes away for good.
  const std::string doomed =
      std::string(obj::Annotation(*twins_at_kill.front(), syncer::shared::kAnnotationOriginName));
  DeleteOptions force;
  force.grace_period_seconds = 0;
  ASSERT_TRUE(env_->virtual_client().Delete(Pods(), kNs, doomed, force));

  StartVkubelet();
  ASSERT_TRUE(WaitFor(
      [&] {
        auto list = env_->virtual_client().List(Pods(), kNs);
        if (!list) return false;
        for (const auto& item : list->at("items").as_array()) {
          if (obj::String(item.as_object(), {"status", "phase"}) != "Running") return false;
        }
        return list->at("items").as_array().size() == kPods - 1;
      },
      seconds(120)));
  ASSERT_TRUE(WaitFor([&] { return HostPods().size() == kPods - 1; }, seconds(30)));
  std::set<std::string> origins;
  size_t kept = 0;
  for (const auto& twin : HostPods()) {
    const std::string origin(obj::Annotation(*twin, syncer::shared::kAnnotationOriginName));
    EXPECT_NE(origin, doomed);
    origins.insert(origin);
    auto before = uid_before.find(std::string(obj::Name(*twin)));
    if (before != uid_before.end()) {
      EXPECT_EQ(before->second, obj::Uid(*twin)) << "twin of " << origin << " was recreated";
      ++kept;
    }
  }
  EXPECT_EQ(origins.size(), static_cast<size_t>(kPods - 1));  // no duplicates, none lost
  EXPECT_EQ(kept, uid_before.size() - 1);                     // all but the doomed one adopted
}

TEST_F(PodsE2eTest, PerHostNodeModePinsPodsToTheirHostNode) {
  StartVkubelet({"--node-mode", "per-host-node"});
  ASSERT_TRUE(Succeeded(env_->WaitForNodeReady("sim-node-2")));
  ASSERT_TRUE(env_->virtual_client().Create(Pods(), kNs, Pod("pinned", "sim-node-2")));
  ASSERT_TRUE(WaitRunning("pinned"));
  auto twin = Twin("pinned");
  ASSERT_TRUE(twin);
  EXPECT_EQ(obj::String(*twin, {"spec", "nodeName"}), "sim-node-2");
  EXPECT_EQ(obj::String(*twin, {"spec", "nodeSelector", "kubernetes.io/hostname"}), "sim-node-2");
}

TEST_F(PodsE2eTest, SingleNodeModeSpreadsPodsOverHostNodes) {
  StartVkubelet();
  ASSERT_TRUE(Succeeded(env_->WaitForNodeReady(env_->node_name())));
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(env_->virtual_client().Create(Pods(), kNs,
                                              Pod("s-" + std::to_string(i), env_->node_name())));
  }
  ASSERT_TRUE(WaitFor(
      [&] {
        for (int i = 0; i < 6; ++i) {
          if (Phase(VirtualPod("s-" + std::to_string(i))) != "Running") return false;
        }
        return true;
      },
      seconds(20)));
  std::set<std::string> host_nodes;
  for (const auto& twin : HostPods())
    host_nodes.insert(std::string(obj::String(*twin, {"spec", "nodeName"})));
  EXPECT_GT(host_nodes.size(), 1u);
  // The virtual pods all stay on the one virtual node.
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(obj::String(*VirtualPod("s-" + std::to_string(i)), {"spec", "nodeName"}),
              env_->node_name());
  }
}

}  // namespace
}  // namespace vk::testing
