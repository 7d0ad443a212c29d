#include "hostclient/rest_client.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <future>
#include <map>
#include <thread>

#include "tests/unit/hostclient/fake_transport.h"

namespace vk::hostclient {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::FakeByteStream;
using testing::FakeCredentials;
using testing::FakeTransport;

std::string PodJson(std::string_view name, std::string_view rv = "1") {
  return R"({"kind":"Pod","apiVersion":"v1","metadata":{"name":")" + std::string(name) +
         R"(","namespace":"default","resourceVersion":")" + std::string(rv) + R"("}})";
}

std::string StatusJson(int code, std::string_view reason, std::string_view message = "failed") {
  return R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":")" +
         std::string(message) + R"(","reason":")" + std::string(reason) + R"(","code":)" +
         std::to_string(code) + "}";
}

std::string PageJson(std::string_view rv, std::string_view next, std::vector<std::string> names,
                     int remaining = 0) {
  std::string items;
  for (const auto& name : names) {
    if (!items.empty()) items += ",";
    items += PodJson(name);
  }
  std::string metadata = R"("resourceVersion":")" + std::string(rv) + R"(")";
  if (!next.empty()) metadata += R"(,"continue":")" + std::string(next) + R"(")";
  if (remaining > 0) metadata += R"(,"remainingItemCount":)" + std::to_string(remaining);
  return R"({"kind":"PodList","apiVersion":"v1","metadata":{)" + metadata + R"(},"items":[)" +
         items + "]}";
}

std::string WatchEventJson(std::string_view type, std::string_view name, std::string_view rv) {
  return R"({"type":")" + std::string(type) + R"(","object":)" + PodJson(name, rv) + "}\n";
}

std::vector<std::string> ItemNames(const Object& list) {
  std::vector<std::string> names;
  for (const auto& item : list.at("items").as_array()) {
    names.emplace_back(obj::Name(item.as_object()));
  }
  return names;
}

// Reads one counter or histogram back from the registry; -1 when the series does not exist.
double MetricValue(prometheus::Registry& registry, std::string_view name,
                   const std::map<std::string, std::string>& labels) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& metric : family.metric) {
      std::map<std::string, std::string> got;
      for (const auto& label : metric.label) got[label.name] = label.value;
      if (got != labels) continue;
      if (family.type == prometheus::MetricType::Histogram) {
        return static_cast<double>(metric.histogram.sample_count);
      }
      return metric.counter.value;
    }
  }
  return -1;
}

class RestClientTest : public ::testing::Test {
 protected:
  RestClientTest() { MakeClient(); }

  void MakeClient() {
    auto transport = std::make_unique<FakeTransport>();
    auto credentials = std::make_unique<FakeCredentials>();
    auto sleeper = std::make_unique<FakeSleeper>(clock_);
    transport_ = transport.get();
    credentials_ = credentials.get();
    sleeper_ = sleeper.get();
    client_ = RestClient::CreateWith("host", std::move(transport), std::move(credentials), options_,
                                     &registry_, clock_, std::move(sleeper));
  }

  static std::string_view Header(const HttpRequest& request, std::string_view name) {
    return FindHeader(request.headers, name);
  }

  FakeClock clock_;
  prometheus::Registry registry_;
  RestClientOptions options_ = [] {
    RestClientOptions o;
    o.qps = 0;  // most tests are not about the rate limit
    return o;
  }();
  FakeTransport* transport_ = nullptr;
  FakeCredentials* credentials_ = nullptr;
  FakeSleeper* sleeper_ = nullptr;
  RestClientPtr client_;
};

TEST_F(RestClientTest, GetSendsPathAndHeaders) {
  transport_->Respond(200, PodJson("web"));
  auto pod = client_->Get(resources::Pods(), "default", "web", {.resource_version = "0"});
  ASSERT_TRUE(pod.has_value()) << pod.error().ToString();
  EXPECT_EQ(obj::Name(*pod), "web");
  auto request = transport_->last_request();
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.target, "/api/v1/namespaces/default/pods/web?resourceVersion=0");
  EXPECT_EQ(Header(request, "Accept"), "application/json");
  EXPECT_EQ(Header(request, "User-Agent"), "vkubelet");
  EXPECT_EQ(Header(request, "Authorization"), "Bearer token-0");
  EXPECT_EQ(Header(request, "Content-Type"), "");
  EXPECT_TRUE(request.body.empty());
  EXPECT_EQ(request.timeout, options_.request_timeout);
  EXPECT_EQ(client_->cluster_name(), "host");
}

