#include "syncer/shared/host_naming.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <random>
#include <unordered_set>

#include "tests/support/sample_objects.h"

namespace vk::syncer::shared {
namespace {

std::string Str(const boost::json::value& v) {
  return v.is_string() ? std::string(v.get_string()) : boost::json::serialize(v);
}

TEST(HostNameTest, ShortKeyIsReadablePrefixPlusHashOfFullKey) {
  const std::string name = HostName("tenant-a", "default", "web-0");
  const std::string hash = Sha256Hex("tenant-a/default/web-0").substr(0, kHashHexChars);
  EXPECT_EQ(name, "web-0-x-default-x-tenant-a-" + hash);
  EXPECT_TRUE(IsDnsLabel(name));
}

TEST(HostNameTest, Sha256MatchesKnownVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(HostNameTest, IsDeterministic) {
  EXPECT_EQ(HostName("c", "ns", "n"), HostName("c", "ns", "n"));
}

TEST(HostNameTest, LongNamesAreCutToALabelAndStayDistinct) {
  const std::string long_name(253, 'a');
  const std::string a = HostName("cluster", "namespace", long_name);
  const std::string b = HostName("cluster", "namespace", long_name + "b");
  const std::string c = HostName("cluster", "other", long_name);
  for (const auto& name : {a, b, c}) {
    EXPECT_EQ(name.size(), kMaxHostNameLength) << name;
    EXPECT_TRUE(IsDnsLabel(name)) << name;
  }
  EXPECT_NE(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(a.substr(0, 50), std::string(50, 'a'));
}

TEST(HostNameTest, CutLandingOnDashIsTrimmed) {
  // 49 chars of name, then "-x-": the 50-char cut ends in '-'.
  const std::string name = HostName("c", "ns", std::string(49, 'n'));
  EXPECT_TRUE(IsDnsLabel(name)) << name;
  EXPECT_EQ(name.find("--"), std::string::npos) << name;
  EXPECT_EQ(name.substr(0, 50), std::string(49, 'n') + "-");
}

TEST(HostNameTest, EdgeCharactersAreSanitised) {
  const std::string dotted = HostName("Prod.Cluster", "kube-system", "coredns.v1.2");
  EXPECT_TRUE(IsDnsLabel(dotted)) << dotted;
  EXPECT_EQ(dotted.rfind("coredns-v1-2-x-kube-system-x-prod-cluster-", 0), 0u) << dotted;

  const std::string odd = HostName("_c_", "-ns-", "..name..");
  EXPECT_TRUE(IsDnsLabel(odd)) << odd;

  // Sanitising merges keys; the hash keeps them apart.
  EXPECT_NE(HostName("c", "ns", "a.b"), HostName("c", "ns", "a-b"));
  EXPECT_NE(HostName("C", "ns", "a"), HostName("c", "ns", "a"));
  // The separator cannot be forged by moving text between parts.
  EXPECT_NE(HostName("c", "a-x-b", "n"), HostName("c", "b", "n-x-a"));
}

TEST(HostNameTest, EmptyPartsStillGiveALabel) {
  const std::string name = HostName("", "", "");
  EXPECT_TRUE(IsDnsLabel(name)) << name;
  EXPECT_EQ(name, "x--x-" + Sha256Hex("//").substr(0, kHashHexChars));
}

TEST(HostNameTest, UniqueAcross100kRandomKeys) {
  std::mt19937_64 random(42);
  const std::string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-.";
  auto random_part = [&](std::size_t min, std::size_t max) {
    std::uniform_int_distribution<std::size_t> length(min, max);
    std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
    std::string out;
    const std::size_t n = length(random);
    for (std::size_t i = 0; i < n; ++i) out.push_back(alphabet[pick(random)]);
    return out;
  };
  std::unordered_set<std::string> keys;
  std::unordered_set<std::string> names;
  // Long names force truncation, so most of the uniqueness rests on the hash.
  while (keys.size() < 100000) {
    std::string cluster = "c" + random_part(0, 3);
    std::string ns = "ns" + random_part(0, 5);
    std::string name = std::string(60, 'p') + random_part(1, 12);
    if (!keys.insert(cluster + "/" + ns + "/" + name).second) continue;
    const std::string host = HostName(cluster, ns, name);
    ASSERT_TRUE(IsDnsLabel(host)) << host;
    names.insert(host);
  }
  EXPECT_EQ(names.size(), keys.size());
}

TEST(HostNameTest, IsDnsLabelRules) {
  EXPECT_TRUE(IsDnsLabel("a"));
  EXPECT_TRUE(IsDnsLabel("a-1"));
  EXPECT_FALSE(IsDnsLabel(""));
  EXPECT_FALSE(IsDnsLabel("-a"));
  EXPECT_FALSE(IsDnsLabel("a-"));
  EXPECT_FALSE(IsDnsLabel("A"));
  EXPECT_FALSE(IsDnsLabel("a.b"));
  EXPECT_FALSE(IsDnsLabel(std::string(64, 'a')));
  EXPECT_EQ(HostConfigMapName("c", "ns", "n"), HostName("c", "ns", "n"));
  EXPECT_EQ(HostSecretName("c", "ns", "n"), HostName("c", "ns", "n"));
}

class OwnershipTest : public ::testing::Test {
 protected:
  Object virtual_pod_ = [] {
    Object pod = vk::testing::SamplePod("shop", "web-0", "vnode");
    auto& metadata = pod["metadata"].get_object();
    metadata["uid"] = "uid-1";
    metadata["resourceVersion"] = "42";
    metadata["creationTimestamp"] = "2024-01-01T00:00:00Z";
    metadata["generateName"] = "web-";
    metadata["finalizers"] = boost::json::array{"example.com/keep"};
    metadata["managedFields"] = boost::json::array{Object{{"manager", "kubectl"}}};
    metadata["futureField"] = "kept";
    metadata["labels"].get_object()["vkubelet.io/cluster"] = "spoofed";
    return pod;
  }();
};

TEST_F(OwnershipTest, HostMetadataCarriesOwnershipAndDropsHostUnsafeFields) {
  Object metadata = HostMetadata(virtual_pod_, "tenant-a", "vc-tenant-a");
  EXPECT_EQ(Str(metadata["name"]), HostName("tenant-a", "shop", "web-0"));
  EXPECT_EQ(Str(metadata["namespace"]), "vc-tenant-a");
  for (auto dropped : {"uid", "resourceVersion", "creationTimestamp", "generateName", "finalizers",
                       "managedFields", "ownerReferences"}) {
    EXPECT_FALSE(metadata.contains(dropped)) << dropped;
  }
  EXPECT_EQ(Str(metadata["futureField"]), "kept");
  const auto& labels = metadata["labels"].get_object();
  EXPECT_EQ(Str(labels.at("app")), "shop");
  EXPECT_EQ(Str(labels.at(kLabelCluster)), "tenant-a");  // ours wins over the tenant's
  EXPECT_EQ(Str(labels.at(kLabelManagedBy)), "vkubelet");
  const auto& annotations = metadata["annotations"].get_object();
  EXPECT_EQ(Str(annotations.at("prometheus.io/scrape")), "true");
  EXPECT_EQ(Str(annotations.at(kAnnotationOriginNamespace)), "shop");
  EXPECT_EQ(Str(annotations.at(kAnnotationOriginName)), "web-0");
  EXPECT_EQ(Str(annotations.at(kAnnotationOriginUid)), "uid-1");
  EXPECT_EQ(Str(annotations.at(kAnnotationOriginKind)), "Pod");
}

TEST_F(OwnershipTest, OwnTwinMatches) {
  Object host;
  host["metadata"] = HostMetadata(virtual_pod_, "tenant-a", "vc-tenant-a");
  EXPECT_TRUE(OriginMatches(host, "tenant-a", "shop", "web-0"));
  EXPECT_TRUE(CheckOwnership(host, "tenant-a", "shop", "web-0").has_value());
}

TEST_F(OwnershipTest, OtherOriginIsAConflictNamingBoth) {
  Object host;
  host["metadata"] = HostMetadata(virtual_pod_, "tenant-a", "vc-tenant-a");
  EXPECT_FALSE(OriginMatches(host, "tenant-a", "shop", "web-1"));
  EXPECT_FALSE(OriginMatches(host, "tenant-b", "shop", "web-0"));
  EXPECT_FALSE(OriginMatches(host, "tenant-a", "other", "web-0"));
  auto status = CheckOwnership(host, "tenant-b", "shop", "web-0");
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code(), ErrorCode::kConflict);
  EXPECT_EQ(status.error().message(),
            "host object vc-tenant-a/" + HostName("tenant-a", "shop", "web-0") +
                " belongs to cluster tenant-a shop/web-0, not to cluster tenant-b shop/web-0; "
                "refusing to overwrite it");
}

TEST_F(OwnershipTest, UnmanagedObjectIsAConflict) {
  auto host = obj::Parse(R"({"metadata":{"name":"x","namespace":"h",
      "annotations":{"vkubelet.io/origin-namespace":"shop","vkubelet.io/origin-name":"web-0"},
      "labels":{"vkubelet.io/cluster":"tenant-a"}}})");
  ASSERT_TRUE(host.has_value());
  auto status = CheckOwnership(*host, "tenant-a", "shop", "web-0");
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code(), ErrorCode::kConflict);
  EXPECT_EQ(status.error().message(),
            "host object h/x is not managed by vkubelet (wanted for cluster tenant-a shop/web-0); "
            "refusing to overwrite it");
}

}  // namespace
}  // namespace vk::syncer::shared
