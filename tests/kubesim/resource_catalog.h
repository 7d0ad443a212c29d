#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vk::kubesim {

// One served resource, as discovery (/api/v1, /apis/<g>/<v>) describes it.
struct ResourceInfo {
  std::string group;     // "" for core
  std::string version;   // "v1"
  std::string resource;  // plural, "pods"
  std::string kind;      // "Pod"
  std::string singular;  // "pod"
  bool namespaced = true;
  bool has_status = false;  // a status subresource exists
  std::vector<std::string> short_names;
  std::vector<std::string> verbs;  // create delete deletecollection get list patch update watch
  // Subresources other than status served for this resource: "log", "binding", "eviction",
  // "token"... (the server decides what each does).
  std::vector<std::string> subresources;
  // kube-apiserver's per-type strategy flags that Storage follows.
  bool allow_create_on_update = false;     // PUT of a missing object creates it
  bool allow_unconditional_update = true;  // PUT without metadata.resourceVersion is allowed
  bool tracks_generation = false;          // metadata.generation counts spec changes
  bool delete_returns_object = false;      // DELETE answers the object, not a Status

  std::string ApiVersion() const;  // "v1" or "<group>/<version>"
  // "pods", "leases.coordination.k8s.io": how kube names the resource in error messages.
  std::string QualifiedResource() const;
  // "Pod", "Lease.coordination.k8s.io": how kube names the kind in Invalid errors.
  std::string QualifiedKind() const;
  // Only "create" is served (the review resources): nothing is stored.
  bool CreateOnly() const;
};

// The resources kubesim serves: namespaces, nodes, pods, services, endpoints, endpointslices,
// configmaps, secrets, serviceaccounts, persistentvolumeclaims, persistentvolumes, events (core and
// events.k8s.io), leases, ingresses, networkpolicies, deployments, replicasets, priorityclasses,
// resourcequotas, plus the
// create-only review resources (selfsubjectaccessreviews, subjectaccessreviews, tokenreviews).
class ResourceCatalog {
 public:
  static ResourceCatalog Default();
  const std::vector<ResourceInfo>& all() const { return resources_; }
  const ResourceInfo* Find(std::string_view group, std::string_view version,
                           std::string_view resource) const;
  // The resource serving a kind in a group (any version); nullptr when none.
  const ResourceInfo* FindByKind(std::string_view group, std::string_view kind) const;
  void Add(ResourceInfo info) { resources_.push_back(std::move(info)); }

 private:
  std::vector<ResourceInfo> resources_;
};

}  // namespace vk::kubesim