TEST_F(RestClientTest, NotFoundCarriesContextAndIsNotRetried) {
  transport_->Respond(404, StatusJson(404, "NotFound", R"(pods \"web\" not found)"));
  auto pod = client_->Get(resources::Pods(), "default", "web");
  ASSERT_FALSE(pod.has_value());
  EXPECT_TRUE(pod.error().IsNotFound());
  EXPECT_EQ(pod.error().message(), R"(get pods default/web: pods "web" not found)");
  EXPECT_EQ(transport_->request_count(), 1u);
  EXPECT_TRUE(sleeper_->sleeps().empty());
}

TEST_F(RestClientTest, InvalidNamesFailBeforeAnyRequest) {
  EXPECT_EQ(client_->Get(resources::Pods(), "default", "").error().code(), ErrorCode::kInvalid);
  EXPECT_EQ(client_->Get(resources::Pods(), "default", "..").error().code(), ErrorCode::kInvalid);
  EXPECT_EQ(client_->Get(resources::Pods(), "a/b", "web").error().code(), ErrorCode::kInvalid);
  EXPECT_EQ(client_->Delete(resources::Pods(), "default", "x%2F").error().code(),
            ErrorCode::kInvalid);
  EXPECT_EQ(client_->Update(resources::Pods(), "default", Object{}).error().code(),
            ErrorCode::kInvalid);
  EXPECT_EQ(client_->RawGet("version").error().code(), ErrorCode::kInvalid);
  EXPECT_EQ(transport_->request_count(), 0u);
}

TEST_F(RestClientTest, ListEncodesOptions) {
  transport_->Respond(200, PageJson("10", "", {"a"}));
  ListOptions options;
  options.label_selector = "app in (a,b),!canary";
  options.limit = 100;
  auto list = client_->List(resources::Pods(), "", options);
  ASSERT_TRUE(list.has_value()) << list.error().ToString();
  EXPECT_EQ(transport_->last_request().target,
            "/api/v1/pods?labelSelector=app%20in%20%28a%2Cb%29%2C%21canary&limit=100");
}

TEST_F(RestClientTest, CreateSendsJsonBody) {
  transport_->Respond(201, PodJson("web"));
  auto pod = obj::Parse(PodJson("web"));
  ASSERT_TRUE(pod.has_value());
  auto created = client_->Create(resources::Pods(), "default", *pod,
                                 {.field_manager = "vkubelet", .dry_run = true});
  ASSERT_TRUE(created.has_value()) << created.error().ToString();
  auto request = transport_->last_request();
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/api/v1/namespaces/default/pods?dryRun=All&fieldManager=vkubelet");
  EXPECT_EQ(Header(request, "Content-Type"), "application/json");
  EXPECT_EQ(obj::Parse(request.body).value(), *pod);
}

TEST_F(RestClientTest, UpdateAndSubresourcePaths) {
  transport_->Respond(200, PodJson("web")).Respond(200, PodJson("web")).Respond(201, "{}");
  auto pod = obj::Parse(PodJson("web", "7")).value();
  ASSERT_TRUE(client_->Update(resources::Pods(), "default", pod).has_value());
  EXPECT_EQ(transport_->last_request().method, "PUT");
  EXPECT_EQ(transport_->last_request().target, "/api/v1/namespaces/default/pods/web");
  ASSERT_TRUE(client_->UpdateStatus(resources::Pods(), "default", pod).has_value());
  EXPECT_EQ(transport_->last_request().target, "/api/v1/namespaces/default/pods/web/status");
  Object binding{{"kind", "Binding"}};
  ASSERT_TRUE(client_->CreateSubresource(resources::Pods(), "default", "web", "binding", binding)
                  .has_value());
  EXPECT_EQ(transport_->last_request().method, "POST");
  EXPECT_EQ(transport_->last_request().target, "/api/v1/namespaces/default/pods/web/binding");
}

TEST_F(RestClientTest, PatchUsesTheContentTypeOfItsType) {
  const std::pair<PatchType, const char*> cases[] = {
      {PatchType::kJsonPatch, "application/json-patch+json"},
      {PatchType::kMergePatch, "application/merge-patch+json"},
      {PatchType::kStrategicMerge, "application/strategic-merge-patch+json"},
      {PatchType::kApply, "application/apply-patch+yaml"},
  };
  for (const auto& [type, content_type] : cases) {
    transport_->Respond(200, PodJson("web"));
    auto patched = client_->Patch(resources::Pods(), "default", "web", type, R"({"a":1})",
                                  {.field_manager = "vk", .force = true}, "status");
    ASSERT_TRUE(patched.has_value()) << patched.error().ToString();
    auto request = transport_->last_request();
    EXPECT_EQ(request.method, "PATCH");
    EXPECT_EQ(Header(request, "Content-Type"), content_type);
    EXPECT_EQ(request.body, R"({"a":1})");
    EXPECT_EQ(request.target,
              std::string("/api/v1/namespaces/default/pods/web/status?fieldManager=vk") +
                  (type == PatchType::kApply ? "&force=true" : ""));
  }
  // Server-side apply without a field manager is refused locally.
  auto refused = client_->Patch(resources::Pods(), "default", "web", PatchType::kApply, "{}");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::kInvalid);
  EXPECT_EQ(transport_->request_count(), 4u);
}

