#include "hostclient/resource.h"

namespace vk::hostclient {

std::string GroupVersionResource::GroupVersionPath() const {
  if (group.empty()) return "/api/" + version;
  return "/apis/" + group + "/" + version;
}

std::string GroupVersionResource::CollectionPath(std::string_view ns) const {
  std::string path = GroupVersionPath();
  if (namespaced && !ns.empty()) path.append("/namespaces/").append(ns);
  path.append("/").append(resource);
  return path;
}

std::string GroupVersionResource::ObjectPath(std::string_view ns, std::string_view name,
                                             std::string_view subresource) const {
  std::string path = CollectionPath(ns);
  path.append("/").append(name);
  if (!subresource.empty()) path.append("/").append(subresource);
  return path;
}

std::string GroupVersionResource::ToString() const {
  return group.empty() ? resource : resource + "." + group;
}

namespace resources {
GroupVersionResource Namespaces() { return {"", "v1", "namespaces", false}; }
GroupVersionResource Nodes() { return {"", "v1", "nodes", false}; }
GroupVersionResource Pods() { return {"", "v1", "pods", true}; }
GroupVersionResource Services() { return {"", "v1", "services", true}; }
GroupVersionResource Endpoints() { return {"", "v1", "endpoints", true}; }
GroupVersionResource EndpointSlices() { return {"discovery.k8s.io", "v1", "endpointslices", true}; }
GroupVersionResource ConfigMaps() { return {"", "v1", "configmaps", true}; }
GroupVersionResource Secrets() { return {"", "v1", "secrets", true}; }
GroupVersionResource ServiceAccounts() { return {"", "v1", "serviceaccounts", true}; }
GroupVersionResource PersistentVolumeClaims() { return {"", "v1", "persistentvolumeclaims", true}; }
GroupVersionResource PersistentVolumes() { return {"", "v1", "persistentvolumes", false}; }
GroupVersionResource Events() { return {"", "v1", "events", true}; }
GroupVersionResource Leases() { return {"coordination.k8s.io", "v1", "leases", true}; }
GroupVersionResource Ingresses() { return {"networking.k8s.io", "v1", "ingresses", true}; }
GroupVersionResource NetworkPolicies() {
  return {"networking.k8s.io", "v1", "networkpolicies", true};
}
GroupVersionResource PriorityClasses() {
  return {"scheduling.k8s.io", "v1", "priorityclasses", false};
}
GroupVersionResource ResourceQuotas() { return {"", "v1", "resourcequotas", true}; }
GroupVersionResource SelfSubjectAccessReviews() {
  return {"authorization.k8s.io", "v1", "selfsubjectaccessreviews", false};
}
GroupVersionResource SubjectAccessReviews() {
  return {"authorization.k8s.io", "v1", "subjectaccessreviews", false};
}
}  // namespace resources

}  // namespace vk::hostclient
