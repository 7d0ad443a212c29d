#include "hostclient/reflector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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
using testing::StatusObject;

// Records what the store's change hook saw, as "type key rv [from old-rv] [list]".
class ChangeLog {
 public:
  Store::ChangeHook Hook() {
    return [this](const std::vector<StoreChange>& changes, bool from_replace) {
      std::lock_guard lock(mutex_);
      for (const auto& c : changes) {
        const ObjectPtr object = c.Resolve();
        std::string s = std::string(ToString(c.type)) + " " + obj::Key(*object) + " " +
                        std::string(obj::ResourceVersion(*object));
        if (c.old_object) s += " from " + std::string(obj::ResourceVersion(*c.old_object));
        if (from_replace) s += " list";
        entries_.push_back(s);
      }
      cv_.notify_all();
    };
  }
  // The entries once there are at least n (what there is after the timeout otherwise).
  std::vector<std::string> WaitFor(size_t n) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, kWaitTimeout, [&] { return entries_.size() >= n; });
    return entries_;
  }
  std::vector<std::string> entries() {
    std::lock_guard lock(mutex_);
    return entries_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::string> entries_;
};

class ReflectorTest : public ::testing::Test {
 protected:
  ReflectorTest() : store_(log_.Hook()) {}

  ReflectorOptions Options() {
    ReflectorOptions options;
    options.name = "pods@test";
    options.clock = &clock_;
    options.sleeper = &sleeper_;
    options.random = [] { return 0.5; };
    return options;
  }

  void StartWith(const std::vector<ObjectPtr>& pods, const std::string& rv) {
    lw_.SetList(PodList(pods, rv));
    reflector_ = std::make_unique<Reflector>(lw_, store_, Options());
    reflector_->Start();
  }

  std::string StoredRv(const std::string& key) {
    auto o = store_.Get(key);
    return o ? std::string(obj::ResourceVersion(*o)) : "<absent>";
  }

  FakeClock clock_;
  FakeSleeper sleeper_{clock_};
  FakeListerWatcher lw_;
  ChangeLog log_;
  Store store_;
  std::unique_ptr<Reflector> reflector_;
};

TEST_F(ReflectorTest, ListsThenWatchesFromTheListsResourceVersion) {
  StartWith({Pod("ns", "a", "5"), Pod("ns", "b", "7")}, "10");
  ASSERT_NE(lw_.WaitForWatch(1), nullptr);

  EXPECT_TRUE(reflector_->HasSynced());
  EXPECT_THAT(log_.entries(), ElementsAre("added ns/a 5 list", "added ns/b 7 list"));
  EXPECT_EQ(reflector_->LastSyncResourceVersion(), "10");
  // List items get the kind and apiVersion the list carried.
  EXPECT_EQ(obj::Kind(*store_.Get("ns/a")), "Pod");
  EXPECT_EQ(obj::ApiVersion(*store_.Get("ns/a")), "v1");

  auto lists = lw_.list_calls();
  ASSERT_EQ(lists.size(), 1u);
  EXPECT_EQ(lists[0].limit, 500);
  auto watches = lw_.watch_calls();
  ASSERT_EQ(watches.size(), 1u);
  EXPECT_EQ(watches[0].resource_version, "10");
  EXPECT_TRUE(watches[0].allow_watch_bookmarks);
  ASSERT_TRUE(watches[0].timeout_seconds.has_value());
  EXPECT_GE(*watches[0].timeout_seconds, 300);
  EXPECT_LT(*watches[0].timeout_seconds, 600);
}

// The store and its hook see objects as the transform left them, listed or watched.
TEST_F(ReflectorTest, TransformShapesListedAndWatchedObjects) {
  lw_.SetList(PodList({Pod("ns", "a", "5", "node-1")}, "10"));
  auto options = Options();
  options.transform = [](ObjectPtr pod) {
    Object trimmed = *pod;
    trimmed.erase("spec");
    trimmed["kept"] = true;
    return std::make_shared<const Object>(std::move(trimmed));
  };
  reflector_ = std::make_unique<Reflector>(lw_, store_, std::move(options));
  reflector_->Start();
  auto watch = lw_.WaitForWatch(1);
  ASSERT_NE(watch, nullptr);
  watch->Push(WatchEvent::Type::kAdded, Pod("ns", "b", "11", "node-1"));
  ASSERT_EQ(log_.WaitFor(2).size(), 2u);
  for (const char* key : {"ns/a", "ns/b"}) {
    ObjectPtr stored = store_.Get(key);
    ASSERT_NE(stored, nullptr) << key;
    EXPECT_FALSE(stored->contains("spec")) << key;
    EXPECT_TRUE(stored->contains("kept")) << key;
  }
}

