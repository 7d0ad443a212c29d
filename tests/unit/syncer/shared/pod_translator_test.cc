#include "syncer/shared/pod_translator.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "syncer/shared/host_naming.h"
#include "tests/support/sample_objects.h"

namespace vk::syncer::shared {
namespace {

namespace json = boost::json;

json::value J(std::string_view text) {
  auto parsed = obj::Parse(std::string("{\"v\":") + std::string(text) + "}");
  EXPECT_TRUE(parsed.has_value()) << text;
  return parsed ? parsed->at("v") : json::value();
}

const json::value& At(const Object& o, std::initializer_list<std::string_view> path) {
  static const json::value kMissing;
  const json::value* v = obj::Find(o, path);
  return v == nullptr ? kMissing : *v;
}

const Object& Container(const Object& pod, std::string_view list, std::size_t i) {
  return At(pod, {"spec", list}).get_array().at(i).get_object();
}

std::string AnnotationRef(std::string_view key) {
  return "metadata.annotations['" + std::string(key) + "']";
}

class PodTranslatorTest : public ::testing::Test {
 protected:
  PodTranslatorTest() {
    ctx_.cluster = "tenant-a";
    ctx_.host_namespace = "vc-tenant-a";
    ctx_.virtual_node_name = "vnode";
    ctx_.dns_service_ip = "10.43.0.10";
    ctx_.api_server_host = "10.0.0.5";
    ctx_.api_server_port = 6443;
    ctx_.service_account_token_secret = "web-0-token";
    pod_ = vk::testing::SamplePod("shop", "web-0", "vnode");
    auto& metadata = pod_["metadata"].get_object();
    metadata["uid"] = "uid-1";
    metadata["resourceVersion"] = "7";
    pod_["status"] = J(R"({"phase":"Pending"})");
  }

  Object Translate() {
    auto host = TranslatePod(pod_, ctx_);
    EXPECT_TRUE(host.has_value()) << (host ? "" : host.error().ToString());
    return host ? *host : Object();
  }

  Object& Spec() { return pod_["spec"].get_object(); }
  std::string Host(std::string_view name) const { return HostName("tenant-a", "shop", name); }

