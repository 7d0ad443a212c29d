#include "hostclient/lister_watcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "hostclient/informer.h"
#include "hostclient/sleeper.h"
#include "tests/unit/hostclient/fake_transport.h"

namespace vk::hostclient {
namespace {

using ::testing::ElementsAre;
using testing::FakeByteStream;
using testing::FakeCredentials;
using testing::FakeTransport;
using ::testing::HasSubstr;
using ::testing::Not;

std::string PodJson(const std::string& name, const std::string& rv) {
  return R"({"metadata":{"name":")" + name + R"(","namespace":"default","resourceVersion":")" + rv +
         R"("}})";
}

std::string PageJson(const std::string& rv, const std::string& next,
                     const std::vector<std::string>& names) {
  std::string items;
  for (const auto& name : names) items += (items.empty() ? "" : ",") + PodJson(name, "1");
  std::string metadata = R"("resourceVersion":")" + rv + R"(")";
  if (!next.empty()) metadata += R"(,"continue":")" + next + R"(")";
  return R"({"kind":"PodList","apiVersion":"v1","metadata":{)" + metadata + R"(},"items":[)" +
         items + "]}";
}

class RestListerWatcherTest : public ::testing::Test {
 protected:
  RestListerWatcherTest() {
    auto transport = std::make_unique<FakeTransport>();
    transport_ = transport.get();
    RestClientOptions options;
    options.qps = 0;
    client_ =
        RestClient::CreateWith("virtual", std::move(transport), std::make_unique<FakeCredentials>(),
                               options, nullptr, clock_, std::make_unique<FakeSleeper>(clock_));
  }

  FakeClock clock_;
  FakeTransport* transport_ = nullptr;
  RestClientPtr client_;
};

TEST_F(RestListerWatcherTest, ListsEveryPageWithSelectorsAndThePageSize) {
  transport_->Respond(200, PageJson("50", "next-page", {"a", "b"}))
      .Respond(200, PageJson("50", "", {"c"}));
  RestListerWatcher lw(*client_, resources::Pods(), "default", "app=web", "spec.nodeName=n1");
  auto list = lw.List(ListOptions{});
  ASSERT_TRUE(list.has_value()) << list.error().ToString();
  EXPECT_EQ(list->at("items").as_array().size(), 3u);
  EXPECT_EQ(obj::String(*list, {"metadata", "resourceVersion"}), "50");

  auto requests = transport_->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_THAT(requests[0].target, HasSubstr("/api/v1/namespaces/default/pods?"));
  EXPECT_THAT(requests[0].target, HasSubstr("labelSelector=app%3Dweb"));
  EXPECT_THAT(requests[0].target, HasSubstr("fieldSelector=spec.nodeName%3Dn1"));
  EXPECT_THAT(requests[0].target, HasSubstr("limit=500"));
  EXPECT_THAT(requests[1].target, HasSubstr("continue=next-page"));
  EXPECT_THAT(requests[1].target, HasSubstr("labelSelector=app%3Dweb"));
}

TEST_F(RestListerWatcherTest, CallerPageSizeWins) {
  transport_->Respond(200, PageJson("5", "", {}));
  RestListerWatcher lw(*client_, resources::Pods());
  ListOptions options;
  options.limit = 20;
  ASSERT_TRUE(lw.List(options).has_value());
  EXPECT_THAT(transport_->last_request().target, HasSubstr("limit=20"));
  EXPECT_THAT(transport_->last_request().target, HasSubstr("/api/v1/pods?"));
}

TEST_F(RestListerWatcherTest, WatchesWithSelectorsAndTheCallersPosition) {
  transport_->RespondStream(std::make_unique<FakeByteStream>(200));
  RestListerWatcher lw(*client_, resources::Pods(), "default", "app=web");
  ListOptions options;
  options.resource_version = "77";
  options.allow_watch_bookmarks = true;
  options.timeout_seconds = 321;
  auto watch = lw.Watch(options);
  ASSERT_TRUE(watch.has_value()) << watch.error().ToString();
  const std::string target = transport_->last_request().target;
  EXPECT_THAT(target, HasSubstr("watch=true"));
  EXPECT_THAT(target, HasSubstr("resourceVersion=77"));
  EXPECT_THAT(target, HasSubstr("allowWatchBookmarks=true"));
  EXPECT_THAT(target, HasSubstr("timeoutSeconds=321"));
  EXPECT_THAT(target, HasSubstr("labelSelector=app%3Dweb"));
  EXPECT_THAT(target, Not(HasSubstr("limit=")));
}

// The whole stack: informer, reflector and store over the REST client and a scripted server.
TEST_F(RestListerWatcherTest, InformerOverTheRestClient) {
  transport_->Respond(200, PageJson("10", "", {"a"}));
  auto stream = std::make_unique<FakeByteStream>(200);
  stream
      ->Chunk(R"({"type":"MODIFIED","object":{"kind":"Pod","apiVersion":"v1",)"
              R"("metadata":{"name":"a","namespace":"default","resourceVersion":"11"}}})"
              "\n")
      .HoldOpen();
  transport_->RespondStream(std::move(stream));

  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::string> seen;
  EventHandler handler;
  handler.on_add = [&](const ObjectPtr& o, bool initial) {
    std::lock_guard lock(mutex);
    seen.push_back("add " + obj::Key(*o) + (initial ? " initial" : ""));
    cv.notify_all();
  };
  handler.on_update = [&](const ObjectPtr& old_object, const ObjectPtr& new_object) {
    std::lock_guard lock(mutex);
    seen.push_back("update " + std::string(obj::ResourceVersion(*old_object)) + "->" +
                   std::string(obj::ResourceVersion(*new_object)));
    cv.notify_all();
  };

  SharedInformer informer(std::make_unique<RestListerWatcher>(*client_, resources::Pods()));
  informer.AddEventHandler(handler);
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(std::chrono::seconds(5)));
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return seen.size() >= 2; }));
    EXPECT_THAT(seen, ElementsAre("add default/a initial", "update 1->11"));
  }
  EXPECT_EQ(obj::Kind(*informer.store().Get("default/a")), "Pod");
  // Returns although the watch body is held open: Stop cancels it.
  informer.Stop();
}

}  // namespace
}  // namespace vk::hostclient
