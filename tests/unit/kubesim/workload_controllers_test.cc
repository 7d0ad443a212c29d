// The deployment and replicaset controllers and their garbage collection against kubesim's
// Storage: deployment → replica set → pods, scaling (spec and scale subresource), replacement of
// deleted and failed pods, rolling and recreate rollouts, cascading deletion; and the apps/v1
// types over HTTP (discovery, defaults, validation, scale, Table columns).

#include "tests/kubesim/workload_controllers.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "tests/kubesim/api_server.h"
#include "tests/kubesim/http_test_client.h"
#include "tests/kubesim/subresources.h"
#include "tests/support/wait_for.h"
#include "tests/unit/kubesim/storage_fixture.h"

namespace vk::kubesim {
namespace {

namespace json = boost::json;
using testing::J;
using vk::testing::WaitFor;

std::string DeploymentJson(const std::string& name, int replicas, const std::string& image,
                           const std::string& strategy = "") {
  std::string body = R"({"metadata":{"name":")" + name + R"("},"spec":{"replicas":)" +
                     std::to_string(replicas) + R"(,"selector":{"matchLabels":{"app":")" + name +
                     R"("}},"template":{"metadata":{"labels":{"app":")" + name +
                     R"("}},"spec":{"containers":[{"name":"app","image":")" + image + R"("}]}})";
  if (!strategy.empty()) body += R"(,"strategy":)" + strategy;
  return body + "}}";
}

// The first container's image of a pod, or of a workload's pod template.
std::string Image(const Object& o) {
  const auto* containers = obj::Find(o, {"spec", "containers"});
  if (containers == nullptr) containers = obj::Find(o, {"spec", "template", "spec", "containers"});
  if (containers == nullptr || !containers->is_array() || containers->get_array().empty()) {
    return "";
  }
  return std::string(obj::String(containers->get_array()[0].get_object(), {"image"}));
}

class WorkloadControllersTest : public testing::StorageTest {
 protected:
  void SetUp() override {
    WorkloadControllers::Options options;
    options.wall_clock = [this] { return now_; };
    controllers_ = std::make_unique<WorkloadControllers>(*storage_, catalog_, options);
    auto started = controllers_->Start();
    ASSERT_TRUE(started) << started.error().ToString();
  }

  void TearDown() override { controllers_->Stop(); }

  const ResourceInfo& Apps(std::string_view resource) const { return R(resource, "apps"); }

  Object CreateDeployment(const std::string& name, int replicas,
                          const std::string& image = "nginx:1.25",
                          const std::string& strategy = "") {
    return Ok(storage_->Create(Apps("deployments"), "default",
                               J(DeploymentJson(name, replicas, image, strategy)), false));
  }

  Object Get(const ResourceInfo& r, const std::string& name) {
    return storage_->Get(r, "default", name).value_or(Object{});
  }

  void Patch(const ResourceInfo& r, const std::string& name, const std::string& patch) {
    Ok(storage_->Patch(r, "default", name, PatchKind::kStrategicMerge, patch, "", "test", false,
                       false));
  }

  std::vector<Object> List(const ResourceInfo& r, const std::string& selector = "") {
    ListQuery query;
    query.ns = "default";
    query.label_selector = selector;
    std::vector<Object> out;
    auto list = storage_->ListObjects(r, query);
    if (!list) return out;
    for (const auto& item : list->items) out.push_back(*item);
    return out;
  }

  // Pods that count: not terminal, not being deleted.
  std::vector<Object> ActivePods(const std::string& selector) {
    std::vector<Object> out;
    for (auto& pod : List(R("pods"), selector)) {
      const auto phase = obj::String(pod, {"status", "phase"});
      if (obj::IsBeingDeleted(pod) || phase == "Failed" || phase == "Succeeded") continue;
      out.push_back(std::move(pod));
    }
    return out;
  }

  bool HasPods(const std::string& selector, size_t n) { return ActivePods(selector).size() == n; }

  // What a kubelet would report for a running pod: Running and Ready.
  void MakeReady(const Object& pod) {
    const std::string patch =
        R"({"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True",)"
        R"("lastTransitionTime":"2024-05-01T11:00:00Z"}]}})";
    (void)storage_->Patch(R("pods"), "default", std::string(obj::Name(pod)),
                          PatchKind::kStrategicMerge, patch, "status", "kubelet", false, false);
  }

