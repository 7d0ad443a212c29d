// The node simulator against a real kubesim ApiServer: nodes and leases, pods run with IPs,
// statuses and events, scheduling, image behaviours per restartPolicy, image pull failures,
// graceful deletion, eviction and logs (plain and followed) over HTTP.

#include "tests/kubesim/node_simulator.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <functional>
#include <map>
#include <thread>

#include "tests/kubesim/api_server.h"
#include "tests/kubesim/http_test_client.h"
#include "tests/kubesim/sim_image.h"
#include "tests/support/wait_for.h"

namespace vk::kubesim {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

using vk::testing::WaitFor;

class NodeSimulatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.nodes = 2;
    options_.lease_interval = 20ms;
    options_.pull_backoff = 20ms;
    options_.restart_delay = 10ms;
  }

  void Start() {
    logs_ = std::make_shared<SimLogs>();
    ApiServer::Options server_options;
    server_options.tokens["admin-token"] = UserInfo{"admin", "", {"system:masters"}, {}};
    server_options.pod_logs = SimLogs::Provider(logs_);
    server_options.pod_log_streams = SimLogs::StreamProvider(logs_);
    server_ = std::make_unique<ApiServer>(std::move(server_options));
    ASSERT_TRUE(server_->Start());
    options_.logs = logs_;
    sim_ = std::make_unique<NodeSimulator>(storage(), server_->catalog(), options_);
    auto started = sim_->Start();
    ASSERT_TRUE(started) << started.error().ToString();
    HttpTestClient::Options o;
    o.base_url = server_->url();
    o.bearer_token = "admin-token";
    client_ = std::make_unique<HttpTestClient>(o);
  }

  void TearDown() override {
    if (sim_) sim_->Stop();
    if (server_) server_->Stop();
  }

  Storage& storage() { return server_->storage(); }
  const ResourceInfo& R(std::string_view resource, std::string_view group = "") {
    return *server_->catalog().Find(group, "v1", resource);
  }

  Object CreatePod(const std::string& name, const std::string& image,
                   const std::string& extra_spec = R"("nodeName":"sim-node-1")") {
    std::string body = R"({"metadata":{"name":")" + name +
                       R"("},"spec":{"containers":[{"name":"app","image":")" + image + R"("}])";
    if (!extra_spec.empty()) body += "," + extra_spec;
    body += "}}";
    auto created = storage().Create(R("pods"), "default", json::parse(body).as_object(), false);
    EXPECT_TRUE(created) << created.error().ToString();
    return created.value_or(Object{});
  }

  std::optional<Object> GetPod(const std::string& name) {
    auto pod = storage().Get(R("pods"), "default", name);
    if (!pod) return std::nullopt;
    return *pod;
  }

  std::string Phase(const std::string& name) {
    auto pod = GetPod(name);
    return pod ? std::string(obj::String(*pod, {"status", "phase"})) : "<gone>";
  }

  // Waits until the pod's phase is `phase` and returns the pod.
  Object WaitPhase(const std::string& name, const std::string& phase) {
    EXPECT_TRUE(WaitFor([&] { return Phase(name) == phase; }))
        << name << " is " << Phase(name) << ", not " << phase;
    return GetPod(name).value_or(Object{});
  }

  static const Object& FirstContainer(const Object& pod) {
    static const Object kEmpty;
    const auto* statuses = obj::Find(pod, {"status", "containerStatuses"});
    if (!statuses || !statuses->is_array() || statuses->as_array().empty()) return kEmpty;
    return statuses->as_array()[0].as_object();
  }

  std::string Condition(const Object& pod, std::string_view type) {
    const auto* conditions = obj::Find(pod, {"status", "conditions"});
    if (!conditions || !conditions->is_array()) return "";
    for (const auto& c : conditions->as_array()) {
      if (obj::String(c.as_object(), {"type"}) == type) {
        return std::string(obj::String(c.as_object(), {"status"}));
      }
    }
    return "";
  }

  std::string ConditionField(const Object& pod, std::string_view type, std::string_view field) {
    const auto* conditions = obj::Find(pod, {"status", "conditions"});
    if (!conditions || !conditions->is_array()) return "";
    for (const auto& c : conditions->as_array()) {
      if (obj::String(c.as_object(), {"type"}) == type) {
        return std::string(obj::String(c.as_object(), {field}));
      }
    }
    return "";
  }

  void PatchNode(const std::string& name, const std::string& patch) {
    auto r = storage().Patch(R("nodes"), "", name, PatchKind::kMergePatch, patch, "", "test", false,
                             false);
    ASSERT_TRUE(r) << r.error().ToString();
  }
  void LabelNode(const std::string& name, const std::string& labels) {
    PatchNode(name, R"({"metadata":{"labels":)" + labels + "}}");
  }

  // Returns once the simulator's worker has handled every change made so far (an Evict waits for
  // the worker, which takes in watch events before the tasks posted after them).
  void Sync() { EXPECT_FALSE(sim_->Evict("default", "no-such-pod")); }

  std::vector<Object> EventsFor(const Object& pod) {
    ListQuery query;
    query.ns = "default";
    std::vector<Object> out;
    auto list = storage().ListObjects(R("events"), query);
    if (!list) return out;
    for (const auto& e : list->items) {
      if (obj::String(*e, {"involvedObject", "uid"}) == obj::Uid(pod)) out.push_back(*e);
    }
    return out;
  }

  HttpTestClient::Response Get(const std::string& target) {
    auto r = client_->Get(target);
    EXPECT_TRUE(r) << r.error().ToString();
    return r.value_or(HttpTestClient::Response{});
  }

  NodeSimulator::Options options_;
  std::shared_ptr<SimLogs> logs_;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<NodeSimulator> sim_;
  std::unique_ptr<HttpTestClient> client_;
};

