#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "tests/kubesim/object_defaults.h"
#include "tests/unit/kubesim/storage_fixture.h"

namespace vk::kubesim {
namespace {

using testing::J;
namespace json = boost::json;

class StoragePodTest : public testing::StorageTest {
 protected:
  DeleteRequest Grace(int64_t seconds) {
    DeleteRequest r;
    r.grace_period_seconds = seconds;
    return r;
  }
};

TEST_F(StoragePodTest, DefaultsOnCreate) {
  Object body = Pod("p", R"("initContainers":[{"name":"init","image":"busybox"}])");
  body["status"] = Object{{"phase", "Running"}, {"podIP", "1.2.3.4"}};
  Object pod = Ok(storage_->Create(R("pods"), "default", body, false));
  const auto& spec = pod.at("spec").as_object();
  EXPECT_EQ(spec.at("restartPolicy"), "Always");
  EXPECT_EQ(spec.at("terminationGracePeriodSeconds"), 30);
  EXPECT_EQ(spec.at("dnsPolicy"), "ClusterFirst");
  EXPECT_EQ(spec.at("schedulerName"), "default-scheduler");
  EXPECT_EQ(spec.at("enableServiceLinks"), true);
  EXPECT_EQ(spec.at("securityContext"), Object());
  EXPECT_EQ(spec.at("serviceAccountName"), "default");
  EXPECT_EQ(spec.at("serviceAccount"), "default");
  EXPECT_EQ(spec.at("priority"), 0);
  EXPECT_EQ(spec.at("preemptionPolicy"), "PreemptLowerPriority");
  const auto& app = spec.at("containers").as_array()[0].as_object();
  EXPECT_EQ(app.at("terminationMessagePath"), "/dev/termination-log");
  EXPECT_EQ(app.at("terminationMessagePolicy"), "File");
  EXPECT_EQ(app.at("imagePullPolicy"), "IfNotPresent");
  EXPECT_EQ(app.at("resources"), Object());
  EXPECT_EQ(spec.at("initContainers").as_array()[0].at("imagePullPolicy"), "Always");
  EXPECT_EQ(spec.at("tolerations"), json::parse(R"([
              {"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300},
              {"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}])"));
  EXPECT_EQ(pod.at("status"), J(R"({"phase":"Pending","qosClass":"BestEffort"})"))
      << "status given on create is discarded";
  EXPECT_EQ(obj::Int(pod, {"metadata", "generation"}), 1);
}

TEST_F(StoragePodTest, ServiceAccountTokenVolumeIsMounted) {
  Object pod = CreatePod("p");
  const auto& volumes = pod.at("spec").at("volumes").as_array();
  ASSERT_EQ(volumes.size(), 1u);
  std::string name(volumes[0].at("name").as_string());
  EXPECT_EQ(name.rfind("kube-api-access-", 0), 0u);
  EXPECT_EQ(volumes[0].at("projected").at("defaultMode"), 420);
  EXPECT_EQ(volumes[0].at("projected").at("sources").as_array()[0],
            json::parse(R"({"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}})"));
  EXPECT_EQ(
      pod.at("spec").at("containers").as_array()[0].at("volumeMounts"),
      json::parse(R"([{"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount","name":")" +
                  name + R"(","readOnly":true}])"));

  Object opted_out = CreatePod("q", R"("automountServiceAccountToken":false)");
  EXPECT_FALSE(opted_out.at("spec").as_object().contains("volumes"));

  auto missing_sa =
      storage_->Create(R("pods"), "default", Pod("r", R"("serviceAccountName":"ghost")"), false);
  ASSERT_FALSE(missing_sa);
  EXPECT_EQ(missing_sa.error().code(), ErrorCode::kForbidden);
  EXPECT_EQ(missing_sa.error().message(),
            "pods \"r\" is forbidden: error looking up service account default/ghost: "
            "serviceaccount \"ghost\" not found");
}

TEST_F(StoragePodTest, PriorityClasses) {
  Object pod = CreatePod("p", R"("priorityClassName":"system-node-critical")");
  EXPECT_EQ(pod.at("spec").at("priority"), 2000001000);
  auto unknown =
      storage_->Create(R("pods"), "default", Pod("q", R"("priorityClassName":"gold")"), false);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), ErrorCode::kForbidden);
}

