#include "tests/kubesim/router.h"

#include <gtest/gtest.h>

#include "tests/kubesim/negotiation.h"

namespace vk::kubesim {
namespace {

RequestInfo Parse(std::string_view method, std::string_view target) {
  auto info = ParseRequestInfo(method, target);
  EXPECT_TRUE(info.has_value()) << target;
  return info.value_or(RequestInfo{});
}

TEST(RouterTest, NamespacedObject) {
  RequestInfo i = Parse("GET", "/api/v1/namespaces/default/pods/web");
  EXPECT_TRUE(i.is_resource_request);
  EXPECT_EQ(i.verb, "get");
  EXPECT_EQ(i.api_prefix, "api");
  EXPECT_EQ(i.api_group, "");
  EXPECT_EQ(i.api_version, "v1");
  EXPECT_EQ(i.ns, "default");
  EXPECT_EQ(i.resource, "pods");
  EXPECT_EQ(i.name, "web");
  EXPECT_EQ(i.subresource, "");
}

TEST(RouterTest, GroupResourceWithSubresource) {
  RequestInfo i = Parse("PUT", "/apis/networking.k8s.io/v1/namespaces/a/ingresses/x/status");
  EXPECT_EQ(i.verb, "update");
  EXPECT_EQ(i.api_group, "networking.k8s.io");
  EXPECT_EQ(i.resource, "ingresses");
  EXPECT_EQ(i.name, "x");
  EXPECT_EQ(i.subresource, "status");
}

TEST(RouterTest, CollectionVerbs) {
  EXPECT_EQ(Parse("GET", "/api/v1/pods").verb, "list");
  EXPECT_EQ(Parse("GET", "/api/v1/pods?watch=true").verb, "watch");
  EXPECT_EQ(Parse("GET", "/api/v1/pods?watch=1").verb, "watch");
  EXPECT_EQ(Parse("GET", "/api/v1/pods?watch=false").verb, "list");
  EXPECT_EQ(Parse("GET", "/api/v1/pods?watch=0").verb, "list");
  EXPECT_EQ(Parse("POST", "/api/v1/namespaces/a/pods").verb, "create");
  EXPECT_EQ(Parse("DELETE", "/api/v1/namespaces/a/pods").verb, "deletecollection");
  EXPECT_EQ(Parse("DELETE", "/api/v1/namespaces/a/pods/x").verb, "delete");
  EXPECT_EQ(Parse("PATCH", "/api/v1/namespaces/a/pods/x").verb, "patch");
}

TEST(RouterTest, DeprecatedWatchPrefix) {
  RequestInfo i = Parse("GET", "/api/v1/watch/namespaces/a/pods");
  EXPECT_EQ(i.verb, "watch");
  EXPECT_EQ(i.ns, "a");
  EXPECT_EQ(i.resource, "pods");
}

TEST(RouterTest, NamespaceObjectAndItsSubresources) {
  RequestInfo ns = Parse("GET", "/api/v1/namespaces/team");
  EXPECT_EQ(ns.resource, "namespaces");
  EXPECT_EQ(ns.name, "team");
  EXPECT_EQ(ns.ns, "team");
  RequestInfo status = Parse("PUT", "/api/v1/namespaces/team/finalize");
  EXPECT_EQ(status.resource, "namespaces");
  EXPECT_EQ(status.name, "team");
  EXPECT_EQ(status.subresource, "finalize");
  EXPECT_EQ(Parse("GET", "/api/v1/namespaces").verb, "list");
}

TEST(RouterTest, FieldSelectorOnNameNamesTheObjectForAuthorization) {
  RequestInfo i = Parse("GET", "/api/v1/namespaces/a/pods?fieldSelector=metadata.name%3Dweb");
  EXPECT_EQ(i.verb, "list");
  EXPECT_EQ(i.name, "web");
  EXPECT_EQ(Parse("GET", "/api/v1/pods?fieldSelector=metadata.name=a,spec.nodeName=n").name, "");
}

TEST(RouterTest, NonResourcePaths) {
  for (std::string_view path : {"/healthz", "/version", "/api", "/apis", "/apis/apps", "/api/v1",
                                "/apis/apps/v1", "/openapi/v3"}) {
    RequestInfo i = Parse("GET", path);
    EXPECT_FALSE(i.is_resource_request) << path;
    EXPECT_EQ(i.verb, "get") << path;
  }
  EXPECT_EQ(Parse("GET", "/apis/apps/v1").api_version, "v1");
  EXPECT_EQ(Parse("GET", "/apis/apps").api_group, "apps");
}

TEST(RouterTest, QueryIsDecodedWithPlusAsSpace) {
  RequestInfo i = Parse("GET", "/api/v1/pods?labelSelector=app+in+%28a%2Cb%29&limit=5");
  EXPECT_EQ(i.Param("labelSelector"), "app in (a,b)");
  EXPECT_EQ(i.Param("limit"), "5");
  EXPECT_EQ(i.Param("missing"), std::nullopt);
}

TEST(RouterTest, MalformedTargetIsBadRequest) {
  auto info = ParseRequestInfo("GET", "http://example.com/x");
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().code(), ErrorCode::kBadRequest);
}

TEST(RouterTest, ListQuery) {
  RequestInfo i = Parse("GET",
                        "/api/v1/namespaces/a/pods?labelSelector=app%3Dweb&fieldSelector=spec."
                        "nodeName%3Dn1&limit=10&resourceVersion=5&"
                        "resourceVersionMatch=NotOlderThan");
  auto q = ParseListQuery(i);
  ASSERT_TRUE(q) << q.error().ToString();
  EXPECT_EQ(q->ns, "a");
  EXPECT_EQ(q->label_selector, "app=web");
  EXPECT_EQ(q->field_selector, "spec.nodeName=n1");
  EXPECT_EQ(q->limit, 10);
  EXPECT_EQ(q->resource_version, "5");
  EXPECT_EQ(q->resource_version_match, "NotOlderThan");
}

TEST(RouterTest, ListQueryValidationAsKube) {
  auto bad_limit = ParseListQuery(Parse("GET", "/api/v1/pods?limit=x"));
  ASSERT_FALSE(bad_limit);
  EXPECT_EQ(bad_limit.error().code(), ErrorCode::kBadRequest);

  auto match_without_rv = ParseListQuery(Parse("GET", "/api/v1/pods?resourceVersionMatch=Exact"));
  ASSERT_FALSE(match_without_rv);
  EXPECT_EQ(match_without_rv.error().code(), ErrorCode::kInvalid);
  EXPECT_NE(match_without_rv.error().message().find(
                "resourceVersionMatch is forbidden unless resourceVersion is provided"),
            std::string::npos);

  auto exact_zero =
      ParseListQuery(Parse("GET", "/api/v1/pods?resourceVersion=0&resourceVersionMatch=Exact"));
  ASSERT_FALSE(exact_zero);
  EXPECT_EQ(exact_zero.error().code(), ErrorCode::kInvalid);

  auto match_with_continue = ParseListQuery(
      Parse("GET", "/api/v1/pods?continue=abc&resourceVersion=3&resourceVersionMatch=Exact"));
  ASSERT_FALSE(match_with_continue);
  EXPECT_EQ(match_with_continue.error().code(), ErrorCode::kInvalid);
  auto page = ParseListQuery(Parse("GET", "/api/v1/pods?limit=2&continue=abc"));
  ASSERT_TRUE(page);
  EXPECT_EQ(page->continue_token, "abc");

  auto watch_match = ParseListQuery(
      Parse("GET", "/api/v1/pods?watch=1&resourceVersion=3&resourceVersionMatch=NotOlderThan"));
  ASSERT_FALSE(watch_match);
  EXPECT_EQ(watch_match.error().code(), ErrorCode::kInvalid);
}

TEST(RouterTest, WatchParameters) {
  RequestInfo i =
      Parse("GET", "/api/v1/pods?watch=true&allowWatchBookmarks=true&timeoutSeconds=30");
  EXPECT_TRUE(IsWatch(i));
  auto q = ParseListQuery(i);
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->allow_bookmarks);
  auto timeout = ParseTimeoutSeconds(i);
  ASSERT_TRUE(timeout);
  EXPECT_EQ(*timeout, 30);
  EXPECT_FALSE(ParseTimeoutSeconds(Parse("GET", "/api/v1/pods?timeoutSeconds=abc")));
  EXPECT_EQ(*ParseTimeoutSeconds(Parse("GET", "/api/v1/pods")), std::nullopt);
}

