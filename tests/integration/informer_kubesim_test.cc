// A SharedInformer on a RestListerWatcher against kubesim: the cache follows the server through
// watch timeouts, expired resourceVersions (410 → relist) and server restarts.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>

#include "hostclient/informer.h"
#include "hostclient/lister_watcher.h"
#include "hostclient/rest_client.h"
#include "tests/support/kubesim_instance.h"
#include "tests/support/sample_objects.h"

namespace vk::hostclient {
namespace {

using std::chrono::seconds;

// Collects what an informer's handler saw, and lets a test wait for a condition on it.
class Recorder {
 public:
  EventHandler Handler() {
    EventHandler handler;
    handler.on_add = [this](const ObjectPtr& o, bool) { Record([&] { names_.insert(Name(o)); }); };
    handler.on_update = [this](const ObjectPtr&, const ObjectPtr& o) {
      Record([&] { names_.insert(Name(o)); });
    };
    handler.on_delete = [this](const ObjectPtr& o) {
      Record([&] {
        names_.erase(Name(o));
        ++deletes_;
      });
    };
    return handler;
  }

  // Waits until pred(names, deletes) holds or the deadline passes.
  template <typename Pred>
  bool WaitFor(Pred pred, std::chrono::steady_clock::duration timeout = seconds(10)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return pred(names_, deletes_); });
  }

 private:
  static std::string Name(const ObjectPtr& o) { return std::string(obj::Name(*o)); }
  template <typename Fn>
  void Record(Fn fn) {
    {
      std::lock_guard lock(mutex_);
      fn();
    }
    changed_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::set<std::string> names_;
  int deletes_ = 0;
};

class InformerKubesimTest : public ::testing::Test {
 protected:
  void StartKubesim(size_t watch_history) {
    kubesim::ApiServer::Options options;
    options.storage.watch_history = watch_history;
    options.storage.builtin_controllers = false;  // exact object counts below
    auto instance = testing::KubesimInstance::Start(options);
    ASSERT_TRUE(instance.has_value()) << instance.error().ToString();
    kubesim_ = std::move(*instance);
    auto client = RestClient::Create(kubesim_->TokenConfig());
    ASSERT_TRUE(client.has_value()) << client.error().ToString();
    client_ = std::move(*client);
  }

  void StartInformer() {
    InformerOptions options;
    options.name = "configmaps@test";
    options.reflector.backoff_base = std::chrono::milliseconds(20);
    options.reflector.backoff_max = std::chrono::milliseconds(200);
    options.reflector.min_watch_duration = std::chrono::milliseconds(0);
    informer_ = std::make_unique<SharedInformer>(
        std::make_unique<RestListerWatcher>(*client_, resources::ConfigMaps(), "default"), options);
    informer_->AddEventHandler(recorder_.Handler());
    informer_->Start();
    ASSERT_TRUE(informer_->WaitForSync(seconds(10)));
  }

  void TearDown() override {
    if (informer_) informer_->Stop();
  }

  void CreateConfigMap(const std::string& name) {
    auto created = client_->Create(resources::ConfigMaps(), "default",
                                   testing::SampleConfigMap("default", name, 1, 8));
    ASSERT_TRUE(created.has_value()) << created.error().ToString();
  }

  void DeleteConfigMap(const std::string& name) {
    auto deleted = client_->Delete(resources::ConfigMaps(), "default", name);
    ASSERT_TRUE(deleted.has_value()) << deleted.error().ToString();
  }

  std::unique_ptr<testing::KubesimInstance> kubesim_;
  RestClientPtr client_;
  Recorder recorder_;
  std::unique_ptr<SharedInformer> informer_;
};

TEST_F(InformerKubesimTest, FollowsCreatesAndDeletes) {
  StartKubesim(10000);
  CreateConfigMap("before");
  StartInformer();
  EXPECT_NE(informer_->store().Get("default/before"), nullptr);
  CreateConfigMap("after");
  DeleteConfigMap("before");
  EXPECT_TRUE(recorder_.WaitFor([](const std::set<std::string>& names, int deletes) {
    return names.count("after") == 1 && names.count("before") == 0 && deletes == 1;
  }));
}

TEST_F(InformerKubesimTest, RelistsAfterGoneAndConverges) {
  // A history of 20 events: a watch that reconnects after more writes than that gets 410.
  StartKubesim(20);
  for (int i = 0; i < 5; ++i) CreateConfigMap("keep-" + std::to_string(i));
  CreateConfigMap("doomed");
  StartInformer();

  // Cut the watch, then write far more than the history holds before it comes back.
  kubesim_->server().Stop();
  auto& storage = kubesim_->server().storage();
  const auto& info = *kubesim_->server().catalog().Find("", "v1", "configmaps");
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(storage
                    .Create(info, "default",
                            testing::SampleConfigMap("default", "new-" + std::to_string(i), 1, 8),
                            false)
                    .has_value());
  }
  ASSERT_TRUE(storage.Delete(info, "default", "doomed", {}).has_value());
  ASSERT_TRUE(kubesim_->server().Start().has_value());

  // The reflector's re-watch from its old resourceVersion answers 410; it relists and the
  // cache (and the handlers) converge on the server's state, deletion included.
  EXPECT_TRUE(recorder_.WaitFor([](const std::set<std::string>& names, int deletes) {
    return names.size() == 55 && names.count("doomed") == 0 && deletes == 1;
  }));
  EXPECT_EQ(informer_->store().Size(), 55u);
  EXPECT_EQ(informer_->store().Get("default/doomed"), nullptr);
}

TEST_F(InformerKubesimTest, ReconnectsWhenWatchesAreDropped) {
  StartKubesim(10000);
  StartInformer();
  for (int round = 0; round < 3; ++round) {
    kubesim_->server().faults().DropWatches();
    const std::string name = "round-" + std::to_string(round);
    CreateConfigMap(name);
    EXPECT_TRUE(recorder_.WaitFor([&](const std::set<std::string>& names, int) {
      return names.count(name) == 1;
    })) << name;
  }
}

TEST_F(InformerKubesimTest, ReconnectsAfterServerRestart) {
  StartKubesim(10000);
  StartInformer();
  kubesim_->server().Stop();
  ASSERT_TRUE(kubesim_->server().Start().has_value());
  CreateConfigMap("after-restart");
  EXPECT_TRUE(recorder_.WaitFor(
      [](const std::set<std::string>& names, int) { return names.count("after-restart") == 1; }));
}

}  // namespace
}  // namespace vk::hostclient
