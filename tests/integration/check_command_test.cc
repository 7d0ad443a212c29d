#include "kubelet/check_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <sstream>

#include "tests/integration/tls_kubesim.h"

namespace vk::kubelet {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class CheckCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/vkubelet-check-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    sim_ = std::make_unique<testing::TlsKubesim>(dir_, "virtual");
    auto started = sim_->Start("tenant-a");
    ASSERT_TRUE(started) << started.error().ToString();
  }
  void TearDown() override {
    sim_.reset();
    std::filesystem::remove_all(dir_);
  }

  int Check(Role role, const std::string& ns = {}) {
    out_.str("");
    err_.str("");
    CheckOptions options;
    options.kubeconfig = sim_->kubeconfig();
    options.role = role;
    options.ns = ns;
    return RunCheck(options, out_, err_);
  }

  void Deny(const std::string& verb, const std::string& resource, const std::string& ns = "*") {
    kubesim::AuthzRule rule;
    rule.effect = kubesim::AuthzRule::Effect::kDeny;
    rule.user = testing::TlsKubesim::kUser;
    rule.verb = verb;
    rule.resource = resource;
    rule.ns = ns;
    rule.reason = "denied by the test";
    sim_->server().AddAuthzRule(rule);
  }

  std::string dir_;
  std::unique_ptr<testing::TlsKubesim> sim_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(CheckCommandTest, VirtualRoleWithEveryPermissionPasses) {
  EXPECT_EQ(Check(Role::kVirtual), 0) << out_.str() << err_.str();
  const std::string out = out_.str();
  EXPECT_THAT(out, HasSubstr("server version: v"));
  EXPECT_THAT(out, HasSubstr("  ok       create nodes\n"));
  EXPECT_THAT(out, HasSubstr("  ok       update coordination.k8s.io/leases kube-node-lease\n"));
  EXPECT_THAT(out, HasSubstr("  ok       create serviceaccounts/token\n"));
  EXPECT_THAT(out, HasSubstr("list pods: ok"));
  EXPECT_THAT(out, HasSubstr("watch pods: ok"));
  EXPECT_THAT(out, HasSubstr("all checks passed"));
  EXPECT_THAT(out, Not(HasSubstr("MISSING")));
  EXPECT_TRUE(err_.str().empty()) << err_.str();
}

TEST_F(CheckCommandTest, HostRoleUsesTheContextNamespaceByDefault) {
  EXPECT_EQ(Check(Role::kHost), 0) << out_.str() << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("(role host, namespace tenant-a)"));
  EXPECT_THAT(out_.str(), HasSubstr("  ok       create pods/exec tenant-a\n"));
  EXPECT_THAT(out_.str(), HasSubstr("  ok       watch nodes\n"));
}

TEST_F(CheckCommandTest, DeniedPermissionIsListedAndFailsTheCheck) {
  Deny("delete", "pods");
  EXPECT_EQ(Check(Role::kVirtual), 1);
  EXPECT_THAT(out_.str(), HasSubstr("  MISSING  delete pods"));
  EXPECT_THAT(out_.str(), HasSubstr("1 permission missing\n"));
  EXPECT_THAT(out_.str(), Not(HasSubstr("all checks passed")));
}

TEST_F(CheckCommandTest, HostRoleChecksTheGivenNamespace) {
  Deny("create", "pods/exec", "tenant-b");
  Deny("list", "secrets", "tenant-b");
  EXPECT_EQ(Check(Role::kHost, "tenant-b"), 1);
  EXPECT_THAT(out_.str(), HasSubstr("  MISSING  create pods/exec tenant-b"));
  EXPECT_THAT(out_.str(), HasSubstr("  MISSING  list secrets tenant-b"));
  EXPECT_THAT(out_.str(), HasSubstr("2 permissions missing\n"));
  // The context's namespace is not affected by the rules.
  EXPECT_EQ(Check(Role::kHost, "tenant-a"), 0) << out_.str();
}

TEST_F(CheckCommandTest, RefusedListIsReportedBesideTheMissingPermission) {
  Deny("list", "pods");
  EXPECT_EQ(Check(Role::kVirtual), 1);
  EXPECT_THAT(out_.str(), HasSubstr("  MISSING  list pods"));
  EXPECT_THAT(out_.str(), HasSubstr("list pods: FAILED: "));
}

TEST_F(CheckCommandTest, UnreachableServerIsAReadableError) {
  sim_->server().Stop();
  EXPECT_EQ(Check(Role::kVirtual), 1);
  EXPECT_THAT(err_.str(), HasSubstr("vkubelet check: cannot reach the API server: "));
  const std::string err = err_.str();
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
}

}  // namespace
}  // namespace vk::kubelet
