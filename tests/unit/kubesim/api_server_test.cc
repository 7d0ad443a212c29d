// kubesim's API server over HTTP: routing, status codes and Status bodies, discovery, CRUD,
// content negotiation, authentication and authorisation, subresources, reviews, faults.

#include "tests/kubesim/api_server.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tests/kubesim/http_test_client.h"

namespace vk::kubesim {
namespace {

namespace json = boost::json;
using Response = HttpTestClient::Response;

Object Json(const char* text) {
  auto o = obj::Parse(text);
  EXPECT_TRUE(o) << text;
  return o.value_or(Object{});
}

Object ConfigMap(const std::string& name) {
  return Object{{"apiVersion", "v1"},
                {"kind", "ConfigMap"},
                {"metadata", json::object{{"name", name}}},
                {"data", json::object{{"k", "v"}}}};
}

Object Pod(const std::string& name) {
  return Object{
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", json::object{{"name", name}}},
      {"spec",
       json::object{{"containers", json::array{json::object{{"name", "c"}, {"image", "nginx"}}}}}}};
}

class ApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(ApiServer::Options{}); }

  void StartServer(ApiServer::Options options) {
    options.tokens["admin-token"] = UserInfo{"admin", "", {"system:masters"}, {}};
    options.tokens["alice-token"] = UserInfo{"alice", "", {"devs"}, {}};
    server_ = std::make_unique<ApiServer>(std::move(options));
    auto port = server_->Start();
    ASSERT_TRUE(port) << port.error().ToString();
    client_ = Client("admin-token");
  }

  std::unique_ptr<HttpTestClient> Client(const std::string& token) {
    HttpTestClient::Options o;
    o.base_url = server_->url();
    o.bearer_token = token;
    return std::make_unique<HttpTestClient>(o);
  }

  Response Must(Result<Response> r) {
    EXPECT_TRUE(r) << r.error().ToString();
    return r.value_or(Response{});
  }

  Object Body(const Response& r) {
    auto o = r.Json();
    EXPECT_TRUE(o) << r.body;
    return o.value_or(Object{});
  }

  void ExpectStatus(const Response& r, int code, std::string_view reason) {
    EXPECT_EQ(r.status, code) << r.body;
    Object s = Body(r);
    EXPECT_EQ(obj::Kind(s), "Status") << r.body;
    EXPECT_EQ(obj::String(s, {"status"}), "Failure") << r.body;
    EXPECT_EQ(obj::String(s, {"reason"}), reason) << r.body;
    EXPECT_EQ(obj::Int(s, {"code"}), code) << r.body;
  }

  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<HttpTestClient> client_;
};

TEST_F(ApiServerTest, HealthAndVersion) {
  for (const char* path : {"/healthz", "/readyz", "/livez"}) {
    Response r = Must(client_->Get(path));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "ok");
  }
  Response v = Must(client_->Get("/version"));
  EXPECT_EQ(v.status, 200);
  EXPECT_EQ(obj::String(Body(v), {"major"}), "1");
  EXPECT_EQ(obj::String(Body(v), {"gitVersion"}), kKubeGitVersion);
  EXPECT_EQ(Must(client_->Get("/nope")).status, 404);
}

TEST_F(ApiServerTest, UnauthenticatedGets401Status) {
  auto anonymous = Client("");
  Response r = Must(anonymous->Get("/api/v1/pods"));
  ExpectStatus(r, 401, "Unauthorized");
  EXPECT_EQ(obj::String(Body(r), {"message"}), "Unauthorized");
  ExpectStatus(Must(Client("wrong")->Get("/api")), 401, "Unauthorized");
  ExpectStatus(Must(anonymous->Get("/healthz")), 401, "Unauthorized");
}

