// Authenticator, Authorizer and the review resources answered from them.

#include <gtest/gtest.h>

#include "tests/kubesim/authn.h"
#include "tests/kubesim/authz.h"
#include "tests/kubesim/reviews.h"

namespace vk::kubesim {
namespace {

UserInfo User(std::string name, std::vector<std::string> groups = {kAuthenticatedGroup}) {
  return UserInfo{std::move(name), "", std::move(groups), {}};
}

TEST(AuthenticatorTest, StaticTokenAddsAuthenticatedGroup) {
  Authenticator authn;
  authn.AddToken("t1", User("alice", {"devs"}));
  Credentials c;
  c.bearer_token = "t1";
  auto user = authn.Authenticate(c);
  ASSERT_TRUE(user);
  EXPECT_EQ(user->name, "alice");
  EXPECT_EQ(user->groups, (std::vector<std::string>{"devs", kAuthenticatedGroup}));
  authn.RemoveToken("t1");
  EXPECT_EQ(authn.Authenticate(c).error().code(), ErrorCode::kUnauthorized);
}

TEST(AuthenticatorTest, NoCredentialsIsUnauthorizedUnlessAnonymousAllowed) {
  Authenticator authn;
  EXPECT_EQ(authn.Authenticate({}).error().code(), ErrorCode::kUnauthorized);
  authn.SetAllowAnonymous(true);
  auto anon = authn.Authenticate({});
  ASSERT_TRUE(anon);
  EXPECT_EQ(anon->name, kAnonymousUser);
  EXPECT_TRUE(anon->InGroup(kUnauthenticatedGroup));
  // A bad token is never anonymous, as in kube-apiserver.
  Credentials bad;
  bad.bearer_token = "nope";
  EXPECT_FALSE(authn.Authenticate(bad));
}

TEST(AuthenticatorTest, ClientCertificateWinsOverToken) {
  Authenticator authn;
  Credentials c;
  c.cert_common_name = "node-1";
  c.cert_organizations = {"system:nodes"};
  c.bearer_token = "unknown";
  auto user = authn.Authenticate(c);
  ASSERT_TRUE(user);
  EXPECT_EQ(user->name, "node-1");
  EXPECT_EQ(user->groups, (std::vector<std::string>{"system:nodes", kAuthenticatedGroup}));
}

TEST(AuthenticatorTest, ServiceAccountTokenExpiresAndAudiences) {
  FakeClock clock;
  Authenticator authn(false, &clock);
  ServiceAccountBinding b{"ns1", "builder", "uid-1", "", "", ""};
  std::string token = authn.IssueServiceAccountToken(b, std::chrono::seconds(600), {});
  auto result = authn.AuthenticateToken(token, {});
  ASSERT_TRUE(result);
  EXPECT_EQ(result->user.name, "system:serviceaccount:ns1:builder");
  EXPECT_EQ(result->user.uid, "uid-1");
  EXPECT_EQ(result->user.groups,
            (std::vector<std::string>{"system:serviceaccounts", "system:serviceaccounts:ns1",
                                      kAuthenticatedGroup}));
  EXPECT_FALSE(authn.AuthenticateToken(token, {"vault"}));

  std::string vault = authn.IssueServiceAccountToken(b, std::chrono::seconds(600), {"vault"});
  EXPECT_FALSE(authn.AuthenticateToken(vault, {}));  // not for the API server
  ASSERT_TRUE(authn.AuthenticateToken(vault, {"vault", "other"}));
  EXPECT_EQ(authn.AuthenticateToken(vault, {"vault", "other"})->audiences,
            std::vector<std::string>{"vault"});

  clock.Advance(std::chrono::seconds(601));
  EXPECT_FALSE(authn.AuthenticateToken(token, {}));
}

TEST(AuthenticatorTest, ServiceAccountTokenDiesWithItsBinding) {
  Authenticator authn;
  bool valid = true;
  authn.SetBindingValidator([&](const ServiceAccountBinding&) { return valid; });
  std::string token = authn.IssueServiceAccountToken({"ns", "sa", "u", "Pod", "p", "pu"},
                                                     std::chrono::hours(1), {});
  auto result = authn.AuthenticateToken(token, {});
  ASSERT_TRUE(result);
  EXPECT_EQ(result->user.extra.at("authentication.kubernetes.io/pod-name"),
            std::vector<std::string>{"p"});
  valid = false;
  EXPECT_FALSE(authn.AuthenticateToken(token, {}));
}

TEST(AuthenticatorTest, RandomTokensAreUrlSafeAndDistinct) {
  std::string a = RandomToken(32), b = RandomToken(32);
  EXPECT_EQ(a.size(), 43u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
}

AuthzAttributes ListPods(const std::string& user, const std::string& ns) {
  AuthzAttributes a;
  a.user = User(user);
  a.verb = "list";
  a.resource = "pods";
  a.ns = ns;
  return a;
}

TEST(AuthorizerTest, DefaultAllowsAuthenticatedUsers) {
  Authorizer authz;
  EXPECT_TRUE(authz.Authorize(ListPods("alice", "default")).allowed);
  authz.SetDefaultAllow(false);
  EXPECT_FALSE(authz.Authorize(ListPods("alice", "default")).allowed);
}

TEST(AuthorizerTest, DenyRuleMatchesUserVerbResourceNamespace) {
  Authorizer authz;
  AuthzRule deny;
  deny.user = "mallory";
  deny.verb = "list";
  deny.resource = "pods";
  deny.ns = "secret-ns";
  deny.reason = "not in this namespace";
  authz.AddRule(deny);
  AuthzDecision d = authz.Authorize(ListPods("mallory", "secret-ns"));
  EXPECT_FALSE(d.allowed);
  EXPECT_TRUE(d.denied);
  EXPECT_EQ(d.reason, "not in this namespace");
  EXPECT_TRUE(authz.Authorize(ListPods("mallory", "default")).allowed);
  EXPECT_TRUE(authz.Authorize(ListPods("alice", "secret-ns")).allowed);
}

TEST(AuthorizerTest, FirstMatchingRuleWinsAndSubresourcesMatch) {
  Authorizer authz(false);
  AuthzRule allow_logs;
  allow_logs.effect = AuthzRule::Effect::kAllow;
  allow_logs.resource = "pods/log";
  authz.AddRule(allow_logs);
  AuthzAttributes logs = ListPods("bob", "a");
  logs.verb = "get";
  logs.subresource = "log";
  EXPECT_TRUE(authz.Authorize(logs).allowed);
  logs.subresource = "exec";
  EXPECT_FALSE(authz.Authorize(logs).allowed);
  AuthzRule all_subs;
  all_subs.effect = AuthzRule::Effect::kAllow;
  all_subs.resource = "pods/*";
  authz.AddRule(all_subs);
  EXPECT_TRUE(authz.Authorize(logs).allowed);
}

TEST(AuthorizerTest, AnonymousOnlyReadsPublicInfo) {
  Authorizer authz;
  AuthzAttributes health;
  health.user = User(kAnonymousUser, {kUnauthenticatedGroup});
  health.is_resource_request = false;
  health.verb = "get";
  health.path = "/healthz";
  EXPECT_TRUE(authz.Authorize(health).allowed);
  health.path = "/api";
  EXPECT_FALSE(authz.Authorize(health).allowed);
  AuthzAttributes pods = ListPods(kAnonymousUser, "default");
  pods.user.groups = {kUnauthenticatedGroup};
  EXPECT_FALSE(authz.Authorize(pods).allowed);
}

TEST(AuthorizerTest, ForbiddenMessagesAsKube) {
  AuthzAttributes a = ListPods("x", "y");
  Error e = ForbiddenErrorFor(a, "");
  EXPECT_EQ(e.code(), ErrorCode::kForbidden);
  EXPECT_EQ(e.message(),
            "pods is forbidden: User \"x\" cannot list resource \"pods\" in API group \"\" in "
            "the namespace \"y\"");
  a.verb = "get";
  a.name = "web";
  a.subresource = "log";
  EXPECT_EQ(ForbiddenErrorFor(a, "").message(),
            "pods \"web\" is forbidden: User \"x\" cannot get resource \"pods/log\" in API group "
            "\"\" in the namespace \"y\"");
  AuthzAttributes nodes;
  nodes.user = User("x");
  nodes.verb = "list";
  nodes.api_group = "coordination.k8s.io";
  nodes.resource = "leases";
  EXPECT_EQ(ForbiddenErrorFor(nodes, "rule says no").message(),
            "leases.coordination.k8s.io is forbidden: User \"x\" cannot list resource \"leases\" "
            "in API group \"coordination.k8s.io\" at the cluster scope: rule says no");
  AuthzAttributes path;
  path.user = User("x");
  path.is_resource_request = false;
  path.verb = "get";
  path.path = "/metrics";
  EXPECT_EQ(ForbiddenErrorFor(path, "").message(),
            "forbidden: User \"x\" cannot get path \"/metrics\"");
}

TEST(ReviewsTest, SelfSubjectAccessReview) {
  Authorizer authz;
  AuthzRule deny;
  deny.user = "alice";
  deny.verb = "delete";
  deny.reason = "read-only user";
  authz.AddRule(deny);
  auto body = obj::Parse(R"({"apiVersion":"authorization.k8s.io/v1",
      "kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":
      {"namespace":"a","verb":"delete","resource":"pods"}}})");
  ASSERT_TRUE(body);
  auto answer = ReviewSelfSubjectAccess(*body, User("alice"), authz);
  ASSERT_TRUE(answer);
  EXPECT_EQ(obj::Kind(*answer), "SelfSubjectAccessReview");
  EXPECT_FALSE(obj::Find(*answer, {"status", "allowed"})->as_bool());
  EXPECT_TRUE(obj::Find(*answer, {"status", "denied"})->as_bool());
  EXPECT_EQ(obj::String(*answer, {"status", "reason"}), "read-only user");
  EXPECT_TRUE(obj::Find(*answer, {"metadata", "creationTimestamp"})->is_null());

