#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "tests/unit/kubesim/storage_fixture.h"

namespace vk::kubesim {
namespace {

using testing::J;

// Drains a watcher the way the HTTP server will: on notify, from another thread.
class Consumer {
 public:
  explicit Consumer(WatcherPtr w) : w_(std::move(w)) {
    w_->SetNotify([this] {
      std::lock_guard lock(mu_);
      ++notifications_;
      cv_.notify_all();
    });
  }

  ~Consumer() {
    w_->SetNotify(nullptr);
    w_->Close();
  }

  // Waits (bounded) until at least n events arrived; returns all received so far.
  std::vector<WatchEventRecord> WaitFor(size_t n) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    std::unique_lock lock(mu_);
    while (true) {
      open_ = w_->Drain(events_) && open_;
      if (events_.size() >= n || !open_) break;
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
        open_ = w_->Drain(events_) && open_;
        break;
      }
    }
    return events_;
  }

  // Everything delivered so far without waiting.
  std::vector<WatchEventRecord> Now() {
    std::lock_guard lock(mu_);
    open_ = w_->Drain(events_) && open_;
    return events_;
  }

  bool open() const { return open_; }
  int notifications() {
    std::lock_guard lock(mu_);
    return notifications_;
  }

 private:
  WatcherPtr w_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<WatchEventRecord> events_;
  int notifications_ = 0;
  bool open_ = true;
};

std::vector<std::string> Summary(const std::vector<WatchEventRecord>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.type + " " + std::string(obj::Name(*e.object)));
  return out;
}

class StorageWatchTest : public testing::StorageTest {
 protected:
  ListQuery Query(std::string rv = "", std::string ns = "default") {
    ListQuery q;
    q.ns = std::move(ns);
    q.resource_version = std::move(rv);
    return q;
  }
  Object Cm(std::string_view name, std::string_view labels = "{}") {
    return J(R"({"metadata":{"name":")" + std::string(name) + R"(","labels":)" +
             std::string(labels) + "}}");
  }
  WatcherPtr WatchOk(const ResourceInfo& r, const ListQuery& q) {
    return Ok(storage_->Watch(r, q));
  }
};

TEST_F(StorageWatchTest, InitialStateThenLiveEvents) {
  ASSERT_TRUE(storage_->Create(R("configmaps"), "default", Cm("a"), false));
  Consumer c(WatchOk(R("configmaps"), Query("")));
  EXPECT_EQ(Summary(c.WaitFor(2)), (std::vector<std::string>{"ADDED a", "ADDED kube-root-ca.crt"}));
  std::thread writer([&] {
    Object b = Ok(storage_->Create(R("configmaps"), "default", Cm("b"), false));
    b["data"] = Object{{"k", "v"}};
    ASSERT_TRUE(storage_->Update(R("configmaps"), "default", "b", b, "", false));
    ASSERT_TRUE(storage_->Delete(R("configmaps"), "default", "b", {}));
  });
  auto events = c.WaitFor(5);
  writer.join();
  ASSERT_EQ(Summary(events), (std::vector<std::string>{"ADDED a", "ADDED kube-root-ca.crt",
                                                       "ADDED b", "MODIFIED b", "DELETED b"}));
  EXPECT_LT(Rv(*events[2].object), Rv(*events[3].object));
  EXPECT_EQ(Rv(*events[4].object), storage_->CurrentResourceVersion())
      << "DELETED carries the deletion's resourceVersion";
  EXPECT_EQ(events[4].object->at("data").at("k"), "v") << "and the last state";
  EXPECT_GE(c.notifications(), 1);
}

TEST_F(StorageWatchTest, ReplayFromResourceVersion) {
  Object a = Ok(storage_->Create(R("configmaps"), "default", Cm("a"), false));
  ASSERT_TRUE(storage_->Create(R("configmaps"), "default", Cm("b"), false));
  ASSERT_TRUE(storage_->Delete(R("configmaps"), "default", "a", {}));
  Consumer c(WatchOk(R("configmaps"), Query(std::string(obj::ResourceVersion(a)))));
  EXPECT_EQ(Summary(c.WaitFor(2)), (std::vector<std::string>{"ADDED b", "DELETED a"}));
  Consumer now(WatchOk(R("configmaps"), Query(std::to_string(storage_->CurrentResourceVersion()))));
  EXPECT_TRUE(now.Now().empty());
}

