#include "syncer/shared/event_translator.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "hostclient/base/rfc3339.h"
#include "syncer/shared/host_naming.h"

namespace vk::syncer::shared {
namespace {

namespace json = boost::json;

constexpr char kHostNamespace[] = "tenant-a";
constexpr char kHostPod[] = "web-0-x-shop-x-a-0123456789ab";
constexpr char kHostNode[] = "host-node-3";
constexpr char kVirtualNode[] = "vk-tenant-a";

Object ParseObject(std::string_view text) {
  auto parsed = obj::Parse(text);
  EXPECT_TRUE(parsed.has_value()) << text;
  return parsed ? std::move(*parsed) : Object();
}

class EventTranslatorTest : public ::testing::Test {
 protected:
  EventTranslatorTest() {
    host_event_ = ParseObject(R"({
      "apiVersion":"v1","kind":"Event",
      "metadata":{"name":"web-0-x-shop-x-a-0123456789ab.17c2a","namespace":"tenant-a",
                  "uid":"host-event-uid-1","resourceVersion":"812",
                  "creationTimestamp":"2024-05-01T10:00:00Z",
                  "labels":{"host":"label"},"annotations":{"host":"annotation"},
                  "managedFields":[{"manager":"kubelet"}],
                  "ownerReferences":[{"kind":"Pod","name":"x","uid":"u"}]},
      "involvedObject":{"apiVersion":"v1","kind":"Pod","namespace":"tenant-a",
                        "name":"web-0-x-shop-x-a-0123456789ab","uid":"host-pod-uid",
                        "resourceVersion":"700","fieldPath":"spec.containers{app}"},
      "reason":"BackOff","type":"Warning","count":3,
      "message":"Back-off restarting failed container app in pod web-0-x-shop-x-a-0123456789ab_tenant-a(host-pod-uid) on host-node-3",
      "source":{"component":"kubelet","host":"host-node-3"},
      "firstTimestamp":"2024-05-01T10:00:00Z","lastTimestamp":"2024-05-01T10:05:00Z",
      "eventTime":null,"reportingComponent":"kubelet","reportingInstance":"host-node-3",
      "related":{"kind":"Node","name":"host-node-3"},
      "futureField":{"x":1}})");
    virtual_pod_ = ParseObject(R"({"metadata":{"namespace":"shop","name":"web-0",
                                               "uid":"virtual-pod-uid"}})");
  }

  Object Translate(std::string_view host_node = {}) {
    return TranslateEventBack(host_event_, virtual_pod_, kVirtualNode, host_node);
  }

  Object host_event_;
  Object virtual_pod_;
};

TEST_F(EventTranslatorTest, MetadataNamesTheVirtualCopyAndKeepsNoHostMetadata) {
  Object copy = Translate();
  EXPECT_EQ(obj::ApiVersion(copy), "v1");
  EXPECT_EQ(obj::Kind(copy), "Event");
  EXPECT_EQ(obj::Namespace(copy), "shop");
  EXPECT_EQ(obj::Name(copy), VirtualEventName(host_event_, virtual_pod_));
  EXPECT_EQ(obj::Label(copy, kLabelCopiedFrom), kCopiedFromHost);
  EXPECT_EQ(obj::Annotation(copy, kAnnotationHostEventUid), "host-event-uid-1");
  const Object& metadata = copy.at("metadata").get_object();
  EXPECT_EQ(metadata.at("labels").get_object().size(), 1u);
  EXPECT_EQ(metadata.at("annotations").get_object().size(), 1u);
  for (auto dropped :
       {"uid", "resourceVersion", "creationTimestamp", "managedFields", "ownerReferences"}) {
    EXPECT_FALSE(metadata.contains(dropped)) << dropped;
  }
}

