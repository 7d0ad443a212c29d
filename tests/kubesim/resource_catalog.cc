#include "tests/kubesim/resource_catalog.h"

#include <algorithm>

namespace vk::kubesim {
namespace {

const std::vector<std::string> kAllVerbs = {"create", "delete", "deletecollection", "get",
                                            "list",   "patch",  "update",           "watch"};

ResourceInfo Make(std::string group, std::string resource, std::string kind, std::string singular,
                  bool namespaced, std::vector<std::string> short_names) {
  ResourceInfo r;
  r.group = std::move(group);
  r.version = "v1";
  r.resource = std::move(resource);
  r.kind = std::move(kind);
  r.singular = std::move(singular);
  r.namespaced = namespaced;
  r.short_names = std::move(short_names);
  r.verbs = kAllVerbs;
  return r;
}

ResourceInfo CreateOnly(std::string group, std::string resource, std::string kind,
                        std::string singular) {
  ResourceInfo r =
      Make(std::move(group), std::move(resource), std::move(kind), std::move(singular), false, {});
  r.verbs = {"create"};
  return r;
}

}  // namespace

std::string ResourceInfo::ApiVersion() const {
  return group.empty() ? version : group + "/" + version;
}

std::string ResourceInfo::QualifiedResource() const {
  return group.empty() ? resource : resource + "." + group;
}

std::string ResourceInfo::QualifiedKind() const {
  return group.empty() ? kind : kind + "." + group;
}

bool ResourceInfo::CreateOnly() const { return verbs.size() == 1 && verbs.front() == "create"; }

ResourceCatalog ResourceCatalog::Default() {
  ResourceCatalog c;

  // Namespaces are removed one by one (kube serves no deletecollection for them).
  ResourceInfo namespaces = Make("", "namespaces", "Namespace", "namespace", false, {"ns"});
  namespaces.verbs = {"create", "delete", "get", "list", "patch", "update", "watch"};
  namespaces.has_status = true;
  namespaces.delete_returns_object = true;
  c.Add(std::move(namespaces));

  ResourceInfo nodes = Make("", "nodes", "Node", "node", false, {"no"});
  nodes.has_status = true;
  c.Add(std::move(nodes));

  ResourceInfo pods = Make("", "pods", "Pod", "pod", true, {"po"});
  pods.has_status = true;
  pods.tracks_generation = true;
  pods.delete_returns_object = true;
  pods.subresources = {"binding",     "eviction",           "log", "exec", "attach",
                       "portforward", "ephemeralcontainers"};
  c.Add(std::move(pods));

  ResourceInfo services = Make("", "services", "Service", "service", true, {"svc"});
  services.has_status = true;
  services.allow_create_on_update = true;
  services.delete_returns_object = true;
  c.Add(std::move(services));

  ResourceInfo endpoints = Make("", "endpoints", "Endpoints", "endpoints", true, {"ep"});
  endpoints.allow_create_on_update = true;
  c.Add(std::move(endpoints));

  c.Add(Make("", "configmaps", "ConfigMap", "configmap", true, {"cm"}));
  c.Add(Make("", "secrets", "Secret", "secret", true, {}));

  ResourceInfo service_accounts =
      Make("", "serviceaccounts", "ServiceAccount", "serviceaccount", true, {"sa"});
  service_accounts.subresources = {"token"};
  c.Add(std::move(service_accounts));

  ResourceInfo pvcs = Make("", "persistentvolumeclaims", "PersistentVolumeClaim",
                           "persistentvolumeclaim", true, {"pvc"});
  pvcs.has_status = true;
  pvcs.delete_returns_object = true;
  c.Add(std::move(pvcs));

  ResourceInfo pvs =
      Make("", "persistentvolumes", "PersistentVolume", "persistentvolume", false, {"pv"});
  pvs.has_status = true;
  pvs.delete_returns_object = true;
  c.Add(std::move(pvs));

  ResourceInfo events = Make("", "events", "Event", "event", true, {"ev"});
  events.allow_create_on_update = true;
  c.Add(std::move(events));

  ResourceInfo quotas =
      Make("", "resourcequotas", "ResourceQuota", "resourcequota", true, {"quota"});
  quotas.has_status = true;
  c.Add(std::move(quotas));

  ResourceInfo slices =
      Make("discovery.k8s.io", "endpointslices", "EndpointSlice", "endpointslice", true, {});
  slices.tracks_generation = true;
  c.Add(std::move(slices));

  ResourceInfo new_events = Make("events.k8s.io", "events", "Event", "event", true, {"ev"});
  new_events.allow_create_on_update = true;
  c.Add(std::move(new_events));

  ResourceInfo leases = Make("coordination.k8s.io", "leases", "Lease", "lease", true, {});
  leases.allow_create_on_update = true;
  leases.allow_unconditional_update = false;
  c.Add(std::move(leases));

  ResourceInfo ingresses =
      Make("networking.k8s.io", "ingresses", "Ingress", "ingress", true, {"ing"});
  ingresses.has_status = true;
  ingresses.tracks_generation = true;
  c.Add(std::move(ingresses));

  ResourceInfo policies = Make("networking.k8s.io", "networkpolicies", "NetworkPolicy",
                               "networkpolicy", true, {"netpol"});
  policies.tracks_generation = true;
  c.Add(std::move(policies));

  // The workload types the optional workload controllers act on (workload_controllers.h);
  // served whether or not those run, as kube-apiserver serves them without a controller manager.
  ResourceInfo deployments =
      Make("apps", "deployments", "Deployment", "deployment", true, {"deploy"});
  deployments.has_status = true;
  deployments.tracks_generation = true;
  deployments.subresources = {"scale"};
  c.Add(std::move(deployments));

  ResourceInfo replica_sets = Make("apps", "replicasets", "ReplicaSet", "replicaset", true, {"rs"});
  replica_sets.has_status = true;
  replica_sets.tracks_generation = true;
  replica_sets.subresources = {"scale"};
  c.Add(std::move(replica_sets));

  c.Add(Make("scheduling.k8s.io", "priorityclasses", "PriorityClass", "priorityclass", false,
             {"pc"}));

  c.Add(CreateOnly("authorization.k8s.io", "selfsubjectaccessreviews", "SelfSubjectAccessReview",
                   "selfsubjectaccessreview"));
  c.Add(CreateOnly("authorization.k8s.io", "subjectaccessreviews", "SubjectAccessReview",
                   "subjectaccessreview"));
  c.Add(CreateOnly("authentication.k8s.io", "tokenreviews", "TokenReview", "tokenreview"));
  return c;
}

const ResourceInfo* ResourceCatalog::Find(std::string_view group, std::string_view version,
                                          std::string_view resource) const {
  auto it = std::find_if(resources_.begin(), resources_.end(), [&](const ResourceInfo& r) {
    return r.group == group && r.version == version && r.resource == resource;
  });
  return it == resources_.end() ? nullptr : &*it;
}

const ResourceInfo* ResourceCatalog::FindByKind(std::string_view group,
                                                std::string_view kind) const {
  auto it = std::find_if(resources_.begin(), resources_.end(),
                         [&](const ResourceInfo& r) { return r.group == group && r.kind == kind; });
  return it == resources_.end() ? nullptr : &*it;
}

}  // namespace vk::kubesim
