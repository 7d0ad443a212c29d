#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "tests/kubesim/json_patch.h"
#include "tests/kubesim/merge_patch.h"
#include "tests/kubesim/strategic_merge_patch.h"

namespace vk::kubesim {
namespace {

namespace json = boost::json;

Object J(std::string_view text) { return json::parse(text).as_object(); }

// ---- JSON Patch ----------------------------------------------------------------------------

json::value Apply(std::string_view doc, std::string_view patch) {
  auto result = ApplyJsonPatch(json::parse(doc), patch);
  EXPECT_TRUE(result) << (result ? "" : result.error().ToString());
  return result ? *result : json::value();
}

TEST(JsonPatchTest, AllOperations) {
  EXPECT_EQ(Apply(R"({"a":1})", R"([{"op":"add","path":"/b","value":2}])"),
            json::parse(R"({"a":1,"b":2})"));
  EXPECT_EQ(Apply(R"({"a":[1,3]})", R"([{"op":"add","path":"/a/1","value":2}])"),
            json::parse(R"({"a":[1,2,3]})"));
  EXPECT_EQ(Apply(R"({"a":[1]})", R"([{"op":"add","path":"/a/-","value":2}])"),
            json::parse(R"({"a":[1,2]})"));
  EXPECT_EQ(Apply(R"({"a":1,"b":2})", R"([{"op":"remove","path":"/a"}])"),
            json::parse(R"({"b":2})"));
  EXPECT_EQ(Apply(R"({"a":[1,2,3]})", R"([{"op":"remove","path":"/a/0"}])"),
            json::parse(R"({"a":[2,3]})"));
  EXPECT_EQ(Apply(R"({"a":1})", R"([{"op":"replace","path":"/a","value":"x"}])"),
            json::parse(R"({"a":"x"})"));
  EXPECT_EQ(Apply(R"({"a":{"b":1}})", R"([{"op":"move","from":"/a/b","path":"/c"}])"),
            json::parse(R"({"a":{},"c":1})"));
  EXPECT_EQ(Apply(R"({"a":{"b":1}})", R"([{"op":"copy","from":"/a","path":"/c"}])"),
            json::parse(R"({"a":{"b":1},"c":{"b":1}})"));
  EXPECT_EQ(Apply(R"({"a":1})", R"([{"op":"test","path":"/a","value":1},
                                    {"op":"add","path":"/t","value":true}])"),
            json::parse(R"({"a":1,"t":true})"));
  EXPECT_EQ(Apply(R"({"a":1})", R"([{"op":"replace","path":"","value":{"z":0}}])"),
            json::parse(R"({"z":0})"));
}

TEST(JsonPatchTest, PointerEscapes) {
  EXPECT_EQ(Apply(R"({"metadata":{"labels":{}}})",
                  R"([{"op":"add","path":"/metadata/labels/example.com~1role","value":"x"},
                      {"op":"add","path":"/metadata/labels/a~0b","value":"y"}])"),
            json::parse(R"({"metadata":{"labels":{"example.com/role":"x","a~b":"y"}}})"));
}

TEST(JsonPatchTest, FailedTestIsUnprocessable) {
  auto result =
      ApplyJsonPatch(json::parse(R"({"a":1})"), R"([{"op":"test","path":"/a","value":2}])");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalid);
  EXPECT_EQ(result.error().http_status(), 422);
  EXPECT_EQ(result.error().message(),
            "the server rejected our request due to an error in our request");
  ASSERT_EQ(result.error().causes().size(), 1u);
  EXPECT_EQ(result.error().causes()[0].message, "testing value /a failed: test failed");
}

TEST(JsonPatchTest, MissingPathsAndBadBodies) {
  for (const char* patch :
       {R"([{"op":"remove","path":"/x"}])", R"([{"op":"replace","path":"/x","value":1}])",
        R"([{"op":"add","path":"/x/y","value":1}])", R"([{"op":"add","path":"/a/5","value":1}])",
        R"([{"op":"move","from":"/a","path":"/a/0"}])", R"([{"op":"bogus","path":"/a"}])"}) {
    auto result = ApplyJsonPatch(json::parse(R"({"a":[1]})"), patch);
    ASSERT_FALSE(result) << patch;
    EXPECT_EQ(result.error().code(), ErrorCode::kInvalid) << patch;
  }
  for (const char* patch : {R"({"op":"add"})", "not json", "[1]"}) {
    auto result = ApplyJsonPatch(json::parse("{}"), patch);
    ASSERT_FALSE(result) << patch;
    EXPECT_EQ(result.error().code(), ErrorCode::kBadRequest) << patch;
  }
}

