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

  std::string ApiVersion() const;  // "v1" or "<group>/<version>"
};

// The resources kubesim serves: namespaces, nodes, pods, services, endpoints, endpointslices,
// configmaps, secrets, serviceaccounts, persistentvolumeclaims, persistentvolumes, events (core and
// events.k8s.io), leases, ingresses, networkpolicies, priorityclasses, resourcequotas, plus the
// create-only review resources (selfsubjectaccessreviews, subjectaccessreviews, tokenreviews).
class ResourceCatalog {
 public:
  static ResourceCatalog Default();
  const std::vector<ResourceInfo>& all() const { return resources_; }
  const ResourceInfo* Find(std::string_view group, std::string_view version,
                           std::string_view resource) const;
  void Add(ResourceInfo info) { resources_.push_back(std::move(info)); }

 private:
  std::vector<ResourceInfo> resources_;
};

}  // namespace vk::kubesim