TEST(SimImageTest, ParsesDirectives) {
  auto plain = ParseImageBehavior("nginx:1.25");
  EXPECT_FALSE(plain.fail_pull);
  EXPECT_FALSE(plain.exit_after);
  auto exit = ParseImageBehavior("busybox:exit-3-after-500ms");
  ASSERT_TRUE(exit.exit_after);
  EXPECT_EQ(*exit.exit_after, 500ms);
  EXPECT_EQ(exit.exit_code, 3);
  auto zero = ParseImageBehavior("registry.local:5000/exit-after-2s");
  ASSERT_TRUE(zero.exit_after);
  EXPECT_EQ(*zero.exit_after, 2s);
  EXPECT_EQ(zero.exit_code, 0);
  EXPECT_TRUE(ParseImageBehavior("example.com/fail-pull/app:1").fail_pull);
  EXPECT_TRUE(ParseImageBehavior("app:ignore-sigterm").ignore_sigterm);
  EXPECT_FALSE(ParseImageBehavior("busybox:exit-after-soon").exit_after);
  EXPECT_FALSE(ParseImageBehavior("failpull").fail_pull);
}

TEST_F(NodeSimulatorTest, RegistersNodesAndRenewsLeases) {
  Start();
  EXPECT_EQ(sim_->node_names(), (std::vector<std::string>{"sim-node-1", "sim-node-2"}));
  auto node = storage().Get(R("nodes"), "", "sim-node-2");
  ASSERT_TRUE(node) << node.error().ToString();
  EXPECT_EQ(obj::String(*node, {"status", "capacity", "cpu"}), "8");
  EXPECT_EQ(obj::String(*node, {"status", "allocatable", "memory"}), "32Gi");
  EXPECT_EQ(obj::String(*node, {"status", "capacity", "pods"}), "110");
  EXPECT_EQ(obj::Label(*node, "kubernetes.io/hostname"), "sim-node-2");
  EXPECT_EQ(obj::Label(*node, "kubernetes.io/os"), "linux");
  EXPECT_EQ(obj::String(*node, {"status", "nodeInfo", "kubeletVersion"}), "v1.29.0-kubesim");
  const auto& addresses = obj::Find(*node, {"status", "addresses"})->as_array();
  EXPECT_EQ(addresses[0].at("address").as_string(), "10.0.0.2");
  EXPECT_EQ(Condition(*node, "Ready"), "True");
  EXPECT_EQ(Condition(*node, "MemoryPressure"), "False");

  auto lease = storage().Get(R("leases", "coordination.k8s.io"), "kube-node-lease", "sim-node-1");
  ASSERT_TRUE(lease) << lease.error().ToString();
  EXPECT_EQ(obj::String(*lease, {"spec", "holderIdentity"}), "sim-node-1");
  const std::string first_rv(obj::ResourceVersion(*lease));
  EXPECT_TRUE(WaitFor([&] {
    auto now = storage().Get(R("leases", "coordination.k8s.io"), "kube-node-lease", "sim-node-1");
    return now && obj::ResourceVersion(*now) != first_rv;
  })) << "lease never renewed";
}