  void MakeAllReady(const std::string& selector) {
    for (const auto& pod : ActivePods(selector)) {
      if (obj::String(pod, {"status", "phase"}) != "Running") MakeReady(pod);
    }
  }

  std::string ConditionReason(const Object& o, std::string_view type) {
    const auto* conditions = obj::Find(o, {"status", "conditions"});
    if (conditions == nullptr || !conditions->is_array()) return "";
    for (const auto& c : conditions->get_array()) {
      if (obj::String(c.get_object(), {"type"}) == type) {
        return std::string(obj::String(c.get_object(), {"reason"}));
      }
    }
    return "";
  }

  std::unique_ptr<WorkloadControllers> controllers_;
};

TEST_F(WorkloadControllersTest, DeploymentMakesReplicaSetAndPods) {
  const Object d = CreateDeployment("web", 3);
  ASSERT_TRUE(WaitFor([&] { return HasPods("app=web", 3); }));

  const auto sets = List(Apps("replicasets"));
  ASSERT_EQ(sets.size(), 1u);
  const Object& rs = sets[0];
  const std::string hash(obj::Label(rs, "pod-template-hash"));
  EXPECT_FALSE(hash.empty());
  EXPECT_EQ(obj::Name(rs), "web-" + hash);
  EXPECT_EQ(obj::Label(rs, "app"), "web");
  EXPECT_EQ(obj::Int(rs, {"spec", "replicas"}), 3);
  EXPECT_EQ(obj::String(rs, {"spec", "selector", "matchLabels", "pod-template-hash"}), hash);
  EXPECT_EQ(obj::Annotation(rs, "deployment.kubernetes.io/revision"), "1");
  const auto& owner = obj::Find(rs, {"metadata", "ownerReferences"})->get_array()[0].get_object();
  EXPECT_EQ(obj::String(owner, {"kind"}), "Deployment");
  EXPECT_EQ(obj::String(owner, {"uid"}), obj::Uid(d));
  EXPECT_TRUE(owner.at("controller").as_bool());

  for (const auto& pod : ActivePods("app=web")) {
    EXPECT_EQ(obj::Name(pod).rfind("web-" + hash + "-", 0), 0u) << obj::Name(pod);
    EXPECT_EQ(obj::Label(pod, "pod-template-hash"), hash);
    const auto& ref = obj::Find(pod, {"metadata", "ownerReferences"})->get_array()[0].get_object();
    EXPECT_EQ(obj::String(ref, {"kind"}), "ReplicaSet");
    EXPECT_EQ(obj::String(ref, {"uid"}), obj::Uid(rs));
    // The template's pod defaults made it through.
    EXPECT_EQ(obj::String(pod, {"spec", "restartPolicy"}), "Always");
  }

  // Not ready yet: the deployment counts the pods but not as available.
  ASSERT_TRUE(WaitFor([&] {
    const Object now = Get(Apps("deployments"), "web");
    return obj::Int(now, {"status", "replicas"}) == 3 &&
           obj::Int(now, {"status", "updatedReplicas"}) == 3 &&
           obj::Int(now, {"status", "observedGeneration"}) == 1;
  }));
  Object pending = Get(Apps("deployments"), "web");
  EXPECT_EQ(ConditionReason(pending, "Available"), "MinimumReplicasUnavailable");
  EXPECT_EQ(obj::Int(pending, {"status", "unavailableReplicas"}), 3);
  EXPECT_EQ(obj::Annotation(pending, "deployment.kubernetes.io/revision"), "1");

  MakeAllReady("app=web");
  ASSERT_TRUE(WaitFor([&] {
    return obj::Int(Get(Apps("deployments"), "web"), {"status", "availableReplicas"}) == 3;
  }));
  const Object done = Get(Apps("deployments"), "web");
  EXPECT_EQ(obj::Int(done, {"status", "readyReplicas"}), 3);
  EXPECT_EQ(obj::Find(done, {"status", "unavailableReplicas"}), nullptr);
  EXPECT_EQ(ConditionReason(done, "Available"), "MinimumReplicasAvailable");
  EXPECT_TRUE(WaitFor([&] {
    return ConditionReason(Get(Apps("deployments"), "web"), "Progressing") ==
           "NewReplicaSetAvailable";
  }));
  const Object rs_done = Get(Apps("replicasets"), std::string(obj::Name(rs)));
  EXPECT_EQ(obj::Int(rs_done, {"status", "readyReplicas"}), 3);
  EXPECT_EQ(obj::Int(rs_done, {"status", "availableReplicas"}), 3);
  EXPECT_EQ(obj::Int(rs_done, {"status", "fullyLabeledReplicas"}), 3);
}