  TranslationContext ctx_;
  Object pod_;
};

TEST_F(PodTranslatorTest, MetadataIsHostNamedAndOwned) {
  Object host = Translate();
  EXPECT_EQ(obj::Name(host), Host("web-0"));
  EXPECT_EQ(obj::Namespace(host), "vc-tenant-a");
  EXPECT_EQ(obj::Label(host, "app"), "shop");
  EXPECT_EQ(obj::Label(host, kLabelCluster), "tenant-a");
  EXPECT_EQ(obj::Annotation(host, kAnnotationOriginUid), "uid-1");
  EXPECT_EQ(obj::Annotation(host, kAnnotationVirtualNodeName), "vnode");
  EXPECT_EQ(obj::Annotation(host, kAnnotationVirtualServiceAccount), "default");
  EXPECT_EQ(obj::Annotation(host, kAnnotationSyncedAnnotations),
            "prometheus.io/port,prometheus.io/scrape");
  EXPECT_TRUE(obj::Uid(host).empty());
  EXPECT_TRUE(obj::ResourceVersion(host).empty());
  EXPECT_EQ(obj::Find(host, {"metadata", "ownerReferences"}), nullptr);
  EXPECT_FALSE(host.contains("status"));
}

TEST_F(PodTranslatorTest, UnknownFieldsSurvive) {
  pod_["futureTopLevel"] = J(R"({"a":1})");
  Spec()["futureSpecField"] = "x";
  Spec()["containers"].get_array()[0].get_object()["futureContainerField"] = true;
  Object host = Translate();
  EXPECT_EQ(At(host, {"futureTopLevel"}), J(R"({"a":1})"));
  EXPECT_EQ(At(host, {"spec", "futureSpecField"}), J(R"("x")"));
  EXPECT_EQ(Container(host, "containers", 0).at("futureContainerField"), J("true"));
  // Untouched fields of a container come through whole.
  EXPECT_EQ(Container(host, "containers", 0).at("readinessProbe"),
            Container(pod_, "containers", 0).at("readinessProbe"));
}

TEST_F(PodTranslatorTest, SchedulingIsReplacedByHostPlacement) {
  Spec()["schedulerName"] = "virtual-scheduler";
  Spec()["nodeSelector"] = J(R"({"type":"virtual-kubelet"})");
  Spec()["affinity"] = J(R"({"nodeAffinity":{"x":1},"podAntiAffinity":{"y":2}})");
  Spec()["tolerations"] = J(R"([{"key":"a","operator":"Exists"}])");
  Spec()["priorityClassName"] = "tenant-high";
  Spec()["priority"] = 1000;
  Spec()["preemptionPolicy"] = "Never";
  Spec()["overhead"] = J(R"({"cpu":"10m"})");
  ctx_.node_selector = {{"pool", "tenants"}};
  ctx_.tolerations = J(R"([{"key":"tenants","operator":"Exists","effect":"NoSchedule"},
                            {"key":"a","operator":"Exists"}])")
                         .get_array();
  Object host = Translate();
  const Object& spec = At(host, {"spec"}).get_object();
  for (auto field : {"nodeName", "schedulerName", "priority", "preemptionPolicy", "overhead",
                     "priorityClassName", "serviceAccountName", "serviceAccount"}) {
    EXPECT_FALSE(spec.contains(field)) << field;
  }
  EXPECT_EQ(spec.at("nodeSelector"), J(R"({"pool":"tenants"})"));
  EXPECT_EQ(spec.at("affinity"), J(R"({"podAntiAffinity":{"y":2}})"));
  EXPECT_EQ(spec.at("tolerations"), J(R"([{"key":"a","operator":"Exists"},
                  {"key":"tenants","operator":"Exists","effect":"NoSchedule"}])"));

  ctx_.priority_class_name = "host-tenants";
  host = Translate();
  EXPECT_EQ(obj::String(host, {"spec", "priorityClassName"}), "host-tenants");
}

TEST_F(PodTranslatorTest, ServiceAccountVolumeServedFromTokenSecret) {
  Object host = Translate();
  EXPECT_EQ(At(host, {"spec", "automountServiceAccountToken"}), J("false"));
  const json::value& volume = At(host, {"spec", "volumes"}).get_array()[1];
  EXPECT_EQ(volume, J(R"({"name":"kube-api-access","projected":{"sources":[
      {"secret":{"name":"web-0-token","items":[{"key":"token","path":"token"},
                                                {"key":"ca.crt","path":"ca.crt"}]}}]}})"));
}

TEST_F(PodTranslatorTest, FullAdmissionServiceAccountVolumeKeepsPathsAndExtraSources) {
  Spec()["volumes"].get_array()[1] = J(R"({"name":"kube-api-access-x2b9","projected":{
      "defaultMode":420,"sources":[
        {"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},
        {"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}},
        {"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"apiVersion":"v1",
                                                                 "fieldPath":"metadata.namespace"}},
                                 {"path":"podname","fieldRef":{"fieldPath":"metadata.name"}}]}},
        {"configMap":{"name":"extra"}}]}})");
  Object host = Translate();
  EXPECT_EQ(At(host, {"spec", "volumes"}).get_array()[1],
            J(R"({"name":"kube-api-access-x2b9","projected":{"defaultMode":420,"sources":[
      {"secret":{"name":"web-0-token","items":[{"key":"token","path":"token"},
                                                {"key":"ca.crt","path":"ca.crt"},
                                                {"key":"namespace","path":"namespace"}]}},
      {"downwardAPI":{"items":[{"path":"podname","fieldRef":{"fieldPath":
          "metadata.annotations['vkubelet.io/origin-name']"}}]}},
      {"configMap":{"name":")" +
              Host("extra") + R"("}}]}})"));
}