TEST_F(StoragePodTest, QosClassAndImagePullPolicy) {
  Object guaranteed = CreatePod("g", "");
  EXPECT_EQ(obj::String(guaranteed, {"status", "qosClass"}), "BestEffort");
  Object body = J(R"({"metadata":{"name":"q"},"spec":{"containers":[{"name":"a","image":"x",
      "resources":{"limits":{"cpu":"1","memory":"1Gi"}}}]}})");
  Object pod = Ok(storage_->Create(R("pods"), "default", body, false));
  EXPECT_EQ(obj::String(pod, {"status", "qosClass"}), "Guaranteed");
  EXPECT_EQ(pod.at("spec").at("containers").as_array()[0].at("resources").at("requests"),
            J(R"({"cpu":"1","memory":"1Gi"})"))
      << "requests default to limits";
  EXPECT_EQ(DefaultImagePullPolicy("nginx"), "Always");
  EXPECT_EQ(DefaultImagePullPolicy("nginx:latest"), "Always");
  EXPECT_EQ(DefaultImagePullPolicy("registry:5000/nginx"), "Always");
  EXPECT_EQ(DefaultImagePullPolicy("registry:5000/nginx:1.2"), "IfNotPresent");
  EXPECT_EQ(DefaultImagePullPolicy("nginx@sha256:abc"), "IfNotPresent");
}

TEST_F(StoragePodTest, CreateValidation) {
  auto none =
      storage_->Create(R("pods"), "default", J(R"({"metadata":{"name":"p"},"spec":{}})"), false);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message(), "Pod \"p\" is invalid: spec.containers: Required value");
  auto no_image = storage_->Create(
      R("pods"), "default", J(R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"a"}]}})"),
      false);
  ASSERT_FALSE(no_image);
  EXPECT_EQ(no_image.error().causes().at(0).field, "spec.containers[0].image");
}

TEST_F(StoragePodTest, UpdateMayChangeImagesOnly) {
  Object pod = CreatePod("p");
  Object image = pod;
  image["spec"].as_object()["containers"].as_array()[0].as_object()["image"] = "nginx:1.26";
  pod = Ok(storage_->Update(R("pods"), "default", "p", image, "", false));
  EXPECT_EQ(obj::Int(pod, {"metadata", "generation"}), 2);

  Object command = pod;
  command["spec"].as_object()["containers"].as_array()[0].as_object()["command"] =
      json::array{"sh"};
  auto forbidden = storage_->Update(R("pods"), "default", "p", command, "", false);
  ASSERT_FALSE(forbidden);
  EXPECT_EQ(forbidden.error().code(), ErrorCode::kInvalid);
  EXPECT_EQ(forbidden.error().message().rfind(
                "Pod \"p\" is invalid: spec: Forbidden: pod updates may not change fields other "
                "than `spec.containers[*].image`,`spec.initContainers[*].image`,"
                "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing "
                "tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it "
                "was previously negative)",
                0),
            0u)
      << forbidden.error().message();

  Object node = pod;
  node["spec"].as_object()["nodeName"] = "n1";
  EXPECT_FALSE(storage_->Update(R("pods"), "default", "p", node, "", false))
      << "nodeName is set through binding";

  Object more_tolerations = pod;
  more_tolerations["spec"].as_object()["tolerations"].as_array().push_back(
      J(R"({"key":"gpu","operator":"Exists"})"));
  more_tolerations["spec"].as_object()["activeDeadlineSeconds"] = 60;
  pod = Ok(storage_->Update(R("pods"), "default", "p", more_tolerations, "", false));
  Object fewer = pod;
  fewer["spec"].as_object()["tolerations"].as_array().pop_back();
  EXPECT_FALSE(storage_->Update(R("pods"), "default", "p", fewer, "", false));
  Object longer = pod;
  longer["spec"].as_object()["activeDeadlineSeconds"] = 120;
  EXPECT_FALSE(storage_->Update(R("pods"), "default", "p", longer, "", false));
}