TEST_F(WorkloadControllersTest, ScalesUpAndDown) {
  CreateDeployment("web", 2);
  ASSERT_TRUE(WaitFor([&] { return HasPods("app=web", 2); }));
  Patch(Apps("deployments"), "web", R"({"spec":{"replicas":5}})");
  ASSERT_TRUE(WaitFor([&] { return HasPods("app=web", 5); }));
  Patch(Apps("deployments"), "web", R"({"spec":{"replicas":1}})");
  ASSERT_TRUE(WaitFor([&] { return HasPods("app=web", 1); }));

  // Through the scale subresource, as kubectl scale does it.
  auto scale = GetScaleSubresource(*storage_, Apps("deployments"), "default", "web");
  ASSERT_TRUE(scale) << scale.error().ToString();
  EXPECT_EQ(obj::String(*scale, {"apiVersion"}), "autoscaling/v1");
  EXPECT_EQ(obj::Int(*scale, {"spec", "replicas"}), 1);
  EXPECT_EQ(obj::String(*scale, {"status", "selector"}), "app=web");
  auto scaled = PatchScaleSubresource(*storage_, Apps("deployments"), "default", "web",
                                      PatchKind::kMergePatch, R"({"spec":{"replicas":4}})", false);
  ASSERT_TRUE(scaled) << scaled.error().ToString();
  EXPECT_EQ(obj::Int(*scaled, {"spec", "replicas"}), 4);
  ASSERT_TRUE(WaitFor([&] { return HasPods("app=web", 4); }));
  EXPECT_EQ(List(Apps("replicasets")).size(), 1u);
  EXPECT_TRUE(WaitFor([&] {
    return obj::Int(Get(Apps("deployments"), "web"), {"status", "replicas"}) == 4;
  }));

  auto negative = UpdateScaleSubresource(*storage_, Apps("deployments"), "default", "web",
                                         J(R"({"spec":{"replicas":-1}})"), false);
  ASSERT_FALSE(negative);
  EXPECT_EQ(negative.error().code(), ErrorCode::kInvalid);
}

TEST_F(WorkloadControllersTest, DeletedAndFailedPodsAreReplaced) {
  CreateDeployment("web", 3);
  ASSERT_TRUE(WaitFor([&] { return HasPods("app=web", 3); }));
  const std::string victim(obj::Name(ActivePods("app=web")[0]));
  Ok(storage_->Delete(R("pods"), "default", victim, {}));
  ASSERT_TRUE(WaitFor([&] {
    auto pods = ActivePods("app=web");
    return pods.size() == 3 && std::none_of(pods.begin(), pods.end(), [&](const Object& p) {
             return obj::Name(p) == victim;
           });
  }));

  // A pod that failed is deleted and replaced.
  const std::string failed(obj::Name(ActivePods("app=web")[0]));
  Ok(storage_->Patch(R("pods"), "default", failed, PatchKind::kMergePatch,
                     R"({"status":{"phase":"Failed"}})", "status", "kubelet", false, false));
  ASSERT_TRUE(WaitFor([&] {
    return !storage_->Get(R("pods"), "default", failed).has_value() && HasPods("app=web", 3);
  }));
  EXPECT_TRUE(WaitFor([&] { return controllers_->stats().pods_created >= 5u; }));
}