TEST_F(RestClientTest, DeleteSendsOptionsAsBody) {
  transport_->Respond(200, R"({"kind":"Status","status":"Success"})");
  DeleteOptions options;
  options.grace_period_seconds = 30;
  options.precondition_uid = "u1";
  auto deleted = client_->Delete(resources::Pods(), "default", "web", options);
  ASSERT_TRUE(deleted.has_value()) << deleted.error().ToString();
  EXPECT_EQ(obj::String(*deleted, {"status"}), "Success");
  auto request = transport_->last_request();
  EXPECT_EQ(request.method, "DELETE");
  EXPECT_EQ(request.target, "/api/v1/namespaces/default/pods/web");
  EXPECT_EQ(Header(request, "Content-Type"), "application/json");
  auto body = obj::Parse(request.body).value();
  EXPECT_EQ(obj::String(body, {"kind"}), "DeleteOptions");
  EXPECT_EQ(obj::Int(body, {"gracePeriodSeconds"}), 30);
  EXPECT_EQ(obj::String(body, {"preconditions", "uid"}), "u1");
}

TEST_F(RestClientTest, BadJsonIsDecodeError) {
  transport_->Respond(200, "not json");
  auto pod = client_->Get(resources::Pods(), "default", "web");
  ASSERT_FALSE(pod.has_value());
  EXPECT_EQ(pod.error().code(), ErrorCode::kDecode);
  EXPECT_EQ(pod.error().message().rfind("get pods default/web", 0), 0u);
}

TEST_F(RestClientTest, RetriesReadOn503HonouringRetryAfter) {
  transport_->Respond(503, StatusJson(503, "ServiceUnavailable"), {{"Retry-After", "2"}})
      .Respond(200, PodJson("web"));
  auto pod = client_->Get(resources::Pods(), "default", "web");
  ASSERT_TRUE(pod.has_value()) << pod.error().ToString();
  EXPECT_EQ(transport_->request_count(), 2u);
  EXPECT_EQ(sleeper_->sleeps(), (std::vector<Clock::Duration>{seconds(2)}));
  EXPECT_EQ(MetricValue(registry_, "rest_client_retries_total",
                        {{"cluster", "host"}, {"verb", "GET"}, {"reason", "ServiceUnavailable"}}),
            1);
}

TEST_F(RestClientTest, RetriesWriteOn429HonouringRetryAfterSeconds) {
  const std::string throttled =
      R"({"kind":"Status","status":"Failure","message":"too many requests",)"
      R"("reason":"TooManyRequests","code":429,"details":{"retryAfterSeconds":3}})";
  transport_->Respond(429, throttled).Respond(201, PodJson("web"));
  auto created = client_->Create(resources::Pods(), "default", obj::Parse(PodJson("web")).value());
  ASSERT_TRUE(created.has_value()) << created.error().ToString();
  EXPECT_EQ(transport_->request_count(), 2u);
  EXPECT_EQ(sleeper_->sleeps(), (std::vector<Clock::Duration>{seconds(3)}));
}

TEST_F(RestClientTest, RetriesWriteOn503OnlyWithRetryAfter) {
  transport_->Respond(503, "", {{"Retry-After", "1"}}).Respond(200, PodJson("web"));
  auto patched = client_->Patch(resources::Pods(), "default", "web", PatchType::kMergePatch, "{}");
  ASSERT_TRUE(patched.has_value()) << patched.error().ToString();
  EXPECT_EQ(transport_->request_count(), 2u);

  transport_->Respond(503, "");
  auto failed = client_->Patch(resources::Pods(), "default", "web", PatchType::kMergePatch, "{}");
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code(), ErrorCode::kServiceUnavailable);
  EXPECT_EQ(transport_->request_count(), 3u);
}