TEST_F(NodeSimulatorTest, BoundPodRunsWithIpsStatusesAndEvents) {
  Start();
  CreatePod("web", "nginx:1.25");
  CreatePod("web2", "nginx:1.25", R"("nodeName":"sim-node-2")");
  Object pod = WaitPhase("web", "Running");
  Object pod2 = WaitPhase("web2", "Running");
  EXPECT_EQ(obj::String(pod, {"status", "hostIP"}), "10.0.0.1");
  EXPECT_EQ(obj::String(pod2, {"status", "hostIP"}), "10.0.0.2");
  std::string ip(obj::String(pod, {"status", "podIP"}));
  EXPECT_EQ(ip.rfind("10.244.", 0), 0u) << ip;
  EXPECT_NE(ip, obj::String(pod2, {"status", "podIP"}));
  EXPECT_EQ(obj::Find(pod, {"status", "podIPs"})->as_array()[0].at("ip").as_string(), ip);
  EXPECT_FALSE(obj::String(pod, {"status", "startTime"}).empty());
  for (const char* type : {"PodScheduled", "Initialized", "ContainersReady", "Ready"}) {
    EXPECT_EQ(Condition(pod, type), "True") << type;
  }
  const Object& c = FirstContainer(pod);
  EXPECT_EQ(obj::String(c, {"name"}), "app");
  EXPECT_EQ(obj::String(c, {"image"}), "nginx:1.25");
  EXPECT_EQ(obj::String(c, {"imageID"}).rfind("docker.io/library/nginx@sha256:", 0), 0u);
  EXPECT_EQ(obj::String(c, {"containerID"}).rfind("containerd://", 0), 0u);
  EXPECT_TRUE(c.at("ready").as_bool());
  EXPECT_TRUE(c.at("started").as_bool());
  EXPECT_EQ(obj::Int(c, {"restartCount"}, -1), 0);
  EXPECT_FALSE(obj::String(c, {"state", "running", "startedAt"}).empty());

  std::vector<std::string> reasons;
  EXPECT_TRUE(WaitFor([&] { return EventsFor(pod).size() >= 3; }));
  for (const auto& e : EventsFor(pod)) {
    reasons.emplace_back(obj::String(e, {"reason"}));
    EXPECT_EQ(obj::String(e, {"source", "component"}), "kubelet");
    EXPECT_EQ(obj::String(e, {"source", "host"}), "sim-node-1");
    EXPECT_EQ(obj::String(e, {"involvedObject", "name"}), "web");
    EXPECT_EQ(obj::String(e, {"involvedObject", "fieldPath"}), "spec.containers{app}");
  }
  EXPECT_EQ(reasons, (std::vector<std::string>{"Pulled", "Created", "Started"}));
}

TEST_F(NodeSimulatorTest, InitContainersComplete) {
  Start();
  CreatePod("init", "nginx",
            R"("nodeName":"sim-node-1","initContainers":[{"name":"setup","image":"busybox"}])");
  Object pod = WaitPhase("init", "Running");
  const auto& init = obj::Find(pod, {"status", "initContainerStatuses"})->as_array();
  ASSERT_EQ(init.size(), 1u);
  EXPECT_EQ(obj::String(init[0].as_object(), {"state", "terminated", "reason"}), "Completed");
  EXPECT_EQ(obj::Int(init[0].as_object(), {"state", "terminated", "exitCode"}, -1), 0);
}

TEST_F(NodeSimulatorTest, PodsAreNotStartedOnOtherNodesOrBeforeTheDelay) {
  options_.start_delay = 100ms;
  Start();
  CreatePod("elsewhere", "nginx", R"("nodeName":"real-node")");
  CreatePod("delayed", "nginx");
  const auto created = std::chrono::steady_clock::now();
  WaitPhase("delayed", "Running");
  EXPECT_GE(std::chrono::steady_clock::now() - created, 100ms);
  EXPECT_EQ(Phase("elsewhere"), "Pending");
}

TEST_F(NodeSimulatorTest, SchedulesUnboundPodsRoundRobin) {
  options_.schedule = true;
  Start();
  CreatePod("custom", "nginx", R"("schedulerName":"my-scheduler")");
  CreatePod("a", "nginx", "");
  CreatePod("b", "nginx", "");
  Object a = WaitPhase("a", "Running");
  Object b = WaitPhase("b", "Running");
  EXPECT_NE(obj::String(a, {"spec", "nodeName"}), obj::String(b, {"spec", "nodeName"}));
  EXPECT_EQ(obj::String(a, {"spec", "nodeName"}).rfind("sim-node-", 0), 0u);
  EXPECT_EQ(obj::String(GetPod("custom").value(), {"spec", "nodeName"}), "");
  EXPECT_EQ(sim_->stats().pods_bound, 2u);
}