TEST_F(WorkloadControllersTest, DeletingTheDeploymentDeletesWhatItOwns) {
  CreateDeployment("web", 3);
  ASSERT_TRUE(WaitFor([&] { return HasPods("app=web", 3); }));
  // A bystander pod with the same labels but no owner stays.
  Ok(storage_->Create(R("pods"), "default",
                      J(R"({"metadata":{"name":"bystander","labels":{"app":"web"}},)"
                        R"("spec":{"containers":[{"name":"app","image":"nginx"}]}})"),
                      false));
  Ok(storage_->Delete(Apps("deployments"), "default", "web", {}));
  ASSERT_TRUE(WaitFor([&] { return List(Apps("replicasets")).empty(); }));
  ASSERT_TRUE(WaitFor([&] { return List(R("pods"), "app=web").size() == 1; }));
  EXPECT_EQ(obj::Name(List(R("pods"), "app=web")[0]), "bystander");
  EXPECT_TRUE(WaitFor([&] { return controllers_->stats().garbage_collected >= 1u; }));
}

TEST_F(WorkloadControllersTest, ResumesWhenTheStorageClosesItsWatches) {
  CreateDeployment("web", 1);
  ASSERT_TRUE(WaitFor([&] { return HasPods("app=web", 1); }));
  storage_->CloseAllWatchers();  // as an API server restart would
  Patch(Apps("deployments"), "web", R"({"spec":{"replicas":3}})");
  EXPECT_TRUE(WaitFor([&] { return HasPods("app=web", 3); }));
}

TEST_F(WorkloadControllersTest, ReportsPodsItCannotCreateAndRetries) {
  Ok(storage_->Create(
      Apps("replicasets"), "default",
      J(R"({"metadata":{"name":"needs-sa"},"spec":{"replicas":1,"selector":{"matchLabels":)"
        R"({"app":"sa"}},"template":{"metadata":{"labels":{"app":"sa"}},"spec":)"
        R"({"serviceAccountName":"robot","containers":[{"name":"app","image":"busybox"}]}}}})"),
      false));
  ASSERT_TRUE(WaitFor([&] {
    return ConditionReason(Get(Apps("replicasets"), "needs-sa"), "ReplicaFailure") ==
           "FailedCreate";
  }));
  EXPECT_TRUE(HasPods("app=sa", 0));
  // Once the service account exists, the retry succeeds and the condition goes.
  CreateOk("serviceaccounts", "default", R"({"metadata":{"name":"robot"}})");
  ASSERT_TRUE(WaitFor([&] { return HasPods("app=sa", 1); }));
  EXPECT_TRUE(WaitFor([&] {
    return ConditionReason(Get(Apps("replicasets"), "needs-sa"), "ReplicaFailure").empty();
  }));
}

TEST_F(WorkloadControllersTest, ReplicaSetOnItsOwn) {
  Ok(storage_->Create(
      Apps("replicasets"), "default",
      J(R"({"metadata":{"name":"solo"},"spec":{"replicas":2,"selector":{"matchLabels":)"
        R"({"app":"solo"}},"template":{"metadata":{"labels":{"app":"solo"}},)"
        R"("spec":{"containers":[{"name":"app","image":"busybox"}]}}}})"),
      false));
  ASSERT_TRUE(WaitFor([&] { return HasPods("app=solo", 2); }));
  EXPECT_TRUE(WaitFor([&] {
    return obj::Int(Get(Apps("replicasets"), "solo"), {"status", "replicas"}) == 2;
  }));
  Ok(storage_->Delete(Apps("replicasets"), "default", "solo", {}));
  EXPECT_TRUE(WaitFor([&] { return List(R("pods"), "app=solo").empty(); }));
}

