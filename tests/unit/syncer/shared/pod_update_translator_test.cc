#include "syncer/shared/pod_update_translator.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "syncer/shared/host_naming.h"
#include "tests/support/sample_objects.h"

namespace vk::syncer::shared {
namespace {

namespace json = boost::json;

json::value J(std::string_view text) {
  auto parsed = obj::Parse(std::string("{\"v\":") + std::string(text) + "}");
  EXPECT_TRUE(parsed.has_value()) << text;
  return parsed ? parsed->at("v") : json::value();
}

class PodUpdateTranslatorTest : public ::testing::Test {
 protected:
  PodUpdateTranslatorTest() {
    ctx_.cluster = "tenant-a";
    ctx_.host_namespace = "vc-tenant-a";
    ctx_.virtual_node_name = "vnode";
    ctx_.service_account_token_secret = "tok";
    virtual_pod_ = vk::testing::SamplePod("shop", "web-0", "vnode");
    virtual_pod_["spec"].get_object()["initContainers"] =
        J(R"([{"name":"init","image":"busybox:1"}])");
    virtual_pod_["spec"].get_object()["activeDeadlineSeconds"] = 600;
    auto host = TranslatePod(virtual_pod_, ctx_);
    EXPECT_TRUE(host.has_value());
    host_pod_ = *host;
    // What the host adds on its own must not be fought over.
    host_pod_["metadata"].get_object()["annotations"].get_object()["cni.example/status"] = "up";
    host_pod_["spec"].get_object()["tolerations"] =
        J(R"([{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute",
               "tolerationSeconds":300}])");
  }

  std::optional<Object> Patch() {
    auto patch = ComputeHostPodPatch(virtual_pod_, host_pod_, ctx_);
    EXPECT_TRUE(patch.has_value()) << (patch ? "" : patch.error().ToString());
    if (!patch || !patch->has_value()) return std::nullopt;
    auto parsed = obj::Parse(**patch);
    EXPECT_TRUE(parsed.has_value());
    return *parsed;
  }

  Object& VirtualSpec() { return virtual_pod_["spec"].get_object(); }
  Object& VirtualMeta() { return virtual_pod_["metadata"].get_object(); }

  TranslationContext ctx_;
  Object virtual_pod_;
  Object host_pod_;
};

TEST_F(PodUpdateTranslatorTest, InSyncGivesNoPatch) { EXPECT_EQ(Patch(), std::nullopt); }

TEST_F(PodUpdateTranslatorTest, ImageChangesAreMergedByName) {
  VirtualSpec()["containers"].get_array()[1].get_object()["image"] = "exporter:1.0";
  VirtualSpec()["initContainers"].get_array()[0].get_object()["image"] = "busybox:2";
  EXPECT_EQ(Patch(), J(R"({"spec":{"containers":[{"name":"metrics","image":"exporter:1.0"}],
                                   "initContainers":[{"name":"init","image":"busybox:2"}]}})")
                         .get_object());
}

TEST_F(PodUpdateTranslatorTest, LabelsAreOwnedAnnotationsOnlyWhereCopied) {
  VirtualMeta()["labels"].get_object().erase("tier");
  VirtualMeta()["labels"].get_object()["version"] = "v2";
  VirtualMeta()["annotations"].get_object().erase("prometheus.io/port");
  VirtualMeta()["annotations"].get_object()["note"] = "hi";
  EXPECT_EQ(Patch(), J(R"({"metadata":{
      "labels":{"tier":null,"version":"v2"},
      "annotations":{"prometheus.io/port":null,"note":"hi",
                     "vkubelet.io/synced-annotations":"note,prometheus.io/scrape"}}})")
                         .get_object());
}

TEST_F(PodUpdateTranslatorTest, ActiveDeadlineCanOnlyBeSetOrLowered) {
  VirtualSpec()["activeDeadlineSeconds"] = 900;
  EXPECT_EQ(Patch(), std::nullopt);
  VirtualSpec()["activeDeadlineSeconds"] = 300;
  EXPECT_EQ(Patch(), J(R"({"spec":{"activeDeadlineSeconds":300}})").get_object());
  VirtualSpec().erase("activeDeadlineSeconds");
  EXPECT_EQ(Patch(), std::nullopt);
  host_pod_["spec"].get_object().erase("activeDeadlineSeconds");
  VirtualSpec()["activeDeadlineSeconds"] = 50;
  EXPECT_EQ(Patch(), J(R"({"spec":{"activeDeadlineSeconds":50}})").get_object());
}

TEST_F(PodUpdateTranslatorTest, TolerationsAreAddedKeepingTheHostsOwn) {
  VirtualSpec()["tolerations"] = J(R"([{"key":"gpu","operator":"Exists"}])");
  EXPECT_EQ(Patch(), J(R"({"spec":{"tolerations":[
      {"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute",
       "tolerationSeconds":300},
      {"key":"gpu","operator":"Exists"}]}})")
                         .get_object());
}

TEST_F(PodUpdateTranslatorTest, TranslationErrorsPropagate) {
  VirtualSpec()["hostPID"] = true;
  auto patch = ComputeHostPodPatch(virtual_pod_, host_pod_, ctx_);
  ASSERT_FALSE(patch.has_value());
  EXPECT_EQ(patch.error().code(), ErrorCode::kForbidden);
}

}  // namespace
}  // namespace vk::syncer::shared
