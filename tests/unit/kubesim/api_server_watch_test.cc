// kubesim's watch streams over HTTP: incremental delivery, 410 as an ERROR event, timeouts,
// bookmarks, Table events, dropped watches and many concurrent watches.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tests/kubesim/api_server.h"
#include "tests/kubesim/http_test_client.h"
#include "tests/support/wait_for.h"

namespace vk::kubesim {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

Object ConfigMap(const std::string& name) {
  return Object{{"apiVersion", "v1"},
                {"kind", "ConfigMap"},
                {"metadata", json::object{{"name", name}}},
                {"data", json::object{{"k", "v"}}}};
}

using vk::testing::WaitFor;

class WatchTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(ApiServer::Options{}); }

  void Start(ApiServer::Options options) {
    options.tokens["t"] = UserInfo{"admin", "", {"system:masters"}, {}};
    server_ = std::make_unique<ApiServer>(std::move(options));
    ASSERT_TRUE(server_->Start());
    client_ = NewClient();
  }

  std::unique_ptr<HttpTestClient> NewClient() {
    HttpTestClient::Options o;
    o.base_url = server_->url();
    o.bearer_token = "t";
    return std::make_unique<HttpTestClient>(o);
  }

  std::string ListResourceVersion() {
    auto r = client_->Get(kBase);
    EXPECT_TRUE(r);
    auto list = r->Json();
    EXPECT_TRUE(list);
    return std::string(obj::String(*list, {"metadata", "resourceVersion"}));
  }

  void CreateConfigMap(const std::string& name) {
    auto r = client_->Post(kBase, ConfigMap(name));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 201) << r->body;
  }

  std::unique_ptr<HttpTestClient::Stream> Watch(const std::string& query,
                                                HttpTestClient::Headers headers = {}) {
    auto stream = client_->OpenStream("GET", kBase + "?watch=1&" + query, headers);
    EXPECT_TRUE(stream) << stream.error().ToString();
    return stream ? std::move(*stream) : nullptr;
  }

  // Reads one event line and parses it.
  Object NextEvent(HttpTestClient::Stream& stream, std::chrono::milliseconds timeout = 2s) {
    auto line = stream.ReadLine(timeout);
    EXPECT_TRUE(line) << line.error().ToString();
    if (!line || !*line) {
      ADD_FAILURE() << "stream ended";
      return Object{};
    }
    auto event = obj::Parse(**line);
    EXPECT_TRUE(event) << **line;
    return event.value_or(Object{});
  }

  const std::string kBase = "/api/v1/namespaces/default/configmaps";
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<HttpTestClient> client_;
};

TEST_F(WatchTest, EventsArriveWhileTheStreamIsOpen) {
  const std::string rv = ListResourceVersion();
  auto stream = Watch("resourceVersion=" + rv);
  ASSERT_TRUE(stream);
  EXPECT_EQ(stream->status(), 200);
  EXPECT_EQ(stream->Header("content-type"), "application/json");
  EXPECT_EQ(stream->Header("transfer-encoding"), "chunked");
  EXPECT_TRUE(WaitFor([&] { return server_->active_watches() == 1; }));

  // Nothing yet: the stream stays open without events.
  auto idle = stream->ReadLine(100ms);
  ASSERT_FALSE(idle);
  EXPECT_EQ(idle.error().code(), ErrorCode::kTimeout);

  CreateConfigMap("w1");
  Object added = NextEvent(*stream);
  EXPECT_EQ(obj::String(added, {"type"}), "ADDED");
  EXPECT_EQ(obj::String(added, {"object", "metadata", "name"}), "w1");
  EXPECT_EQ(obj::String(added, {"object", "kind"}), "ConfigMap");

  auto patched =
      client_->Patch(kBase + "/w1", "application/merge-patch+json", R"({"data":{"k":"v2"}})");
  ASSERT_TRUE(patched);
  Object modified = NextEvent(*stream);
  EXPECT_EQ(obj::String(modified, {"type"}), "MODIFIED");
  EXPECT_EQ(obj::String(modified, {"object", "data", "k"}), "v2");

  ASSERT_TRUE(client_->Delete(kBase + "/w1"));
  Object deleted = NextEvent(*stream);
  EXPECT_EQ(obj::String(deleted, {"type"}), "DELETED");
}

TEST_F(WatchTest, WatchFromZeroStartsWithTheCurrentState) {
  CreateConfigMap("a");
  CreateConfigMap("b");
  auto stream = Watch("resourceVersion=0");
  ASSERT_TRUE(stream);
  std::set<std::string> names;
  for (int i = 0; i < 2; ++i) {
    Object e = NextEvent(*stream);
    EXPECT_EQ(obj::String(e, {"type"}), "ADDED");
    names.insert(std::string(obj::String(e, {"object", "metadata", "name"})));
  }
  EXPECT_EQ(names, (std::set<std::string>{"a", "b"}));
}