TEST_F(WorkloadControllersTest, RollingUpdateReplacesPodsAsTheyBecomeAvailable) {
  CreateDeployment("web", 4, "nginx:1.25");
  ASSERT_TRUE(WaitFor([&] { return HasPods("app=web", 4); }));
  MakeAllReady("app=web");
  ASSERT_TRUE(WaitFor([&] {
    return obj::Int(Get(Apps("deployments"), "web"), {"status", "availableReplicas"}) == 4;
  }));
  Patch(Apps("deployments"), "web",
        R"({"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:1.26"}]}}}})");

  // maxSurge 25% of 4 = 1, maxUnavailable 1: never more than 5 pods nor fewer than 3 available.
  size_t most = 0;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto pods = ActivePods("app=web");
        most = std::max(most, pods.size());
        MakeAllReady("app=web");
        const Object d = Get(Apps("deployments"), "web");
        return pods.size() == 4 &&
               std::all_of(pods.begin(), pods.end(),
                           [](const Object& p) { return Image(p) == "nginx:1.26"; }) &&
               obj::Int(d, {"status", "updatedReplicas"}) == 4 &&
               obj::Int(d, {"status", "availableReplicas"}) == 4;
      },
      std::chrono::seconds(10)));
  EXPECT_LE(most, 5u);
  const auto sets = List(Apps("replicasets"));
  ASSERT_EQ(sets.size(), 2u);
  for (const auto& rs : sets) {
    const bool is_new = Image(rs) == "nginx:1.26";
    EXPECT_EQ(obj::Int(rs, {"spec", "replicas"}), is_new ? 4 : 0) << obj::Name(rs);
    EXPECT_EQ(obj::Annotation(rs, "deployment.kubernetes.io/revision"), is_new ? "2" : "1");
  }
  EXPECT_TRUE(WaitFor([&] {
    return obj::Annotation(Get(Apps("deployments"), "web"), "deployment.kubernetes.io/revision") ==
           "2";
  }));
}

TEST_F(WorkloadControllersTest, RecreateRemovesOldPodsFirst) {
  CreateDeployment("web", 2, "nginx:1.25", R"({"type":"Recreate"})");
  ASSERT_TRUE(WaitFor([&] { return HasPods("app=web", 2); }));
  Patch(Apps("deployments"), "web",
        R"({"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:1.26"}]}}}})");
  ASSERT_TRUE(WaitFor([&] {
    auto pods = ActivePods("app=web");
    return pods.size() == 2 && std::all_of(pods.begin(), pods.end(), [](const Object& p) {
             return Image(p) == "nginx:1.26";
           });
  }));
  EXPECT_EQ(List(Apps("replicasets")).size(), 2u);
}

TEST_F(WorkloadControllersTest, PodTemplateHashIsStableAndTracksTheTemplate) {
  const Object a = J(R"({"metadata":{"labels":{"app":"x","tier":"y"}},"spec":{"containers":[]}})");
  const Object b = J(R"({"spec":{"containers":[]},"metadata":{"labels":{"tier":"y","app":"x"}}})");
  const Object c = J(R"({"metadata":{"labels":{"app":"x","tier":"z"}},"spec":{"containers":[]}})");
  EXPECT_EQ(PodTemplateHash(a), PodTemplateHash(b));
  EXPECT_NE(PodTemplateHash(a), PodTemplateHash(c));
  EXPECT_EQ(PodTemplateHash(a).find_first_not_of("bcdfghjklmnpqrstvwxz2456789"), std::string::npos);
}

TEST_F(WorkloadControllersTest, DefaultsAndValidation) {
  const Object d = CreateDeployment("web", 1);
  EXPECT_EQ(obj::String(d, {"spec", "strategy", "type"}), "RollingUpdate");
  EXPECT_EQ(obj::String(d, {"spec", "strategy", "rollingUpdate", "maxSurge"}), "25%");
  EXPECT_EQ(obj::Int(d, {"spec", "revisionHistoryLimit"}), 10);
  EXPECT_EQ(obj::Int(d, {"spec", "progressDeadlineSeconds"}), 600);
  EXPECT_EQ(obj::String(d, {"spec", "template", "spec", "dnsPolicy"}), "ClusterFirst");
  EXPECT_EQ(obj::Int(d, {"metadata", "generation"}), 1);

  auto mismatch = storage_->Create(
      Apps("deployments"), "default",
      J(R"({"metadata":{"name":"bad"},"spec":{"selector":{"matchLabels":{"app":"a"}},)"
        R"("template":{"metadata":{"labels":{"app":"b"}},"spec":{"containers":[{"name":"c",)"
        R"("image":"nginx"}]}}}})"),
      false);
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(mismatch.error().code(), ErrorCode::kInvalid);
  EXPECT_NE(mismatch.error().message().find("`selector` does not match template `labels`"),
            std::string::npos)
      << mismatch.error().message();

  auto no_selector = storage_->Create(
      Apps("replicasets"), "default",
      J(R"({"metadata":{"name":"bad"},"spec":{"template":{"spec":{"containers":[]}}}})"), false);
  ASSERT_FALSE(no_selector);
  EXPECT_NE(no_selector.error().message().find("spec.selector: Required value"), std::string::npos)
      << no_selector.error().message();

  auto changed = storage_->Patch(Apps("deployments"), "default", "web", PatchKind::kMergePatch,
                                 R"({"spec":{"selector":{"matchLabels":{"app":"other"}}}})", "",
                                 "test", false, false);
  ASSERT_FALSE(changed);
  EXPECT_NE(changed.error().message().find("field is immutable"), std::string::npos)
      << changed.error().message();
}