  auto allowed = ReviewSelfSubjectAccess(*body, User("bob"), authz);
  ASSERT_TRUE(allowed);
  EXPECT_TRUE(obj::Find(*allowed, {"status", "allowed"})->as_bool());
  EXPECT_EQ(obj::Find(*allowed, {"status", "denied"}), nullptr);
}

TEST(ReviewsTest, AccessReviewValidation) {
  Authorizer authz;
  auto empty = obj::Parse(R"({"spec":{}})");
  auto r = ReviewSelfSubjectAccess(*empty, User("a"), authz);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalid);
  EXPECT_NE(r.error().message().find("exactly one of nonResourceAttributes or resourceAttributes"),
            std::string::npos);
  auto no_user = obj::Parse(R"({"spec":{"resourceAttributes":{"verb":"get"}}})");
  auto sar = ReviewSubjectAccess(*no_user, authz);
  ASSERT_FALSE(sar);
  EXPECT_NE(sar.error().message().find("at least one of user or group must be specified"),
            std::string::npos);
}

TEST(ReviewsTest, SubjectAccessReviewForAnotherUser) {
  Authorizer authz;
  AuthzRule deny;
  deny.user_group = "interns";
  deny.verb = "create";
  authz.AddRule(deny);
  auto body = obj::Parse(R"({"spec":{"user":"tim","groups":["interns"],
      "nonResourceAttributes":{"path":"/api","verb":"get"}}})");
  auto read = ReviewSubjectAccess(*body, authz);
  ASSERT_TRUE(read);
  EXPECT_TRUE(obj::Find(*read, {"status", "allowed"})->as_bool());
  auto write = obj::Parse(R"({"spec":{"user":"tim","groups":["interns"],
      "resourceAttributes":{"verb":"create","resource":"pods","namespace":"a"}}})");
  auto denied = ReviewSubjectAccess(*write, authz);
  ASSERT_TRUE(denied);
  EXPECT_FALSE(obj::Find(*denied, {"status", "allowed"})->as_bool());
}

TEST(ReviewsTest, TokenReview) {
  Authenticator authn;
  authn.AddToken("good", User("carol", {"ops"}));
  auto body = obj::Parse(R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview",
      "spec":{"token":"good"}})");
  auto ok = ReviewToken(*body, authn);
  ASSERT_TRUE(ok);
  EXPECT_TRUE(obj::Find(*ok, {"status", "authenticated"})->as_bool());
  EXPECT_EQ(obj::String(*ok, {"status", "user", "username"}), "carol");
  auto bad = obj::Parse(R"({"spec":{"token":"bad"}})");
  auto no = ReviewToken(*bad, authn);
  ASSERT_TRUE(no);
  EXPECT_EQ(obj::Find(*no, {"status", "authenticated"}), nullptr);
  auto missing = obj::Parse(R"({"spec":{}})");
  EXPECT_EQ(ReviewToken(*missing, authn).error().code(), ErrorCode::kBadRequest);
}

}  // namespace
}  // namespace vk::kubesim