TEST_F(NodeSimulatorTest, SchedulingHonoursNodeSelectorAndAffinity) {
  options_.schedule = true;
  options_.nodes = 3;
  Start();
  LabelNode("sim-node-2", R"({"pool":"gpu"})");
  Sync();  // else a pod might be scheduled against the nodes as they were
  CreatePod("gpu", "nginx", R"("nodeSelector":{"pool":"gpu"})");
  CreatePod("by-hostname", "nginx",
            R"("affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":)"
            R"({"nodeSelectorTerms":[{"matchExpressions":[{"key":"kubernetes.io/hostname",)"
            R"("operator":"In","values":["sim-node-3"]}]}]}}})");
  CreatePod(
      "not-gpu", "nginx",
      R"("affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":)"
      R"({"nodeSelectorTerms":[{"matchExpressions":[{"key":"pool","operator":"DoesNotExist"},)"
      R"({"key":"kubernetes.io/hostname","operator":"NotIn","values":["sim-node-3"]}]}]}}})");
  EXPECT_EQ(obj::String(WaitPhase("gpu", "Running"), {"spec", "nodeName"}), "sim-node-2");
  EXPECT_EQ(obj::String(WaitPhase("by-hostname", "Running"), {"spec", "nodeName"}), "sim-node-3");
  EXPECT_EQ(obj::String(WaitPhase("not-gpu", "Running"), {"spec", "nodeName"}), "sim-node-1");
}

TEST_F(NodeSimulatorTest, SchedulingIsRoundRobinAmongTheNodesThatFit) {
  options_.schedule = true;
  options_.nodes = 3;
  Start();
  LabelNode("sim-node-1", R"({"zone":"a"})");
  LabelNode("sim-node-3", R"({"zone":"a"})");
  Sync();
  std::map<std::string, int> per_node;
  for (int i = 0; i < 4; ++i) {
    CreatePod("p" + std::to_string(i), "nginx", R"("nodeSelector":{"zone":"a"})");
  }
  for (int i = 0; i < 4; ++i) {
    ++per_node[std::string(
        obj::String(WaitPhase("p" + std::to_string(i), "Running"), {"spec", "nodeName"}))];
  }
  EXPECT_EQ(per_node, (std::map<std::string, int>{{"sim-node-1", 2}, {"sim-node-3", 2}}));
}

TEST_F(NodeSimulatorTest, UnschedulablePodWaitsForANodeToChange) {
  options_.schedule = true;
  Start();
  Object created = CreatePod("waiting", "nginx", R"("nodeSelector":{"pool":"gpu"})");
  const std::string message =
      "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. "
      "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.";
  EXPECT_TRUE(WaitFor([&] {
    auto pod = GetPod("waiting");
    return pod && ConditionField(*pod, "PodScheduled", "reason") == "Unschedulable";
  }));
  Object pod = GetPod("waiting").value();
  EXPECT_EQ(Condition(pod, "PodScheduled"), "False");
  EXPECT_EQ(ConditionField(pod, "PodScheduled", "message"), message);
  EXPECT_EQ(obj::String(pod, {"spec", "nodeName"}), "");
  EXPECT_EQ(Phase("waiting"), "Pending");
  EXPECT_TRUE(WaitFor([&] { return !EventsFor(created).empty(); }));
  auto events = EventsFor(created);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(obj::String(events[0], {"reason"}), "FailedScheduling");
  EXPECT_EQ(obj::String(events[0], {"type"}), "Warning");
  EXPECT_EQ(obj::String(events[0], {"message"}), message);
  EXPECT_EQ(obj::String(events[0], {"source", "component"}), "default-scheduler");
  // Its own condition write, coming back as an update, is no reason to try again.
  Sync();
  EXPECT_EQ(sim_->stats().scheduling_failures, 1u);
  EXPECT_EQ(sim_->stats().pods_bound, 0u);

  LabelNode("sim-node-2", R"({"pool":"gpu"})");
  pod = WaitPhase("waiting", "Running");
  EXPECT_EQ(obj::String(pod, {"spec", "nodeName"}), "sim-node-2");
  EXPECT_EQ(Condition(pod, "PodScheduled"), "True");
  EXPECT_EQ(ConditionField(pod, "PodScheduled", "reason"), "");
}

