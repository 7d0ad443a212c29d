#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hostclient/base/object.h"
#include "tests/kubesim/resource_catalog.h"

namespace vk::kubesim {

// The Kubernetes version kubesim reports on /version (kube-apiserver's wire behaviour it follows).
inline constexpr char kKubeMajor[] = "1";
inline constexpr char kKubeMinor[] = "31";
inline constexpr char kKubeGitVersion[] = "v1.31.0-kubesim";

// One subresource as discovery lists it ("pods/eviction" is a policy/v1 Eviction, create only).
struct SubresourceInfo {
  std::string name;
  std::string group;
  std::string version;
  std::string kind;
  std::vector<std::string> verbs;
};

// The subresources of a resource: "status" when it has one, then those the catalog names.
std::vector<SubresourceInfo> SubresourcesOf(const ResourceInfo& resource);
const SubresourceInfo* FindSubresource(const std::vector<SubresourceInfo>& subs,
                                       std::string_view name);

// The discovery documents of a catalog, in kube-apiserver's shapes: /version (version.Info),
// /api (APIVersions), /apis (APIGroupList), /apis/<g> (APIGroup), /api/v1 and /apis/<g>/<v>
// (APIResourceList), and the aggregated discovery documents (apidiscovery.k8s.io/v2 and v2beta1
// APIGroupDiscoveryList) that kubectl asks /api and /apis for first. Built once from the catalog
// at construction; immutable afterwards, so it may be read from any thread.
class Discovery {
 public:
  explicit Discovery(const ResourceCatalog& catalog);

  static Object Version();
  // server_address: "host:port" of the server for serverAddressByClientCIDRs.
  Object CoreVersions(std::string_view server_address) const;
  Object Groups() const;
  std::optional<Object> Group(std::string_view group) const;
  std::optional<Object> Resources(std::string_view group, std::string_view version) const;
  // api_version: "apidiscovery.k8s.io/v2" or "apidiscovery.k8s.io/v2beta1".
  Object AggregatedCore(std::string_view api_version) const;
  Object AggregatedGroups(std::string_view api_version) const;

  struct GroupVersions {
    std::string group;
    std::vector<std::string> versions;  // preferred first
  };
  const std::vector<GroupVersions>& groups() const { return groups_; }

 private:
  std::vector<const ResourceInfo*> ResourcesIn(std::string_view group,
                                               std::string_view version) const;
  Object GroupDocument(const GroupVersions& gv) const;
  Object AggregatedGroup(const GroupVersions& gv) const;

  std::vector<ResourceInfo> resources_;
  std::vector<GroupVersions> groups_;  // non-core groups in catalog order
};

// kube's version priority: true when a sorts before b (GA before beta before alpha, higher
// numbers first, versions of other shapes last, alphabetically).
bool VersionPrecedes(std::string_view a, std::string_view b);

}  // namespace vk::kubesim
