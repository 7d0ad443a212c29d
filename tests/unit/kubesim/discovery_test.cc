// Discovery and OpenAPI documents, Table rendering and YAML decoding of kubesim.

#include "tests/kubesim/discovery.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tests/kubesim/openapi.h"
#include "tests/kubesim/table.h"
#include "tests/kubesim/timestamps.h"
#include "tests/kubesim/yaml_json.h"

namespace vk::kubesim {
namespace {

namespace json = boost::json;

const json::object* FindResource(const Object& list, std::string_view name) {
  for (const auto& r : list.at("resources").as_array()) {
    if (r.as_object().at("name").as_string() == name) return &r.as_object();
  }
  return nullptr;
}

TEST(DiscoveryTest, CoreResourceListDescribesResourcesAndSubresources) {
  Discovery d(ResourceCatalog::Default());
  auto list = d.Resources("", "v1");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->at("kind").as_string(), "APIResourceList");
  EXPECT_EQ(list->at("groupVersion").as_string(), "v1");
  const json::object* pods = FindResource(*list, "pods");
  ASSERT_NE(pods, nullptr);
  EXPECT_EQ(pods->at("kind").as_string(), "Pod");
  EXPECT_EQ(pods->at("singularName").as_string(), "pod");
  EXPECT_TRUE(pods->at("namespaced").as_bool());
  EXPECT_EQ(pods->at("shortNames").as_array(), (json::array{"po"}));
  EXPECT_EQ(pods->at("categories").as_array(), (json::array{"all"}));
  const json::object* eviction = FindResource(*list, "pods/eviction");
  ASSERT_NE(eviction, nullptr);
  EXPECT_EQ(eviction->at("group").as_string(), "policy");
  EXPECT_EQ(eviction->at("kind").as_string(), "Eviction");
  EXPECT_EQ(eviction->at("verbs").as_array(), (json::array{"create"}));
  const json::object* status = FindResource(*list, "pods/status");
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(status->at("verbs").as_array(), (json::array{"get", "patch", "update"}));
  const json::object* token = FindResource(*list, "serviceaccounts/token");
  ASSERT_NE(token, nullptr);
  EXPECT_EQ(token->at("kind").as_string(), "TokenRequest");
  const json::object* nodes = FindResource(*list, "nodes");
  ASSERT_NE(nodes, nullptr);
  EXPECT_FALSE(nodes->at("namespaced").as_bool());
  EXPECT_FALSE(d.Resources("", "v2"));
}

TEST(DiscoveryTest, GroupsAndGroupVersions) {
  Discovery d(ResourceCatalog::Default());
  Object groups = d.Groups();
  EXPECT_EQ(groups.at("kind").as_string(), "APIGroupList");
  bool found = false;
  for (const auto& g : groups.at("groups").as_array()) {
    if (g.as_object().at("name").as_string() != "coordination.k8s.io") continue;
    found = true;
    EXPECT_EQ(obj::String(g.as_object(), {"preferredVersion", "groupVersion"}),
              "coordination.k8s.io/v1");
  }
  EXPECT_TRUE(found);
  auto group = d.Group("coordination.k8s.io");
  ASSERT_TRUE(group);
  EXPECT_EQ(group->at("kind").as_string(), "APIGroup");
  EXPECT_FALSE(d.Group("nope.example.com"));
  auto leases = d.Resources("coordination.k8s.io", "v1");
  ASSERT_TRUE(leases);
  EXPECT_NE(FindResource(*leases, "leases"), nullptr);
  Object core = d.CoreVersions("127.0.0.1:6443");
  EXPECT_EQ(core.at("versions").as_array(), (json::array{"v1"}));
}

TEST(DiscoveryTest, AggregatedDiscovery) {
  Discovery d(ResourceCatalog::Default());
  Object core = d.AggregatedCore("apidiscovery.k8s.io/v2");
  EXPECT_EQ(core.at("kind").as_string(), "APIGroupDiscoveryList");
  const auto& items = core.at("items").as_array();
  ASSERT_EQ(items.size(), 1u);
  const auto& v1 = items[0].as_object().at("versions").as_array()[0].as_object();
  EXPECT_EQ(v1.at("version").as_string(), "v1");
  bool pods = false;
  for (const auto& r : v1.at("resources").as_array()) {
    const auto& res = r.as_object();
    if (res.at("resource").as_string() != "pods") continue;
    pods = true;
    EXPECT_EQ(res.at("scope").as_string(), "Namespaced");
    EXPECT_EQ(obj::String(res, {"responseKind", "kind"}), "Pod");
    bool binding = false;
    for (const auto& s : res.at("subresources").as_array()) {
      if (s.as_object().at("subresource").as_string() == "binding") binding = true;
    }
    EXPECT_TRUE(binding);
  }
  EXPECT_TRUE(pods);
  Object groups = d.AggregatedGroups("apidiscovery.k8s.io/v2beta1");
  EXPECT_EQ(groups.at("apiVersion").as_string(), "apidiscovery.k8s.io/v2beta1");
  EXPECT_FALSE(groups.at("items").as_array().empty());
}

TEST(DiscoveryTest, VersionPriority) {
  EXPECT_TRUE(VersionPrecedes("v1", "v1beta1"));
  EXPECT_TRUE(VersionPrecedes("v2", "v1"));
  EXPECT_TRUE(VersionPrecedes("v1beta2", "v1beta1"));
  EXPECT_TRUE(VersionPrecedes("v1beta1", "v1alpha1"));
  EXPECT_TRUE(VersionPrecedes("v1alpha1", "foo"));
  EXPECT_FALSE(VersionPrecedes("v1beta1", "v1"));
}

TEST(OpenApiTest, IndexAndPatchOperationsDeclareFieldValidation) {
  OpenApi openapi(ResourceCatalog::Default());
  Object index = openapi.Index();
  const auto& url = obj::String(index, {"paths", "api/v1", "serverRelativeURL"});
  EXPECT_EQ(url.substr(0, 23), "/openapi/v3/api/v1?hash");
  auto doc = openapi.GroupVersion("api/v1");
  ASSERT_TRUE(doc);
  const json::value* patch =
      obj::Find(*doc, {"paths", "/api/v1/namespaces/{namespace}/pods/{name}", "patch"});
  ASSERT_NE(patch, nullptr);
  EXPECT_EQ(obj::String(patch->as_object(), {"x-kubernetes-group-version-kind", "kind"}), "Pod");
  bool field_validation = false;
  for (const auto& p : patch->as_object().at("parameters").as_array()) {
    if (p.as_object().at("name").as_string() == "fieldValidation") field_validation = true;
  }
  EXPECT_TRUE(field_validation);
  EXPECT_NE(obj::Find(*doc, {"paths", "/api/v1/nodes/{name}", "patch"}), nullptr);
  EXPECT_FALSE(openapi.GroupVersion("apis/nope/v1"));
}

ResourceInfo Pods() { return *ResourceCatalog::Default().Find("", "v1", "pods"); }

Object PodAt(const std::string& created, const std::string& extra_status) {
  auto pod = obj::Parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"web",
      "namespace":"a","creationTimestamp":")" +
                        created + R"("},"spec":{"nodeName":"n1","containers":[{"name":"c"},
      {"name":"d"}]},"status":)" +
                        extra_status + "}");
  EXPECT_TRUE(pod) << pod.error().ToString();
  return *pod;
}

