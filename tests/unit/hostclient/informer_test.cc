#include "hostclient/informer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>

#include "hostclient/sleeper.h"
#include "tests/support/fake_lister_watcher.h"

namespace vk::hostclient {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using namespace std::chrono_literals;
using testing::FakeListerWatcher;
using testing::GoneError;
using testing::kWaitTimeout;
using testing::NetworkError;
using testing::Pod;
using testing::PodList;
using testing::ScriptedWatch;

// An event handler that writes what it receives as "add ns/a 5 initial", "update ns/a 5->6",
// "delete ns/a 6", and lets the test wait for a number of them.
class Recorder {
 public:
  explicit Recorder(std::string tag = {}) : tag_(std::move(tag)) {}

  EventHandler Handler() {
    EventHandler h;
    h.on_add = [this](const ObjectPtr& o, bool initial) {
      Record("add " + Describe(o) + (initial ? " initial" : ""));
    };
    h.on_update = [this](const ObjectPtr& old_object, const ObjectPtr& new_object) {
      Record("update " + obj::Key(*new_object) + " " + Rv(old_object) + "->" + Rv(new_object) +
             (old_object == new_object ? " resync" : ""));
    };
    h.on_delete = [this](const ObjectPtr& o) { Record("delete " + Describe(o)); };
    return h;
  }

  std::vector<std::string> WaitFor(size_t n) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, kWaitTimeout, [&] { return events_.size() >= n; });
    return events_;
  }
  bool WaitUntil(const std::function<bool(const std::vector<std::string>&)>& pred) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, kWaitTimeout, [&] { return pred(events_); });
  }
  std::vector<std::string> events() {
    std::lock_guard lock(mutex_);
    return events_;
  }

 private:
  static std::string Rv(const ObjectPtr& o) {
    return o == nullptr ? "none" : std::string(obj::ResourceVersion(*o));
  }
  static std::string Describe(const ObjectPtr& o) { return obj::Key(*o) + " " + Rv(o); }

  void Record(std::string event) {
    std::lock_guard lock(mutex_);
    events_.push_back(tag_ + std::move(event));
    cv_.notify_all();
  }

  std::string tag_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::string> events_;
};

class InformerTest : public ::testing::Test {
 protected:
  InformerOptions Options() {
    InformerOptions options;
    options.name = "pods@test";
    options.reflector.clock = &clock_;
    options.reflector.sleeper = &sleeper_;
    options.reflector.random = [] { return 0.5; };
    return options;
  }

  void Create(const std::vector<ObjectPtr>& pods, const std::string& rv, InformerOptions options) {
    auto lw = std::make_unique<FakeListerWatcher>();
    lw_ = lw.get();
    lw_->SetList(PodList(pods, rv));
    informer_ = std::make_unique<SharedInformer>(std::move(lw), std::move(options));
  }
  void Create(const std::vector<ObjectPtr>& pods, const std::string& rv) {
    Create(pods, rv, Options());
  }

  FakeClock clock_;
  FakeSleeper sleeper_{clock_};
  FakeListerWatcher* lw_ = nullptr;
  std::unique_ptr<SharedInformer> informer_;
};

TEST_F(InformerTest, DeliversTheInitialListThenWatchEventsInOrder) {
  Create({Pod("ns", "a", "5"), Pod("ns", "b", "6")}, "10");
  Recorder recorder;
  informer_->AddEventHandler(recorder.Handler());
  informer_->Start();
  ASSERT_TRUE(informer_->WaitForSync(kWaitTimeout));
  auto watch = lw_->WaitForWatch(1);
  ASSERT_NE(watch, nullptr);

  watch->Push(WatchEvent::Type::kAdded, Pod("ns", "c", "11"));
  watch->Push(WatchEvent::Type::kModified, Pod("ns", "a", "12"));
  watch->Push(WatchEvent::Type::kDeleted, Pod("ns", "b", "13"));

  auto events = recorder.WaitFor(5);
  ASSERT_EQ(events.size(), 5u);
  // The initial list's order is the store's; everything after it is strictly ordered.
  EXPECT_THAT(std::vector<std::string>(events.begin(), events.begin() + 2),
              UnorderedElementsAre("add ns/a 5 initial", "add ns/b 6 initial"));
  EXPECT_THAT(std::vector<std::string>(events.begin() + 2, events.end()),
              ElementsAre("add ns/c 11", "update ns/a 5->12", "delete ns/b 13"));
  EXPECT_EQ(informer_->LastSyncResourceVersion(), "13");
}

