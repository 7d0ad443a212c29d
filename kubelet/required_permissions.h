#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vk::kubelet {

// The two API servers vkubelet talks to.
enum class Role { kVirtual, kHost };

const char* ToString(Role role);

// Where a permission is needed.
enum class Scope {
  kCluster,          // cluster-scoped resources, or namespaced ones in every namespace
  kTargetNamespace,  // the namespace vkubelet works in (the host namespace of the virtual cluster)
  kNodeLease,        // kube-node-lease, where node leases live
};

// One RBAC rule that vkubelet needs, in the shape of a (Cluster)Role rule: the manifests under
// deploy/ mirror this list, and `vkubelet check` verifies it. resources may name a subresource
// ("pods/status").
struct PermissionRule {
  std::string_view group;  // "" = core
  std::vector<std::string_view> resources;
  std::vector<std::string_view> verbs;
  Scope scope;
};

// The rules of a role, in a stable order.
std::span<const PermissionRule> RequiredRules(Role role);

// One concrete access check (a SelfSubjectAccessReview's resourceAttributes).
struct PermissionCheck {
  std::string verb;
  std::string group;
  std::string resource;
  std::string subresource;
  std::string ns;  // "" = cluster-wide / all namespaces

  // "get coordination.k8s.io/leases kube-node-lease", "update pods/status".
  std::string ToString() const;
};

// Expands a role's rules into one check per verb and resource; target_namespace fills
// kTargetNamespace rules.
std::vector<PermissionCheck> RequiredChecks(Role role, std::string_view target_namespace);

}  // namespace vk::kubelet