TEST_F(StorageWatchTest, TooOldAndTooNewResourceVersions) {
  Storage::Options options;
  options.watch_history = 3;
  Reset(options);
  uint64_t start = storage_->CurrentResourceVersion();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(storage_->Create(R("configmaps"), "default", Cm("c" + std::to_string(i)), false));
  }
  auto old = storage_->Watch(R("configmaps"), Query(std::to_string(start)));
  ASSERT_FALSE(old);
  EXPECT_EQ(old.error().code(), ErrorCode::kGone);
  EXPECT_EQ(old.error().reason(), "Expired");
  EXPECT_EQ(old.error().message(), "too old resource version: " + std::to_string(start) + " (" +
                                       std::to_string(start + 2) + ")");
  EXPECT_TRUE(storage_->Watch(R("configmaps"), Query(std::to_string(start + 2))))
      << "the oldest kept event's predecessor is still servable";
  auto future = storage_->Watch(R("configmaps"), Query(std::to_string(start + 100)));
  ASSERT_FALSE(future);
  EXPECT_EQ(future.error().code(), ErrorCode::kServerTimeout);
}

TEST_F(StorageWatchTest, SelectorTransitionsBecomeAddedAndDeleted) {
  ListQuery q = Query(std::to_string(storage_->CurrentResourceVersion()));
  q.label_selector = "app=web";
  Consumer c(WatchOk(R("configmaps"), q));
  ASSERT_TRUE(storage_->Create(R("configmaps"), "default", Cm("x", R"({"app":"db"})"), false));
  auto patch = [&](std::string_view app) {
    ASSERT_TRUE(storage_->Patch(R("configmaps"), "default", "x", PatchKind::kMergePatch,
                                R"({"metadata":{"labels":{"app":")" + std::string(app) + R"("}}})",
                                "", "", false, false));
  };
  patch("web");
  patch("web2");
  patch("web");
  ASSERT_TRUE(storage_->Delete(R("configmaps"), "default", "x", {}));
  auto events = c.WaitFor(4);
  ASSERT_EQ(Summary(events),
            (std::vector<std::string>{"ADDED x", "DELETED x", "ADDED x", "DELETED x"}));
  EXPECT_EQ(obj::Label(*events[1].object, "app"), "web")
      << "DELETED carries the last matching state";
  EXPECT_GT(Rv(*events[1].object), Rv(*events[0].object)) << "at the event's resourceVersion";
}

TEST_F(StorageWatchTest, FieldSelectorFollowsBinding) {
  ListQuery q = Query("", "");
  q.field_selector = "spec.nodeName=n1";
  Consumer c(WatchOk(R("pods"), q));
  CreatePod("p");
  ASSERT_TRUE(storage_->BindPod("default", "p", "n1"));
  auto events = c.WaitFor(1);
  ASSERT_EQ(Summary(events), (std::vector<std::string>{"ADDED p"}));
  EXPECT_EQ(obj::String(*events[0].object, {"spec", "nodeName"}), "n1");
}

TEST_F(StorageWatchTest, GracefulDeletionEvents) {
  CreatePod("p", R"("nodeName":"n1")");
  Consumer c(WatchOk(R("pods"), Query(std::to_string(storage_->CurrentResourceVersion()))));
  ASSERT_TRUE(storage_->Delete(R("pods"), "default", "p", {}));
  DeleteRequest now;
  now.grace_period_seconds = 0;
  ASSERT_TRUE(storage_->Delete(R("pods"), "default", "p", now));
  auto events = c.WaitFor(3);
  ASSERT_EQ(Summary(events), (std::vector<std::string>{"MODIFIED p", "MODIFIED p", "DELETED p"}));
  EXPECT_EQ(obj::Int(*events[1].object, {"metadata", "deletionGracePeriodSeconds"}), 0);
}