TEST_F(EventTranslatorTest, InvolvedObjectIsTheVirtualPod) {
  Object copy = Translate();
  EXPECT_EQ(copy.at("involvedObject"), json::value(ParseObject(R"({
      "apiVersion":"v1","kind":"Pod","namespace":"shop","name":"web-0","uid":"virtual-pod-uid",
      "fieldPath":"spec.containers{app}"})")));
}

TEST_F(EventTranslatorTest, EventFieldsAreKept) {
  host_event_["series"] =
      ParseObject(R"({"count":4,"lastObservedTime":"2024-05-01T10:06:00.000001Z"})");
  host_event_["action"] = "Restarting";
  Object copy = Translate();
  for (auto field : {"reason", "type", "count", "firstTimestamp", "lastTimestamp", "eventTime",
                     "series", "action", "reportingComponent", "futureField"}) {
    ASSERT_TRUE(copy.contains(field)) << field;
    EXPECT_EQ(copy.at(field), host_event_.at(field)) << field;
  }
  EXPECT_EQ(obj::String(copy, {"source", "component"}), "kubelet");
}

TEST_F(EventTranslatorTest, HostNodeNamesDoNotLeak) {
  Object copy = Translate();
  EXPECT_EQ(obj::String(copy, {"source", "host"}), kVirtualNode);
  EXPECT_EQ(obj::String(copy, {"reportingInstance"}), kVirtualNode);
  EXPECT_FALSE(copy.contains("related"));
  EXPECT_EQ(json::serialize(copy).find(kHostNode), std::string::npos) << json::serialize(copy);
}

TEST_F(EventTranslatorTest, SourceWithoutHostStaysWithoutHost) {
  host_event_["source"] = ParseObject(R"({"component":"default-scheduler"})");
  host_event_["reportingInstance"] = "";
  Object copy = Translate();
  EXPECT_EQ(copy.at("source"), json::value(ParseObject(R"({"component":"default-scheduler"})")));
  EXPECT_EQ(obj::String(copy, {"reportingInstance"}), "");
}

TEST_F(EventTranslatorTest, KubeletMessageNamesTheVirtualPodAndNode) {
  Object copy = Translate();
  EXPECT_EQ(obj::String(copy, {"message"}),
            "Back-off restarting failed container app in pod web-0_shop(virtual-pod-uid) on "
            "vk-tenant-a");
}

TEST_F(EventTranslatorTest, SchedulerMessageNamesVirtualKeyAndNode) {
  host_event_["source"] = ParseObject(R"({"component":"default-scheduler"})");
  host_event_["message"] = std::string("Successfully assigned ") + kHostNamespace + "/" + kHostPod +
                           " to " + kHostNode + ".";
  Object copy = Translate(kHostNode);
  EXPECT_EQ(obj::String(copy, {"message"}), "Successfully assigned shop/web-0 to vk-tenant-a.");
}

TEST_F(EventTranslatorTest, OnlyWholeNamesAreReplaced) {
  host_event_["message"] = "node host-node-30 and host-node-3x differ from host-node-3";
  Object copy = Translate(kHostNode);
  EXPECT_EQ(obj::String(copy, {"message"}),
            "node host-node-30 and host-node-3x differ from vk-tenant-a");
}

TEST_F(EventTranslatorTest, NameIsDeterministicAndHashesTheHostUid) {
  const std::string name = VirtualEventName(host_event_, virtual_pod_);
  EXPECT_EQ(name, "web-0." + Sha256Hex("host-event-uid-1").substr(0, kEventHashHexChars));
  EXPECT_EQ(name, VirtualEventName(host_event_, virtual_pod_));

  Object other = host_event_;
  other["metadata"].get_object()["uid"] = "host-event-uid-2";
  EXPECT_NE(VirtualEventName(other, virtual_pod_), name);
}

TEST_F(EventTranslatorTest, NameWithoutUidHashesTheHostKey) {
  host_event_["metadata"].get_object().erase("uid");
  EXPECT_EQ(VirtualEventName(host_event_, virtual_pod_),
            "web-0." + Sha256Hex(std::string(kHostNamespace) + "/" + kHostPod + ".17c2a")
                           .substr(0, kEventHashHexChars));
}

TEST_F(EventTranslatorTest, NameStaysWithin253Characters) {
  virtual_pod_["metadata"].get_object()["name"] = std::string(253, 'a');
  const std::string name = VirtualEventName(host_event_, virtual_pod_);
  EXPECT_EQ(name.size(), 253u);
  EXPECT_EQ(name.substr(name.size() - kEventHashHexChars - 1, 1), ".");
}

TEST(VirtualPodRefOfTest, ReadsTheOriginAnnotations) {
  Object host_pod{{"metadata", Object{{"annotations", Object{{kAnnotationOriginNamespace, "shop"},
                                                             {kAnnotationOriginName, "web-0"},
                                                             {kAnnotationOriginUid, "vuid"},
                                                             {kAnnotationOriginKind, "Pod"}}}}}};
  auto ref = VirtualPodRefOf(host_pod);
  ASSERT_TRUE(ref.has_value());
  EXPECT_EQ(obj::Key(*ref), "shop/web-0");
  EXPECT_EQ(obj::Uid(*ref), "vuid");
}

TEST(VirtualPodRefOfTest, RefusesPodsWithoutOriginOrOfAnotherKind) {
  EXPECT_FALSE(VirtualPodRefOf(Object{{"metadata", Object{{"name", "someone-elses"}}}}));
  Object configmap{
      {"metadata", Object{{"annotations", Object{{kAnnotationOriginNamespace, "shop"},
                                                 {kAnnotationOriginName, "web-0"},
                                                 {kAnnotationOriginKind, "ConfigMap"}}}}}};
  EXPECT_FALSE(VirtualPodRefOf(configmap));
}

TEST_F(EventTranslatorTest, CopyUpdateHoldsTheChangingFieldsWithNullForAbsent) {
  Object update = EventCopyUpdate(Translate());
  EXPECT_EQ(update.at("count"), json::value(3));
  EXPECT_EQ(update.at("lastTimestamp"), json::value("2024-05-01T10:05:00Z"));
  EXPECT_TRUE(update.at("series").is_null());
  EXPECT_FALSE(update.contains("involvedObject"));
  EXPECT_FALSE(update.contains("metadata"));

  // A copy read back equals the one written: the fingerprints match.
  EXPECT_EQ(json::serialize(EventCopyUpdate(Translate())), json::serialize(update));
  host_event_["count"] = 4;
  EXPECT_NE(json::serialize(EventCopyUpdate(Translate())), json::serialize(update));
}

TEST(EventLastSeenTest, PrefersLastTimestampThenSeriesThenEventTime) {
  auto at = [](std::string_view text) { return *ParseRfc3339(text); };
  Object event = ParseObject(R"({"firstTimestamp":"2024-05-01T10:00:00Z",
      "lastTimestamp":"2024-05-01T10:05:00Z","eventTime":"2024-05-01T09:00:00.000000Z",
      "series":{"lastObservedTime":"2024-05-01T11:00:00.000000Z"}})");
  EXPECT_EQ(EventLastSeen(event), at("2024-05-01T10:05:00Z"));
  event.erase("lastTimestamp");
  EXPECT_EQ(EventLastSeen(event), at("2024-05-01T11:00:00Z"));
  event.erase("series");
  EXPECT_EQ(EventLastSeen(event), at("2024-05-01T09:00:00Z"));
  event.erase("eventTime");
  EXPECT_EQ(EventLastSeen(event), at("2024-05-01T10:00:00Z"));
  event.erase("firstTimestamp");
  EXPECT_FALSE(EventLastSeen(event).has_value());
}

}  // namespace
}  // namespace vk::syncer::shared
