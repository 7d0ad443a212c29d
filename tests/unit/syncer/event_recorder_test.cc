// The EventRecorder against an in-process kubesim: what it writes, how repeats aggregate, and what
// it does when the queue overflows, writes fail or it shuts down.
#include "syncer/event_recorder.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <chrono>

#include "hostclient/rest_client.h"
#include "tests/support/kubesim_instance.h"
#include "tests/support/wait_for.h"

namespace vk::syncer {
namespace {

using hostclient::resources::Events;
using std::chrono::milliseconds;
using vk::testing::WaitFor;

class EventRecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kubesim::ApiServer::Options options;
    options.storage.builtin_controllers = false;
    auto instance = testing::KubesimInstance::Start(options);
    ASSERT_TRUE(instance.has_value()) << instance.error().ToString();
    kubesim_ = std::move(*instance);
    auto client = hostclient::RestClient::Create(kubesim_->TokenConfig());
    ASSERT_TRUE(client.has_value()) << client.error().ToString();
    client_ = std::move(*client);
  }

  void TearDown() override {
    if (recorder_) recorder_->Shutdown();
  }

  void StartRecorder(EventRecorderOptions options = {}) {
    options.retry_base = milliseconds(10);
    recorder_ = std::make_unique<EventRecorder>(
        *client_, EventSource{"vkubelet", "vk-node-1", "vkubelet-0"}, &registry_, clock_, options);
  }

  static Object Pod(const std::string& name, const std::string& uid = "pod-uid-1") {
    return Object{
        {"apiVersion", "v1"},
        {"kind", "Pod"},
        {"metadata",
         Object{
             {"namespace", "default"}, {"name", name}, {"uid", uid}, {"resourceVersion", "42"}}}};
  }

  std::vector<Object> EventsIn(const std::string& ns) {
    std::vector<Object> out;
    auto list = client_->List(Events(), ns);
    if (!list) return out;
    for (const auto& item : list->at("items").get_array()) out.push_back(item.get_object());
    return out;
  }

  double Counter(const std::string& family, const std::string& label, const std::string& value) {
    for (const auto& f : registry_.Collect()) {
      if (f.name != family) continue;
      for (const auto& m : f.metric) {
        for (const auto& l : m.label) {
          if (l.name == label && l.value == value) return m.counter.value;
        }
      }
    }
    return 0;
  }
  double Recorded(const std::string& type = "Normal") {
    return Counter("vkubelet_events_recorded_total", "type", type);
  }
  double Dropped(const std::string& reason) {
    return Counter("vkubelet_events_dropped_total", "reason", reason);
  }

  // `count` event creates (< 0: all) fail with a 500.
  void FailCreates(int count) {
    kubesim::FaultRule rule;
    rule.verb = "create";
    rule.path_substring = "/events";
    rule.count = count;
    rule.status = 500;
    kubesim_->server().faults().AddFault(rule);
  }

  // Delays every event create by `delay`, so that the writer falls behind.
  void SlowCreates(milliseconds delay) {
    kubesim::LatencyRule rule;
    rule.verb = "create";
    rule.path_substring = "/events";
    rule.delay = delay;
    kubesim_->server().faults().AddLatency(rule);
  }

  std::unique_ptr<testing::KubesimInstance> kubesim_;
  hostclient::RestClientPtr client_;
  prometheus::Registry registry_;
  FakeClock clock_;
  std::unique_ptr<EventRecorder> recorder_;
};