TEST_F(PodTranslatorTest, TokenSecretIsRequiredForTokenVolume) {
  ctx_.service_account_token_secret.clear();
  auto host = TranslatePod(pod_, ctx_);
  ASSERT_FALSE(host.has_value());
  EXPECT_EQ(host.error().code(), ErrorCode::kInvalid);
  EXPECT_NE(host.error().message().find("spec.volumes[kube-api-access]"), std::string::npos);
}

TEST_F(PodTranslatorTest, ConfigMapAndSecretReferencesPointAtHostCopies) {
  Spec()["volumes"].get_array().push_back(J(R"({"name":"tls","secret":{"secretName":"tls"}})"));
  Spec()["volumes"].get_array().push_back(J(R"({"name":"p","projected":{"sources":[
      {"configMap":{"name":"pc"}},{"secret":{"name":"ps","optional":true}}]}})"));
  Spec()["volumes"].get_array().push_back(
      J(R"({"name":"csi","csi":{"driver":"d","nodePublishSecretRef":{"name":"csi-creds"}}})"));
  Spec()["imagePullSecrets"] = J(R"([{"name":"regcred"}])");
  Spec()["containers"].get_array()[1].get_object()["envFrom"] =
      J(R"([{"configMapRef":{"name":"env-cm"}},{"secretRef":{"name":"env-s"},"prefix":"S_"}])");
  Spec()["containers"].get_array()[1].get_object()["env"] =
      J(R"([{"name":"K","valueFrom":{"configMapKeyRef":{"name":"kcm","key":"k"}}}])");
  Spec()["initContainers"] = J(R"([{"name":"init","image":"busybox",
      "env":[{"name":"T","valueFrom":{"secretKeyRef":{"name":"init-s","key":"t"}}}]}])");

  Object host = Translate();
  const json::array& volumes = At(host, {"spec", "volumes"}).get_array();
  EXPECT_EQ(obj::String(volumes[0].get_object(), {"configMap", "name"}), Host("shop-config"));
  EXPECT_EQ(obj::String(volumes[2].get_object(), {"secret", "secretName"}), Host("tls"));
  EXPECT_EQ(volumes[3].at("projected").at("sources"), J(R"([{"configMap":{"name":")" + Host("pc") +
                                                        R"("}},
                  {"secret":{"name":")" + Host("ps") + R"(","optional":true}}])"));
  EXPECT_EQ(obj::String(volumes[4].get_object(), {"csi", "nodePublishSecretRef", "name"}),
            Host("csi-creds"));
  EXPECT_EQ(At(host, {"spec", "imagePullSecrets"}), J(R"([{"name":")" + Host("regcred") + "\"}]"));
  const Object& metrics = Container(host, "containers", 1);
  EXPECT_EQ(metrics.at("envFrom"), J(R"([{"configMapRef":{"name":")" + Host("env-cm") + R"("}},
      {"secretRef":{"name":")" + Host("env-s") +
                                     R"("},"prefix":"S_"}])"));
  const json::array& app_env = Container(host, "containers", 0).at("env").get_array();
  EXPECT_EQ(app_env.back(), J(R"({"name":"DB_PASSWORD","valueFrom":{"secretKeyRef":
      {"name":")" + Host("db") +
                              R"(","key":"password"}}})"));
  const json::array& init_env = Container(host, "initContainers", 0).at("env").get_array();
  EXPECT_EQ(obj::String(init_env.back().get_object(), {"valueFrom", "secretKeyRef", "name"}),
            Host("init-s"));
}

TEST_F(PodTranslatorTest, CustomNameMappingIsUsed) {
  ctx_.host_object_name = [](std::string_view ns, std::string_view name) {
    return std::string(ns) + "." + std::string(name);
  };
  Object host = Translate();
  EXPECT_EQ(
      obj::String(At(host, {"spec", "volumes"}).get_array()[0].get_object(), {"configMap", "name"}),
      "shop.shop-config");
}

