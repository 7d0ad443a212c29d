#pragma once

#include <boost/json/array.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "hostclient/base/error.h"
#include "hostclient/base/object.h"

namespace vk::syncer::shared {

// Host-level privileges a virtual pod may ask for. The defaults deny all of them: a tenant must
// not reach the host's network, process table, IPC, file system or kernel through its pods.
struct PrivilegePolicy {
  bool allow_host_network = false;
  bool allow_host_pid = false;
  bool allow_host_ipc = false;
  bool allow_host_path = false;
  bool allow_privileged = false;
  // Capabilities that containers may add ("NET_ADMIN"; a "CAP_" prefix and case are ignored;
  // "ALL" allows every capability).
  std::vector<std::string> allowed_capabilities;
};

struct HostAlias {
  std::string ip;
  std::vector<std::string> hostnames;
};

// Everything TranslatePod needs to know about the virtual cluster and the host. Plain data, built
// once from configuration (plus the per-pod service-account token Secret name).
struct TranslationContext {
  std::string cluster;            // virtual cluster name: part of every host name and label
  std::string host_namespace;     // where the host twins live
  std::string virtual_node_name;  // the virtual node; spec.nodeName seen by the workload

  // DNS of the virtual cluster. Empty dns_service_ip leaves dnsPolicy untouched.
  std::string dns_service_ip;
  std::string cluster_domain = "cluster.local";
  int ndots = 5;

  // The virtual API server as the workload must reach it. Empty host: no KUBERNETES_* injection.
  std::string api_server_host;
  int api_server_port = 443;
  std::vector<HostAlias> host_aliases;  // appended to spec.hostAliases

  std::map<std::string, std::string> node_selector;  // host nodes allowed to run the twins
  boost::json::array tolerations;                    // tolerations of host taints to add
  std::string priority_class_name;                   // host PriorityClass; empty: none

  PrivilegePolicy privileges;

  // Host Secret holding this pod's virtual service-account credentials: keys "token", "ca.crt"
  // and "namespace". Required when the pod mounts a service-account token.
  std::string service_account_token_secret;

  // Host name of the synced copy of virtual ConfigMap/Secret ns/name. Unset: HostName(cluster,..).
  std::function<std::string(std::string_view ns, std::string_view name)> host_object_name;

  std::string HostObjectName(std::string_view ns, std::string_view name) const;
};

// Annotations that carry virtual values the host pod's downward API must expose instead of the
// host's own (fieldRefs are pointed at them). Name, namespace and UID use the origin annotations.
inline constexpr std::string_view kAnnotationVirtualNodeName = "vkubelet.io/virtual-node-name";
inline constexpr std::string_view kAnnotationVirtualServiceAccount =
    "vkubelet.io/virtual-service-account-name";
// Comma-separated keys of the virtual annotations copied to the host pod, so that an update can
// remove the ones the user removed without touching annotations that host components added.
inline constexpr std::string_view kAnnotationSyncedAnnotations = "vkubelet.io/synced-annotations";

// The ConfigMaps and Secrets (virtual names, in the pod's namespace; sorted, unique) that a pod
// needs synced to the host before its twin can start.
struct PodReferences {
  std::vector<std::string> config_maps;
  std::vector<std::string> secrets;
};

// Pod-spec translation for shared mode (DESIGN.md §4). Pure functions over JSON: every field not
// named below is carried over untouched, so fields of newer API versions survive.
//
// TranslatePod builds the host twin of `virtual_pod`:
//  - metadata from HostMetadata() plus the virtual-node/service-account annotations;
//  - nodeName, schedulerName, nodeSelector and node affinity (which name virtual nodes) are
//    replaced by the configured host scheduling; tolerations gain the configured ones;
//    priority/priorityClassName/preemptionPolicy/overhead (host admission recomputes them) are
//    dropped unless a host priority class is configured; ephemeral containers (forbidden on
//    create) and readiness gates (nobody sets them on the host; TranslateStatusBack applies them)
//    are dropped;
//  - the service account is not mounted from the host; the kube-api-access projected volume is
//    served from ctx.service_account_token_secret at the same paths;
//  - ConfigMap/Secret references (volumes, projected sources, CSI secrets, env, envFrom,
//    imagePullSecrets) point at the synced host copies;
//  - downward-API fieldRefs to name, namespace, uid, nodeName and serviceAccountName read
//    annotations holding the virtual values; status.* refs read the host's values;
//  - ClusterFirst DNS becomes dnsPolicy None with the virtual cluster's resolver; KUBERNETES_*
//    env vars point at the virtual API server; service links are off; hostname defaults to the
//    virtual pod's name.
// Fails with kForbidden, naming every violation, when the pod asks for host privileges the
// policy denies; kInvalid when the pod is not a pod or needs a token Secret that is not configured.
Result<Object> TranslatePod(const Object& virtual_pod, const TranslationContext& ctx);

// An ephemeral container the privilege policy keeps off the host.
struct DeniedContainer {
  std::string name;
  std::string image;
  std::string message;  // each denied field and the setting that would allow it
};

// The virtual pod's ephemeral containers as the host twin's ephemeralcontainers subresource takes
// them: references, downward-API paths and KUBERNETES_* env rewritten as TranslatePod does for the
// other containers; those asking for privileges the policy denies are listed apart instead.
struct EphemeralContainers {
  boost::json::array allowed;
  std::vector<DeniedContainer> denied;
};
// Errors are TranslatePod's for the pod as a whole.
Result<EphemeralContainers> TranslateEphemeralContainers(const Object& virtual_pod,
                                                         const TranslationContext& ctx);

// The references TranslatePod rewrites, except those the token Secret serves (kube-root-ca.crt in
// the service-account volume).
PodReferences CollectReferences(const Object& virtual_pod);

}  // namespace vk::syncer::shared