TEST_F(EventRecorderTest, RecordWritesAnEventWithEveryField) {
  StartRecorder();
  recorder_->Record(Pod("web-0"), "Warning", "HostPrivilegesDenied",
                    "pod asks for hostNetwork, which the policy denies");
  ASSERT_TRUE(WaitFor([&] { return EventsIn("default").size() == 1; }));
  const Object event = EventsIn("default").front();

  EXPECT_EQ(obj::Namespace(event), "default");
  const std::string name(obj::Name(event));
  ASSERT_EQ(name.size(), std::string("web-0.").size() + 16) << name;
  EXPECT_EQ(name.substr(0, 6), "web-0.");
  EXPECT_EQ(name.find_first_not_of("0123456789abcdef", 6), std::string::npos) << name;

  EXPECT_EQ(event.at("involvedObject"), boost::json::value(Object{{"apiVersion", "v1"},
                                                                  {"kind", "Pod"},
                                                                  {"namespace", "default"},
                                                                  {"name", "web-0"},
                                                                  {"uid", "pod-uid-1"},
                                                                  {"resourceVersion", "42"}}));
  EXPECT_EQ(obj::String(event, {"type"}), "Warning");
  EXPECT_EQ(obj::String(event, {"reason"}), "HostPrivilegesDenied");
  EXPECT_EQ(obj::String(event, {"message"}), "pod asks for hostNetwork, which the policy denies");
  EXPECT_EQ(obj::String(event, {"source", "component"}), "vkubelet");
  EXPECT_EQ(obj::String(event, {"source", "host"}), "vk-node-1");
  EXPECT_EQ(obj::String(event, {"reportingComponent"}), "vkubelet");
  EXPECT_EQ(obj::String(event, {"reportingInstance"}), "vkubelet-0");
  EXPECT_EQ(obj::Int(event, {"count"}), 1);
  EXPECT_FALSE(obj::String(event, {"firstTimestamp"}).empty());
  EXPECT_EQ(obj::String(event, {"firstTimestamp"}), obj::String(event, {"lastTimestamp"}));
  ASSERT_TRUE(event.contains("eventTime"));
  EXPECT_TRUE(event.at("eventTime").is_null());
  EXPECT_TRUE(WaitFor([&] { return Recorded("Warning") == 1; }));
}

TEST_F(EventRecorderTest, RepeatWithinTheWindowBumpsTheCount) {
  StartRecorder();
  recorder_->Record(Pod("web-0"), "Normal", "Synced", "host twin created");
  ASSERT_TRUE(WaitFor([&] { return Recorded() == 1; }));
  clock_.Advance(std::chrono::minutes(9));
  recorder_->Record(Pod("web-0"), "Normal", "Synced", "host twin created");
  ASSERT_TRUE(WaitFor([&] { return Recorded() == 2; }));

  const auto events = EventsIn("default");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(obj::Int(events.front(), {"count"}), 2);
}

TEST_F(EventRecorderTest, DifferentMessageObjectOrLateRepeatMakesAnotherEvent) {
  StartRecorder();
  recorder_->Record(Pod("web-0"), "Normal", "Synced", "host twin created");
  recorder_->Record(Pod("web-0"), "Normal", "Synced", "host twin updated");
  recorder_->Record(Pod("web-0", "other-incarnation"), "Normal", "Synced", "host twin created");
  ASSERT_TRUE(WaitFor([&] { return Recorded() == 3; }));
  clock_.Advance(std::chrono::minutes(11));
  recorder_->Record(Pod("web-0"), "Normal", "Synced", "host twin created");
  ASSERT_TRUE(WaitFor([&] { return Recorded() == 4; }));

  const auto events = EventsIn("default");
  EXPECT_EQ(events.size(), 4u);
  for (const auto& event : events) EXPECT_EQ(obj::Int(event, {"count"}), 1);
}

TEST_F(EventRecorderTest, RepeatOfADeletedEventCreatesItAgain) {
  StartRecorder();
  recorder_->Record(Pod("web-0"), "Normal", "Synced", "host twin created");
  ASSERT_TRUE(WaitFor([&] { return Recorded() == 1; }));
  const std::string first(obj::Name(EventsIn("default").front()));
  ASSERT_TRUE(client_->Delete(Events(), "default", first).has_value());

  recorder_->Record(Pod("web-0"), "Normal", "Synced", "host twin created");
  ASSERT_TRUE(WaitFor([&] { return Recorded() == 2; }));
  const auto events = EventsIn("default");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NE(obj::Name(events.front()), first);
  EXPECT_EQ(Dropped("write_error"), 0);
}

TEST_F(EventRecorderTest, ClusterScopedObjectsGetEventsInDefault) {
  StartRecorder();
  recorder_->Record(Object{{"apiVersion", "v1"},
                           {"kind", "Node"},
                           {"metadata", Object{{"name", "vk-node-1"}, {"uid", "node-uid"}}}},
                    "Normal", "NodeReady", "node is ready");
  ASSERT_TRUE(WaitFor([&] { return EventsIn("default").size() == 1; }));
  const Object event = EventsIn("default").front();
  EXPECT_EQ(obj::String(event, {"involvedObject", "kind"}), "Node");
  EXPECT_FALSE(obj::Find(event, {"involvedObject", "namespace"}));
}