// The apps/v1 resources as clients see them over HTTP, with the controllers run by ApiServer.
TEST(WorkloadApiTest, ServedOverHttpWithTheControllers) {
  ApiServer::Options options;
  options.tokens["admin"] = UserInfo{"admin", "", {"system:masters"}, {}};
  options.workload_controllers = true;
  ApiServer server(std::move(options));
  ASSERT_TRUE(server.Start());
  HttpTestClient::Options client_options;
  client_options.base_url = server.url();
  client_options.bearer_token = "admin";
  HttpTestClient client(client_options);

  auto discovery = client.Get("/apis/apps/v1");
  ASSERT_TRUE(discovery);
  EXPECT_EQ(discovery->status, 200);
  for (const char* name : {"\"deployments\"", "\"deployments/status\"", "\"deployments/scale\"",
                           "\"replicasets\"", "\"replicasets/scale\""}) {
    EXPECT_NE(discovery->body.find(name), std::string::npos) << name;
  }

  auto created = client.Post("/apis/apps/v1/namespaces/default/deployments",
                             J(DeploymentJson("web", 2, "nginx")));
  ASSERT_TRUE(created);
  EXPECT_EQ(created->status, 201) << created->body;
  ASSERT_TRUE(WaitFor([&] {
    auto d = client.Get("/apis/apps/v1/namespaces/default/deployments/web");
    return d && d->Json() && obj::Int(*d->Json(), {"status", "replicas"}) == 2;
  }));

  auto scale = client.Get("/apis/apps/v1/namespaces/default/deployments/web/scale");
  ASSERT_TRUE(scale);
  EXPECT_EQ(scale->status, 200) << scale->body;
  EXPECT_EQ(obj::String(*scale->Json(), {"kind"}), "Scale");
  EXPECT_EQ(obj::Int(*scale->Json(), {"status", "replicas"}), 2);
  auto patched = client.Patch("/apis/apps/v1/namespaces/default/deployments/web/scale",
                              "application/merge-patch+json", R"({"spec":{"replicas":3}})");
  ASSERT_TRUE(patched);
  EXPECT_EQ(patched->status, 200) << patched->body;
  Object put = *scale->Json();
  put["spec"] = json::object{{"replicas", 1}};
  auto stale = client.Put("/apis/apps/v1/namespaces/default/deployments/web/scale", put);
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->status, 409) << stale->body;  // the resourceVersion is a precondition

  ASSERT_TRUE(WaitFor([&] {
    auto pods = client.Get("/api/v1/namespaces/default/pods?labelSelector=app%3Dweb");
    return pods && pods->Json() && obj::Find(*pods->Json(), {"items"})->get_array().size() == 3;
  }));
  auto table = client.Get("/apis/apps/v1/namespaces/default/deployments",
                          {{"Accept", "application/json;as=Table;v=v1;g=meta.k8s.io"}});
  ASSERT_TRUE(table);
  EXPECT_NE(table->body.find("\"Up-to-date\""), std::string::npos) << table->body;
  auto rs_table = client.Get("/apis/apps/v1/namespaces/default/replicasets",
                             {{"Accept", "application/json;as=Table;v=v1;g=meta.k8s.io"}});
  ASSERT_TRUE(rs_table);
  EXPECT_NE(rs_table->body.find("\"Desired\""), std::string::npos) << rs_table->body;

  auto deleted = client.Delete("/apis/apps/v1/namespaces/default/deployments/web");
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->status, 200) << deleted->body;
  EXPECT_TRUE(WaitFor([&] {
    auto pods = client.Get("/api/v1/namespaces/default/pods?labelSelector=app%3Dweb");
    return pods && pods->Json() && obj::Find(*pods->Json(), {"items"})->get_array().empty();
  }));
  server.Stop();
}

}  // namespace
}  // namespace vk::kubesim