TEST_F(InformerTest, HasSyncedOnlyAfterHandlersReceivedTheInitialList) {
  Create({Pod("ns", "a", "5"), Pod("ns", "b", "6")}, "10");
  std::atomic<int> adds_seen_synced{0};
  EventHandler handler;
  handler.on_add = [&](const ObjectPtr&, bool) {
    if (informer_->HasSynced()) ++adds_seen_synced;
  };
  informer_->AddEventHandler(handler);
  EXPECT_FALSE(informer_->HasSynced());
  informer_->Start();
  ASSERT_TRUE(informer_->WaitForSync(kWaitTimeout));
  EXPECT_EQ(adds_seen_synced.load(), 0);
  EXPECT_EQ(informer_->store().Size(), 2u);
}

TEST_F(InformerTest, WaitForSyncGivesUpAtTheDeadline) {
  auto lw = std::make_unique<FakeListerWatcher>();
  lw->FailNextList(NetworkError());
  InformerOptions options;
  options.reflector.backoff_base = std::chrono::hours(1);  // the real sleeper: stays failed
  options.reflector.backoff_max = std::chrono::hours(1);
  SharedInformer informer(std::move(lw), options);
  informer.Start();
  const auto deadline = std::chrono::steady_clock::now() + 50ms;
  EXPECT_FALSE(informer.WaitForSync(deadline));
  EXPECT_GE(std::chrono::steady_clock::now(), deadline);
  EXPECT_FALSE(informer.HasSynced());
}

TEST_F(InformerTest, WaitForSyncReturnsWhenStopped) {
  auto options = Options();
  options.reflector.sleeper = nullptr;
  options.reflector.backoff_base = std::chrono::hours(1);
  options.reflector.backoff_max = std::chrono::hours(1);
  auto lw = std::make_unique<FakeListerWatcher>();
  lw->FailNextList(NetworkError());
  SharedInformer informer(std::move(lw), options);
  informer.Start();
  std::thread stopper([&] { informer.Stop(); });
  EXPECT_FALSE(informer.WaitForSync(std::chrono::steady_clock::now() + kWaitTimeout));
  stopper.join();
}

TEST_F(InformerTest, LateHandlerGetsSyntheticAddsThenLaterChanges) {
  Create({Pod("ns", "a", "5")}, "10");
  Recorder first("1:");
  informer_->AddEventHandler(first.Handler());
  informer_->Start();
  ASSERT_TRUE(informer_->WaitForSync(kWaitTimeout));
  auto watch = lw_->WaitForWatch(1);
  ASSERT_NE(watch, nullptr);
  watch->Push(WatchEvent::Type::kAdded, Pod("ns", "b", "11"));
  ASSERT_EQ(first.WaitFor(2).size(), 2u);

  Recorder late("2:");
  informer_->AddEventHandler(late.Handler());
  auto synthetic = late.WaitFor(2);
  EXPECT_THAT(synthetic, UnorderedElementsAre("2:add ns/a 5 initial", "2:add ns/b 11 initial"));

  watch->Push(WatchEvent::Type::kModified, Pod("ns", "b", "12"));
  EXPECT_THAT(late.WaitFor(3).back(), "2:update ns/b 11->12");
  EXPECT_THAT(first.WaitFor(3),
              ElementsAre("1:add ns/a 5 initial", "1:add ns/b 11", "1:update ns/b 11->12"));
}