TEST_F(ApiServerTest, AnonymousWhenAllowedReadsOnlyPublicInfo) {
  ApiServer::Options o;
  o.allow_anonymous = true;
  StartServer(std::move(o));
  auto anonymous = Client("");
  EXPECT_EQ(Must(anonymous->Get("/healthz")).status, 200);
  Response r = Must(anonymous->Get("/api/v1/namespaces/default/pods"));
  ExpectStatus(r, 403, "Forbidden");
  EXPECT_EQ(obj::String(Body(r), {"message"}),
            "pods is forbidden: User \"system:anonymous\" cannot list resource \"pods\" in API "
            "group \"\" in the namespace \"default\"");
}

TEST_F(ApiServerTest, LegacyDiscovery) {
  Response api = Must(client_->Get("/api"));
  EXPECT_EQ(api.status, 200);
  EXPECT_EQ(obj::String(Body(api), {"kind"}), "APIVersions");
  EXPECT_EQ(obj::String(Body(api).at("serverAddressByClientCIDRs").as_array()[0].as_object(),
                        {"serverAddress"}),
            "127.0.0.1:" + std::to_string(server_->port()));
  Response apis = Must(client_->Get("/apis"));
  EXPECT_EQ(obj::String(Body(apis), {"kind"}), "APIGroupList");
  Response v1 = Must(client_->Get("/api/v1"));
  EXPECT_EQ(obj::String(Body(v1), {"kind"}), "APIResourceList");
  Response leases = Must(client_->Get("/apis/coordination.k8s.io/v1"));
  EXPECT_EQ(obj::String(Body(leases), {"groupVersion"}), "coordination.k8s.io/v1");
  Response group = Must(client_->Get("/apis/coordination.k8s.io"));
  EXPECT_EQ(obj::String(Body(group), {"kind"}), "APIGroup");
  ExpectStatus(Must(client_->Get("/apis/nope.example.com/v1")), 404, "NotFound");
}