TEST_F(StoragePodTest, EphemeralContainersAreAddedThroughTheirSubresourceOnly) {
  auto on_create = storage_->Create(
      R("pods"), "default",
      Pod("p", R"("ephemeralContainers":[{"name":"debug","image":"busybox"}])"), false);
  ASSERT_FALSE(on_create);
  EXPECT_EQ(on_create.error().message(),
            "Pod \"p\" is invalid: spec.ephemeralContainers: Forbidden: cannot be set on create");

  Object pod = CreatePod("p");
  Object through_main = pod;
  through_main["spec"].as_object()["ephemeralContainers"] =
      json::parse(R"([{"name":"debug","image":"busybox"}])");
  EXPECT_FALSE(storage_->Update(R("pods"), "default", "p", through_main, "", false))
      << "the main resource may not add ephemeral containers";

  // kubectl debug: a strategic-merge patch of the subresource. Other fields in it are ignored.
  Object debugged = Ok(storage_->Patch(
      R("pods"), "default", "p", PatchKind::kStrategicMerge,
      R"({"metadata":{"labels":{"sneaky":"1"}},"spec":{"containers":[{"name":"app","image":"x"}],
          "ephemeralContainers":[{"name":"debug","image":"busybox","targetContainerName":"app",
          "stdin":true,"tty":true}]}})",
      "ephemeralcontainers", "kubectl-debug", false, false));
  const auto& added = debugged.at("spec").at("ephemeralContainers").as_array();
  ASSERT_EQ(added.size(), 1u);
  EXPECT_EQ(added[0].at("name"), "debug");
  EXPECT_EQ(added[0].at("terminationMessagePolicy"), "File") << "defaults apply";
  EXPECT_EQ(debugged.at("spec").at("containers").as_array()[0].at("image"), "nginx:1.25");
  EXPECT_EQ(obj::Label(debugged, "sneaky"), "");
  EXPECT_GT(Rv(debugged), Rv(pod));

  auto remove = storage_->Patch(R("pods"), "default", "p", PatchKind::kMergePatch,
                                R"({"spec":{"ephemeralContainers":[]}})", "ephemeralcontainers", "",
                                false, false);
  ASSERT_FALSE(remove);
  EXPECT_NE(remove.error().message().find(
                "spec.ephemeralContainers: Forbidden: existing ephemeral containers \"debug\" "
                "may not be removed"),
            std::string::npos)
      << remove.error().message();

  Object change = debugged;
  change["spec"].as_object()["ephemeralContainers"].as_array()[0].as_object()["image"] = "alpine";
  auto changed = storage_->Update(R("pods"), "default", "p", change, "ephemeralcontainers", false);
  ASSERT_FALSE(changed);
  EXPECT_NE(changed.error().message().find("may not be changed"), std::string::npos);

  Object bad = debugged;
  bad["spec"].as_object()["ephemeralContainers"].as_array().push_back(J(
      R"({"name":"app","image":"busybox","ports":[{"containerPort":80}],
          "targetContainerName":"missing"})"));
  auto rejected = storage_->Update(R("pods"), "default", "p", bad, "ephemeralcontainers", false);
  ASSERT_FALSE(rejected);
  std::vector<std::string> fields;
  for (const auto& cause : rejected.error().causes()) {
    fields.push_back(cause.reason + " " + cause.field);
  }
  EXPECT_EQ(fields, (std::vector<std::string>{
                        "FieldValueDuplicate spec.ephemeralContainers[1].name",
                        "FieldValueForbidden spec.ephemeralContainers[1].ports",
                        "FieldValueNotFound spec.ephemeralContainers[1].targetContainerName"}));
}

TEST_F(StoragePodTest, Binding) {
  CreatePod("p");
  Object bound = Ok(storage_->BindPod("default", "p", "n1"));
  EXPECT_EQ(obj::String(bound, {"spec", "nodeName"}), "n1");
  EXPECT_EQ(bound.at("status").at("conditions").as_array()[0].at("type"), "PodScheduled");
  EXPECT_EQ(bound.at("status").at("conditions").as_array()[0].at("status"), "True");
  auto again = storage_->BindPod("default", "p", "n2");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kConflict);
  EXPECT_EQ(again.error().message(),
            "Operation cannot be fulfilled on pods/binding \"p\": pod p is already assigned to "
            "node \"n1\"");
  EXPECT_EQ(storage_->BindPod("default", "ghost", "n1").error().code(), ErrorCode::kNotFound);
  CreatePod("gated", R"("schedulingGates":[{"name":"wait"}])");
  EXPECT_EQ(storage_->BindPod("default", "gated", "n1").error().code(), ErrorCode::kConflict);
}