TEST(TableTest, PodColumnsAsKubectlShowsThem) {
  const auto now = std::chrono::system_clock::now();
  Object pod = PodAt(FormatTime(now - std::chrono::minutes(5)), R"({"phase":"Running",
      "podIP":"10.0.0.7","containerStatuses":[
        {"name":"c","ready":true,"restartCount":1,"state":{"running":{}}},
        {"name":"d","ready":false,"restartCount":2,"state":{"waiting":{"reason":"CrashLoopBackOff"}}}]})");
  TableOptions options;
  options.now = now;
  Object table = ToTable(Pods(), {&pod}, Object{{"resourceVersion", "9"}}, options);
  EXPECT_EQ(table.at("kind").as_string(), "Table");
  EXPECT_EQ(table.at("apiVersion").as_string(), "meta.k8s.io/v1");
  EXPECT_EQ(obj::String(table, {"metadata", "resourceVersion"}), "9");
  const auto& columns = table.at("columnDefinitions").as_array();
  ASSERT_EQ(columns.size(), 9u);
  EXPECT_EQ(columns[0].as_object().at("name").as_string(), "Name");
  EXPECT_EQ(columns[5].as_object().at("name").as_string(), "IP");
  EXPECT_EQ(columns[5].as_object().at("priority").as_int64(), 1);
  const auto& row = table.at("rows").as_array()[0].as_object();
  const auto& cells = row.at("cells").as_array();
  EXPECT_EQ(cells[0].as_string(), "web");
  EXPECT_EQ(cells[1].as_string(), "1/2");
  EXPECT_EQ(cells[2].as_string(), "CrashLoopBackOff");
  EXPECT_EQ(cells[3].as_string(), "3");
  EXPECT_EQ(cells[4].as_string(), "5m");
  EXPECT_EQ(cells[5].as_string(), "10.0.0.7");
  EXPECT_EQ(cells[6].as_string(), "n1");
  EXPECT_EQ(obj::String(row.at("object").as_object(), {"kind"}), "PartialObjectMetadata");
  EXPECT_EQ(obj::String(row.at("object").as_object(), {"metadata", "name"}), "web");
}