TEST_F(RestClientTest, DoesNotRetryWritesOn500OrNetworkErrors) {
  transport_->Respond(500, StatusJson(500, "InternalError", "etcd timeout"));
  auto created = client_->Create(resources::Pods(), "default", obj::Parse(PodJson("web")).value());
  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().code(), ErrorCode::kInternal);
  EXPECT_EQ(created.error().message(), "create pods default/web: etcd timeout");
  EXPECT_EQ(transport_->request_count(), 1u);

  transport_->Fail(Error(ErrorCode::kNetwork, "connection reset"));
  auto deleted = client_->Delete(resources::Pods(), "default", "web");
  ASSERT_FALSE(deleted.has_value());
  EXPECT_EQ(deleted.error().code(), ErrorCode::kNetwork);
  EXPECT_EQ(transport_->request_count(), 2u);
  EXPECT_TRUE(sleeper_->sleeps().empty());
}

TEST_F(RestClientTest, RetriesReadsOnNetworkErrorsWithBoundedBackoff) {
  transport_->Fail(Error(ErrorCode::kNetwork, "refused"))
      .Fail(Error(ErrorCode::kTimeout, "slow"))
      .Respond(500, StatusJson(500, "InternalError"))
      .Respond(200, PageJson("5", "", {}));
  auto list = client_->List(resources::Pods(), "default");
  ASSERT_TRUE(list.has_value()) << list.error().ToString();
  EXPECT_EQ(transport_->request_count(), 4u);
  auto sleeps = sleeper_->sleeps();
  ASSERT_EQ(sleeps.size(), 3u);
  for (auto d : sleeps) {
    EXPECT_GE(d, options_.backoff_base);
    EXPECT_LE(d, options_.backoff_max);
  }
}

TEST_F(RestClientTest, GivesUpAfterMaxRetries) {
  options_.max_retries = 3;
  MakeClient();
  for (int i = 0; i < 10; ++i) transport_->Respond(503, StatusJson(503, "ServiceUnavailable"));
  auto pod = client_->Get(resources::Pods(), "default", "web");
  ASSERT_FALSE(pod.has_value());
  EXPECT_EQ(pod.error().code(), ErrorCode::kServiceUnavailable);
  EXPECT_EQ(transport_->request_count(), 4u);
  EXPECT_EQ(sleeper_->sleeps().size(), 3u);
}

TEST_F(RestClientTest, NeverRetriesConflictGoneOrForbidden) {
  transport_->Respond(409, StatusJson(409, "Conflict"))
      .Respond(410, StatusJson(410, "Expired"))
      .Respond(403, StatusJson(403, "Forbidden"));
  EXPECT_TRUE(client_->Get(resources::Pods(), "default", "a").error().IsConflict());
  EXPECT_TRUE(client_->List(resources::Pods(), "default").error().IsGone());
  EXPECT_EQ(client_->Get(resources::Pods(), "default", "a").error().code(), ErrorCode::kForbidden);
  EXPECT_EQ(transport_->request_count(), 3u);
  EXPECT_TRUE(sleeper_->sleeps().empty());
}

TEST_F(RestClientTest, UnauthorizedInvalidatesCredentialsAndRetriesOnce) {
  transport_->Respond(401, StatusJson(401, "Unauthorized")).Respond(201, PodJson("web"));
  auto created = client_->Create(resources::Pods(), "default", obj::Parse(PodJson("web")).value());
  ASSERT_TRUE(created.has_value()) << created.error().ToString();
  EXPECT_EQ(credentials_->invalidations(), 1);
  auto requests = transport_->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(Header(requests[0], "Authorization"), "Bearer token-0");
  EXPECT_EQ(Header(requests[1], "Authorization"), "Bearer token-1");

  // A second 401 in a row is the answer.
  transport_->Respond(401, StatusJson(401, "Unauthorized"))
      .Respond(401, StatusJson(401, "Unauthorized"));
  auto pod = client_->Get(resources::Pods(), "default", "web");
  ASSERT_FALSE(pod.has_value());
  EXPECT_EQ(pod.error().code(), ErrorCode::kUnauthorized);
  EXPECT_EQ(credentials_->invalidations(), 2);
  EXPECT_EQ(transport_->request_count(), 4u);
}

TEST_F(RestClientTest, CredentialErrorsAreReturned) {
  credentials_->SetError(Error(ErrorCode::kConfig, "exec plugin failed"));
  auto pod = client_->Get(resources::Pods(), "default", "web");
  ASSERT_FALSE(pod.has_value());
  EXPECT_EQ(pod.error().code(), ErrorCode::kConfig);
  EXPECT_NE(pod.error().message().find("exec plugin failed"), std::string::npos);
  EXPECT_EQ(transport_->request_count(), 0u);
}

