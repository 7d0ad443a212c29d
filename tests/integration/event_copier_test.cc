// The EventCopier against two kubesims: "host" (where the host twin pods and the host kubelet's
// events live) and "virtual" (where the copies must appear, on the virtual pods).
#include "syncer/shared/event_copier.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <chrono>
#include <map>
#include <mutex>

#include "hostclient/base/rfc3339.h"
#include "hostclient/rest_client.h"
#include "syncer/shared/event_translator.h"
#include "syncer/shared/host_naming.h"
#include "tests/support/kubesim_instance.h"
#include "tests/support/sample_objects.h"
#include "tests/support/wait_for.h"

namespace vk::syncer::shared {
namespace {

using hostclient::RestClient;
using hostclient::resources::Events;
using hostclient::resources::Namespaces;
using hostclient::resources::Pods;
using std::chrono::milliseconds;
using vk::testing::WaitFor;

constexpr char kHostNamespace[] = "tenant-a";
constexpr char kVirtualNamespace[] = "shop";
constexpr char kVirtualNode[] = "vk-tenant-a";
constexpr char kHostNode[] = "host-node-3";

class EventCopierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    host_ = testing::StartKubesimWithClient("host", false, host_client_);
    virtual_ = testing::StartKubesimWithClient("virtual", false, virtual_client_);
    ASSERT_TRUE(host_ && virtual_);
    CreateNamespace(*host_client_, kHostNamespace);
    CreateNamespace(*virtual_client_, kVirtualNamespace);
  }

  void TearDown() override {
    if (copier_) copier_->Stop();
  }