TEST_F(PodTranslatorTest, DownwardApiFieldRefsReadVirtualValues) {
  json::array& env = Spec()["containers"].get_array()[0].get_object()["env"].get_array();
  for (auto path : {"metadata.namespace", "metadata.uid", "spec.nodeName",
                    "spec.serviceAccountName", "status.podIP", "metadata.labels['app']"}) {
    env.push_back(
        J(R"({"name":"X","valueFrom":{"fieldRef":{"fieldPath":")" + std::string(path) + "\"}}}"));
  }
  Spec()["volumes"].get_array().push_back(J(R"({"name":"info","downwardAPI":{"items":[
      {"path":"name","fieldRef":{"fieldPath":"metadata.name"}},
      {"path":"labels","fieldRef":{"fieldPath":"metadata.labels"}},
      {"path":"cpu","resourceFieldRef":{"containerName":"app","resource":"limits.cpu"}}]}})"));
  Object host = Translate();
  const json::array& host_env = Container(host, "containers", 0).at("env").get_array();
  std::vector<std::string> paths;
  for (const auto& var : host_env) {
    const auto path = obj::String(var.get_object(), {"valueFrom", "fieldRef", "fieldPath"});
    if (!path.empty()) paths.emplace_back(path);
  }
  EXPECT_EQ(paths, (std::vector<std::string>{
                       AnnotationRef(kAnnotationOriginName),
                       AnnotationRef(kAnnotationOriginNamespace),
                       AnnotationRef(kAnnotationOriginUid),
                       AnnotationRef(kAnnotationVirtualNodeName),
                       AnnotationRef(kAnnotationVirtualServiceAccount),
                       "status.podIP",
                       "metadata.labels['app']",
                   }));
  EXPECT_EQ(At(host, {"spec", "volumes"}).get_array().back().at("downwardAPI"), J(R"({"items":[
      {"path":"name","fieldRef":{"fieldPath":"metadata.annotations['vkubelet.io/origin-name']"}},
      {"path":"labels","fieldRef":{"fieldPath":"metadata.labels"}},
      {"path":"cpu","resourceFieldRef":{"containerName":"app","resource":"limits.cpu"}}]})"));
}

TEST_F(PodTranslatorTest, ClusterFirstDnsPointsAtVirtualDns) {
  Spec()["dnsConfig"] = J(R"({"nameservers":["1.1.1.1"],"searches":["corp.example"],
      "options":[{"name":"ndots","value":"2"},{"name":"edns0"}]})");
  Object host = Translate();
  EXPECT_EQ(obj::String(host, {"spec", "dnsPolicy"}), "None");
  EXPECT_EQ(At(host, {"spec", "dnsConfig"}), J(R"({"nameservers":["10.43.0.10","1.1.1.1"],
      "searches":["shop.svc.cluster.local","svc.cluster.local","cluster.local","corp.example"],
      "options":[{"name":"ndots","value":"2"},{"name":"edns0"}]})"));
}

TEST_F(PodTranslatorTest, DnsPoliciesOtherThanClusterFirstAreKept) {
  Spec()["dnsPolicy"] = "Default";
  EXPECT_EQ(obj::String(Translate(), {"spec", "dnsPolicy"}), "Default");
  Spec()["dnsPolicy"] = "None";
  Spec()["dnsConfig"] = J(R"({"nameservers":["9.9.9.9"]})");
  Object host = Translate();
  EXPECT_EQ(At(host, {"spec", "dnsConfig"}), J(R"({"nameservers":["9.9.9.9"]})"));

  Spec()["dnsPolicy"] = "ClusterFirstWithHostNet";
  Spec().erase("dnsConfig");
  host = Translate();
  EXPECT_EQ(obj::String(host, {"spec", "dnsPolicy"}), "None");
  EXPECT_EQ(At(host, {"spec", "dnsConfig", "options"}), J(R"([{"name":"ndots","value":"5"}])"));
}