TEST_F(NodeSimulatorTest, SchedulingRespectsTaintsAndCordonedNodes) {
  options_.schedule = true;
  Start();
  PatchNode("sim-node-1",
            R"({"spec":{"taints":[{"key":"dedicated","value":"infra","effect":"NoSchedule"}]}})");
  PatchNode("sim-node-2", R"({"spec":{"unschedulable":true}})");
  Sync();
  CreatePod("plain", "nginx", "");
  CreatePod("infra", "nginx",
            R"("tolerations":[{"key":"dedicated","operator":"Equal","value":"infra",)"
            R"("effect":"NoSchedule"}])");
  EXPECT_EQ(obj::String(WaitPhase("infra", "Running"), {"spec", "nodeName"}), "sim-node-1");
  EXPECT_TRUE(WaitFor([&] {
    auto pod = GetPod("plain");
    return pod && ConditionField(*pod, "PodScheduled", "reason") == "Unschedulable";
  }));
  EXPECT_EQ(ConditionField(GetPod("plain").value(), "PodScheduled", "message"),
            "0/2 nodes are available: 1 node(s) had untolerated taint {dedicated: infra}, 1 "
            "node(s) were unschedulable. preemption: 0/2 nodes are available: 2 Preemption is "
            "not helpful for scheduling.");

  PatchNode("sim-node-2", R"({"spec":{"unschedulable":false}})");
  EXPECT_EQ(obj::String(WaitPhase("plain", "Running"), {"spec", "nodeName"}), "sim-node-2");
}

TEST_F(NodeSimulatorTest, UnschedulablePodIsTriedAgainWhenItsSpecChanges) {
  options_.schedule = true;
  Start();
  PatchNode("sim-node-1", R"({"spec":{"taints":[{"key":"k","effect":"NoSchedule"}]}})");
  PatchNode("sim-node-2", R"({"spec":{"taints":[{"key":"k","effect":"NoSchedule"}]}})");
  Sync();
  CreatePod("tolerant-later", "nginx", "");
  EXPECT_TRUE(WaitFor([&] {
    auto pod = GetPod("tolerant-later");
    return pod && ConditionField(*pod, "PodScheduled", "reason") == "Unschedulable";
  }));
  // Tolerations may be added to a pod (kube allows that update; admission gave it two already).
  auto patched = storage().Patch(
      R("pods"), "default", "tolerant-later", PatchKind::kJsonPatch,
      R"([{"op":"add","path":"/spec/tolerations/-","value":{"key":"k","operator":"Exists"}}])", "",
      "test", false, false);
  ASSERT_TRUE(patched) << patched.error().ToString();
  EXPECT_EQ(obj::String(WaitPhase("tolerant-later", "Running"), {"spec", "nodeName"})
                .rfind("sim-node-", 0),
            0u);
}

TEST_F(NodeSimulatorTest, ExitWithRestartPolicyNever) {
  Start();
  CreatePod("ok", "busybox:exit-0-after-20ms",
            R"("nodeName":"sim-node-1","restartPolicy":"Never")");
  CreatePod("bad", "busybox:exit-3-after-20ms",
            R"("nodeName":"sim-node-1","restartPolicy":"Never")");
  Object ok = WaitPhase("ok", "Succeeded");
  EXPECT_EQ(obj::String(FirstContainer(ok), {"state", "terminated", "reason"}), "Completed");
  EXPECT_EQ(Condition(ok, "Ready"), "False");
  Object bad = WaitPhase("bad", "Failed");
  EXPECT_EQ(obj::Int(FirstContainer(bad), {"state", "terminated", "exitCode"}), 3);
  EXPECT_EQ(obj::String(FirstContainer(bad), {"state", "terminated", "reason"}), "Error");
  EXPECT_EQ(obj::Int(FirstContainer(bad), {"restartCount"}, -1), 0);
}

TEST_F(NodeSimulatorTest, ExitWithRestartPolicyAlwaysRestarts) {
  Start();
  CreatePod("loop", "busybox:exit-1-after-20ms");
  ASSERT_TRUE(WaitFor([&] {
    auto pod = GetPod("loop");
    return pod && obj::Int(FirstContainer(*pod), {"restartCount"}) >= 1 &&
           obj::Find(FirstContainer(*pod), {"state", "running"}) != nullptr;
  }));
  Object pod = GetPod("loop").value();
  EXPECT_EQ(obj::String(pod, {"status", "phase"}), "Running");
  EXPECT_EQ(obj::Int(FirstContainer(pod), {"lastState", "terminated", "exitCode"}), 1);
}