  static void CreateNamespace(RestClient& client, const std::string& name) {
    auto created = client.Create(
        Namespaces(), "",
        Object{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", Object{{"name", name}}}});
    ASSERT_TRUE(created.has_value()) << created.error().ToString();
  }

  // The virtual pod `name` and its host twin (with origin annotations, on kHostNode), which
  // becomes visible to the copier's pod lookup when `known`. Returns the host pod's name.
  std::string CreatePodPair(const std::string& name, bool known = true) {
    auto virtual_pod = virtual_client_->Create(
        Pods(), kVirtualNamespace, testing::SamplePod(kVirtualNamespace, name, kVirtualNode));
    EXPECT_TRUE(virtual_pod.has_value()) << virtual_pod.error().ToString();
    if (!virtual_pod) return {};
    Object host_pod = testing::SamplePod(kHostNamespace, "", kHostNode);
    host_pod["metadata"] = HostMetadata(*virtual_pod, "a", kHostNamespace);
    std::string host_name(obj::Name(host_pod));
    auto created = host_client_->Create(Pods(), kHostNamespace, host_pod);
    EXPECT_TRUE(created.has_value()) << created.error().ToString();
    if (created && known) MakeKnown(std::move(*created));
    return host_name;
  }

  // A host pod without origin annotations: someone else's.
  std::string CreateForeignHostPod(const std::string& name) {
    auto created = host_client_->Create(Pods(), kHostNamespace,
                                        testing::SamplePod(kHostNamespace, name, kHostNode));
    EXPECT_TRUE(created.has_value()) << created.error().ToString();
    if (created) MakeKnown(std::move(*created));
    return name;
  }

  void MakeKnown(Object host_pod) {
    std::lock_guard lock(mutex_);
    const std::string name(obj::Name(host_pod));
    known_pods_[name] = std::make_shared<const Object>(std::move(host_pod));
  }

  ObjectPtr Lookup(const std::string& name) {
    std::lock_guard lock(mutex_);
    auto it = known_pods_.find(name);
    return it == known_pods_.end() ? nullptr : it->second;
  }

  // An event of the host kubelet about host pod `pod_name`; returns the event's name.
  std::string CreateHostEvent(const std::string& pod_name, const std::string& reason,
                              const std::string& message, std::string pod_uid = {}) {
    if (pod_uid.empty()) {
      if (auto pod = Lookup(pod_name)) pod_uid = obj::Uid(*pod);
    }
    const std::string now = FormatRfc3339(std::chrono::system_clock::now());
    std::string name = pod_name + "." + std::to_string(++event_sequence_);
    Object event{{"apiVersion", "v1"},
                 {"kind", "Event"},
                 {"metadata", Object{{"name", name}, {"namespace", kHostNamespace}}},
                 {"involvedObject", Object{{"apiVersion", "v1"},
                                           {"kind", "Pod"},
                                           {"namespace", kHostNamespace},
                                           {"name", pod_name},
                                           {"uid", pod_uid},
                                           {"fieldPath", "spec.containers{app}"}}},
                 {"reason", reason},
                 {"message", message},
                 {"type", "Normal"},
                 {"source", Object{{"component", "kubelet"}, {"host", kHostNode}}},
                 {"reportingComponent", "kubelet"},
                 {"reportingInstance", kHostNode},
                 {"firstTimestamp", now},
                 {"lastTimestamp", now},
                 {"count", 1},
                 {"eventTime", nullptr}};
    auto created = host_client_->Create(Events(), kHostNamespace, event);
    EXPECT_TRUE(created.has_value()) << created.error().ToString();
    return name;
  }

  void BumpHostEvent(const std::string& name, int count) {
    const std::string patch =
        "{\"count\":" + std::to_string(count) + ",\"lastTimestamp\":\"" +
        FormatRfc3339(std::chrono::system_clock::now() + std::chrono::seconds(count)) + "\"}";
    auto patched = host_client_->Patch(Events(), kHostNamespace, name,
                                       hostclient::PatchType::kMergePatch, patch);
    ASSERT_TRUE(patched.has_value()) << patched.error().ToString();
  }

  EventCopierOptions Options(int workers = 2) {
    EventCopierOptions options;
    options.host_namespace = kHostNamespace;
    options.virtual_node_name_for_unknown = "vk-unknown";
    options.workers = workers;
    options.max_retries = 3;
    options.retry_base = milliseconds(10);
    return options;
  }

  void StartCopier(EventCopierOptions options) {
    registry_ = std::make_unique<prometheus::Registry>();
    copier_ = std::make_unique<EventCopier>(
        *host_client_, *virtual_client_, std::move(options),
        [this](const std::string& name) { return Lookup(name); },
        [](const Object&) { return std::string(kVirtualNode); }, registry_.get());
    ASSERT_TRUE(copier_->Start().has_value());
    ASSERT_TRUE(WaitFor([&] { return copier_->HasSynced(); }));
  }
  void StartCopier() { StartCopier(Options()); }

  // Every copy in the virtual cluster, by name.
  std::map<std::string, Object> Copies() {
    std::map<std::string, Object> out;
    hostclient::ListOptions options;
    options.label_selector = std::string(kLabelCopiedFrom) + "=" + std::string(kCopiedFromHost);
    auto list = virtual_client_->List(Events(), "", options);
    if (!list) return out;
    for (const auto& item : list->at("items").get_array()) {
      out[std::string(obj::Name(item.get_object()))] = item.get_object();
    }
    return out;
  }

  // The copy of host event `host_event`, or nullopt.
  std::optional<Object> CopyOf(const std::string& host_event) {
    auto event = host_client_->Get(Events(), kHostNamespace, host_event);
    if (!event) return std::nullopt;
    for (auto& [name, copy] : Copies()) {
      if (obj::Annotation(copy, kAnnotationHostEventUid) == obj::Uid(*event)) return copy;
    }
    return std::nullopt;
  }

  int64_t CopyCount(const std::string& host_event) {
    auto copy = CopyOf(host_event);
    return copy ? obj::Int(*copy, {"count"}) : 0;
  }

  double Metric(const std::string& family, const std::string& label = {},
                const std::string& value = {}) {
    for (const auto& f : registry_->Collect()) {
      if (f.name != family) continue;
      for (const auto& m : f.metric) {
        bool match = label.empty();
        for (const auto& l : m.label) match |= l.name == label && l.value == value;
        if (match) return f.type == prometheus::MetricType::Gauge ? m.gauge.value : m.counter.value;
      }
    }
    return 0;
  }
  double Copied() { return Metric("vkubelet_events_copied_total"); }

  // Writes a marker event and waits for its copy. With one worker, every key queued before it has
  // been handled by then: the queue hands keys out in order.
  void Barrier(const std::string& host_pod) {
    const std::string marker = CreateHostEvent(host_pod, "Marker", "barrier");
    ASSERT_TRUE(WaitFor([&] { return CopyOf(marker).has_value(); }));
  }

  uint64_t VirtualRevision() { return virtual_->server().storage().CurrentResourceVersion(); }

  std::unique_ptr<testing::KubesimInstance> host_;
  std::unique_ptr<testing::KubesimInstance> virtual_;
  std::unique_ptr<RestClient> host_client_;
  std::unique_ptr<RestClient> virtual_client_;
  std::unique_ptr<prometheus::Registry> registry_;
  std::unique_ptr<EventCopier> copier_;
  std::mutex mutex_;
  std::map<std::string, ObjectPtr> known_pods_;
  int event_sequence_ = 0;
};

TEST_F(EventCopierTest, CopiesAHostTwinsEventToTheVirtualPod) {
  const std::string host_pod = CreatePodPair("web-0");
  const std::string host_event = CreateHostEvent(
      host_pod, "Pulled", "Successfully pulled image \"nginx\" on " + std::string(kHostNode));
  StartCopier();

  ASSERT_TRUE(WaitFor([&] { return CopyOf(host_event).has_value(); }));
  const Object copy = *CopyOf(host_event);
  auto virtual_pod = virtual_client_->Get(Pods(), kVirtualNamespace, "web-0");
  ASSERT_TRUE(virtual_pod.has_value());
  EXPECT_EQ(obj::Namespace(copy), kVirtualNamespace);
  EXPECT_EQ(obj::String(copy, {"involvedObject", "kind"}), "Pod");
  EXPECT_EQ(obj::String(copy, {"involvedObject", "namespace"}), kVirtualNamespace);
  EXPECT_EQ(obj::String(copy, {"involvedObject", "name"}), "web-0");
  EXPECT_EQ(obj::String(copy, {"involvedObject", "uid"}), obj::Uid(*virtual_pod));
  EXPECT_EQ(obj::String(copy, {"involvedObject", "fieldPath"}), "spec.containers{app}");
  EXPECT_EQ(obj::String(copy, {"reason"}), "Pulled");
  EXPECT_EQ(obj::String(copy, {"message"}),
            "Successfully pulled image \"nginx\" on " + std::string(kVirtualNode));
  EXPECT_EQ(obj::String(copy, {"source", "host"}), kVirtualNode);
  EXPECT_EQ(obj::String(copy, {"reportingInstance"}), kVirtualNode);
  EXPECT_EQ(obj::Int(copy, {"count"}), 1);
  EXPECT_TRUE(WaitFor([&] { return Copied() == 1; }));
  // Once copied, the event is no longer held whole (the cache keeps its identity only).
  EXPECT_TRUE(WaitFor([&] { return Metric("vkubelet_events_pending") == 0; }));
}

TEST_F(EventCopierTest, CountUpdatesPropagateToTheSameCopy) {
  const std::string host_pod = CreatePodPair("web-0");
  const std::string host_event = CreateHostEvent(host_pod, "BackOff", "Back-off pulling image");
  StartCopier();
  ASSERT_TRUE(WaitFor([&] { return CopyCount(host_event) == 1; }));

  BumpHostEvent(host_event, 2);
  ASSERT_TRUE(WaitFor([&] { return CopyCount(host_event) == 2; }));
  BumpHostEvent(host_event, 3);
  ASSERT_TRUE(WaitFor([&] { return CopyCount(host_event) == 3; }));
  EXPECT_EQ(Copies().size(), 1u);
  EXPECT_EQ(
      obj::String(*CopyOf(host_event), {"lastTimestamp"}),
      obj::String(*host_client_->Get(Events(), kHostNamespace, host_event), {"lastTimestamp"}));
}

TEST_F(EventCopierTest, RestartWritesOnlyWhatChangedWhileAway) {
  const std::string host_pod = CreatePodPair("web-0");
  const std::string unchanged = CreateHostEvent(host_pod, "Pulled", "pulled");
  const std::string changed = CreateHostEvent(host_pod, "BackOff", "Back-off pulling image");
  StartCopier(Options(1));
  ASSERT_TRUE(WaitFor([&] { return Copies().size() == 2; }));
  copier_->Stop();

  BumpHostEvent(changed, 5);
  const uint64_t revision_before = VirtualRevision();
  StartCopier(Options(1));
  Barrier(host_pod);

  // One patch (the changed event) and one create (the marker); the unchanged copy untouched.
  EXPECT_EQ(CopyCount(changed), 5);
  EXPECT_EQ(CopyCount(unchanged), 1);
  // Counted once the marker's create has returned to the copier, which can be after it shows.
  EXPECT_TRUE(WaitFor([&] { return Copied() == 2; })) << Copied();
  EXPECT_EQ(VirtualRevision(), revision_before + 2);
}

TEST_F(EventCopierTest, IgnoresEventsOfPodsThatAreNotHostTwins) {
  const std::string twin = CreatePodPair("web-0");
  const std::string foreign = CreateForeignHostPod("someone-elses");
  CreateHostEvent(foreign, "Pulled", "not ours");
  // A pod that never becomes known: given up after max_retries.
  CreateHostEvent("never-seen", "Pulled", "not known");
  // An event about an earlier host pod of the same name.
  CreateHostEvent(twin, "Killing", "earlier incarnation", "uid-of-an-earlier-pod");
  StartCopier(Options(1));

  ASSERT_TRUE(WaitFor(
      [&] { return Metric("vkubelet_event_copy_errors_total", "reason", "PodUnknown") == 1; }));
  Barrier(twin);
  const auto copies = Copies();
  ASSERT_EQ(copies.size(), 1u);
  EXPECT_EQ(obj::String(copies.begin()->second, {"reason"}), "Marker");
}

TEST_F(EventCopierTest, WaitsForAPodThatShowsUpLate) {
  const std::string host_pod = CreatePodPair("web-0", /*known=*/false);
  auto pod = host_client_->Get(Pods(), kHostNamespace, host_pod);
  ASSERT_TRUE(pod.has_value());
  const std::string host_event =
      CreateHostEvent(host_pod, "Scheduled", "assigned", std::string(obj::Uid(*pod)));
  EventCopierOptions options = Options();
  options.retry_base = milliseconds(50);
  StartCopier(options);

  // Retried meanwhile: the event waits, held until its pod shows up.
  EXPECT_TRUE(WaitFor([&] { return Metric("vkubelet_events_pending") == 1; }));
  MakeKnown(std::move(*pod));
  EXPECT_TRUE(WaitFor([&] { return CopyOf(host_event).has_value(); }));
  EXPECT_EQ(Metric("vkubelet_event_copy_errors_total", "reason", "PodUnknown"), 0);
  EXPECT_TRUE(WaitFor([&] { return Metric("vkubelet_events_pending") == 0; }));
}

TEST_F(EventCopierTest, ExistingUnlabelledCopyIsPatchedNotDuplicated) {
  const std::string host_pod = CreatePodPair("web-0");
  const std::string host_event = CreateHostEvent(host_pod, "BackOff", "Back-off pulling image");
  BumpHostEvent(host_event, 4);
  // A copy written before a crash, that the start-up list does not find (no label).
  auto event = host_client_->Get(Events(), kHostNamespace, host_event);
  ASSERT_TRUE(event.has_value());
  Object stale = TranslateEventBack(
      *event, Object{{"metadata", Object{{"namespace", "shop"}, {"name", "web-0"}}}}, kVirtualNode);
  stale["count"] = 1;
  stale["metadata"].get_object().erase("labels");
  ASSERT_TRUE(virtual_client_->Create(Events(), kVirtualNamespace, stale).has_value());

  StartCopier();
  ASSERT_TRUE(WaitFor([&] {
    auto copy = virtual_client_->Get(Events(), kVirtualNamespace, std::string(obj::Name(stale)));
    return copy && obj::Int(*copy, {"count"}) == 4;
  }));
  auto all = virtual_client_->List(Events(), kVirtualNamespace);
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->at("items").get_array().size(), 1u);
  // Adopted: the next start-up finds it by its label.
  EXPECT_EQ(Copies().size(), 1u);
}

}  // namespace
}  // namespace vk::syncer::shared