TEST_F(RestClientTest, ListAllFollowsContinueTokens) {
  transport_->Respond(200, PageJson("100", "tok1", {"a", "b"}, 3))
      .Respond(200, PageJson("100", "tok/2", {"c", "d"}, 1))
      .Respond(200, PageJson("105", "", {"e"}));
  ListOptions options;
  options.limit = 2;
  options.resource_version = "0";
  options.label_selector = "app=web";
  auto list = client_->ListAll(resources::Pods(), "default", options);
  ASSERT_TRUE(list.has_value()) << list.error().ToString();
  EXPECT_EQ(ItemNames(*list), (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(obj::ResourceVersion(*list), "100");
  EXPECT_EQ(obj::Find(*list, {"metadata", "continue"}), nullptr);
  EXPECT_EQ(obj::Find(*list, {"metadata", "remainingItemCount"}), nullptr);
  EXPECT_EQ(obj::Kind(*list), "PodList");
  auto requests = transport_->requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].target,
            "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb&limit=2&resourceVersion=0");
  // Later pages: the token, and no resourceVersion (the server refuses both together).
  EXPECT_EQ(requests[1].target,
            "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb&limit=2&continue=tok1");
  EXPECT_EQ(requests[2].target,
            "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb&limit=2&continue=tok%2F2");
}

TEST_F(RestClientTest, ListAllFallsBackToAFullListWhenTheTokenExpires) {
  transport_->Respond(200, PageJson("100", "tok1", {"a", "b"}))
      .Respond(410, StatusJson(410, "Expired", "continue token expired"))
      .Respond(200, PageJson("120", "", {"a", "b", "c", "x"}));
  ListOptions options;
  options.limit = 2;
  options.resource_version = "0";
  auto list = client_->ListAll(resources::Pods(), "default", options);
  ASSERT_TRUE(list.has_value()) << list.error().ToString();
  EXPECT_EQ(ItemNames(*list), (std::vector<std::string>{"a", "b", "c", "x"}));
  EXPECT_EQ(obj::ResourceVersion(*list), "120");
  auto requests = transport_->requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[2].target, "/api/v1/namespaces/default/pods?resourceVersion=0");
}

// Pages are handed over as they arrive; an expired token starts the list over as one page.
TEST_F(RestClientTest, ListPagesHandsOverEachPageAndRestartsAfterAnExpiredToken) {
  transport_->Respond(200, PageJson("100", "tok1", {"a", "b"}))
      .Respond(200, PageJson("100", "tok2", {"c"}))
      .Respond(410, StatusJson(410, "Expired", "continue token expired"))
      .Respond(200, PageJson("120", "", {"a", "x"}));
  ListOptions options;
  options.limit = 2;
  std::vector<std::string> seen;
  auto listed = client_->ListPages(
      resources::Pods(), "default", options, [&](Object& page, bool first) -> Status {
        std::string entry = first ? "first:" : "next:";
        for (const auto& name : ItemNames(page)) entry += name;
        seen.push_back(entry + "@" + std::string(obj::ResourceVersion(page)));
        return Ok();
      });
  ASSERT_TRUE(listed.has_value()) << listed.error().ToString();
  EXPECT_EQ(seen, (std::vector<std::string>{"first:ab@100", "next:c@100", "first:ax@120"}));
}

TEST_F(RestClientTest, ListPagesStopsAtTheHandlersError) {
  transport_->Respond(200, PageJson("100", "tok1", {"a"})).Respond(200, PageJson("100", "", {"b"}));
  ListOptions options;
  options.limit = 1;
  auto listed = client_->ListPages(resources::Pods(), "default", options, [](Object&, bool) {
    return Status(MakeError(ErrorCode::kDecode, "bad page"));
  });
  ASSERT_FALSE(listed.has_value());
  EXPECT_EQ(listed.error().code(), ErrorCode::kDecode);
  EXPECT_EQ(transport_->request_count(), 1u);
}

TEST_F(RestClientTest, ListAllReturnsAGoneFirstPage) {
  transport_->Respond(410, StatusJson(410, "Expired", "too old resource version"));
  ListOptions options;
  options.limit = 2;
  options.resource_version = "3";
  options.resource_version_match = "Exact";
  auto list = client_->ListAll(resources::Pods(), "default", options);
  ASSERT_FALSE(list.has_value());
  EXPECT_TRUE(list.error().IsGone());
  EXPECT_EQ(transport_->request_count(), 1u);
}