TEST_F(InformerTest, HandlersRunOneAtATimeOnOneThreadAndMayReadTheStore) {
  Create({Pod("ns", "a", "1"), Pod("ns", "b", "1"), Pod("ns", "c", "1")}, "10");
  std::atomic<int> running{0};
  std::atomic<int> overlaps{0};
  std::atomic<int> stale_reads{0};
  std::mutex threads_mutex;
  std::vector<std::thread::id> threads;
  auto make = [&] {
    EventHandler h;
    auto enter = [&] {
      if (running.fetch_add(1) != 0) ++overlaps;
      std::lock_guard lock(threads_mutex);
      if (std::find(threads.begin(), threads.end(), std::this_thread::get_id()) == threads.end()) {
        threads.push_back(std::this_thread::get_id());
      }
    };
    h.on_add = [&, enter](const ObjectPtr& o, bool) {
      enter();
      // The store lock is not held here: reading works and sees at least this object.
      if (informer_->store().Get(obj::Key(*o)) == nullptr) ++stale_reads;
      running.fetch_sub(1);
    };
    h.on_update = [&, enter](const ObjectPtr&, const ObjectPtr&) {
      enter();
      running.fetch_sub(1);
    };
    return h;
  };
  informer_->AddEventHandler(make());
  informer_->AddEventHandler(make());
  Recorder recorder;
  informer_->AddEventHandler(recorder.Handler());
  informer_->Start();
  auto watch = lw_->WaitForWatch(1);
  ASSERT_NE(watch, nullptr);
  for (int i = 2; i < 50; ++i) {
    watch->Push(WatchEvent::Type::kModified, Pod("ns", "a", std::to_string(i)));
  }
  ASSERT_EQ(recorder.WaitFor(3 + 48).size(), 51u);
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_EQ(stale_reads.load(), 0);
  std::lock_guard lock(threads_mutex);
  EXPECT_EQ(threads.size(), 1u);
}

TEST_F(InformerTest, HandlerRegisteredFromAHandlerIsServed) {
  Create({Pod("ns", "a", "1")}, "10");
  Recorder nested("n:");
  std::atomic<bool> registered{false};
  EventHandler outer;
  outer.on_add = [&](const ObjectPtr&, bool) {
    if (!registered.exchange(true)) informer_->AddEventHandler(nested.Handler());
  };
  informer_->AddEventHandler(outer);
  informer_->Start();
  EXPECT_THAT(nested.WaitFor(1), ElementsAre("n:add ns/a 1 initial"));
}

TEST_F(InformerTest, RelistDeliversChangesAndDeletionsWithTheLastKnownState) {
  Create({Pod("ns", "a", "1"), Pod("ns", "b", "2")}, "10");
  Recorder recorder;
  informer_->AddEventHandler(recorder.Handler());
  informer_->Start();
  auto watch = lw_->WaitForWatch(1);
  ASSERT_NE(watch, nullptr);
  ASSERT_EQ(recorder.WaitFor(2).size(), 2u);

  lw_->SetList(PodList({Pod("ns", "a", "7"), Pod("ns", "c", "8")}, "20"));
  watch->Fail(GoneError());
  auto events = recorder.WaitFor(5);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_THAT(std::vector<std::string>(events.begin() + 2, events.end()),
              ElementsAre("update ns/a 1->7", "add ns/c 8", "delete ns/b 2"));
}

TEST_F(InformerTest, DeletionOfAnUncachedObjectIsDelivered) {
  Create({}, "10");
  Recorder recorder;
  informer_->AddEventHandler(recorder.Handler());
  informer_->Start();
  auto watch = lw_->WaitForWatch(1);
  ASSERT_NE(watch, nullptr);
  watch->Push(WatchEvent::Type::kDeleted, Pod("ns", "ghost", "11"));
  EXPECT_THAT(recorder.WaitFor(1), ElementsAre("delete ns/ghost 11"));
}

TEST_F(InformerTest, ResyncRedeliversEveryObjectAsAnUpdate) {
  auto options = Options();
  options.resync_period = 10ms;
  Create({Pod("ns", "a", "1"), Pod("ns", "b", "2")}, "10", std::move(options));
  Recorder recorder;
  informer_->AddEventHandler(recorder.Handler());
  informer_->Start();
  EXPECT_TRUE(recorder.WaitUntil([](const std::vector<std::string>& events) {
    return std::count(events.begin(), events.end(), "update ns/a 1->1 resync") >= 2 &&
           std::count(events.begin(), events.end(), "update ns/b 2->2 resync") >= 2;
  }));
}

