// ObjectSyncer against two kubesims: the copies a pod needs are written before its twin, even when
// the referenced object has not reached the syncer's cache yet.
#include "syncer/shared/object_syncer.h"

#include <gtest/gtest.h>

#include <string>

#include "hostclient/rest_client.h"
#include "syncer/shared/host_naming.h"
#include "tests/support/kubesim_instance.h"
#include "tests/support/sample_objects.h"
#include "tests/support/wait_for.h"

namespace vk::syncer::shared {
namespace {

using hostclient::RestClient;
using hostclient::resources::ConfigMaps;
using hostclient::resources::Namespaces;
using hostclient::resources::Secrets;

constexpr char kCluster[] = "tenant-a";
constexpr char kHostNamespace[] = "vc-tenant-a";

class ObjectSyncerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    virtual_ = testing::StartKubesimWithClient("virtual", true, virtual_client_);
    host_ = testing::StartKubesimWithClient("host", false, host_client_);
    ASSERT_TRUE(virtual_ && host_);
    ASSERT_TRUE(host_client_->Create(Namespaces(), "", testing::NamespaceObject(kHostNamespace))
                    .has_value());
    ctx_.cluster = kCluster;
    ctx_.host_namespace = kHostNamespace;
  }

  std::unique_ptr<testing::KubesimInstance> virtual_;
  std::unique_ptr<testing::KubesimInstance> host_;
  std::unique_ptr<RestClient> virtual_client_;
  std::unique_ptr<RestClient> host_client_;
  TranslationContext ctx_;
};

// The syncer is never started here, so its caches stay empty: the copy can only come from a read
// of the virtual API server.
TEST_F(ObjectSyncerTest, EnsureSyncedReadsAnObjectTheCacheHasNotSeenYet) {
  ObjectSyncer syncer(*virtual_client_, *host_client_, ctx_);
  ASSERT_TRUE(virtual_client_->Create(ConfigMaps(), "default",
                                      testing::SampleConfigMap("default", "shop-config")));
  PodReferences refs;
  refs.config_maps = {"shop-config"};
  syncer.SetPodReferences("default/shop", "default", refs);

  auto ensured = syncer.EnsureSynced("default", refs);
  ASSERT_TRUE(ensured) << ensured.error().ToString();
  auto copy =
      host_client_->Get(ConfigMaps(), kHostNamespace, HostName(kCluster, "default", "shop-config"));
  ASSERT_TRUE(copy) << copy.error().ToString();
  EXPECT_EQ(obj::Annotation(*copy, kAnnotationOriginName), "shop-config");
}

TEST_F(ObjectSyncerTest, EnsureSyncedGoesWithoutAnObjectThatDoesNotExist) {
  ObjectSyncer syncer(*virtual_client_, *host_client_, ctx_);
  PodReferences refs;
  refs.config_maps = {"missing"};
  syncer.SetPodReferences("default/shop", "default", refs);

  EXPECT_TRUE(syncer.EnsureSynced("default", refs).has_value());
  auto copy =
      host_client_->Get(ConfigMaps(), kHostNamespace, HostName(kCluster, "default", "missing"));
  ASSERT_FALSE(copy);
  EXPECT_TRUE(copy.error().IsNotFound());
}

// A host Secret of ours as the cache keeps it: token Secrets (origin kind Pod, one per pod)
// without their data, copies of virtual Secrets whole (their data is compared with the source).
Object HostSecretOf(const std::string& name, const std::string& origin_kind) {
  return Object{
      {"apiVersion", "v1"},
      {"kind", "Secret"},
      {"metadata",
       Object{{"name", name},
              {"labels", Object{{kLabelCluster, kCluster}, {kLabelManagedBy, kManagedByValue}}},
              {"annotations", Object{{kAnnotationOriginKind, origin_kind},
                                     {kAnnotationOriginNamespace, "default"},
                                     {kAnnotationOriginName, "shop"}}}}},
      {"data", Object{{"token", "c2VjcmV0"}}}};
}

TEST_F(ObjectSyncerTest, TheCacheKeepsTokenSecretsWithoutTheirData) {
  ObjectSyncer syncer(*virtual_client_, *host_client_, ctx_);
  ASSERT_TRUE(host_client_->Create(Secrets(), kHostNamespace, HostSecretOf("token", "Pod")));
  ASSERT_TRUE(host_client_->Create(Secrets(), kHostNamespace, HostSecretOf("copy", "Secret")));
  syncer.Start();
  ASSERT_TRUE(testing::WaitFor([&] {
    return syncer.HostSecret("token") != nullptr && syncer.HostSecret("copy") != nullptr;
  }));
  EXPECT_FALSE(syncer.HostSecret("token")->contains("data"));
  EXPECT_EQ(obj::Annotation(*syncer.HostSecret("token"), kAnnotationOriginKind), "Pod");
  EXPECT_EQ(obj::String(*syncer.HostSecret("copy"), {"data", "token"}), "c2VjcmV0");
  syncer.Stop();
}

}  // namespace
}  // namespace vk::syncer::shared
