// ObjectSyncer against two kubesims: the copies a pod needs are written before its twin, even when
// the referenced object has not reached the syncer's cache yet.
#include "syncer/shared/object_syncer.h"

#include <gtest/gtest.h>

#include <string>

#include "hostclient/rest_client.h"
#include "syncer/shared/host_naming.h"
#include "tests/support/kubesim_instance.h"
#include "tests/support/sample_objects.h"

namespace vk::syncer::shared {
namespace {

using hostclient::RestClient;
using hostclient::resources::ConfigMaps;
using hostclient::resources::Namespaces;

constexpr char kCluster[] = "tenant-a";
constexpr char kHostNamespace[] = "vc-tenant-a";

class ObjectSyncerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    virtual_ = testing::StartKubesimWithClient("virtual", true, virtual_client_);
    host_ = testing::StartKubesimWithClient("host", false, host_client_);
    ASSERT_TRUE(virtual_ && host_);
    ASSERT_TRUE(host_client_
                    ->Create(Namespaces(), "",
                             Object{{"apiVersion", "v1"},
                                    {"kind", "Namespace"},
                                    {"metadata", Object{{"name", kHostNamespace}}}})
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

}  // namespace
}  // namespace vk::syncer::shared