TEST_F(RestClientTest, WatchDecodesSplitChunks) {
  const std::string events = WatchEventJson("ADDED", "a", "11") +
                             WatchEventJson("MODIFIED", "a", "12") +
                             WatchEventJson("DELETED", "a", "13");
  auto stream = std::make_unique<FakeByteStream>(200);
  // Cut everywhere but on event boundaries.
  for (size_t i = 0; i < events.size(); i += 7) stream->Chunk(events.substr(i, 7));
  transport_->RespondStream(std::move(stream));
  ListOptions options;
  options.resource_version = "10";
  options.allow_watch_bookmarks = true;
  options.timeout_seconds = 300;
  auto watch = client_->Watch(resources::Pods(), "default", options);
  ASSERT_TRUE(watch.has_value()) << watch.error().ToString();
  EXPECT_EQ(transport_->last_request().target,
            "/api/v1/namespaces/default/pods?resourceVersion=10&timeoutSeconds=300&watch=true"
            "&allowWatchBookmarks=true");
  std::vector<std::string> seen;
  while (true) {
    auto next = (*watch)->Next();
    ASSERT_TRUE(next.has_value()) << next.error().ToString();
    if (!next->has_value()) break;
    seen.push_back(std::string(ToString((*next)->type)) + " " +
                   std::string(obj::ResourceVersion(*(*next)->object)));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED 11", "MODIFIED 12", "DELETED 13"}));
  EXPECT_EQ(MetricValue(registry_, "rest_client_requests_total",
                        {{"cluster", "host"}, {"verb", "WATCH"}, {"code", "200"}}),
            1);
}

TEST_F(RestClientTest, WatchErrorEventAfterEvents) {
  auto stream = std::make_unique<FakeByteStream>(200);
  stream->Chunk(WatchEventJson("ADDED", "a", "11") + R"({"type":"ERROR","object":)" +
                StatusJson(410, "Expired", "too old") + "}\n");
  transport_->RespondStream(std::move(stream));
  auto watch = client_->Watch(resources::Pods(), "default");
  ASSERT_TRUE(watch.has_value());
  auto first = (*watch)->Next();
  ASSERT_TRUE(first.has_value() && first->has_value());
  auto second = (*watch)->Next();
  ASSERT_FALSE(second.has_value());
  EXPECT_TRUE(second.error().IsGone());
  EXPECT_EQ(second.error().message().rfind("watch pods in default", 0), 0u);
  // Sticky.
  EXPECT_TRUE((*watch)->Next().error().IsGone());
}

TEST_F(RestClientTest, WatchStreamFailureAndTruncation) {
  auto broken = std::make_unique<FakeByteStream>(200);
  broken->Chunk(WatchEventJson("ADDED", "a", "1")).Fail(Error(ErrorCode::kNetwork, "reset"));
  auto truncated = std::make_unique<FakeByteStream>(200);
  truncated->Chunk(R"({"type":"ADDED","obj)");
  transport_->RespondStream(std::move(broken)).RespondStream(std::move(truncated));

  auto watch = client_->Watch(resources::Pods(), "");
  ASSERT_TRUE(watch.has_value());
  ASSERT_TRUE((*watch)->Next().has_value());
  auto failed = (*watch)->Next();
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code(), ErrorCode::kNetwork);
  EXPECT_EQ(failed.error().message(), "watch pods: reset");

  watch = client_->Watch(resources::Pods(), "");
  ASSERT_TRUE(watch.has_value());
  EXPECT_EQ((*watch)->Next().error().code(), ErrorCode::kNetwork);
}

TEST_F(RestClientTest, WatchRejectedWithStatus) {
  transport_->Respond(403, StatusJson(403, "Forbidden", "cannot watch pods"));
  auto watch = client_->Watch(resources::Pods(), "default");
  ASSERT_FALSE(watch.has_value());
  EXPECT_EQ(watch.error().code(), ErrorCode::kForbidden);
  EXPECT_EQ(watch.error().message(), "watch pods in default: cannot watch pods");
}

TEST_F(RestClientTest, WatchEstablishmentIsRetried) {
  transport_->Respond(429, "", {{"Retry-After", "1"}})
      .RespondStream(std::make_unique<FakeByteStream>(200));
  auto watch = client_->Watch(resources::Pods(), "default");
  ASSERT_TRUE(watch.has_value()) << watch.error().ToString();
  EXPECT_EQ(sleeper_->sleeps(), (std::vector<Clock::Duration>{seconds(1)}));
  auto end = (*watch)->Next();
  ASSERT_TRUE(end.has_value());
  EXPECT_FALSE(end->has_value());
}

