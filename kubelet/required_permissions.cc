#include "kubelet/required_permissions.h"

namespace vk::kubelet {
namespace {

const std::vector<PermissionRule>& VirtualRules() {
  static const std::vector<PermissionRule> rules = {
      {"", {"nodes"}, {"get", "list", "watch", "create", "update", "patch"}, Scope::kCluster},
      {"", {"nodes/status"}, {"update", "patch"}, Scope::kCluster},
      {"coordination.k8s.io", {"leases"}, {"get", "create", "update"}, Scope::kNodeLease},
      {"", {"pods"}, {"get", "list", "watch", "update", "patch", "delete"}, Scope::kCluster},
      {"", {"pods/status"}, {"update", "patch"}, Scope::kCluster},
      {"", {"events"}, {"create", "patch"}, Scope::kCluster},
      {"",
       {"configmaps", "secrets", "services", "endpoints", "persistentvolumeclaims"},
       {"get", "list", "watch"},
       Scope::kCluster},
      {"", {"serviceaccounts/token"}, {"create"}, Scope::kCluster},
  };
  return rules;
}

const std::vector<PermissionRule>& HostRules() {
  static const std::vector<PermissionRule> rules = {
      {"",
       {"pods"},
       {"get", "list", "watch", "create", "update", "patch", "delete"},
       Scope::kTargetNamespace},
      {"", {"pods/log"}, {"get"}, Scope::kTargetNamespace},
      {"", {"pods/exec", "pods/attach", "pods/portforward"}, {"create"}, Scope::kTargetNamespace},
      {"",
       {"configmaps", "secrets", "services", "endpoints", "persistentvolumeclaims"},
       {"get", "list", "watch", "create", "update", "patch", "delete"},
       Scope::kTargetNamespace},
      {"", {"events"}, {"list", "watch"}, Scope::kTargetNamespace},
      {"", {"resourcequotas"}, {"get", "list", "watch"}, Scope::kTargetNamespace},
      {"", {"nodes"}, {"get", "list", "watch"}, Scope::kCluster},
  };
  return rules;
}

}  // namespace

const char* ToString(Role role) { return role == Role::kVirtual ? "virtual" : "host"; }

std::span<const PermissionRule> RequiredRules(Role role) {
  return role == Role::kVirtual ? VirtualRules() : HostRules();
}

std::string PermissionCheck::ToString() const {
  std::string text = verb + " ";
  if (!group.empty()) text += group + "/";
  text += resource;
  if (!subresource.empty()) text += "/" + subresource;
  if (!ns.empty()) text += " " + ns;
  return text;
}

std::vector<PermissionCheck> RequiredChecks(Role role, std::string_view target_namespace) {
  std::vector<PermissionCheck> checks;
  for (const PermissionRule& rule : RequiredRules(role)) {
    std::string ns;
    if (rule.scope == Scope::kTargetNamespace) ns = std::string(target_namespace);
    if (rule.scope == Scope::kNodeLease) ns = "kube-node-lease";
    for (std::string_view resource : rule.resources) {
      std::string_view subresource;
      if (size_t slash = resource.find('/'); slash != std::string_view::npos) {
        subresource = resource.substr(slash + 1);
        resource = resource.substr(0, slash);
      }
      for (std::string_view verb : rule.verbs) {
        checks.push_back({std::string(verb), std::string(rule.group), std::string(resource),
                          std::string(subresource), ns});
      }
    }
  }
  return checks;
}

}  // namespace vk::kubelet