TEST(JsonPatchTest, FailureLeavesNoPartialResult) {
  json::value doc = json::parse(R"({"a":1})");
  auto result = ApplyJsonPatch(doc, R"([{"op":"add","path":"/b","value":2},
                                        {"op":"test","path":"/a","value":9}])");
  EXPECT_FALSE(result);
  EXPECT_EQ(doc, json::parse(R"({"a":1})"));
}

// ---- merge patch ---------------------------------------------------------------------------

TEST(MergePatchTest, Rfc7386) {
  auto merged = ApplyMergePatch(J(R"({"a":"b","c":{"d":"e","f":"g"},"l":[1,2]})"),
                                R"({"a":"z","c":{"f":null},"l":[3],"n":{"x":1}})");
  ASSERT_TRUE(merged);
  EXPECT_EQ(*merged, J(R"({"a":"z","c":{"d":"e"},"l":[3],"n":{"x":1}})"));
  EXPECT_FALSE(ApplyMergePatch(J("{}"), "[1]"));
  EXPECT_FALSE(ApplyMergePatch(J("{}"), "{"));
}

// ---- strategic merge patch -----------------------------------------------------------------

Object Smp(std::string_view original, std::string_view patch) {
  auto result = ApplyStrategicMergePatch(J(original), patch);
  EXPECT_TRUE(result) << (result ? "" : result.error().ToString());
  return result ? *result : Object();
}

constexpr char kPod[] = R"({
  "metadata":{"name":"p","labels":{"a":"1"},"finalizers":["x"]},
  "spec":{
    "containers":[
      {"name":"app","image":"app:1","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}],
       "ports":[{"containerPort":80,"protocol":"TCP"}]},
      {"name":"side","image":"side:1"}],
    "tolerations":[{"key":"k","operator":"Exists"}],
    "volumes":[{"name":"v1","emptyDir":{}}]}})";

TEST(StrategicMergePatchTest, ContainersMergeByName) {
  Object out = Smp(kPod, R"({"spec":{"containers":[{"name":"app","image":"app:2"},
                                                    {"name":"new","image":"new:1"}]}})");
  const auto& containers = out.at("spec").at("containers").as_array();
  ASSERT_EQ(containers.size(), 3u);
  EXPECT_EQ(containers[0].at("image"), "app:2");
  EXPECT_EQ(containers[0].at("env").as_array().size(), 2u) << "untouched fields survive";
  EXPECT_EQ(containers[1].at("name"), "side");
  EXPECT_EQ(containers[2].at("name"), "new");
}

TEST(StrategicMergePatchTest, NestedListsMergeByTheirKeys) {
  Object out = Smp(kPod, R"({"spec":{"containers":[{"name":"app",
      "env":[{"name":"B","value":"3"},{"name":"C","value":"4"}],
      "ports":[{"containerPort":443}]}]}})");
  const auto& app = out.at("spec").at("containers").as_array()[0].as_object();
  EXPECT_EQ(app.at("env"), json::parse(R"([{"name":"A","value":"1"},{"name":"B","value":"3"},
                                           {"name":"C","value":"4"}])"));
  EXPECT_EQ(app.at("ports").as_array().size(), 2u);
}

TEST(StrategicMergePatchTest, ListsWithoutMergeKeyAreReplaced) {
  Object out = Smp(kPod, R"({"spec":{"tolerations":[{"key":"other","operator":"Exists"}]}})");
  EXPECT_EQ(out.at("spec").at("tolerations"),
            json::parse(R"([{"key":"other","operator":"Exists"}])"));
}

TEST(StrategicMergePatchTest, DeleteDirectiveInListAndMap) {
  Object out = Smp(kPod, R"({"spec":{"containers":[{"name":"side","$patch":"delete"}],
                                      "volumes":[{"name":"v1","$patch":"delete"}]},
                             "metadata":{"labels":{"$patch":"delete"}}})");
  ASSERT_EQ(out.at("spec").at("containers").as_array().size(), 1u);
  EXPECT_EQ(out.at("spec").at("containers").as_array()[0].at("name"), "app");
  EXPECT_TRUE(out.at("spec").at("volumes").as_array().empty());
  EXPECT_FALSE(out.at("metadata").as_object().contains("labels"));
}