TEST_F(ApiServerTest, AggregatedDiscoveryWhenAsked) {
  Response r = Must(client_->Get(
      "/apis", {{"Accept",
                 "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
                 "application/json"}}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-type"),
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
  EXPECT_EQ(obj::String(Body(r), {"kind"}), "APIGroupDiscoveryList");
  Response core = Must(client_->Get("/api", {{"Accept",
                                              "application/json;g=apidiscovery.k8s.io;v=v2beta1;as="
                                              "APIGroupDiscoveryList"}}));
  EXPECT_EQ(obj::String(Body(core), {"apiVersion"}), "apidiscovery.k8s.io/v2beta1");
  EXPECT_EQ(Must(client_->Get("/api", {{"Accept", "text/html"}})).status, 406);
}

TEST_F(ApiServerTest, OpenApiV3) {
  Response index = Must(client_->Get("/openapi/v3"));
  EXPECT_EQ(index.status, 200);
  std::string url(obj::String(Body(index), {"paths", "api/v1", "serverRelativeURL"}));
  Response doc = Must(client_->Get(url));
  EXPECT_EQ(doc.status, 200);
  EXPECT_EQ(obj::String(Body(doc), {"openapi"}), "3.0.0");
  EXPECT_EQ(Must(client_->Get("/openapi/v2")).status, 404);
}

TEST_F(ApiServerTest, ConfigMapCrudStatusCodesAndBodies) {
  const std::string base = "/api/v1/namespaces/default/configmaps";
  Response created = Must(client_->Post(base, ConfigMap("cm1")));
  EXPECT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.Header("content-type"), "application/json");
  Object cm = Body(created);
  EXPECT_EQ(obj::Name(cm), "cm1");
  EXPECT_FALSE(obj::Uid(cm).empty());
  EXPECT_FALSE(obj::ResourceVersion(cm).empty());

  Response dup = Must(client_->Post(base, ConfigMap("cm1")));
  ExpectStatus(dup, 409, "AlreadyExists");
  EXPECT_EQ(obj::String(Body(dup), {"message"}), "configmaps \"cm1\" already exists");

  Response got = Must(client_->Get(base + "/cm1"));
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(obj::String(Body(got), {"data", "k"}), "v");

  Object update = Body(got);
  update["data"].as_object()["k"] = "v2";
  Response updated = Must(client_->Put(base + "/cm1", update));
  EXPECT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(obj::String(Body(updated), {"data", "k"}), "v2");
  // The same write again is stale.
  ExpectStatus(Must(client_->Put(base + "/cm1", update)), 409, "Conflict");

  Response patched = Must(
      client_->Patch(base + "/cm1", "application/merge-patch+json", R"({"data":{"extra":"x"}})"));
  EXPECT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(obj::String(Body(patched), {"data", "extra"}), "x");

  Response list = Must(client_->Get(base));
  EXPECT_EQ(list.status, 200);
  Object l = Body(list);
  EXPECT_EQ(obj::Kind(l), "ConfigMapList");
  EXPECT_EQ(obj::ApiVersion(l), "v1");
  EXPECT_FALSE(obj::String(l, {"metadata", "resourceVersion"}).empty());
  bool listed = false;
  for (const auto& item : l.at("items").as_array()) {
    if (obj::Name(item.as_object()) == "cm1") {
      listed = true;
      EXPECT_EQ(item.as_object().if_contains("kind"), nullptr);
    }
  }
  EXPECT_TRUE(listed);

  Response deleted = Must(client_->Delete(base + "/cm1"));
  EXPECT_EQ(deleted.status, 200) << deleted.body;
  Object status = Body(deleted);
  EXPECT_EQ(obj::Kind(status), "Status");
  EXPECT_EQ(obj::String(status, {"status"}), "Success");
  EXPECT_EQ(obj::String(status, {"details", "name"}), "cm1");
  EXPECT_EQ(obj::String(status, {"details", "kind"}), "configmaps");
  EXPECT_EQ(obj::String(status, {"details", "uid"}), obj::Uid(cm));

  Response missing = Must(client_->Get(base + "/cm1"));
  ExpectStatus(missing, 404, "NotFound");
  EXPECT_EQ(obj::String(Body(missing), {"message"}), "configmaps \"cm1\" not found");
  EXPECT_EQ(obj::String(Body(missing), {"details", "name"}), "cm1");
  EXPECT_EQ(obj::String(Body(missing), {"details", "kind"}), "configmaps");
}

TEST_F(ApiServerTest, PodDeleteReturnsThePod) {
  const std::string base = "/api/v1/namespaces/default/pods";
  ASSERT_EQ(Must(client_->Post(base, Pod("p1"))).status, 201);
  Response deleted = Must(client_->Delete(base + "/p1", R"({"gracePeriodSeconds":0})"));
  EXPECT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(obj::Kind(Body(deleted)), "Pod");
  EXPECT_EQ(Must(client_->Get(base + "/p1")).status, 404);
}

TEST_F(ApiServerTest, DryRunCreateStoresNothing) {
  const std::string base = "/api/v1/namespaces/default/configmaps";
  Response r =
      Must(client_->Request("POST", base + "?dryRun=All", json::serialize(ConfigMap("ghost"))));
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Must(client_->Get(base + "/ghost")).status, 404);
  ExpectStatus(
      Must(client_->Request("POST", base + "?dryRun=Yes", json::serialize(ConfigMap("ghost")))),
      400, "BadRequest");
}

TEST_F(ApiServerTest, YamlBodiesAreAccepted) {
  Response r = Must(client_->Request("POST", "/api/v1/namespaces/default/configmaps",
                                     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\n"
                                     "data:\n  a: \"1\"\n",
                                     {{"Content-Type", "application/yaml"}}));
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(obj::String(Body(r), {"data", "a"}), "1");
}

TEST_F(ApiServerTest, RoutingErrors) {
  // All-namespace collections are read-only.
  ExpectStatus(Must(client_->Post("/api/v1/pods", Pod("x"))), 405, "MethodNotAllowed");
  ExpectStatus(Must(client_->Get("/api/v1/widgets")), 404, "NotFound");
  ExpectStatus(Must(client_->Get("/api/v1/namespaces/default/pods/x/nope")), 404, "NotFound");
  ExpectStatus(Must(client_->Put("/api/v1/namespaces/default/configmaps", ConfigMap("x"))), 405,
               "MethodNotAllowed");
  // Cluster-scoped resources have no namespace in their path.
  ExpectStatus(Must(client_->Get("/api/v1/namespaces/default/nodes")), 404, "NotFound");
  // Review resources are create-only.
  ExpectStatus(Must(client_->Get("/apis/authentication.k8s.io/v1/tokenreviews")), 405,
               "MethodNotAllowed");
}