TEST_F(PodTranslatorTest, KubernetesServiceEnvReachesVirtualApiServer) {
  Spec()["initContainers"] = J(R"([{"name":"init","image":"busybox"}])");
  json::array& env = Spec()["containers"].get_array()[0].get_object()["env"].get_array();
  env.push_back(J(R"({"name":"KUBERNETES_SERVICE_HOST","value":"user-choice"})"));
  ctx_.host_aliases = {{"10.0.0.5", {"api.tenant-a.example"}}};
  Object host = Translate();
  const json::array& init_env = Container(host, "initContainers", 0).at("env").get_array();
  EXPECT_EQ(init_env, J(R"([
      {"name":"KUBERNETES_SERVICE_HOST","value":"10.0.0.5"},
      {"name":"KUBERNETES_SERVICE_PORT","value":"6443"},
      {"name":"KUBERNETES_SERVICE_PORT_HTTPS","value":"6443"},
      {"name":"KUBERNETES_PORT","value":"tcp://10.0.0.5:6443"},
      {"name":"KUBERNETES_PORT_6443_TCP","value":"tcp://10.0.0.5:6443"},
      {"name":"KUBERNETES_PORT_6443_TCP_PROTO","value":"tcp"},
      {"name":"KUBERNETES_PORT_6443_TCP_PORT","value":"6443"},
      {"name":"KUBERNETES_PORT_6443_TCP_ADDR","value":"10.0.0.5"}])"));
  // The user's own value wins and keeps its place after the injected ones.
  const json::array& app_env = Container(host, "containers", 0).at("env").get_array();
  EXPECT_EQ(app_env.size(), 7u + 4u);
  EXPECT_EQ(app_env[0], J(R"({"name":"KUBERNETES_SERVICE_PORT","value":"6443"})"));
  EXPECT_EQ(app_env.back(), J(R"({"name":"KUBERNETES_SERVICE_HOST","value":"user-choice"})"));
  EXPECT_EQ(At(host, {"spec", "hostAliases"}),
            J(R"([{"ip":"10.0.0.5","hostnames":["api.tenant-a.example"]}])"));
}

