#include "syncer/shared/pod_status_translator.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "syncer/shared/host_naming.h"
#include "syncer/shared/object_translator.h"
#include "tests/support/sample_objects.h"

namespace vk::syncer::shared {
namespace {

namespace json = boost::json;

json::value J(std::string_view text) {
  auto parsed = obj::Parse(std::string("{\"v\":") + std::string(text) + "}");
  EXPECT_TRUE(parsed.has_value()) << text;
  return parsed ? parsed->at("v") : json::value();
}

class PodStatusTranslatorTest : public ::testing::Test {
 protected:
  PodStatusTranslatorTest() {
    host_pod_["status"] = J(R"({
      "phase":"Running","message":"m","reason":"r","qosClass":"Burstable",
      "podIP":"10.42.1.7","podIPs":[{"ip":"10.42.1.7"}],
      "hostIP":"192.168.1.20","hostIPs":[{"ip":"192.168.1.20"}],
      "startTime":"2024-05-01T10:00:00Z","nominatedNodeName":"host-node-3",
      "observedGeneration":3,"futureStatusField":{"x":1},
      "conditions":[
        {"type":"PodReadyToStartContainers","status":"True"},
        {"type":"Initialized","status":"True"},
        {"type":"Ready","status":"True","lastTransitionTime":"2024-05-01T10:00:05Z",
         "observedGeneration":3},
        {"type":"ContainersReady","status":"True"},
        {"type":"PodScheduled","status":"True","lastTransitionTime":"2024-05-01T09:59:59Z"}],
      "initContainerStatuses":[{"name":"init","state":{"terminated":{"exitCode":0}}}],
      "containerStatuses":[{"name":"app","ready":true,"restartCount":1,
                            "containerID":"containerd://abc","state":{"running":{}}}],
      "ephemeralContainerStatuses":[{"name":"debug","state":{"running":{}}}]})");
    virtual_pod_ = vk::testing::SamplePod("shop", "web-0", "vnode");
    virtual_pod_["status"] = J(R"({"phase":"Pending","conditions":[
        {"type":"PodScheduled","status":"True","lastTransitionTime":"2024-05-01T09:00:00Z"}]})");
  }

  Object host_pod_;
  Object virtual_pod_;
  StatusContext ctx_;
};

TEST_F(PodStatusTranslatorTest, HostReportIsCarriedBack) {
  Object status = TranslateStatusBack(host_pod_, virtual_pod_, ctx_);
  const Object& host = host_pod_["status"].get_object();
  for (auto field : {"phase", "message", "reason", "qosClass", "podIP", "podIPs", "hostIP",
                     "hostIPs", "startTime", "initContainerStatuses", "containerStatuses",
                     "ephemeralContainerStatuses", "futureStatusField"}) {
    EXPECT_EQ(status.at(field), host.at(field)) << field;
  }
  EXPECT_FALSE(status.contains("nominatedNodeName"));
  EXPECT_FALSE(status.contains("observedGeneration"));
  // Kubelet conditions from the host (generation stripped), PodScheduled kept from the virtual pod.
  EXPECT_EQ(status.at("conditions"), J(R"([
      {"type":"PodReadyToStartContainers","status":"True"},
      {"type":"Initialized","status":"True"},
      {"type":"Ready","status":"True","lastTransitionTime":"2024-05-01T10:00:05Z"},
      {"type":"ContainersReady","status":"True"},
      {"type":"PodScheduled","status":"True","lastTransitionTime":"2024-05-01T09:00:00Z"}])"));
}

TEST_F(PodStatusTranslatorTest, VirtualNodeModeReportsVirtualNodeIp) {
  ctx_.host_ip_mode = HostIpMode::kVirtualNode;
  ctx_.virtual_node_ip = "10.10.0.2";
  Object status = TranslateStatusBack(host_pod_, virtual_pod_, ctx_);
  EXPECT_EQ(status.at("hostIP"), J(R"("10.10.0.2")"));
  EXPECT_EQ(status.at("hostIPs"), J(R"([{"ip":"10.10.0.2"}])"));
  EXPECT_EQ(status.at("podIP"), J(R"("10.42.1.7")"));
}