TEST_F(RestClientTest, WatchTimeoutStaysUnderTheStreamIdleTimeout) {
  options_.transport.stream_idle_timeout = std::chrono::minutes(2);
  MakeClient();
  transport_->RespondStream(std::make_unique<FakeByteStream>(200));
  ListOptions options;
  options.timeout_seconds = 600;
  ASSERT_TRUE(client_->Watch(resources::Pods(), "", options).has_value());
  EXPECT_EQ(transport_->last_request().target, "/api/v1/pods?timeoutSeconds=90&watch=true");
}

TEST_F(RestClientTest, WatchCancelUnblocksNext) {
  auto stream = std::make_unique<FakeByteStream>(200);
  stream->HoldOpen();
  transport_->RespondStream(std::move(stream));
  auto watch = client_->Watch(resources::Pods(), "default");
  ASSERT_TRUE(watch.has_value());
  auto next = std::async(std::launch::async, [&] { return (*watch)->Next(); });
  (*watch)->Cancel();
  ASSERT_EQ(next.wait_for(seconds(5)), std::future_status::ready);
  auto result = next.get();
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kCancelled);
}

TEST_F(RestClientTest, StreamGetReturnsTheBody) {
  auto stream = std::make_unique<FakeByteStream>(200);
  stream->Chunk("line 1\n").Chunk("line 2\n");
  transport_->RespondStream(std::move(stream))
      .Respond(404, StatusJson(404, "NotFound", "container c not found"));
  auto logs =
      client_->StreamGet(resources::Pods(), "default", "web", "log", "container=c&follow=true");
  ASSERT_TRUE(logs.has_value()) << logs.error().ToString();
  EXPECT_EQ(transport_->last_request().target,
            "/api/v1/namespaces/default/pods/web/log?container=c&follow=true");
  EXPECT_EQ(Header(transport_->last_request(), "Accept"), "application/json, */*");
  std::string body;
  while (true) {
    auto chunk = (*logs)->Read();
    ASSERT_TRUE(chunk.has_value());
    if (!chunk->has_value()) break;
    body += **chunk;
  }
  EXPECT_EQ(body, "line 1\nline 2\n");

  auto missing = client_->StreamGet(resources::Pods(), "default", "web", "log", "");
  ASSERT_FALSE(missing.has_value());
  EXPECT_TRUE(missing.error().IsNotFound());
  EXPECT_EQ(missing.error().message(), "get pods/log default/web: container c not found");
}

TEST_F(RestClientTest, RawGetReturnsTheBody) {
  transport_->Respond(200, R"({"major":"1","minor":"29"})").Respond(500, "boom");
  auto version = client_->RawGet("/version");
  ASSERT_TRUE(version.has_value());
  EXPECT_EQ(*version, R"({"major":"1","minor":"29"})");
  EXPECT_EQ(transport_->last_request().target, "/version");
  auto failed = client_->RawGet("/healthz");
  ASSERT_FALSE(failed.has_value());
  // A read: retried until the script runs out (kConfig from the fake ends it).
  EXPECT_EQ(failed.error().code(), ErrorCode::kConfig);
  EXPECT_EQ(transport_->request_count(), 3u);
}

TEST_F(RestClientTest, RateLimitSpacesRequests) {
  options_.qps = 2;
  options_.burst = 2;
  MakeClient();
  for (int i = 0; i < 4; ++i) {
    transport_->Respond(200, PodJson("web"));
    ASSERT_TRUE(client_->Get(resources::Pods(), "default", "web").has_value());
  }
  // Two from the burst, then one every 500 ms.
  EXPECT_EQ(sleeper_->sleeps(),
            (std::vector<Clock::Duration>{milliseconds(500), milliseconds(500)}));
  EXPECT_EQ(MetricValue(registry_, "rest_client_rate_limiter_duration_seconds",
                        {{"cluster", "host"}, {"verb", "GET"}}),
            4);
}

TEST_F(RestClientTest, RateLimitAppliesToRetriesAndWatches) {
  options_.qps = 1;
  options_.burst = 1;
  MakeClient();
  transport_->Respond(503, "", {{"Retry-After", "0"}})
      .Respond(200, PodJson("web"))
      .RespondStream(std::make_unique<FakeByteStream>(200));
  ASSERT_TRUE(client_->Get(resources::Pods(), "default", "web").has_value());
  ASSERT_TRUE(client_->Watch(resources::Pods(), "default").has_value());
  // The retry and the watch each waited a full second for a token.
  EXPECT_EQ(sleeper_->sleeps(), (std::vector<Clock::Duration>{seconds(1), seconds(1)}));
}