// A lister that lists in pages: "a b", then "c", then (its continue token expired) the whole
// list again as one page, "a d" at a later version.
class PagedListerWatcher : public FakeListerWatcher {
 public:
  Status ListPages(const ListOptions&, const RestClient::PageHandler& on_page) override {
    for (auto [pods, rv, first] :
         {std::tuple{std::vector<ObjectPtr>{Pod("ns", "a", "5"), Pod("ns", "b", "6")}, "10", true},
          std::tuple{std::vector<ObjectPtr>{Pod("ns", "c", "7")}, "10", false},
          std::tuple{std::vector<ObjectPtr>{Pod("ns", "a", "5"), Pod("ns", "d", "11")}, "12",
                     true}}) {
      Object page = PodList(pods, rv);
      if (auto handled = on_page(page, first); !handled) return handled;
    }
    return Ok();
  }
};

// Pages become the store's contents; a page that starts the list over drops what came before.
TEST_F(ReflectorTest, ListsPageByPageAndStartsOverWhenTheListDoes) {
  PagedListerWatcher paged;
  reflector_ = std::make_unique<Reflector>(paged, store_, Options());
  reflector_->Start();
  ASSERT_NE(paged.WaitForWatch(1), nullptr);
  EXPECT_THAT(store_.ListKeys(), UnorderedElementsAre("ns/a", "ns/d"));
  EXPECT_EQ(obj::Kind(*store_.Get("ns/d")), "Pod");
  EXPECT_EQ(reflector_->LastSyncResourceVersion(), "12");
  EXPECT_THAT(log_.entries(), ElementsAre("added ns/a 5 list", "added ns/d 11 list"));
}

TEST_F(ReflectorTest, NotSyncedBeforeTheFirstList) {
  lw_.FailNextList(NetworkError());
  reflector_ = std::make_unique<Reflector>(lw_, store_, Options());
  EXPECT_FALSE(reflector_->HasSynced());
  EXPECT_EQ(reflector_->LastSyncResourceVersion(), "");
}

TEST_F(ReflectorTest, AppliesWatchEventsInOrder) {
  StartWith({Pod("ns", "a", "5"), Pod("ns", "b", "7")}, "10");
  auto watch = lw_.WaitForWatch(1);
  ASSERT_NE(watch, nullptr);

  watch->Push(WatchEvent::Type::kAdded, Pod("ns", "c", "11"));
  watch->Push(WatchEvent::Type::kModified, Pod("ns", "a", "12"));
  watch->Push(WatchEvent::Type::kDeleted, Pod("ns", "b", "13"));
  watch->Push(WatchEvent::Type::kModified, Pod("ns", "c", "14"));

  EXPECT_THAT(log_.WaitFor(6), ElementsAre("added ns/a 5 list", "added ns/b 7 list",
                                           "added ns/c 11", "updated ns/a 12 from 5",
                                           "deleted ns/b 13 from 7", "updated ns/c 14 from 11"));
  EXPECT_EQ(StoredRv("ns/a"), "12");
  EXPECT_EQ(StoredRv("ns/b"), "<absent>");
  EXPECT_EQ(StoredRv("ns/c"), "14");
  EXPECT_EQ(reflector_->LastSyncResourceVersion(), "14");
}

TEST_F(ReflectorTest, DeletionOfAnObjectNeverSeenIsStillReported) {
  StartWith({}, "10");
  auto watch = lw_.WaitForWatch(1);
  ASSERT_NE(watch, nullptr);
  watch->Push(WatchEvent::Type::kDeleted, Pod("ns", "ghost", "11"));
  EXPECT_THAT(log_.WaitFor(1), ElementsAre("deleted ns/ghost 11"));
}

TEST_F(ReflectorTest, RewatchesFromTheLastResourceVersionWhenTheWatchEnds) {
  StartWith({Pod("ns", "a", "5")}, "10");
  auto first = lw_.WaitForWatch(1);
  ASSERT_NE(first, nullptr);
  first->Push(WatchEvent::Type::kModified, Pod("ns", "a", "11"));
  first->End();

  auto second = lw_.WaitForWatch(2);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(lw_.watch_calls()[1].resource_version, "11");
  EXPECT_EQ(lw_.list_calls().size(), 1u);
  EXPECT_THAT(sleeper_.sleeps(), IsEmpty());

  second->Push(WatchEvent::Type::kModified, Pod("ns", "a", "12"));
  EXPECT_THAT(log_.WaitFor(3), ElementsAre("added ns/a 5 list", "updated ns/a 11 from 5",
                                           "updated ns/a 12 from 11"));
}