TEST_F(PodStatusTranslatorTest, ReadinessGatesOfTheVirtualPodHoldBackReady) {
  virtual_pod_["spec"].get_object()["readinessGates"] =
      J(R"([{"conditionType":"example.com/lb-ready"}])");
  Object status = TranslateStatusBack(host_pod_, virtual_pod_, ctx_);
  const json::value& ready = status.at("conditions").get_array()[2];
  EXPECT_EQ(ready, J(R"({"type":"Ready","status":"False","reason":"ReadinessGatesNotReady",
      "lastTransitionTime":"2024-05-01T10:00:05Z",
      "message":"corresponding condition of pod readiness gate \"example.com/lb-ready\" does not exist."})"));

  virtual_pod_["status"].get_object()["conditions"].get_array().push_back(
      J(R"({"type":"example.com/lb-ready","status":"False"})"));
  status = TranslateStatusBack(host_pod_, virtual_pod_, ctx_);
  EXPECT_EQ(
      status.at("conditions").get_array()[2].at("message"),
      J(R"("the status of pod readiness gate \"example.com/lb-ready\" is not \"True\", but False")"));
  // The gate's own condition stays as the virtual controller wrote it.
  EXPECT_EQ(status.at("conditions").get_array().back(),
            J(R"({"type":"example.com/lb-ready","status":"False"})"));

  virtual_pod_["status"].get_object()["conditions"].get_array().back().get_object()["status"] =
      "True";
  status = TranslateStatusBack(host_pod_, virtual_pod_, ctx_);
  EXPECT_EQ(status.at("conditions").get_array()[2].at("status"), J(R"("True")"));
}

TEST_F(PodStatusTranslatorTest, HostOnlyConditionsPassWhenVirtualHasNone) {
  host_pod_["status"].get_object()["conditions"].get_array().push_back(
      J(R"({"type":"DisruptionTarget","status":"True","reason":"EvictionByEvictionAPI"})"));
  Object status = TranslateStatusBack(host_pod_, virtual_pod_, ctx_);
  const json::array& conditions = status.at("conditions").get_array();
  ASSERT_EQ(conditions.size(), 6u);
  // Host conditions first (the host's PodScheduled yields to the virtual one, which comes last).
  EXPECT_EQ(conditions[4],
            J(R"({"type":"DisruptionTarget","status":"True","reason":"EvictionByEvictionAPI"})"));
  EXPECT_EQ(conditions[5].at("lastTransitionTime"), J(R"("2024-05-01T09:00:00Z")"));
}

TEST_F(PodStatusTranslatorTest, StatusEqualDetectsNoOps) {
  Object first = TranslateStatusBack(host_pod_, virtual_pod_, ctx_);
  Object second = TranslateStatusBack(host_pod_, virtual_pod_, ctx_);
  EXPECT_TRUE(StatusEqual(first, second));
  auto reordered = obj::Parse(obj::Serialize(first));
  ASSERT_TRUE(reordered.has_value());
  Object shuffled;
  for (auto it = reordered->end(); it != reordered->begin();) {
    --it;
    shuffled[it->key()] = it->value();
  }
  EXPECT_TRUE(StatusEqual(first, shuffled));
  host_pod_["status"].get_object()["phase"] = "Succeeded";
  EXPECT_FALSE(StatusEqual(first, TranslateStatusBack(host_pod_, virtual_pod_, ctx_)));
}

TEST(DeniedEphemeralContainersTest, GetAWaitingStatusUnlessTheHostReportedOne) {
  Object status = J(R"({"phase":"Running","ephemeralContainerStatuses":[
      {"name":"debug","state":{"running":{}}}]})")
                      .get_object();
  ReportDeniedEphemeralContainers(
      status, {DeniedContainer{"debug", "busybox", "stale"},
               DeniedContainer{"root", "busybox:1.36", "spec.ephemeralContainers[root]: denied"}});
  EXPECT_EQ(status.at("ephemeralContainerStatuses"), J(R"([
      {"name":"debug","state":{"running":{}}},
      {"name":"root","image":"busybox:1.36","imageID":"","ready":false,"restartCount":0,
       "state":{"waiting":{"reason":"HostPrivilegeDenied",
                           "message":"spec.ephemeralContainers[root]: denied"}},
       "lastState":{}}])"));

  Object untouched = J(R"({"phase":"Running"})").get_object();
  ReportDeniedEphemeralContainers(untouched, {});
  EXPECT_EQ(untouched, J(R"({"phase":"Running"})").get_object());
}

TEST(ObjectTranslatorTest, ConfigMapKeepsDataAndGetsOwnership) {
  TranslationContext ctx;
  ctx.cluster = "tenant-a";
  ctx.host_namespace = "vc-tenant-a";
  Object cm = vk::testing::SampleConfigMap("shop", "shop-config", 2, 8);
  cm["binaryData"] = J(R"({"b":"AAE="})");
  cm["immutable"] = true;
  cm["metadata"].get_object()["uid"] = "cm-uid";
  Object host = TranslateObjectForSync(cm, ctx);
  EXPECT_EQ(obj::Name(host), HostConfigMapName("tenant-a", "shop", "shop-config"));
  EXPECT_EQ(obj::Namespace(host), "vc-tenant-a");
  EXPECT_EQ(obj::Annotation(host, kAnnotationOriginKind), "ConfigMap");
  EXPECT_EQ(obj::Annotation(host, kAnnotationOriginUid), "cm-uid");
  EXPECT_TRUE(obj::Uid(host).empty());
  EXPECT_EQ(host.at("data"), cm.at("data"));
  EXPECT_EQ(host.at("binaryData"), cm.at("binaryData"));
  EXPECT_EQ(host.at("immutable"), J("true"));
  EXPECT_TRUE(OriginMatches(host, "tenant-a", "shop", "shop-config"));
}

TEST(ObjectTranslatorTest, SecretTypeIsKeptExceptServiceAccountTokens) {
  TranslationContext ctx;
  ctx.cluster = "c";
  ctx.host_namespace = "h";
  auto secret = obj::Parse(R"({"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/tls",
      "metadata":{"name":"tls","namespace":"shop"},"data":{"tls.crt":"eA==","tls.key":"eQ=="}})");
  ASSERT_TRUE(secret.has_value());
  Object host = TranslateObjectForSync(*secret, ctx);
  EXPECT_EQ(host.at("type"), J(R"("kubernetes.io/tls")"));
  EXPECT_EQ(host.at("data"), secret->at("data"));

  (*secret)["type"] = "kubernetes.io/service-account-token";
  EXPECT_EQ(TranslateObjectForSync(*secret, ctx).at("type"), J(R"("Opaque")"));
}

}  // namespace
}  // namespace vk::syncer::shared