TEST_F(NodeSimulatorTest, ExitWithRestartPolicyOnFailure) {
  Start();
  CreatePod("done", "busybox:exit-0-after-20ms",
            R"("nodeName":"sim-node-1","restartPolicy":"OnFailure")");
  CreatePod("retry", "busybox:exit-2-after-20ms",
            R"("nodeName":"sim-node-1","restartPolicy":"OnFailure")");
  Object done = WaitPhase("done", "Succeeded");
  EXPECT_EQ(obj::Int(FirstContainer(done), {"restartCount"}, -1), 0);
  EXPECT_TRUE(WaitFor([&] {
    auto pod = GetPod("retry");
    return pod && obj::Int(FirstContainer(*pod), {"restartCount"}) >= 1;
  }));
  EXPECT_NE(Phase("retry"), "Failed");
}

TEST_F(NodeSimulatorTest, FailPullStaysPendingAndBacksOff) {
  Start();
  CreatePod("nopull", "example.com/fail-pull/app:1");
  ASSERT_TRUE(WaitFor([&] {
    auto pod = GetPod("nopull");
    return pod && !obj::String(FirstContainer(*pod), {"state", "waiting", "reason"}).empty();
  }));
  EXPECT_TRUE(WaitFor([&] {
    auto pod = GetPod("nopull");
    return obj::String(FirstContainer(*pod), {"state", "waiting", "reason"}) == "ImagePullBackOff";
  }));
  Object pod = GetPod("nopull").value();
  EXPECT_EQ(obj::String(pod, {"status", "phase"}), "Pending");
  EXPECT_EQ(Condition(pod, "Ready"), "False");
  bool failed_event = false;
  for (const auto& e : EventsFor(pod)) {
    if (obj::String(e, {"message"}) == "Error: ErrImagePull") failed_event = true;
  }
  EXPECT_TRUE(failed_event);
}

TEST_F(NodeSimulatorTest, GracefulDeletionStopsContainersThenRemovesThePod) {
  Start();
  Object created = CreatePod("bye", "nginx");
  WaitPhase("bye", "Running");
  ListQuery query;
  query.ns = "default";
  query.resource_version = std::to_string(storage().CurrentResourceVersion());
  auto watcher = storage().Watch(R("pods"), query);
  ASSERT_TRUE(watcher);
  auto deleted = storage().DeleteWithResult(R("pods"), "default", "bye", DeleteRequest{});
  ASSERT_TRUE(deleted);
  EXPECT_FALSE(deleted->deleted) << "a running pod on a node is deleted gracefully";
  ASSERT_TRUE(WaitFor([&] { return !GetPod("bye"); })) << "the simulator never removed the pod";
  // The kubelet's last status before the removal: containers stopped cleanly.
  std::vector<WatchEventRecord> events;
  (*watcher)->Drain(events);
  ObjectPtr last_modified;
  bool removed = false;
  for (const auto& e : events) {
    if (e.type == "MODIFIED") last_modified = e.object;
    if (e.type == "DELETED") removed = true;
  }
  EXPECT_TRUE(removed);
  ASSERT_TRUE(last_modified);
  EXPECT_EQ(obj::String(*last_modified, {"status", "phase"}), "Succeeded");
  EXPECT_EQ(obj::String(FirstContainer(*last_modified), {"state", "terminated", "reason"}),
            "Completed");
  EXPECT_EQ(sim_->stats().pods_deleted, 1u);
}

TEST_F(NodeSimulatorTest, GracefulDeletionWaitsForFinalizers) {
  Start();
  auto body =
      json::parse(
          R"({"metadata":{"name":"held","finalizers":["example.com/hold"]},)"
          R"("spec":{"nodeName":"sim-node-1","containers":[{"name":"app","image":"nginx"}]}})")
          .as_object();
  ASSERT_TRUE(storage().Create(R("pods"), "default", body, false));
  WaitPhase("held", "Running");
  ASSERT_TRUE(storage().Delete(R("pods"), "default", "held", DeleteRequest{}));
  // Stopped and confirmed by the simulator, kept by the finalizer.
  Object pod = WaitPhase("held", "Succeeded");
  EXPECT_TRUE(obj::IsBeingDeleted(pod));
  EXPECT_TRUE(WaitFor([&] { return sim_->stats().pods_deleted == 1; }));
  EXPECT_TRUE(GetPod("held"));
}