TEST(RouterTest, WriteOptions) {
  auto w = ParseWriteOptions(
      Parse("PATCH", "/api/v1/namespaces/a/pods/x?dryRun=All&fieldManager=me&force=true"));
  ASSERT_TRUE(w);
  EXPECT_TRUE(w->dry_run);
  EXPECT_EQ(w->field_manager, "me");
  EXPECT_TRUE(w->force);
  auto bad = ParseWriteOptions(Parse("POST", "/api/v1/namespaces/a/pods?dryRun=Some"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kBadRequest);
  EXPECT_FALSE(ParseWriteOptions(Parse("POST", "/api/v1/namespaces/a/pods?fieldValidation=X")));
}

TEST(RouterTest, DeleteOptionsFromQuery) {
  RequestInfo i = Parse("DELETE",
                        "/api/v1/namespaces/a/pods/x?gracePeriodSeconds=0&propagationPolicy="
                        "Foreground&dryRun=All");
  auto d = ParseDeleteRequest(i, "");
  ASSERT_TRUE(d) << d.error().ToString();
  EXPECT_EQ(d->grace_period_seconds, 0);
  EXPECT_EQ(d->propagation_policy, "Foreground");
  EXPECT_TRUE(d->dry_run);
}

TEST(RouterTest, DeleteOptionsBodyReplacesQueryWithPreconditions) {
  RequestInfo i = Parse("DELETE", "/api/v1/namespaces/a/pods/x?gracePeriodSeconds=7");
  auto d =
      ParseDeleteRequest(i, R"({"kind":"DeleteOptions","apiVersion":"v1","gracePeriodSeconds":30,
             "preconditions":{"uid":"u-1","resourceVersion":"12"},"orphanDependents":true})");
  ASSERT_TRUE(d) << d.error().ToString();
  EXPECT_EQ(d->grace_period_seconds, 30);
  EXPECT_EQ(d->precondition_uid, "u-1");
  EXPECT_EQ(d->precondition_resource_version, "12");
  EXPECT_EQ(d->propagation_policy, "Orphan");
}