TEST_F(PodTranslatorTest, Ipv6ApiServerIsBracketed) {
  ctx_.api_server_host = "fd00::1";
  ctx_.api_server_port = 443;
  Object host = Translate();
  EXPECT_EQ(Container(host, "containers", 1).at("env").get_array()[3],
            J(R"({"name":"KUBERNETES_PORT","value":"tcp://[fd00::1]:443"})"));
}

TEST_F(PodTranslatorTest, PodLevelRewrites) {
  Spec()["ephemeralContainers"] = J(R"([{"name":"debug","image":"busybox"}])");
  Spec()["readinessGates"] = J(R"([{"conditionType":"example.com/ready"}])");
  Spec()["initContainers"] = J(R"([{"name":"sidecar","image":"envoy","restartPolicy":"Always"}])");
  Spec()["subdomain"] = "headless";
  Object host = Translate();
  const Object& spec = At(host, {"spec"}).get_object();
  EXPECT_EQ(spec.at("enableServiceLinks"), J("false"));
  EXPECT_FALSE(spec.contains("ephemeralContainers"));
  EXPECT_FALSE(spec.contains("readinessGates"));
  EXPECT_EQ(obj::String(spec, {"hostname"}), "web-0");
  EXPECT_EQ(obj::String(spec, {"subdomain"}), "headless");
  EXPECT_EQ(obj::String(Container(host, "initContainers", 0), {"restartPolicy"}), "Always");

  Spec()["hostname"] = "custom";
  EXPECT_EQ(obj::String(Translate(), {"spec", "hostname"}), "custom");
  Spec().erase("hostname");
  pod_["metadata"].get_object()["name"] = "db.primary-" + std::string(70, 'x');
  const std::string hostname(obj::String(Translate(), {"spec", "hostname"}));
  EXPECT_EQ(hostname.size(), 63u);
  EXPECT_TRUE(IsDnsLabel(hostname)) << hostname;
}

TEST_F(PodTranslatorTest, NonPodIsInvalid) {
  auto result = TranslatePod(vk::testing::SampleConfigMap("shop", "c"), ctx_);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalid);
}

TEST_F(PodTranslatorTest, HostPrivilegesAreDeniedByDefaultWithEveryViolationNamed) {
  Spec()["hostNetwork"] = true;
  Spec()["hostPID"] = true;
  Spec()["hostIPC"] = true;
  Spec()["volumes"].get_array().push_back(J(R"({"name":"data","hostPath":{"path":"/var"}})"));
  Spec()["initContainers"] = J(R"([{"name":"setup","image":"x",
      "securityContext":{"privileged":true}}])");
  Spec()["containers"].get_array()[0].get_object()["securityContext"] =
      J(R"({"allowPrivilegeEscalation":true,
            "capabilities":{"add":["NET_ADMIN","CAP_CHOWN"],"drop":["ALL"]}})");
  ctx_.privileges.allowed_capabilities = {"chown"};
  auto result = TranslatePod(pod_, ctx_);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kForbidden);
  EXPECT_EQ(result.error().message(),
            "spec.hostNetwork: host network is not allowed (set pods.allow_host_network); "
            "spec.hostPID: host PID namespace is not allowed (set pods.allow_host_pid); "
            "spec.hostIPC: host IPC namespace is not allowed (set pods.allow_host_ipc); "
            "spec.volumes[data].hostPath: hostPath volumes are not allowed (set "
            "pods.allow_host_path); "
            "spec.initContainers[setup].securityContext.privileged: privileged containers are not "
            "allowed (set pods.allow_privileged); "
            "spec.containers[app].securityContext.capabilities.add[NET_ADMIN]: capability "
            "NET_ADMIN is not allowed (add it to pods.allowed_capabilities)");
  ASSERT_EQ(result.error().causes().size(), 6u);
  EXPECT_EQ(result.error().causes()[0].field, "spec.hostNetwork");
  EXPECT_EQ(result.error().causes()[5].reason, "FieldValueForbidden");
}

TEST_F(PodTranslatorTest, PolicyCanAllowPrivileges) {
  Spec()["hostNetwork"] = true;
  Spec()["volumes"].get_array().push_back(J(R"({"name":"data","hostPath":{"path":"/var"}})"));
  Spec()["containers"].get_array()[0].get_object()["securityContext"] =
      J(R"({"privileged":true,"capabilities":{"add":["NET_ADMIN","SYS_TIME"]}})");
  ctx_.privileges.allow_host_network = true;
  ctx_.privileges.allow_host_path = true;
  ctx_.privileges.allow_privileged = true;
  ctx_.privileges.allowed_capabilities = {"ALL"};
  Object host = Translate();
  EXPECT_EQ(At(host, {"spec", "hostNetwork"}), J("true"));
  // ClusterFirst with host network resolves like Default; the kubelet's rule is kept.
  EXPECT_FALSE(At(host, {"spec"}).get_object().contains("dnsConfig"));
}

TEST_F(PodTranslatorTest, EphemeralContainersAreDroppedOnCreate) {
  Spec()["ephemeralContainers"] = J(R"([{"name":"debug","image":"busybox"}])");
  EXPECT_FALSE(At(Translate(), {"spec"}).get_object().contains("ephemeralContainers"));
}

