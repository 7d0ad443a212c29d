#include "syncer/shared/token_secrets.h"

#include <gtest/gtest.h>

#include "syncer/shared/host_naming.h"

namespace vk::syncer::shared {
namespace {

Object PodWithVolumes(const std::string& volumes_json, const std::string& extra_spec = "") {
  auto parsed = obj::Parse(R"({"metadata":{"name":"web","namespace":"shop"},"spec":{)" +
                           extra_spec + R"("volumes":)" + volumes_json + "}}");
  EXPECT_TRUE(parsed);
  return parsed ? *parsed : Object{};
}

TEST(TokenRequestOfTest, ReadsTheProjectedTokenSource) {
  Object pod = PodWithVolumes(
      R"([{"name":"data","emptyDir":{}},
          {"name":"kube-api-access-x","projected":{"sources":[
            {"serviceAccountToken":{"expirationSeconds":7200,"audience":"vault","path":"token"}},
            {"configMap":{"name":"kube-root-ca.crt"}}]}}])",
      R"("serviceAccountName":"builder",)");
  auto spec = TokenRequestOf(pod, 3607);
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->service_account, "builder");
  EXPECT_EQ(spec->audience, "vault");
  EXPECT_EQ(spec->expiration_seconds, 7200);
}

TEST(TokenRequestOfTest, DefaultsTheServiceAccountAndLifetime) {
  Object pod = PodWithVolumes(
      R"([{"name":"t","projected":{"sources":[{"serviceAccountToken":{"path":"token"}}]}}])");
  auto spec = TokenRequestOf(pod, 3607);
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->service_account, "default");
  EXPECT_TRUE(spec->audience.empty());
  EXPECT_EQ(spec->expiration_seconds, 3607);
}

TEST(TokenRequestOfTest, NoTokenWithoutAProjectedTokenSource) {
  EXPECT_FALSE(TokenRequestOf(PodWithVolumes(R"([{"name":"c","configMap":{"name":"x"}}])"), 3607));
  EXPECT_FALSE(TokenRequestOf(Object{{"spec", Object{}}}, 3607));
}

TEST(HostTokenSecretNameTest, IsAValidNameDistinctFromObjectCopies) {
  const std::string name = HostTokenSecretName("tenant", "shop", "web");
  EXPECT_TRUE(IsDnsLabel(name)) << name;
  EXPECT_NE(name, HostName("tenant", "shop", "web"));
  EXPECT_NE(name, HostName("tenant", "shop", "web-token"));
  EXPECT_EQ(name, HostTokenSecretName("tenant", "shop", "web"));
  EXPECT_NE(name, HostTokenSecretName("tenant", "shop", "web2"));
}

}  // namespace
}  // namespace vk::syncer::shared