TEST_F(WatchTest, TooOldResourceVersionIsAnErrorEventWithStatus410) {
  ApiServer::Options o;
  o.storage.watch_history = 3;
  Start(std::move(o));
  for (int i = 0; i < 10; ++i) CreateConfigMap("old-" + std::to_string(i));
  auto stream = Watch("resourceVersion=1");
  ASSERT_TRUE(stream);
  EXPECT_EQ(stream->status(), 200);
  Object error = NextEvent(*stream);
  EXPECT_EQ(obj::String(error, {"type"}), "ERROR");
  EXPECT_EQ(obj::String(error, {"object", "kind"}), "Status");
  EXPECT_EQ(obj::Int(error, {"object", "code"}), 410);
  EXPECT_EQ(obj::String(error, {"object", "reason"}), "Expired");
  EXPECT_NE(obj::String(error, {"object", "message"}).find("too old resource version"),
            std::string::npos);
  auto end = stream->ReadLine(2s);
  ASSERT_TRUE(end) << end.error().ToString();
  EXPECT_FALSE(*end);
}

TEST_F(WatchTest, TimeoutSecondsEndsTheStreamCleanly) {
  auto stream = Watch("resourceVersion=" + ListResourceVersion() + "&timeoutSeconds=1");
  ASSERT_TRUE(stream);
  const auto start = std::chrono::steady_clock::now();
  auto end = stream->ReadLine(3s);
  ASSERT_TRUE(end) << end.error().ToString();
  EXPECT_FALSE(*end);  // the terminating chunk, not a broken connection
  EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);
  EXPECT_TRUE(WaitFor([&] { return server_->active_watches() == 0; }));
}

TEST_F(WatchTest, BookmarksAtTheInterval) {
  ApiServer::Options o;
  o.bookmark_interval = 50ms;
  Start(std::move(o));
  auto stream = Watch("resourceVersion=" + ListResourceVersion() + "&allowWatchBookmarks=true");
  ASSERT_TRUE(stream);
  Object bookmark = NextEvent(*stream);
  EXPECT_EQ(obj::String(bookmark, {"type"}), "BOOKMARK");
  EXPECT_FALSE(obj::String(bookmark, {"object", "metadata", "resourceVersion"}).empty());
  // Without allowWatchBookmarks there are none.
  auto plain = Watch("resourceVersion=" + ListResourceVersion());
  auto none = plain->ReadLine(200ms);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), ErrorCode::kTimeout);
}

TEST_F(WatchTest, TableEventsForKubectlGetWatch) {
  auto stream =
      Watch("resourceVersion=" + ListResourceVersion(),
            {{"Accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}});
  ASSERT_TRUE(stream);
  CreateConfigMap("tbl");
  Object e = NextEvent(*stream);
  EXPECT_EQ(obj::String(e, {"type"}), "ADDED");
  EXPECT_EQ(obj::String(e, {"object", "kind"}), "Table");
  const auto& row = obj::Find(e, {"object", "rows"})->as_array()[0].as_object();
  EXPECT_EQ(row.at("cells").as_array()[0].as_string(), "tbl");
}

TEST_F(WatchTest, DroppedWatchesBreakTheConnection) {
  auto stream = Watch("resourceVersion=" + ListResourceVersion());
  ASSERT_TRUE(stream);
  ASSERT_TRUE(WaitFor([&] { return server_->active_watches() == 1; }));
  server_->faults().DropWatches();
  auto r = stream->ReadLine(2s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kNetwork);
  EXPECT_TRUE(WaitFor([&] { return server_->active_watches() == 0; }));
  // Other requests are unaffected.
  EXPECT_EQ(client_->Get(kBase)->status, 200);
}

TEST_F(WatchTest, StopClosesOpenWatches) {
  auto stream = Watch("resourceVersion=" + ListResourceVersion());
  ASSERT_TRUE(stream);
  ASSERT_TRUE(WaitFor([&] { return server_->active_watches() == 1; }));
  server_->Stop();
  auto r = stream->ReadLine(2s);
  EXPECT_FALSE(r);
  EXPECT_EQ(server_->active_watches(), 0u);
}

TEST_F(WatchTest, ClientHangUpEndsTheWatch) {
  {
    auto stream = Watch("resourceVersion=" + ListResourceVersion());
    ASSERT_TRUE(stream);
    ASSERT_TRUE(WaitFor([&] { return server_->active_watches() == 1; }));
  }
  EXPECT_TRUE(WaitFor([&] { return server_->active_watches() == 0; }));
}

TEST_F(WatchTest, ManyConcurrentWatchesOnTwoThreads) {
  constexpr int kWatches = 200;
  const std::string rv = ListResourceVersion();
  std::vector<std::unique_ptr<HttpTestClient::Stream>> streams;
  for (int i = 0; i < kWatches; ++i) {
    streams.push_back(Watch("resourceVersion=" + rv));
    ASSERT_TRUE(streams.back());
  }
  ASSERT_TRUE(WaitFor([&] { return server_->active_watches() == kWatches; }));
  CreateConfigMap("broadcast");
  for (auto& s : streams) {
    Object e = NextEvent(*s);
    EXPECT_EQ(obj::String(e, {"object", "metadata", "name"}), "broadcast");
  }
}

TEST_F(WatchTest, InjectedFaultOnWatch) {
  FaultRule rule;
  rule.verb = "watch";
  rule.status = 500;
  server_->faults().AddFault(rule);
  auto stream = Watch("resourceVersion=0");
  ASSERT_TRUE(stream);
  EXPECT_EQ(stream->status(), 500);
  auto body = stream->ReadLine(1s);
  ASSERT_TRUE(body && *body);
  EXPECT_NE((*body)->find("InternalError"), std::string::npos);
}

}  // namespace
}  // namespace vk::kubesim