TEST_F(NodeSimulatorTest, IgnoringSigtermIsKilledAtTheEndOfTheGracePeriod) {
  Start();
  CreatePod("stubborn", "app:ignore-sigterm",
            R"("nodeName":"sim-node-1","terminationGracePeriodSeconds":1)");
  WaitPhase("stubborn", "Running");
  ListQuery query;
  query.ns = "default";
  query.resource_version = std::to_string(storage().CurrentResourceVersion());
  auto watcher = storage().Watch(R("pods"), query);
  ASSERT_TRUE(watcher);
  const auto deleted_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(storage().Delete(R("pods"), "default", "stubborn", DeleteRequest{}));
  ASSERT_TRUE(WaitFor([&] { return !GetPod("stubborn"); }));
  EXPECT_GE(std::chrono::steady_clock::now() - deleted_at, 1s);
  std::vector<WatchEventRecord> events;
  (*watcher)->Drain(events);
  ObjectPtr last_modified;
  for (const auto& e : events) {
    if (e.type == "MODIFIED") last_modified = e.object;
  }
  ASSERT_TRUE(last_modified);
  EXPECT_EQ(obj::Int(FirstContainer(*last_modified), {"state", "terminated", "exitCode"}), 137);
  EXPECT_EQ(obj::String(*last_modified, {"status", "phase"}), "Failed");
}

TEST_F(NodeSimulatorTest, EvictionFailsThePodAndKeepsIt) {
  Start();
  CreatePod("victim", "nginx");
  WaitPhase("victim", "Running");
  auto evicted = sim_->Evict("default", "victim", "memory");
  ASSERT_TRUE(evicted) << evicted.error().ToString();
  Object pod = GetPod("victim").value();
  EXPECT_EQ(obj::String(pod, {"status", "phase"}), "Failed");
  EXPECT_EQ(obj::String(pod, {"status", "reason"}), "Evicted");
  EXPECT_EQ(obj::String(pod, {"status", "message"}), "The node was low on resource: memory. ");
  EXPECT_EQ(Condition(pod, "DisruptionTarget"), "True");
  EXPECT_EQ(obj::Int(FirstContainer(pod), {"state", "terminated", "exitCode"}), 137);
  EXPECT_EQ(sim_->Evict("default", "nobody").error().code(), ErrorCode::kNotFound);
}

TEST_F(NodeSimulatorTest, EvictAfterStopFails) {
  Start();
  sim_->Stop();
  EXPECT_EQ(sim_->Evict("default", "x").error().code(), ErrorCode::kUnavailableLocally);
}

TEST_F(NodeSimulatorTest, LogsOverHttp) {
  Start();
  CreatePod("logger", "busybox:exit-1-after-20ms");
  ASSERT_TRUE(WaitFor([&] {
    auto pod = GetPod("logger");
    return pod && obj::Int(FirstContainer(*pod), {"restartCount"}) >= 1;
  }));
  auto previous = Get("/api/v1/namespaces/default/pods/logger/log?previous=true");
  EXPECT_EQ(previous.status, 200) << previous.body;
  EXPECT_EQ(previous.body.rfind("logger app started", 0), 0u) << previous.body;
  EXPECT_NE(previous.body.find("logger app exited with code 1\n"), std::string::npos);
  auto current = Get("/api/v1/namespaces/default/pods/logger/log?container=app&tailLines=1");
  EXPECT_EQ(current.status, 200) << current.body;
  EXPECT_EQ(current.body.rfind("logger app ", 0), 0u) << current.body;
  EXPECT_EQ(std::count(current.body.begin(), current.body.end(), '\n'), 1);

  CreatePod("quiet", "nginx");
  WaitPhase("quiet", "Running");
  auto stamped = Get("/api/v1/namespaces/default/pods/quiet/log?timestamps=true");
  EXPECT_EQ(stamped.status, 200);
  // "2024-05-01T12:00:00.123456789Z quiet app started"
  EXPECT_EQ(stamped.body.size(), 31u + std::string("quiet app started\n").size()) << stamped.body;
  EXPECT_EQ(stamped.body.substr(31), "quiet app started\n");
  EXPECT_EQ(Get("/api/v1/namespaces/default/pods/quiet/log?container=nope").status, 400);
  EXPECT_EQ(Get("/api/v1/namespaces/default/pods/quiet/log?previous=true").status, 400);

  auto two = json::parse(R"({"metadata":{"name":"two"},"spec":{"nodeName":"sim-node-1",)"
                         R"("containers":[{"name":"a","image":"x"},{"name":"b","image":"y"}]}})");
  ASSERT_TRUE(storage().Create(R("pods"), "default", two.as_object(), false));
  WaitPhase("two", "Running");
  auto ambiguous = Get("/api/v1/namespaces/default/pods/two/log");
  EXPECT_EQ(ambiguous.status, 400);
  EXPECT_NE(ambiguous.body.find("choose one of: [a b]"), std::string::npos) << ambiguous.body;
  EXPECT_EQ(Get("/api/v1/namespaces/default/pods/two/log?container=b").body, "two b started\n");
}