TEST_F(EventRecorderTest, LongMessagesAreCutAtACharacterBoundary) {
  StartRecorder();
  // 1023 ASCII bytes, then a 2-byte character that would straddle the 1024-byte limit.
  recorder_->Record(Pod("web-0"), "Normal", "Long", std::string(1023, 'x') + "é and more");
  ASSERT_TRUE(WaitFor([&] { return EventsIn("default").size() == 1; }));
  EXPECT_EQ(obj::String(EventsIn("default").front(), {"message"}), std::string(1023, 'x'));
}

TEST_F(EventRecorderTest, UnsupportedTypeIsDropped) {
  StartRecorder();
  recorder_->Record(Pod("web-0"), "Error", "Bad", "not a type kube knows");
  EXPECT_EQ(Dropped("invalid_type"), 1);
  recorder_->Shutdown();
  EXPECT_TRUE(EventsIn("default").empty());
}

TEST_F(EventRecorderTest, TransientErrorsAreRetried) {
  FailCreates(2);
  StartRecorder();
  recorder_->Record(Pod("web-0"), "Normal", "Synced", "host twin created");
  ASSERT_TRUE(WaitFor([&] { return Recorded() == 1; }));
  EXPECT_EQ(EventsIn("default").size(), 1u);
  EXPECT_EQ(Dropped("write_error"), 0);
}

TEST_F(EventRecorderTest, PersistentErrorsDropTheEventAfterAFewAttempts) {
  FailCreates(-1);
  StartRecorder();
  recorder_->Record(Pod("web-0"), "Normal", "Synced", "host twin created");
  ASSERT_TRUE(WaitFor([&] { return Dropped("write_error") == 1; }));
  EXPECT_EQ(kubesim_->server().faults().faults_injected(), 3u);  // max_attempts
  EXPECT_EQ(Recorded(), 0);
}

TEST_F(EventRecorderTest, TerminalErrorsAreNotRetried) {
  StartRecorder();
  // Events may not be written to a namespace that does not exist.
  Object pod = Pod("web-0");
  pod["metadata"].get_object()["namespace"] = "absent";
  recorder_->Record(pod, "Normal", "Synced", "host twin created");
  ASSERT_TRUE(WaitFor([&] { return Dropped("write_error") == 1; }));
}

TEST_F(EventRecorderTest, FullQueueDropsAndCountsWithoutBlocking) {
  SlowCreates(milliseconds(200));
  EventRecorderOptions options;
  options.queue_capacity = 2;
  StartRecorder(options);

  constexpr int kRecords = 10;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRecords; ++i) {
    recorder_->Record(Pod("web-0"), "Normal", "Synced", "message " + std::to_string(i));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(100));
  // At most the queue's two and the one being written survive.
  EXPECT_GE(Dropped("queue_full"), kRecords - 3);
  EXPECT_TRUE(WaitFor([&] { return Recorded() + Dropped("queue_full") == kRecords; },
                      std::chrono::seconds(10)));
}

TEST_F(EventRecorderTest, ShutdownWritesWhatIsQueued) {
  SlowCreates(milliseconds(20));
  StartRecorder();
  for (int i = 0; i < 5; ++i) {
    recorder_->Record(Pod("web-" + std::to_string(i), "uid-" + std::to_string(i)), "Normal",
                      "Synced", "host twin created");
  }
  recorder_->Shutdown();
  EXPECT_EQ(EventsIn("default").size(), 5u);
  EXPECT_EQ(Recorded(), 5);

  recorder_->Record(Pod("late"), "Normal", "Synced", "after shutdown");
  EXPECT_EQ(Dropped("shutdown"), 1);
}

TEST_F(EventRecorderTest, ShutdownGivesUpAtItsDeadline) {
  SlowCreates(milliseconds(100));
  EventRecorderOptions options;
  options.shutdown_timeout = milliseconds(150);
  StartRecorder(options);
  constexpr int kRecords = 20;
  for (int i = 0; i < kRecords; ++i) {
    recorder_->Record(Pod("web-" + std::to_string(i), "uid-" + std::to_string(i)), "Normal",
                      "Synced", "host twin created");
  }
  const auto start = std::chrono::steady_clock::now();
  recorder_->Shutdown();
  // The deadline, plus the write in flight when it passed.
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(1000));
  EXPECT_GT(Dropped("shutdown"), 0);
  EXPECT_EQ(Recorded() + Dropped("shutdown"), kRecords);
}

}  // namespace
}  // namespace vk::syncer