// Without old objects an update carries none (the cache would parse it for nothing); a resync
// still delivers the same object twice, so that handlers can tell the two apart.
TEST_F(InformerTest, WithoutOldObjectsUpdatesCarryNoneAndResyncsStillDo) {
  auto options = Options();
  options.deliver_old_objects = false;
  options.resync_period = 10ms;
  Create({Pod("ns", "a", "1")}, "10", std::move(options));
  Recorder recorder;
  informer_->AddEventHandler(recorder.Handler());
  informer_->Start();
  ASSERT_TRUE(informer_->WaitForSync(kWaitTimeout));
  auto watch = lw_->WaitForWatch(1);
  ASSERT_NE(watch, nullptr);
  watch->Push(WatchEvent::Type::kModified, Pod("ns", "a", "11"));
  watch->Push(WatchEvent::Type::kDeleted, Pod("ns", "a", "12"));
  watch->Push(WatchEvent::Type::kAdded, Pod("ns", "b", "13"));
  EXPECT_TRUE(recorder.WaitUntil([](const std::vector<std::string>& events) {
    return std::count(events.begin(), events.end(), "update ns/a none->11") == 1 &&
           std::count(events.begin(), events.end(), "delete ns/a 12") == 1 &&
           std::count(events.begin(), events.end(), "update ns/b 13->13 resync") >= 1;
  }));
}

TEST_F(InformerTest, NoResyncWhenThePeriodIsZero) {
  Create({Pod("ns", "a", "1")}, "10");
  Recorder recorder;
  informer_->AddEventHandler(recorder.Handler());
  informer_->Start();
  auto watch = lw_->WaitForWatch(1);
  ASSERT_NE(watch, nullptr);
  // An event after the list: once it is delivered, anything queued before it was too.
  watch->Push(WatchEvent::Type::kModified, Pod("ns", "a", "2"));
  EXPECT_THAT(recorder.WaitFor(2), ElementsAre("add ns/a 1 initial", "update ns/a 1->2"));
}

TEST_F(InformerTest, IndexesFollowChanges) {
  Create({Pod("ns", "a", "1", "node-a"), Pod("ns", "b", "1", "node-b")}, "10");
  ASSERT_TRUE(informer_->AddIndexer(kNodeNameIndex, NodeNameIndex()).has_value());
  Recorder recorder;
  informer_->AddEventHandler(recorder.Handler());
  informer_->Start();
  ASSERT_TRUE(informer_->WaitForSync(kWaitTimeout));
  auto on_a = informer_->store().ByIndex(kNodeNameIndex, "node-a");
  ASSERT_TRUE(on_a.has_value());
  ASSERT_EQ(on_a->size(), 1u);

  auto watch = lw_->WaitForWatch(1);
  ASSERT_NE(watch, nullptr);
  watch->Push(WatchEvent::Type::kModified, Pod("ns", "a", "2", "node-b"));
  ASSERT_EQ(recorder.WaitFor(3).size(), 3u);
  EXPECT_THAT(*informer_->store().ByIndex(kNodeNameIndex, "node-a"), IsEmpty());
  EXPECT_EQ(informer_->store().ByIndex(kNodeNameIndex, "node-b")->size(), 2u);

  // An index added after start covers what is cached.
  ASSERT_TRUE(informer_->AddIndexer("ns", NamespaceIndex()).has_value());
  EXPECT_EQ(informer_->store().ByIndex("ns", "ns")->size(), 2u);
}

TEST_F(InformerTest, AThrowingHandlerDoesNotStopDelivery) {
  Create({Pod("ns", "a", "1")}, "10");
  EventHandler bad;
  bad.on_add = [](const ObjectPtr&, bool) { throw std::runtime_error("boom"); };
  informer_->AddEventHandler(bad);
  Recorder recorder;
  informer_->AddEventHandler(recorder.Handler());
  informer_->Start();
  EXPECT_THAT(recorder.WaitFor(1), ElementsAre("add ns/a 1 initial"));
}

TEST_F(InformerTest, StartAndStopAreIdempotent) {
  Create({}, "10");
  informer_->Start();
  informer_->Start();
  auto watch = lw_->WaitForWatch(1);
  ASSERT_NE(watch, nullptr);
  ASSERT_TRUE(watch->WaitForReader());
  informer_->Stop();
  EXPECT_TRUE(watch->cancelled());
  informer_->Stop();
  informer_->Start();
  EXPECT_EQ(lw_->list_calls().size(), 1u);
  EXPECT_EQ(lw_->watch_calls().size(), 1u);
}

TEST_F(InformerTest, DestroyWithoutStart) {
  Create({}, "10");
  Recorder recorder;
  informer_->AddEventHandler(recorder.Handler());
  informer_.reset();
}

}  // namespace
}  // namespace vk::hostclient