TEST_F(StoragePodTest, GracefulDeletionOfBoundPod) {
  CreatePod("p", R"("nodeName":"n1")");
  auto first = storage_->DeleteWithResult(R("pods"), "default", "p", {});
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->deleted);
  EXPECT_EQ(obj::String(first->object, {"metadata", "deletionTimestamp"}), "2024-05-01T12:00:30Z");
  EXPECT_EQ(obj::Int(first->object, {"metadata", "deletionGracePeriodSeconds"}), 30);
  EXPECT_EQ(obj::Int(first->object, {"metadata", "generation"}), 2);

  uint64_t rv = storage_->CurrentResourceVersion();
  auto longer = storage_->DeleteWithResult(R("pods"), "default", "p", Grace(60));
  ASSERT_TRUE(longer);
  EXPECT_FALSE(longer->deleted);
  EXPECT_EQ(storage_->CurrentResourceVersion(), rv) << "a later delete may only shorten";

  auto shorter = storage_->DeleteWithResult(R("pods"), "default", "p", Grace(10));
  ASSERT_TRUE(shorter);
  EXPECT_FALSE(shorter->deleted);
  EXPECT_EQ(obj::String(shorter->object, {"metadata", "deletionTimestamp"}),
            "2024-05-01T12:00:10Z");
  EXPECT_EQ(obj::Int(shorter->object, {"metadata", "deletionGracePeriodSeconds"}), 10);

  auto done = storage_->DeleteWithResult(R("pods"), "default", "p", Grace(0));
  ASSERT_TRUE(done);
  EXPECT_TRUE(done->deleted);
  EXPECT_FALSE(storage_->Get(R("pods"), "default", "p"));
}

TEST_F(StoragePodTest, UnboundOrTerminalPodsGoAtOnce) {
  CreatePod("unbound");
  auto a = storage_->DeleteWithResult(R("pods"), "default", "unbound", {});
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->deleted);
  EXPECT_EQ(obj::Int(a->object, {"metadata", "deletionGracePeriodSeconds"}, -1), 0);

  Object pod = CreatePod("done", R"("nodeName":"n1")");
  pod["status"] = Object{{"phase", "Succeeded"}};
  ASSERT_TRUE(storage_->Update(R("pods"), "default", "done", pod, "status", false));
  auto b = storage_->DeleteWithResult(R("pods"), "default", "done", {});
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->deleted);
}

TEST_F(StoragePodTest, FinalizersOutliveGracePeriod) {
  Object body = Pod("p", R"("nodeName":"n1")");
  obj::EnsureObject(body, {"metadata"})["finalizers"] = json::array{"example.com/hold"};
  ASSERT_TRUE(storage_->Create(R("pods"), "default", body, false));
  EXPECT_FALSE(storage_->DeleteWithResult(R("pods"), "default", "p", {})->deleted);
  auto zero = storage_->DeleteWithResult(R("pods"), "default", "p", Grace(0));
  ASSERT_TRUE(zero);
  EXPECT_FALSE(zero->deleted) << "the finalizer holds it";
  EXPECT_EQ(obj::Int(zero->object, {"metadata", "deletionGracePeriodSeconds"}, -1), 0);
  auto released =
      storage_->Patch(R("pods"), "default", "p", PatchKind::kJsonPatch,
                      R"([{"op":"remove","path":"/metadata/finalizers"}])", "", "", false, false);
  ASSERT_TRUE(released) << released.error().ToString();
  EXPECT_FALSE(storage_->Get(R("pods"), "default", "p"));
}

TEST_F(StoragePodTest, GracefulPodWithoutFinalizersStaysUntilForced) {
  CreatePod("p", R"("nodeName":"n1")");
  ASSERT_TRUE(storage_->Delete(R("pods"), "default", "p", {}));
  Object pod = Ok(storage_->Get(R("pods"), "default", "p"));
  pod["status"] = Object{{"phase", "Running"}};
  ASSERT_TRUE(storage_->Update(R("pods"), "default", "p", pod, "status", false))
      << "the kubelet still writes status while the pod terminates";
  EXPECT_TRUE(storage_->Get(R("pods"), "default", "p"));
}

}  // namespace
}  // namespace vk::kubesim
