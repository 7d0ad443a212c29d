#include "hostclient/request_builder.h"

#include <gtest/gtest.h>

#include "hostclient/base/object.h"

namespace vk::hostclient {
namespace {

TEST(RequestBuilderTest, PathsForCoreGroupedAndClusterScopedResources) {
  EXPECT_EQ(CollectionPath(resources::Pods(), "default"), "/api/v1/namespaces/default/pods");
  EXPECT_EQ(CollectionPath(resources::Pods(), ""), "/api/v1/pods");
  EXPECT_EQ(ObjectPath(resources::Pods(), "default", "web"), "/api/v1/namespaces/default/pods/web");
  EXPECT_EQ(ObjectPath(resources::Pods(), "default", "web", "status"),
            "/api/v1/namespaces/default/pods/web/status");
  EXPECT_EQ(ObjectPath(resources::Leases(), "kube-node-lease", "node-1"),
            "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1");
  EXPECT_EQ(CollectionPath(resources::EndpointSlices(), ""),
            "/apis/discovery.k8s.io/v1/endpointslices");
  // Cluster-scoped: a namespace is ignored.
  EXPECT_EQ(ObjectPath(resources::Nodes(), "default", "node-1"), "/api/v1/nodes/node-1");
  EXPECT_EQ(ObjectPath(resources::PriorityClasses(), "", "high"),
            "/apis/scheduling.k8s.io/v1/priorityclasses/high");
}

TEST(RequestBuilderTest, PathSegmentsAreEscaped) {
  EXPECT_EQ(ObjectPath(resources::Pods(), "ns", "a b?c#d"),
            "/api/v1/namespaces/ns/pods/a%20b%3Fc%23d");
  // RBAC-style names keep their colons.
  EXPECT_EQ(PathEscape("system:node:n1"), "system:node:n1");
  EXPECT_EQ(PathEscape("a/b"), "a%2Fb");
}

TEST(RequestBuilderTest, QueryEscapeKeepsOnlyUnreserved) {
  EXPECT_EQ(QueryEscape("azAZ09-._~"), "azAZ09-._~");
  EXPECT_EQ(QueryEscape("app in (a,b),!canary"), "app%20in%20%28a%2Cb%29%2C%21canary");
  EXPECT_EQ(QueryEscape("a=b&c+d/e"), "a%3Db%26c%2Bd%2Fe");
  EXPECT_EQ(QueryEscape("\xc3\xa9"), "%C3%A9");
  EXPECT_EQ(QueryEscape(""), "");
}

TEST(RequestBuilderTest, ListQueryEncodesSelectorsAndPaging) {
  ListOptions options;
  EXPECT_EQ(ListQuery(options, false), "");
  options.label_selector = "app=web,tier!=db,!canary";
  options.field_selector = "spec.nodeName=node 1";
  options.limit = 500;
  options.continue_token = "eyJ2Ijoi+/=";
  EXPECT_EQ(ListQuery(options, false),
            "?labelSelector=app%3Dweb%2Ctier%21%3Ddb%2C%21canary"
            "&fieldSelector=spec.nodeName%3Dnode%201&limit=500&continue=eyJ2Ijoi%2B%2F%3D");
}

TEST(RequestBuilderTest, ListQueryResourceVersionAndWatchFlags) {
  ListOptions options;
  options.resource_version = "12345";
  options.resource_version_match = "NotOlderThan";
  options.allow_watch_bookmarks = true;
  options.timeout_seconds = 300;
  EXPECT_EQ(ListQuery(options, false),
            "?resourceVersion=12345&resourceVersionMatch=NotOlderThan&timeoutSeconds=300");
  EXPECT_EQ(ListQuery(options, true),
            "?resourceVersion=12345&resourceVersionMatch=NotOlderThan&timeoutSeconds=300"
            "&watch=true&allowWatchBookmarks=true");
  options.allow_watch_bookmarks = false;
  options.timeout_seconds.reset();
  EXPECT_EQ(ListQuery(options, true),
            "?resourceVersion=12345&resourceVersionMatch=NotOlderThan&watch=true");
}

TEST(RequestBuilderTest, GetCreateUpdateQueries) {
  EXPECT_EQ(GetQuery({}), "");
  EXPECT_EQ(GetQuery({.resource_version = "0"}), "?resourceVersion=0");
  EXPECT_EQ(CreateQuery({}), "");
  EXPECT_EQ(CreateQuery({.field_manager = "vkubelet", .dry_run = true}),
            "?dryRun=All&fieldManager=vkubelet");
  EXPECT_EQ(UpdateQuery({.field_manager = "my manager", .dry_run = false}),
            "?fieldManager=my%20manager");
}

TEST(RequestBuilderTest, PatchQueryAndContentTypes) {
  PatchOptions options{.field_manager = "vkubelet", .force = true, .dry_run = true};
  EXPECT_EQ(PatchQuery(PatchType::kApply, options), "?dryRun=All&fieldManager=vkubelet&force=true");
  // force is only meaningful (and only accepted) for server-side apply.
  EXPECT_EQ(PatchQuery(PatchType::kMergePatch, options), "?dryRun=All&fieldManager=vkubelet");
  EXPECT_EQ(PatchQuery(PatchType::kJsonPatch, {}), "");

  EXPECT_STREQ(PatchContentType(PatchType::kJsonPatch), "application/json-patch+json");
  EXPECT_STREQ(PatchContentType(PatchType::kMergePatch), "application/merge-patch+json");
  EXPECT_STREQ(PatchContentType(PatchType::kStrategicMerge),
               "application/strategic-merge-patch+json");
  EXPECT_STREQ(PatchContentType(PatchType::kApply), "application/apply-patch+yaml");
}

TEST(RequestBuilderTest, QueryBuilderAppendsRawQueries) {
  EXPECT_EQ(QueryBuilder().AddRaw("").Build(), "");
  EXPECT_EQ(QueryBuilder().AddRaw("container=c&follow=true").Build(), "?container=c&follow=true");
  EXPECT_EQ(QueryBuilder().Add("a", "1").AddRaw("?b=2").Build(), "?a=1&b=2");
  EXPECT_EQ(QueryBuilder().AddIfSet("a", "").Add("b", "").Build(), "?b=");
}

TEST(RequestBuilderTest, DeleteBodyMinimal) {
  auto body = obj::Parse(DeleteBody({}));
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ(*body, (Object{{"kind", "DeleteOptions"}, {"apiVersion", "v1"}}));
}

TEST(RequestBuilderTest, DeleteBodyFull) {
  DeleteOptions options;
  options.grace_period_seconds = 0;
  options.precondition_uid = "uid-1";
  options.precondition_resource_version = "42";
  options.propagation_policy = "Foreground";
  options.dry_run = true;
  auto body = obj::Parse(DeleteBody(options));
  ASSERT_TRUE(body.has_value());
  auto expected = obj::Parse(R"({"kind":"DeleteOptions","apiVersion":"v1","gracePeriodSeconds":0,
      "preconditions":{"uid":"uid-1","resourceVersion":"42"},"propagationPolicy":"Foreground",
      "dryRun":["All"]})");
  ASSERT_TRUE(expected.has_value());
  EXPECT_EQ(*body, *expected);

  DeleteOptions uid_only;
  uid_only.precondition_uid = "uid-2";
  body = obj::Parse(DeleteBody(uid_only));
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ(obj::String(*body, {"preconditions", "uid"}), "uid-2");
  EXPECT_EQ(obj::Find(*body, {"preconditions", "resourceVersion"}), nullptr);
  EXPECT_EQ(obj::Find(*body, {"gracePeriodSeconds"}), nullptr);
}

}  // namespace
}  // namespace vk::hostclient