TEST_F(StorageWatchTest, NamespaceScopeAndNoOpWrites) {
  Consumer c(WatchOk(R("configmaps"), Query(std::to_string(storage_->CurrentResourceVersion()))));
  ASSERT_TRUE(storage_->Create(R("configmaps"), "kube-system", Cm("elsewhere"), false));
  Object a = Ok(storage_->Create(R("configmaps"), "default", Cm("a"), false));
  ASSERT_TRUE(storage_->Update(R("configmaps"), "default", "a", a, "", false));
  ASSERT_TRUE(storage_->Create(R("configmaps"), "default", Cm("b"), false));
  EXPECT_EQ(Summary(c.WaitFor(2)), (std::vector<std::string>{"ADDED a", "ADDED b"}))
      << "no event for the no-op update or the other namespace";
}

TEST_F(StorageWatchTest, Bookmarks) {
  ListQuery q = Query(std::to_string(storage_->CurrentResourceVersion()));
  q.allow_bookmarks = true;
  auto w = WatchOk(R("configmaps"), q);
  Consumer c(w);
  ASSERT_TRUE(storage_->Create(R("configmaps"), "kube-system", Cm("elsewhere"), false));
  w->RequestBookmark();
  auto events = c.WaitFor(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "BOOKMARK");
  EXPECT_EQ(obj::Kind(*events[0].object), "ConfigMap");
  EXPECT_EQ(obj::ApiVersion(*events[0].object), "v1");
  EXPECT_EQ(Rv(*events[0].object), storage_->CurrentResourceVersion());

  auto plain = WatchOk(R("configmaps"), Query(std::to_string(storage_->CurrentResourceVersion())));
  Consumer p(plain);
  plain->RequestBookmark();
  EXPECT_TRUE(p.Now().empty()) << "no bookmarks unless asked for";
}

TEST_F(StorageWatchTest, SendInitialEvents) {
  ListQuery q = Query("");
  q.send_initial_events = true;
  auto invalid = storage_->Watch(R("configmaps"), q);
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.error().code(), ErrorCode::kInvalid);
  q.allow_bookmarks = true;
  q.resource_version_match = "NotOlderThan";
  q.resource_version = "0";
  Consumer c(WatchOk(R("configmaps"), q));
  auto events = c.WaitFor(2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, "ADDED");
  EXPECT_EQ(events[1].type, "BOOKMARK");
  EXPECT_EQ(obj::Annotation(*events[1].object, "k8s.io/initial-events-end"), "true");

  q.resource_version = "";  // a consistent read, as client-go's watch-list asks
  Consumer latest(WatchOk(R("configmaps"), q));
  EXPECT_EQ(latest.WaitFor(2).size(), 2u);
  ListQuery match_without_initial_events = Query("5");
  match_without_initial_events.resource_version_match = "NotOlderThan";
  EXPECT_EQ(storage_->Watch(R("configmaps"), match_without_initial_events).error().code(),
            ErrorCode::kInvalid);
}

TEST_F(StorageWatchTest, CloseAllWatchersEndsStreams) {
  Consumer c(WatchOk(R("configmaps"), Query("0")));
  c.WaitFor(1);
  storage_->CloseAllWatchers();
  c.WaitFor(100);
  EXPECT_FALSE(c.open());
  ASSERT_TRUE(storage_->Create(R("configmaps"), "default", Cm("after"), false));
}

TEST_F(StorageWatchTest, UndrainedWatcherDoesNotBlockWriters) {
  auto w = WatchOk(R("configmaps"), Query(""));
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(storage_->Create(R("configmaps"), "default", Cm("c" + std::to_string(i)), false));
  }
  std::vector<WatchEventRecord> events;
  EXPECT_TRUE(w->Drain(events));
  EXPECT_EQ(events.size(), 2001u);
}

TEST_F(StorageWatchTest, ClosedConsumerIsDropped) {
  auto w = WatchOk(R("configmaps"), Query(""));
  w->Close();
  std::vector<WatchEventRecord> events;
  EXPECT_TRUE(w->Drain(events)) << "the initial event is still delivered";
  EXPECT_FALSE(w->Drain(events));
  ASSERT_TRUE(storage_->Create(R("configmaps"), "default", Cm("x"), false));
  EXPECT_FALSE(w->Drain(events));
}

}  // namespace
}  // namespace vk::kubesim