TEST(RouterTest, DeleteOptionsErrors) {
  RequestInfo i = Parse("DELETE", "/api/v1/namespaces/a/pods/x");
  EXPECT_EQ(ParseDeleteRequest(i, "{not json").error().code(), ErrorCode::kBadRequest);
  EXPECT_EQ(ParseDeleteRequest(i, R"({"propagationPolicy":"Sometimes"})").error().code(),
            ErrorCode::kInvalid);
  EXPECT_EQ(ParseDeleteRequest(i, R"({"propagationPolicy":"Orphan","orphanDependents":false})")
                .error()
                .code(),
            ErrorCode::kInvalid);
  EXPECT_EQ(ParseDeleteRequest(i, R"({"dryRun":["Partly"]})").error().code(),
            ErrorCode::kBadRequest);
}

TEST(NegotiationTest, KubectlTableAccept) {
  Output out;
  OutputChoices choices;
  choices.table = true;
  ASSERT_TRUE(NegotiateOutput(
      "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta."
      "k8s.io,application/json",
      choices, out));
  EXPECT_EQ(out.form, OutputForm::kTable);
  EXPECT_EQ(out.group_version, "meta.k8s.io/v1");
  // An endpoint without tables falls back to the plain JSON entry.
  ASSERT_TRUE(NegotiateOutput("application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
                              OutputChoices{}, out));
  EXPECT_EQ(out.form, OutputForm::kJson);
}

TEST(NegotiationTest, ProtobufFallsBackToJson) {
  Output out;
  ASSERT_TRUE(NegotiateOutput("application/vnd.kubernetes.protobuf", OutputChoices{}, out));
  EXPECT_EQ(out.form, OutputForm::kJson);
  EXPECT_EQ(out.ContentType(), "application/json");
  ASSERT_TRUE(NegotiateOutput("", OutputChoices{}, out));
  ASSERT_TRUE(NegotiateOutput("*/*", OutputChoices{}, out));
}

TEST(NegotiationTest, UnacceptableAndQuality) {
  Output out;
  EXPECT_FALSE(NegotiateOutput("text/html", OutputChoices{}, out));
  EXPECT_FALSE(
      NegotiateOutput("application/json;as=Table;v=v1;g=meta.k8s.io", OutputChoices{}, out));
  OutputChoices discovery;
  discovery.aggregated_discovery = true;
  ASSERT_TRUE(NegotiateOutput(
      "application/json;q=0.5,application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
      discovery, out));
  EXPECT_EQ(out.form, OutputForm::kAggregatedDiscovery);
  EXPECT_EQ(out.ContentType(),
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
}

TEST(NegotiationTest, ParseMediaType) {
  MediaRange m = ParseMediaType("Application/Apply-Patch+YAML; charset=utf-8");
  EXPECT_EQ(m.type, "application");
  EXPECT_EQ(m.subtype, "apply-patch+yaml");
  EXPECT_EQ(m.Param("charset"), "utf-8");
  EXPECT_TRUE(ParseMediaType("garbage").type.empty());
}

}  // namespace
}  // namespace vk::kubesim