TEST_F(ApiServerTest, MediaTypes) {
  const std::string base = "/api/v1/namespaces/default/configmaps";
  ExpectStatus(Must(client_->Request("POST", base, "x",
                                     {{"Content-Type", "application/vnd.kubernetes.protobuf"}})),
               415, "UnsupportedMediaType");
  ASSERT_EQ(Must(client_->Post(base, ConfigMap("m"))).status, 201);
  ExpectStatus(Must(client_->Patch(base + "/m", "text/plain", "{}")), 415, "UnsupportedMediaType");
  // As kube: the kind defaults from the URL, then validation wants a name.
  ExpectStatus(Must(client_->Post(base, Object{})), 422, "Invalid");
  ExpectStatus(Must(client_->Request("POST", base, "{broken")), 400, "BadRequest");
  // Protobuf-preferring clients get JSON.
  Response r = Must(client_->Get(
      base + "/m", {{"Accept", "application/vnd.kubernetes.protobuf,application/json"}}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-type"), "application/json");
}

TEST_F(ApiServerTest, ServerSideApplyCreatesThenUpdates) {
  const std::string path = "/api/v1/namespaces/default/configmaps/applied";
  const std::string yaml =
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  a: b\n";
  Response missing_manager = Must(client_->Patch(path, "application/apply-patch+yaml", yaml));
  ExpectStatus(missing_manager, 422, "Invalid");
  Response created = Must(client_->Request("PATCH", path + "?fieldManager=test", yaml,
                                           {{"Content-Type", "application/apply-patch+yaml"}}));
  EXPECT_EQ(created.status, 201) << created.body;
  Response again = Must(client_->Request("PATCH", path + "?fieldManager=test", yaml,
                                         {{"Content-Type", "application/apply-patch+yaml"}}));
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(obj::String(Body(again), {"data", "a"}), "b");
  ExpectStatus(Must(client_->Request("PATCH", path + "?force=true", R"({"data":{}})",
                                     {{"Content-Type", "application/merge-patch+json"}})),
               422, "Invalid");
}

TEST_F(ApiServerTest, TableOutputForKubectl) {
  ASSERT_EQ(Must(client_->Post("/api/v1/namespaces/default/pods", Pod("t1"))).status, 201);
  const std::string accept =
      "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta."
      "k8s.io,application/json";
  Response list = Must(client_->Get("/api/v1/pods?limit=500", {{"Accept", accept}}));
  EXPECT_EQ(list.status, 200);
  Object table = Body(list);
  EXPECT_EQ(obj::Kind(table), "Table");
  EXPECT_EQ(table.at("columnDefinitions").as_array()[0].as_object().at("name").as_string(), "Name");
  bool found = false;
  for (const auto& row : table.at("rows").as_array()) {
    const auto& o = row.as_object();
    if (o.at("cells").as_array()[0].as_string() != "t1") continue;
    found = true;
    EXPECT_EQ(o.at("cells").as_array()[2].as_string(), "Pending");
    EXPECT_EQ(obj::String(o.at("object").as_object(), {"metadata", "namespace"}), "default");
  }
  EXPECT_TRUE(found);
  Response one = Must(client_->Get("/api/v1/namespaces/default/pods/t1", {{"Accept", accept}}));
  EXPECT_EQ(obj::Kind(Body(one)), "Table");
  Response meta = Must(client_->Get(
      "/api/v1/namespaces/default/pods",
      {{"Accept", "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"}}));
  EXPECT_EQ(obj::Kind(Body(meta)), "PartialObjectMetadataList");
}

TEST_F(ApiServerTest, DenyRuleForbidsAndSelfSubjectAccessReviewAgrees) {
  AuthzRule deny;
  deny.user = "alice";
  deny.verb = "list";
  deny.resource = "pods";
  deny.ns = "kube-system";
  deny.reason = "alice may not look there";
  server_->AddAuthzRule(deny);
  auto alice = Client("alice-token");
  Response r = Must(alice->Get("/api/v1/namespaces/kube-system/pods"));
  ExpectStatus(r, 403, "Forbidden");
  EXPECT_EQ(obj::String(Body(r), {"message"}),
            "pods is forbidden: User \"alice\" cannot list resource \"pods\" in API group \"\" in "
            "the namespace \"kube-system\": alice may not look there");
  EXPECT_EQ(obj::String(Body(r), {"details", "kind"}), "pods");
  EXPECT_EQ(Must(alice->Get("/api/v1/namespaces/default/pods")).status, 200);

  Object ssar = Json(R"({"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview",
      "spec":{"resourceAttributes":{"namespace":"kube-system","verb":"list","resource":"pods"}}})");
  Response review =
      Must(alice->Post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", ssar));
  EXPECT_EQ(review.status, 201) << review.body;
  EXPECT_FALSE(obj::Find(Body(review), {"status", "allowed"})->as_bool());
  EXPECT_TRUE(obj::Find(Body(review), {"status", "denied"})->as_bool());
  EXPECT_EQ(obj::String(Body(review), {"status", "reason"}), "alice may not look there");
  Response admin =
      Must(client_->Post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", ssar));
  EXPECT_TRUE(obj::Find(Body(admin), {"status", "allowed"})->as_bool());

  Object sar = Json(R"({"spec":{"user":"alice","groups":["devs"],"resourceAttributes":
      {"namespace":"kube-system","verb":"list","resource":"pods"}}})");
  Response other = Must(client_->Post("/apis/authorization.k8s.io/v1/subjectaccessreviews", sar));
  EXPECT_EQ(other.status, 201);
  EXPECT_FALSE(obj::Find(Body(other), {"status", "allowed"})->as_bool());
}

TEST_F(ApiServerTest, InjectedThrottlingWithRetryAfter) {
  FaultRule rule;
  rule.verb = "list";
  rule.path_substring = "/configmaps";
  rule.count = 1;
  rule.status = 429;
  rule.retry_after_seconds = 2;
  server_->faults().AddFault(rule);
  Response r = Must(client_->Get("/api/v1/namespaces/default/configmaps"));
  ExpectStatus(r, 429, "TooManyRequests");
  EXPECT_EQ(r.Header("retry-after"), "2");
  EXPECT_EQ(obj::Int(Body(r), {"details", "retryAfterSeconds"}), 2);
  EXPECT_EQ(Must(client_->Get("/api/v1/namespaces/default/configmaps")).status, 200);
  EXPECT_EQ(server_->faults().faults_injected(), 1u);
}

TEST_F(ApiServerTest, InjectedErrorsAndLatency) {
  FaultRule rule;
  rule.verb = "POST";
  rule.status = 503;
  server_->faults().AddFault(rule);
  ExpectStatus(Must(client_->Post("/api/v1/namespaces/default/configmaps", ConfigMap("f"))), 503,
               "ServiceUnavailable");
  server_->faults().AddLatency({"get", "/version", std::chrono::milliseconds(150), 1});
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Must(client_->Get("/version")).status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(150));
}