TEST_F(RestClientTest, MetricsCountEveryAttempt) {
  transport_->Respond(503, "")
      .Fail(Error(ErrorCode::kNetwork, "reset"))
      .Respond(200, PodJson("web"));
  ASSERT_TRUE(client_->Get(resources::Pods(), "default", "web").has_value());
  transport_->Respond(404, "");
  EXPECT_FALSE(client_->Delete(resources::Pods(), "default", "web").has_value());

  auto requests = [&](std::string_view verb, std::string_view code) {
    return MetricValue(
        registry_, "rest_client_requests_total",
        {{"cluster", "host"}, {"verb", std::string(verb)}, {"code", std::string(code)}});
  };
  EXPECT_EQ(requests("GET", "503"), 1);
  EXPECT_EQ(requests("GET", "<error>"), 1);
  EXPECT_EQ(requests("GET", "200"), 1);
  EXPECT_EQ(requests("DELETE", "404"), 1);
  EXPECT_EQ(MetricValue(registry_, "rest_client_request_duration_seconds",
                        {{"cluster", "host"}, {"verb", "GET"}}),
            3);
  EXPECT_EQ(MetricValue(registry_, "rest_client_retries_total",
                        {{"cluster", "host"}, {"verb", "GET"}, {"reason", "NetworkError"}}),
            1);
}

TEST_F(RestClientTest, ClientsShareARegistry) {
  auto other =
      RestClient::CreateWith("virtual", std::make_unique<FakeTransport>(), nullptr, options_,
                             &registry_, clock_, std::make_unique<FakeSleeper>(clock_));
  EXPECT_FALSE(other->Get(resources::Pods(), "default", "web").has_value());
  transport_->Respond(200, PodJson("web"));
  EXPECT_TRUE(client_->Get(resources::Pods(), "default", "web").has_value());
  EXPECT_EQ(MetricValue(registry_, "rest_client_requests_total",
                        {{"cluster", "virtual"}, {"verb", "GET"}, {"code", "<error>"}}),
            1);
  EXPECT_EQ(MetricValue(registry_, "rest_client_requests_total",
                        {{"cluster", "host"}, {"verb", "GET"}, {"code", "200"}}),
            1);
}

TEST_F(RestClientTest, WorksWithoutRegistryOrCredentials) {
  auto transport = std::make_unique<FakeTransport>();
  auto* fake = transport.get();
  auto client = RestClient::CreateWith("plain", std::move(transport), nullptr, options_, nullptr,
                                       clock_, std::make_unique<FakeSleeper>(clock_));
  fake->Respond(401, "");
  auto pod = client->Get(resources::Pods(), "default", "web");
  ASSERT_FALSE(pod.has_value());
  EXPECT_EQ(pod.error().code(), ErrorCode::kUnauthorized);
  EXPECT_EQ(fake->request_count(), 1u);
  EXPECT_EQ(Header(fake->last_request(), "Authorization"), "");
}

TEST_F(RestClientTest, ShutdownCancelsARequestInFlight) {
  transport_->BlockUntilShutdown();
  auto pending = std::async(std::launch::async,
                            [&] { return client_->Get(resources::Pods(), "default", "web"); });
  ASSERT_TRUE(transport_->WaitForRequests(1));
  client_->Shutdown();
  ASSERT_EQ(pending.wait_for(seconds(5)), std::future_status::ready);
  auto pod = pending.get();
  ASSERT_FALSE(pod.has_value());
  EXPECT_EQ(pod.error().code(), ErrorCode::kCancelled);
  EXPECT_EQ(pod.error().message().rfind("get pods default/web", 0), 0u);

  // Later calls fail at once, without a request.
  EXPECT_EQ(client_->List(resources::Pods(), "").error().code(), ErrorCode::kCancelled);
  EXPECT_EQ(client_->Watch(resources::Pods(), "").error().code(), ErrorCode::kCancelled);
  EXPECT_EQ(transport_->request_count(), 1u);
}

TEST_F(RestClientTest, ShutdownInterruptsARetryAfterWait) {
  // A real sleeper: the test passes only if Shutdown cuts the hour short.
  auto transport = std::make_unique<FakeTransport>();
  auto* fake = transport.get();
  auto client = RestClient::CreateWith("host", std::move(transport), nullptr, options_, nullptr);
  fake->Respond(429, "", {{"Retry-After", "3600"}});
  auto pending =
      std::async(std::launch::async, [&] { return client->Get(resources::Pods(), "", "x"); });
  ASSERT_TRUE(fake->WaitForRequests(1));
  client->Shutdown();
  ASSERT_EQ(pending.wait_for(seconds(5)), std::future_status::ready);
  EXPECT_EQ(pending.get().error().code(), ErrorCode::kCancelled);
}

}  // namespace
}  // namespace vk::hostclient
