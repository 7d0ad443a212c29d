#include "kubelet/required_permissions.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace vk::kubelet {
namespace {

bool Contains(const std::vector<PermissionCheck>& checks, const std::string& text) {
  return std::any_of(checks.begin(), checks.end(),
                     [&](const PermissionCheck& c) { return c.ToString() == text; });
}

TEST(RequiredPermissionsTest, VirtualRoleCoversTheNodeFaceAndPods) {
  auto checks = RequiredChecks(Role::kVirtual, "ignored");
  EXPECT_TRUE(Contains(checks, "create nodes"));
  EXPECT_TRUE(Contains(checks, "patch nodes/status"));
  EXPECT_TRUE(Contains(checks, "update coordination.k8s.io/leases kube-node-lease"));
  EXPECT_TRUE(Contains(checks, "watch pods"));
  EXPECT_TRUE(Contains(checks, "update pods/status"));
  EXPECT_TRUE(Contains(checks, "create events"));
  EXPECT_TRUE(Contains(checks, "watch persistentvolumeclaims"));
  EXPECT_TRUE(Contains(checks, "create serviceaccounts/token"));
  EXPECT_FALSE(Contains(checks, "create pods"));
  for (const auto& check : checks) {
    EXPECT_EQ(check.ns, check.resource == "leases" ? "kube-node-lease" : "") << check.ToString();
  }
}

TEST(RequiredPermissionsTest, HostRoleIsNamespacedExceptNodes) {
  auto checks = RequiredChecks(Role::kHost, "tenant-a");
  EXPECT_TRUE(Contains(checks, "create pods tenant-a"));
  EXPECT_TRUE(Contains(checks, "get pods/log tenant-a"));
  EXPECT_TRUE(Contains(checks, "create pods/exec tenant-a"));
  EXPECT_TRUE(Contains(checks, "create pods/portforward tenant-a"));
  EXPECT_TRUE(Contains(checks, "delete secrets tenant-a"));
  EXPECT_TRUE(Contains(checks, "watch events tenant-a"));
  EXPECT_TRUE(Contains(checks, "list resourcequotas tenant-a"));
  EXPECT_TRUE(Contains(checks, "watch nodes"));
  EXPECT_FALSE(Contains(checks, "create pods/eviction tenant-a"));
  for (const auto& check : checks) {
    EXPECT_EQ(check.ns, check.resource == "nodes" ? "" : "tenant-a") << check.ToString();
  }
}

TEST(RequiredPermissionsTest, ExpansionMatchesTheRules) {
  for (Role role : {Role::kVirtual, Role::kHost}) {
    size_t expected = 0;
    for (const PermissionRule& rule : RequiredRules(role)) {
      expected += rule.resources.size() * rule.verbs.size();
    }
    EXPECT_EQ(RequiredChecks(role, "ns").size(), expected);
  }
  auto checks = RequiredChecks(Role::kHost, "ns");
  auto log = std::find_if(checks.begin(), checks.end(),
                          [](const PermissionCheck& c) { return c.subresource == "log"; });
  ASSERT_NE(log, checks.end());
  EXPECT_EQ(log->resource, "pods");
  EXPECT_EQ(log->group, "");
}

}  // namespace
}  // namespace vk::kubelet
