#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "hostclient/cluster_config.h"
#include "tests/unit/hostclient/test_files.h"

namespace vk::hostclient {
namespace {

using ::testing::HasSubstr;
using testutil::ScopedEnv;
using testutil::TempDir;

constexpr char kCaPem[] = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";

class InClusterConfigTest : public ::testing::Test {
 protected:
  void WriteServiceAccount() {
    dir_.Write("token", "header.payload.signature\n");
    dir_.Write("ca.crt", kCaPem);
    dir_.Write("namespace", "tenant-a\n");
  }

  TempDir dir_;
  ScopedEnv host_{"KUBERNETES_SERVICE_HOST", "10.96.0.1"};
  ScopedEnv port_{"KUBERNETES_SERVICE_PORT", "443"};
  ScopedEnv pod_namespace_{"POD_NAMESPACE", std::nullopt};
};

TEST_F(InClusterConfigTest, ReadsServiceAccountFiles) {
  WriteServiceAccount();
  auto config = InClusterConfig("host", dir_.path().string());
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->name, "host");
  EXPECT_EQ(config->server, "https://10.96.0.1:443");
  EXPECT_EQ(config->ca_pem, kCaPem);
  EXPECT_EQ(config->default_namespace, "tenant-a");
  // The token is left to Credentials so that rotation is picked up.
  EXPECT_EQ(config->token_file, dir_.Join("token"));
  EXPECT_TRUE(config->token.empty());
}

TEST_F(InClusterConfigTest, BracketsAnIpv6ServiceHost) {
  WriteServiceAccount();
  ScopedEnv host("KUBERNETES_SERVICE_HOST", "fd00:10:96::1");
  ScopedEnv port("KUBERNETES_SERVICE_PORT", "6443");
  auto config = InClusterConfig("host", dir_.path().string());
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->server, "https://[fd00:10:96::1]:6443");
}

TEST_F(InClusterConfigTest, MissingEnvironmentIsNotInCluster) {
  WriteServiceAccount();
  for (const char* missing : {"KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"}) {
    ScopedEnv unset(missing, std::nullopt);
    auto config = InClusterConfig("host", dir_.path().string());
    ASSERT_FALSE(config);
    EXPECT_EQ(config.error().code(), ErrorCode::kConfig);
    EXPECT_EQ(config.error().message(),
              "not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
              "must be set");
  }
}

TEST_F(InClusterConfigTest, MissingTokenIsAnErrorNamingThePath) {
  dir_.Write("ca.crt", kCaPem);
  auto config = InClusterConfig("host", dir_.path().string());
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code(), ErrorCode::kConfig);
  EXPECT_THAT(config.error().message(), HasSubstr(dir_.Join("token")));
}

TEST_F(InClusterConfigTest, MissingCaFallsBackToSystemRoots) {
  dir_.Write("token", "t");
  auto config = InClusterConfig("host", dir_.path().string());
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_TRUE(config->ca_pem.empty());
  EXPECT_EQ(config->default_namespace, "default");
}

TEST_F(InClusterConfigTest, PodNamespaceEnvironmentWins) {
  WriteServiceAccount();
  ScopedEnv ns("POD_NAMESPACE", "from-downward-api");
  auto config = InClusterConfig("host", dir_.path().string());
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->default_namespace, "from-downward-api");
}

}  // namespace
}  // namespace vk::hostclient
