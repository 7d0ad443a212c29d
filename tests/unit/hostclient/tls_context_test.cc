#include "hostclient/tls_context.h"

#include <gtest/gtest.h>

#include "tests/kubesim/test_pki.h"

namespace vk::hostclient {
namespace {

class TlsContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pki = kubesim::MakeCa("tls-context-test");
    ASSERT_TRUE(pki.has_value());
    pki_ = *pki;
    auto client = kubesim::IssueClientCert(pki_, "bob", {});
    ASSERT_TRUE(client.has_value());
    client_ = *client;
  }
  kubesim::Pki pki_;
  kubesim::CertAndKey client_;
};

TEST_F(TlsContextTest, ServerNameDefaultsToUrlHost) {
  auto url = ParseServerUrl("https://10.1.2.3:6443");
  ASSERT_TRUE(url.has_value());
  ClusterConfig config;
  EXPECT_EQ(TlsServerName(config, *url), "10.1.2.3");
  config.tls_server_name = "kubernetes.default.svc";
  EXPECT_EQ(TlsServerName(config, *url), "kubernetes.default.svc");
}

TEST_F(TlsContextTest, IpLiterals) {
  EXPECT_TRUE(IsIpLiteral("127.0.0.1"));
  EXPECT_TRUE(IsIpLiteral("::1"));
  EXPECT_FALSE(IsIpLiteral("localhost"));
  EXPECT_FALSE(IsIpLiteral("1.2.3.4.example"));
}

TEST_F(TlsContextTest, BuildsWithCaAndClientCertificate) {
  ClusterConfig config;
  config.ca_pem = pki_.ca_cert_pem;
  config.client_cert_pem = client_.cert_pem;
  config.client_key_pem = client_.key_pem;
  auto ctx = NewTlsClientContext(config, "localhost");
  ASSERT_TRUE(ctx.has_value()) << ctx.error().ToString();
  EXPECT_NE(*ctx, nullptr);
}

TEST_F(TlsContextTest, BuildsWithSystemRootsOrInsecure) {
  ClusterConfig config;
  EXPECT_TRUE(NewTlsClientContext(config, "localhost").has_value());
  config.insecure_skip_tls_verify = true;
  EXPECT_TRUE(NewTlsClientContext(config, "localhost").has_value());
}

TEST_F(TlsContextTest, RejectsBadPem) {
  ClusterConfig config;
  config.ca_pem = "not a certificate";
  auto ctx = NewTlsClientContext(config, "localhost");
  ASSERT_FALSE(ctx.has_value());
  EXPECT_EQ(ctx.error().code(), ErrorCode::kConfig);

  config.ca_pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  ctx = NewTlsClientContext(config, "localhost");
  ASSERT_FALSE(ctx.has_value());
  EXPECT_EQ(ctx.error().code(), ErrorCode::kConfig);
}

TEST_F(TlsContextTest, RejectsIncompleteOrMismatchedClientCredentials) {
  ClusterConfig config;
  config.ca_pem = pki_.ca_cert_pem;
  config.client_cert_pem = client_.cert_pem;
  auto ctx = NewTlsClientContext(config, "localhost");
  ASSERT_FALSE(ctx.has_value());
  EXPECT_EQ(ctx.error().code(), ErrorCode::kConfig);
  EXPECT_NE(ctx.error().message().find("without its key"), std::string::npos);

  auto other = kubesim::IssueClientCert(pki_, "carol", {});
  ASSERT_TRUE(other.has_value());
  config.client_key_pem = other->key_pem;
  ctx = NewTlsClientContext(config, "localhost");
  ASSERT_FALSE(ctx.has_value());
  EXPECT_EQ(ctx.error().code(), ErrorCode::kConfig);
  EXPECT_NE(ctx.error().message().find("does not match"), std::string::npos)
      << ctx.error().ToString();
}

}  // namespace
}  // namespace vk::hostclient