TEST_F(ReflectorTest, BookmarksAdvanceTheResourceVersionOnly) {
  StartWith({Pod("ns", "a", "5")}, "10");
  auto first = lw_.WaitForWatch(1);
  ASSERT_NE(first, nullptr);
  auto bookmark = std::make_shared<const Object>(
      Object{{"kind", "Pod"}, {"metadata", Object{{"resourceVersion", "40"}}}});
  first->Push(WatchEvent::Type::kBookmark, bookmark);
  first->End();

  ASSERT_NE(lw_.WaitForWatch(2), nullptr);
  EXPECT_EQ(lw_.watch_calls()[1].resource_version, "40");
  EXPECT_EQ(reflector_->LastSyncResourceVersion(), "40");
  EXPECT_THAT(log_.entries(), ElementsAre("added ns/a 5 list"));
}

TEST_F(ReflectorTest, GoneErrorEventRelistsAndReportsTheDifference) {
  StartWith({Pod("ns", "same", "1"), Pod("ns", "changed", "2"), Pod("ns", "vanished", "3")}, "10");
  auto first = lw_.WaitForWatch(1);
  ASSERT_NE(first, nullptr);

  // While the watch was away: one object changed, one vanished, one appeared.
  lw_.SetList(
      PodList({Pod("ns", "same", "1"), Pod("ns", "changed", "15"), Pod("ns", "new", "16")}, "20"));
  first->Push(WatchEvent::Type::kError, StatusObject(410, "Expired", "too old resource version"));

  auto second = lw_.WaitForWatch(2);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(lw_.list_calls().size(), 2u);
  EXPECT_EQ(lw_.watch_calls()[1].resource_version, "20");
  EXPECT_THAT(log_.entries(),
              ElementsAre("added ns/same 1 list", "added ns/changed 2 list",
                          "added ns/vanished 3 list", "updated ns/changed 15 from 2 list",
                          "added ns/new 16 list", "deleted ns/vanished 3 from 3 list"));
  EXPECT_THAT(sleeper_.sleeps(), IsEmpty());
}

TEST_F(ReflectorTest, GoneFromTheStreamRelists) {
  StartWith({Pod("ns", "a", "1")}, "10");
  auto first = lw_.WaitForWatch(1);
  ASSERT_NE(first, nullptr);
  lw_.SetList(PodList({}, "30"));
  first->Fail(GoneError());

  ASSERT_NE(lw_.WaitForWatch(2), nullptr);
  EXPECT_EQ(lw_.watch_calls()[1].resource_version, "30");
  EXPECT_THAT(log_.entries(), ElementsAre("added ns/a 1 list", "deleted ns/a 1 from 1 list"));
}

TEST_F(ReflectorTest, GoneWhenOpeningTheWatchRelists) {
  StartWith({Pod("ns", "a", "1")}, "10");
  auto first = lw_.WaitForWatch(1);
  ASSERT_NE(first, nullptr);
  lw_.FailNextWatch(GoneError());
  lw_.SetList(PodList({Pod("ns", "a", "25")}, "30"));
  first->Push(WatchEvent::Type::kModified, Pod("ns", "a", "11"));
  first->End();

  // Watch 2 (from 11) is refused with 410; the relist is followed by watch 3 from 30.
  ASSERT_NE(lw_.WaitForWatch(3), nullptr);
  auto watches = lw_.watch_calls();
  EXPECT_EQ(watches[1].resource_version, "11");
  EXPECT_EQ(watches[2].resource_version, "30");
  EXPECT_EQ(lw_.list_calls().size(), 2u);
  EXPECT_EQ(StoredRv("ns/a"), "25");
}

TEST_F(ReflectorTest, GoneRightAfterAListBacksOffBeforeListingAgain) {
  // A server that refuses even the resourceVersion it just listed at must not cause a list storm.
  lw_.FailNextWatch(GoneError());
  StartWith({}, "10");
  ASSERT_NE(lw_.WaitForWatch(2), nullptr);
  EXPECT_EQ(sleeper_.sleeps().size(), 1u);
  EXPECT_EQ(lw_.list_calls().size(), 2u);
}