TEST_F(NodeSimulatorTest, EphemeralContainersStartInARunningPod) {
  Start();
  CreatePod("web", "nginx");
  WaitPhase("web", "Running");
  // What `kubectl debug -it web --image=busybox:exit-0-after-50ms --target=app` sends.
  auto patched = client_->Patch(
      "/api/v1/namespaces/default/pods/web/ephemeralcontainers",
      "application/strategic-merge-patch+json",
      R"({"spec":{"ephemeralContainers":[{"name":"debugger","image":"busybox:exit-0-after-50ms",
          "targetContainerName":"app","stdin":true,"tty":true}]}})");
  ASSERT_TRUE(patched);
  ASSERT_EQ(patched->status, 200) << patched->body;

  auto ephemeral_state = [&](std::string_view state) {
    auto pod = GetPod("web");
    if (!pod) return false;
    const auto* statuses = obj::Find(*pod, {"status", "ephemeralContainerStatuses"});
    if (statuses == nullptr || !statuses->is_array() || statuses->as_array().size() != 1) {
      return false;
    }
    const Object& status = statuses->as_array()[0].as_object();
    return obj::String(status, {"name"}) == "debugger" &&
           obj::Find(status, {"state", state}) != nullptr;
  };
  ASSERT_TRUE(WaitFor([&] { return ephemeral_state("running"); }));
  Object pod = GetPod("web").value_or(Object{});
  EXPECT_FALSE(obj::Find(pod, {"status", "ephemeralContainerStatuses"})
                   ->as_array()[0]
                   .as_object()
                   .at("ready")
                   .as_bool());
  EXPECT_EQ(Condition(pod, "Ready"), "True") << "an ephemeral container does not affect readiness";
  bool started_event = false;
  for (const auto& e : EventsFor(pod)) {
    if (obj::String(e, {"reason"}) == "Started" &&
        obj::String(e, {"involvedObject", "fieldPath"}) == "spec.ephemeralContainers{debugger}") {
      started_event = true;
    }
  }
  EXPECT_TRUE(started_event);
  EXPECT_EQ(Get("/api/v1/namespaces/default/pods/web/log?container=debugger").body,
            "web debugger started\n");

  // It exits and, unlike a regular container, is not restarted; the pod keeps running.
  ASSERT_TRUE(WaitFor([&] { return ephemeral_state("terminated"); }));
  EXPECT_EQ(Phase("web"), "Running");
}

TEST_F(NodeSimulatorTest, FollowedLogsStreamUntilTheContainerEnds) {
  Start();
  CreatePod("short", "busybox:exit-0-after-300ms",
            R"("nodeName":"sim-node-1","restartPolicy":"Never")");
  WaitPhase("short", "Running");
  auto stream = client_->OpenStream("GET", "/api/v1/namespaces/default/pods/short/log?follow=true");
  ASSERT_TRUE(stream) << stream.error().ToString();
  EXPECT_EQ((*stream)->status(), 200);
  EXPECT_EQ((*stream)->Header("content-type"), "text/plain");
  auto first = (*stream)->ReadLine(2s);
  ASSERT_TRUE(first && *first) << (first ? "end" : first.error().ToString());
  EXPECT_EQ(**first, "short app started");
  // Pushed when it happens, not answered at once: the container exits 300ms in.
  auto second = (*stream)->ReadLine(2s);
  ASSERT_TRUE(second && *second) << (second ? "end" : second.error().ToString());
  EXPECT_EQ(**second, "short app exited with code 0");
  auto end = (*stream)->ReadLine(2s);
  ASSERT_TRUE(end) << end.error().ToString();
  EXPECT_FALSE(*end) << "the stream ends with the container";
  WaitPhase("short", "Succeeded");
}

TEST_F(NodeSimulatorTest, StopEndsFollowedLogs) {
  Start();
  CreatePod("long", "nginx");
  WaitPhase("long", "Running");
  auto stream = client_->OpenStream("GET", "/api/v1/namespaces/default/pods/long/log?follow=1");
  ASSERT_TRUE(stream);
  auto first = (*stream)->ReadLine(2s);
  ASSERT_TRUE(first && *first);
  sim_->Stop();
  auto end = (*stream)->ReadLine(2s);
  ASSERT_TRUE(end) << end.error().ToString();
  EXPECT_FALSE(*end);
}

}  // namespace
}  // namespace vk::kubesim