TEST_F(ApiServerTest, TokenRequestMintsATokenTheServerAccepts) {
  ASSERT_EQ(Must(client_->Post("/api/v1/namespaces/default/serviceaccounts",
                               Json(R"({"metadata":{"name":"builder"}})")))
                .status,
            201);
  const std::string token_path = "/api/v1/namespaces/default/serviceaccounts/builder/token";
  Response too_short = Must(client_->Post(token_path, Json(R"({"apiVersion":
      "authentication.k8s.io/v1","kind":"TokenRequest","spec":{"expirationSeconds":100}})")));
  ExpectStatus(too_short, 422, "Invalid");
  EXPECT_NE(obj::String(Body(too_short), {"message"}).find("less than 10 minutes"),
            std::string::npos);

  Response r = Must(client_->Post(
      token_path, Json(R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest",
                           "spec":{}})")));
  EXPECT_EQ(r.status, 201) << r.body;
  Object tr = Body(r);
  EXPECT_EQ(obj::Kind(tr), "TokenRequest");
  EXPECT_EQ(obj::Int(tr, {"spec", "expirationSeconds"}), 3600);
  EXPECT_FALSE(obj::String(tr, {"status", "expirationTimestamp"}).empty());
  std::string token(obj::String(tr, {"status", "token"}));
  ASSERT_FALSE(token.empty());

  auto sa = Client(token);
  EXPECT_EQ(Must(sa->Get("/api/v1/namespaces/default/pods")).status, 200);
  Response review = Must(client_->Post("/apis/authentication.k8s.io/v1/tokenreviews",
                                       Object{{"apiVersion", "authentication.k8s.io/v1"},
                                              {"kind", "TokenReview"},
                                              {"spec", json::object{{"token", token}}}}));
  EXPECT_EQ(review.status, 201);
  EXPECT_TRUE(obj::Find(Body(review), {"status", "authenticated"})->as_bool());
  EXPECT_EQ(obj::String(Body(review), {"status", "user", "username"}),
            "system:serviceaccount:default:builder");

  // The token dies with its service account.
  ASSERT_EQ(Must(client_->Delete("/api/v1/namespaces/default/serviceaccounts/builder")).status,
            200);
  ExpectStatus(Must(sa->Get("/api/v1/namespaces/default/pods")), 401, "Unauthorized");
  ExpectStatus(Must(client_->Post(token_path, Json(R"({"spec":{}})"))), 404, "NotFound");
}

TEST_F(ApiServerTest, SelfSubjectReviewAndLocalSubjectAccessReview) {
  Response whoami = Must(
      Client("alice-token")
          ->Post("/apis/authentication.k8s.io/v1/selfsubjectreviews",
                 Json(R"({"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"})")));
  EXPECT_EQ(whoami.status, 201) << whoami.body;
  EXPECT_EQ(obj::String(Body(whoami), {"status", "userInfo", "username"}), "alice");
  Response local = Must(client_->Post(
      "/apis/authorization.k8s.io/v1/namespaces/team/localsubjectaccessreviews",
      Json(R"({"spec":{"user":"alice","resourceAttributes":{"namespace":"team","verb":"get",
               "resource":"pods"}}})")));
  EXPECT_EQ(local.status, 201) << local.body;
  EXPECT_TRUE(obj::Find(Body(local), {"status", "allowed"})->as_bool());
  EXPECT_EQ(obj::String(Body(local), {"metadata", "namespace"}), "team");
  ExpectStatus(
      Must(client_->Post("/apis/authorization.k8s.io/v1/namespaces/team/localsubjectaccessreviews",
                         Json(R"({"spec":{"user":"alice","resourceAttributes":{"namespace":"other",
                            "verb":"get","resource":"pods"}}})"))),
      422, "Invalid");
}