TEST(TableTest, TerminatingAndPendingPods) {
  const auto now = std::chrono::system_clock::now();
  Object pending = PodAt(FormatTime(now), R"({"phase":"Pending"})");
  Object terminating = PodAt(FormatTime(now), R"({"phase":"Running"})");
  obj::EnsureObject(terminating, {"metadata"})["deletionTimestamp"] = FormatTime(now);
  TableOptions options;
  options.now = now;
  options.include_object = "None";
  Object table = ToTable(Pods(), {&pending, &terminating}, Object{}, options);
  const auto& rows = table.at("rows").as_array();
  EXPECT_EQ(rows[0].as_object().at("cells").as_array()[2].as_string(), "Pending");
  EXPECT_EQ(rows[1].as_object().at("cells").as_array()[2].as_string(), "Terminating");
  EXPECT_FALSE(rows[0].as_object().contains("object"));
}

TEST(TableTest, GenericResourcesShowNameAndAge) {
  const auto now = std::chrono::system_clock::now();
  auto lease = obj::Parse(R"({"metadata":{"name":"x","creationTimestamp":")" +
                          FormatTime(now - std::chrono::hours(3)) + R"("}})");
  ResourceInfo r;
  r.group = "example.com";
  r.resource = "widgets";
  TableOptions options;
  options.now = now;
  options.include_object = "Object";
  Object table = ToTable(r, {&*lease}, Object{}, options);
  const auto& columns = table.at("columnDefinitions").as_array();
  ASSERT_EQ(columns.size(), 2u);
  EXPECT_EQ(columns[1].as_object().at("name").as_string(), "Age");
  const auto& row = table.at("rows").as_array()[0].as_object();
  EXPECT_EQ(row.at("cells").as_array()[1].as_string(), "3h");
  EXPECT_EQ(obj::String(row.at("object").as_object(), {"metadata", "name"}), "x");
}

TEST(TableTest, HumanDuration) {
  using std::chrono::seconds;
  EXPECT_EQ(HumanDuration(seconds(-5)), "<invalid>");
  EXPECT_EQ(HumanDuration(seconds(-1)), "0s");
  EXPECT_EQ(HumanDuration(seconds(45)), "45s");
  EXPECT_EQ(HumanDuration(seconds(119)), "119s");
  EXPECT_EQ(HumanDuration(seconds(5 * 60 + 3)), "5m3s");
  EXPECT_EQ(HumanDuration(seconds(5 * 60)), "5m");
  EXPECT_EQ(HumanDuration(seconds(45 * 60)), "45m");
  EXPECT_EQ(HumanDuration(seconds(3 * 3600 + 10 * 60)), "3h10m");
  EXPECT_EQ(HumanDuration(seconds(20 * 3600)), "20h");
  EXPECT_EQ(HumanDuration(seconds(3 * 86400 + 4 * 3600)), "3d4h");
  EXPECT_EQ(HumanDuration(seconds(100 * 86400)), "100d");
  EXPECT_EQ(HumanDuration(seconds((2 * 365 + 30) * 86400)), "2y30d");
  EXPECT_EQ(HumanDuration(seconds(9 * 365 * 86400)), "9y");
}

TEST(YamlJsonTest, ScalarsResolveAsKubernetesManifests) {
  auto v = YamlToJson(R"(
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: "true", tier: 'front'}
spec:
  replicas: 3
  ratio: 0.5
  enabled: true
  nothing: null
  hex: 0x1f
  version: "1.20"
  list: [a, 2, ~]
)");
  ASSERT_TRUE(v) << v.error().ToString();
  const Object& o = v->as_object();
  EXPECT_EQ(obj::String(o, {"metadata", "labels", "app"}), "true");
  EXPECT_EQ(obj::String(o, {"metadata", "labels", "tier"}), "front");
  EXPECT_EQ(obj::Int(o, {"spec", "replicas"}), 3);
  EXPECT_DOUBLE_EQ(obj::Find(o, {"spec", "ratio"})->as_double(), 0.5);
  EXPECT_TRUE(obj::Find(o, {"spec", "enabled"})->as_bool());
  EXPECT_TRUE(obj::Find(o, {"spec", "nothing"})->is_null());
  EXPECT_EQ(obj::Int(o, {"spec", "hex"}), 31);
  EXPECT_EQ(obj::String(o, {"spec", "version"}), "1.20");
  EXPECT_EQ(obj::Find(o, {"spec", "list"})->as_array(), (json::array{"a", 2, nullptr}));
}

TEST(YamlJsonTest, Errors) {
  EXPECT_EQ(YamlToJson("a: [1, 2").error().code(), ErrorCode::kDecode);
  EXPECT_EQ(YamlToJson("a: 1\n---\nb: 2\n").error().code(), ErrorCode::kDecode);
}

}  // namespace
}  // namespace vk::kubesim