TEST_F(ReflectorTest, ErrorsBackOffExponentiallyUpToTheCapThenRewatch) {
  StartWith({Pod("ns", "a", "1")}, "10");
  auto first = lw_.WaitForWatch(1);
  ASSERT_NE(first, nullptr);
  constexpr int kFailedOpens = 9;
  for (int i = 0; i < kFailedOpens; ++i) lw_.FailNextWatch(NetworkError());
  first->Push(WatchEvent::Type::kModified, Pod("ns", "a", "11"));
  first->Fail(NetworkError());

  auto recovered = lw_.WaitForWatch(kFailedOpens + 2);
  ASSERT_NE(recovered, nullptr);
  auto sleeps = sleeper_.sleeps();
  ASSERT_EQ(sleeps.size(), static_cast<size_t>(kFailedOpens + 1));
  EXPECT_GE(sleeps.front(), 800ms);
  for (size_t i = 1; i < sleeps.size(); ++i) {
    EXPECT_GE(sleeps[i], sleeps[i - 1]) << "sleep " << i;
    EXPECT_LE(sleeps[i], 30s) << "sleep " << i;
  }
  EXPECT_EQ(sleeps.back(), 30s);
  // Errors other than 410 keep the position: no relist, every watch from 11.
  EXPECT_EQ(lw_.list_calls().size(), 1u);
  for (size_t i = 1; i < lw_.watch_calls().size(); ++i) {
    EXPECT_EQ(lw_.watch_calls()[i].resource_version, "11");
  }

  // After a quiet spell the sequence starts again from the bottom.
  clock_.Advance(5min);
  recovered->Fail(NetworkError());
  ASSERT_NE(lw_.WaitForWatch(kFailedOpens + 3), nullptr);
  sleeps = sleeper_.sleeps();
  ASSERT_EQ(sleeps.size(), static_cast<size_t>(kFailedOpens + 2));
  EXPECT_EQ(sleeps.back(), sleeps.front());
}

TEST_F(ReflectorTest, ErrorEventOtherThanGoneBacksOffAndRewatches) {
  StartWith({}, "10");
  auto first = lw_.WaitForWatch(1);
  ASSERT_NE(first, nullptr);
  first->Push(WatchEvent::Type::kError, StatusObject(500, "InternalError", "etcd is sad"));
  ASSERT_NE(lw_.WaitForWatch(2), nullptr);
  EXPECT_EQ(sleeper_.sleeps().size(), 1u);
  EXPECT_EQ(lw_.watch_calls()[1].resource_version, "10");
  EXPECT_EQ(lw_.list_calls().size(), 1u);
}

TEST_F(ReflectorTest, WatchEndingAtOnceWithoutEventsBacksOff) {
  StartWith({}, "10");
  auto first = lw_.WaitForWatch(1);
  ASSERT_NE(first, nullptr);
  first->End();
  ASSERT_NE(lw_.WaitForWatch(2), nullptr);
  EXPECT_EQ(sleeper_.sleeps().size(), 1u);
}

TEST_F(ReflectorTest, ListFailuresBackOffAndRetryTheList) {
  lw_.FailNextList(NetworkError());
  lw_.FailNextList(Error(ErrorCode::kServiceUnavailable, "apiserver starting"));
  StartWith({Pod("ns", "a", "1")}, "10");
  ASSERT_NE(lw_.WaitForWatch(1), nullptr);
  EXPECT_EQ(lw_.list_calls().size(), 3u);
  EXPECT_EQ(sleeper_.sleeps().size(), 2u);
  EXPECT_TRUE(reflector_->HasSynced());
  EXPECT_EQ(StoredRv("ns/a"), "1");
}

TEST_F(ReflectorTest, MalformedListIsAFailure) {
  Object bad = PodList({}, "10");
  bad["items"] = "not an array";
  lw_.SetList(bad);
  reflector_ = std::make_unique<Reflector>(lw_, store_, Options());
  reflector_->Start();
  ASSERT_TRUE(lw_.WaitForListCalls(2));
  reflector_->Stop();
  EXPECT_FALSE(reflector_->HasSynced());
  EXPECT_EQ(lw_.watch_calls().size(), 0u);
}

TEST_F(ReflectorTest, StopCancelsABlockedWatch) {
  StartWith({}, "10");
  auto watch = lw_.WaitForWatch(1);
  ASSERT_NE(watch, nullptr);
  ASSERT_TRUE(watch->WaitForReader());
  reflector_->Stop();
  EXPECT_TRUE(watch->cancelled());
  reflector_->Stop();  // idempotent
  EXPECT_EQ(lw_.watch_calls().size(), 1u);
}

TEST(ReflectorStopTest, StopInterruptsABackoffWait) {
  FakeListerWatcher lw;
  lw.FailNextList(NetworkError());
  Store store;
  ReflectorOptions options;
  options.backoff_base = std::chrono::hours(1);
  options.backoff_max = std::chrono::hours(1);
  Reflector reflector(lw, store, options);  // the real sleeper
  reflector.Start();
  ASSERT_TRUE(lw.WaitForListCalls(1));
  const auto before = std::chrono::steady_clock::now();
  reflector.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 2s);
  EXPECT_EQ(lw.list_calls().size(), 1u);
}

TEST(ReflectorStopTest, StopBeforeStartAndNoRestart) {
  FakeListerWatcher lw;
  Store store;
  Reflector reflector(lw, store);
  reflector.Stop();
  reflector.Start();
  EXPECT_EQ(lw.list_calls().size(), 0u);
}

}  // namespace
}  // namespace vk::hostclient