TEST_F(ApiServerTest, IssueServiceAccountTokenHelper) {
  auto token = server_->IssueServiceAccountToken("default", "default");
  ASSERT_TRUE(token) << token.error().ToString();
  EXPECT_EQ(Must(Client(*token)->Get("/api/v1/namespaces/default/configmaps")).status, 200);
  EXPECT_FALSE(server_->IssueServiceAccountToken("default", "nobody"));
}

TEST_F(ApiServerTest, BindingSetsNodeNameOnce) {
  const std::string pods = "/api/v1/namespaces/default/pods";
  ASSERT_EQ(Must(client_->Post(pods, Pod("b1"))).status, 201);
  Object binding = Json(R"({"apiVersion":"v1","kind":"Binding","metadata":{"name":"b1"},
                            "target":{"apiVersion":"v1","kind":"Node","name":"node-1"}})");
  Response r = Must(client_->Post(pods + "/b1/binding", binding));
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(obj::String(Body(r), {"status"}), "Success");
  EXPECT_EQ(obj::String(Body(Must(client_->Get(pods + "/b1"))), {"spec", "nodeName"}), "node-1");
  ExpectStatus(Must(client_->Post(pods + "/b1/binding", binding)), 409, "Conflict");
  ExpectStatus(Must(client_->Post(pods + "/other/binding", binding)), 400, "BadRequest");
  ExpectStatus(
      Must(client_->Post(pods + "/b1/binding", Json(R"({"metadata":{"name":"b1"},"target":{}})"))),
      422, "Invalid");
}