TEST(StrategicMergePatchTest, ReplaceDirectives) {
  Object out = Smp(kPod, R"({"spec":{"containers":[{"$patch":"replace"},
                                                    {"name":"only","image":"only:1"}]}})");
  EXPECT_EQ(out.at("spec").at("containers"), json::parse(R"([{"name":"only","image":"only:1"}])"));
  out = Smp(kPod, R"({"metadata":{"labels":{"$patch":"replace","b":"2"}}})");
  EXPECT_EQ(out.at("metadata").at("labels"), json::parse(R"({"b":"2"})"));
}

TEST(StrategicMergePatchTest, FinalizersMergeAsSetAndDeleteFromPrimitiveList) {
  Object out = Smp(kPod, R"({"metadata":{"finalizers":["y","x"]}})");
  EXPECT_EQ(out.at("metadata").at("finalizers"), json::parse(R"(["x","y"])"));
  out = Smp(kPod, R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["x"]}})");
  EXPECT_EQ(out.at("metadata").at("finalizers"), json::parse("[]"));
}

TEST(StrategicMergePatchTest, NullDeletesAndSetElementOrderIsIgnored) {
  Object out = Smp(kPod, R"({"metadata":{"labels":{"a":null,"b":"2"}},
      "spec":{"$setElementOrder/containers":[{"name":"side"},{"name":"app"}]}})");
  EXPECT_EQ(out.at("metadata").at("labels"), json::parse(R"({"b":"2"})"));
  EXPECT_EQ(out.at("spec").at("containers").as_array()[0].at("name"), "app");
}

TEST(StrategicMergePatchTest, RetainKeys) {
  Object out = Smp(R"({"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"x":1}}}})",
                   R"({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}})");
  EXPECT_EQ(out.at("spec").at("strategy"), json::parse(R"({"type":"Recreate"})"));
}

TEST(StrategicMergePatchTest, ConditionsMergeByType) {
  Object out = Smp(R"({"status":{"conditions":[{"type":"Ready","status":"False"},
                                                {"type":"PodScheduled","status":"True"}]}})",
                   R"({"status":{"conditions":[{"type":"Ready","status":"True"}]}})");
  EXPECT_EQ(
      out.at("status").at("conditions"),
      json::parse(R"([{"type":"Ready","status":"True"},{"type":"PodScheduled","status":"True"}])"));
}

TEST(StrategicMergePatchTest, MissingMergeKeyAndBadDirectiveAreBadRequest) {
  auto missing = ApplyStrategicMergePatch(J(kPod), R"({"spec":{"containers":[{"image":"x"}]}})");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kBadRequest);
  auto bad = ApplyStrategicMergePatch(J(kPod), R"({"metadata":{"$patch":"explode"}})");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kBadRequest);
}

TEST(StrategicMergePatchTest, ListStrategyTable) {
  using P = std::vector<std::string>;
  EXPECT_EQ(ListStrategyFor(P{"spec", "containers"}).merge_key, "name");
  EXPECT_EQ(ListStrategyFor(P{"spec", "initContainers", "ports"}).merge_key, "containerPort");
  EXPECT_EQ(ListStrategyFor(P{"spec", "ports"}).merge_key, "port");
  EXPECT_EQ(ListStrategyFor(P{"spec", "containers", "volumeMounts"}).merge_key, "mountPath");
  EXPECT_EQ(ListStrategyFor(P{"metadata", "ownerReferences"}).merge_key, "uid");
  EXPECT_EQ(ListStrategyFor(P{"spec", "hostAliases"}).merge_key, "ip");
  EXPECT_EQ(ListStrategyFor(P{"spec", "imagePullSecrets"}).merge_key, "name");
  EXPECT_EQ(ListStrategyFor(P{"metadata", "finalizers"}).kind,
            ListStrategy::Kind::kMergePrimitives);
  EXPECT_EQ(ListStrategyFor(P{"spec", "tolerations"}).kind, ListStrategy::Kind::kReplace);
  EXPECT_EQ(ListStrategyFor(P{"subsets", "ports"}).kind, ListStrategy::Kind::kReplace);
}

}  // namespace
}  // namespace vk::kubesim