TEST_F(PodTranslatorTest, EphemeralContainersAreTranslatedLikeTheOthers) {
  Spec()["ephemeralContainers"] = J(R"([
      {"name":"debug","image":"busybox","targetContainerName":"app",
       "envFrom":[{"configMapRef":{"name":"settings"}}],
       "env":[{"name":"POD","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}]},
      {"name":"root","image":"busybox","securityContext":{"privileged":true}}])");
  auto ephemeral = TranslateEphemeralContainers(pod_, ctx_);
  ASSERT_TRUE(ephemeral) << ephemeral.error().ToString();
  ASSERT_EQ(ephemeral->allowed.size(), 1u);
  const Object& debug = ephemeral->allowed[0].get_object();
  EXPECT_EQ(obj::String(debug, {"targetContainerName"}), "app");
  EXPECT_EQ(At(debug, {"envFrom"}),
            J(R"([{"configMapRef":{"name":")" + Host("settings") + R"("}}])"));
  const json::array& env = debug.at("env").get_array();
  EXPECT_EQ(env.front(), J(R"({"name":"KUBERNETES_SERVICE_HOST","value":"10.0.0.5"})"));
  EXPECT_EQ(env.back(), J(R"({"name":"POD","valueFrom":{"fieldRef":{"fieldPath":")" +
                          AnnotationRef(kAnnotationOriginName) + R"("}}})"));
  ASSERT_EQ(ephemeral->denied.size(), 1u);
  EXPECT_EQ(ephemeral->denied[0].name, "root");
  EXPECT_EQ(ephemeral->denied[0].image, "busybox");
  EXPECT_EQ(ephemeral->denied[0].message,
            "spec.ephemeralContainers[root].securityContext.privileged: privileged containers are "
            "not allowed (set pods.allow_privileged)");

  ctx_.privileges.allow_privileged = true;
  ephemeral = TranslateEphemeralContainers(pod_, ctx_);
  ASSERT_TRUE(ephemeral);
  EXPECT_EQ(ephemeral->allowed.size(), 2u);
  EXPECT_TRUE(ephemeral->denied.empty());
}

TEST_F(PodTranslatorTest, NoEphemeralContainersTranslateToNone) {
  auto ephemeral = TranslateEphemeralContainers(pod_, ctx_);
  ASSERT_TRUE(ephemeral);
  EXPECT_TRUE(ephemeral->allowed.empty());
  EXPECT_TRUE(ephemeral->denied.empty());
}

TEST_F(PodTranslatorTest, CollectReferencesFindsEveryKindOnce) {
  Spec()["volumes"].get_array().push_back(J(R"({"name":"p","projected":{"sources":[
      {"configMap":{"name":"pc"}},{"secret":{"name":"db"}}]}})"));
  Spec()["volumes"].get_array().push_back(
      J(R"({"name":"csi","csi":{"driver":"d","nodePublishSecretRef":{"name":"csi-creds"}}})"));
  Spec()["imagePullSecrets"] = J(R"([{"name":"regcred"}])");
  Spec()["initContainers"] = J(R"([{"name":"init","image":"x",
      "envFrom":[{"configMapRef":{"name":"env-cm"}},{"secretRef":{"name":"env-s"}}],
      "env":[{"name":"K","valueFrom":{"configMapKeyRef":{"name":"kcm","key":"k"}}}]}])");
  PodReferences refs = CollectReferences(pod_);
  // kube-root-ca.crt is served by the token Secret, not synced.
  EXPECT_EQ(refs.config_maps, (std::vector<std::string>{"env-cm", "kcm", "pc", "shop-config"}));
  EXPECT_EQ(refs.secrets, (std::vector<std::string>{"csi-creds", "db", "env-s", "regcred"}));
}

TEST_F(PodTranslatorTest, CollectReferencesOfEmptyPod) {
  PodReferences refs = CollectReferences(Object());
  EXPECT_TRUE(refs.config_maps.empty());
  EXPECT_TRUE(refs.secrets.empty());
}

}  // namespace
}  // namespace vk::syncer::shared
