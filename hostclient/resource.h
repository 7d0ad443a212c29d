#pragma once

#include <string>
#include <string_view>

namespace vk::hostclient {

// Identifies a REST collection: group/version/resource plus whether it lives in namespaces.
// The core group is "" (paths under /api/v1); others live under /apis/<group>/<version>.
struct GroupVersionResource {
  std::string group;
  std::string version;
  std::string resource;
  bool namespaced = true;

  // "/api/v1" or "/apis/<group>/<version>".
  std::string GroupVersionPath() const;
  // Path of the collection: ".../namespaces/<ns>/<resource>" or ".../<resource>" when ns is empty
  // (all namespaces, or a cluster-scoped resource).
  std::string CollectionPath(std::string_view ns) const;
  // Path of one object, with an optional subresource ("status", "log", "token", "eviction"...).
  std::string ObjectPath(std::string_view ns, std::string_view name,
                         std::string_view subresource = {}) const;
  // "pods" or "deployments.apps": for messages and metrics.
  std::string ToString() const;
  bool operator==(const GroupVersionResource&) const = default;
};

// The built-in resources vkubelet uses.
namespace resources {
GroupVersionResource Namespaces();
GroupVersionResource Nodes();
GroupVersionResource Pods();
GroupVersionResource Services();
GroupVersionResource Endpoints();
GroupVersionResource EndpointSlices();
GroupVersionResource ConfigMaps();
GroupVersionResource Secrets();
GroupVersionResource ServiceAccounts();
GroupVersionResource PersistentVolumeClaims();
GroupVersionResource PersistentVolumes();
GroupVersionResource Events();
GroupVersionResource Leases();
GroupVersionResource Ingresses();
GroupVersionResource NetworkPolicies();
GroupVersionResource PriorityClasses();
GroupVersionResource ResourceQuotas();
GroupVersionResource SelfSubjectAccessReviews();
GroupVersionResource SubjectAccessReviews();
}  // namespace resources

}  // namespace vk::hostclient