TEST_F(ApiServerTest, EvictionDeletesThePod) {
  const std::string pods = "/api/v1/namespaces/default/pods";
  ASSERT_EQ(Must(client_->Post(pods, Pod("e1"))).status, 201);
  Response r = Must(
      client_->Post(pods + "/e1/eviction",
                    Json(R"({"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"e1"},
               "deleteOptions":{"gracePeriodSeconds":0}})")));
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Must(client_->Get(pods + "/e1")).status, 404);
  ExpectStatus(Must(client_->Post(pods + "/e1/eviction", Json(R"({"metadata":{"name":"e1"}})"))),
               404, "NotFound");
}

TEST_F(ApiServerTest, PodLogsNeedAProvider) {
  const std::string pods = "/api/v1/namespaces/default/pods";
  ASSERT_EQ(Must(client_->Post(pods, Pod("l1"))).status, 201);
  ExpectStatus(Must(client_->Get(pods + "/l1/log")), 400, "BadRequest");
  ExpectStatus(Must(client_->Get(pods + "/none/log")), 404, "NotFound");

  ApiServer::Options o;
  o.pod_logs = [](const PodLogRequest& r) -> Result<std::string> {
    return r.pod + "/" + r.container + " tail=" + std::to_string(r.tail_lines.value_or(-1)) + "\n";
  };
  StartServer(std::move(o));
  ASSERT_EQ(Must(client_->Post(pods, Pod("l2"))).status, 201);
  Response logs = Must(client_->Get(pods + "/l2/log?container=c&tailLines=5"));
  EXPECT_EQ(logs.status, 200);
  EXPECT_EQ(logs.body, "l2/c tail=5\n");
}

TEST_F(ApiServerTest, OversizedBodyIs413) {
  std::string big(4 * 1024 * 1024, 'x');
  Response r = Must(client_->Request("POST", "/api/v1/namespaces/default/configmaps", big));
  ExpectStatus(r, 413, "RequestEntityTooLarge");
}

TEST_F(ApiServerTest, RestartKeepsPortAndData) {
  ASSERT_EQ(Must(client_->Post("/api/v1/namespaces/default/configmaps", ConfigMap("kept"))).status,
            201);
  const uint16_t port = server_->port();
  server_->Stop();
  EXPECT_FALSE(server_->running());
  EXPECT_FALSE(client_->Get("/version"));
  ASSERT_TRUE(server_->Start());
  EXPECT_EQ(server_->port(), port);
  EXPECT_EQ(Must(client_->Get("/api/v1/namespaces/default/configmaps/kept")).status, 200);
}

TEST_F(ApiServerTest, ConcurrentClients) {
  std::vector<std::thread> threads;
  std::atomic<int> created{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto c = Client("admin-token");
      for (int i = 0; i < 25; ++i) {
        auto r = c->Post("/api/v1/namespaces/default/configmaps",
                         ConfigMap("c-" + std::to_string(t) + "-" + std::to_string(i)));
        if (r && r->status == 201) ++created;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 100);
  Object list = Body(Must(client_->Get("/api/v1/namespaces/default/configmaps?limit=1000")));
  EXPECT_GE(list.at("items").as_array().size(), 100u);
}

}  // namespace
}  // namespace vk::kubesim
