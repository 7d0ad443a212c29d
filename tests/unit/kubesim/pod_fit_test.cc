// The scheduler filters of the node simulator: node selector, required node affinity (every
// operator, terms ORed, expressions ANDed, matchFields), taints and tolerations, unschedulable
// nodes, and kube-scheduler's FailedScheduling message.

#include "tests/kubesim/pod_fit.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace vk::kubesim {
namespace {

namespace json = boost::json;

constexpr char kAffinityMisfit[] = "node(s) didn't match Pod's node affinity/selector";

Object Parse(std::string_view text) { return json::parse(text).as_object(); }

Object Node(std::string_view labels = "{}", std::string_view spec = "{}") {
  return Parse(R"({"metadata":{"name":"n1","labels":)" + std::string(labels) + R"(},"spec":)" +
               std::string(spec) + "}");
}

Object Pod(std::string_view spec) { return Parse(R"({"spec":)" + std::string(spec) + "}"); }

// A pod requiring one node selector term made of the given matchExpressions.
Object PodWithExpressions(std::string_view expressions) {
  return Pod(R"({"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":)"
             R"({"nodeSelectorTerms":[{"matchExpressions":)" +
             std::string(expressions) + "}]}}}}");
}

TEST(PodFitTest, APlainPodFitsAPlainNode) {
  EXPECT_EQ(NodeMisfit(Pod("{}"), Node()), "");
  EXPECT_EQ(NodeMisfit(Pod("{}"), Parse("{}")), "");
}

TEST(PodFitTest, NodeSelectorNeedsEveryLabel) {
  const Object node = Node(R"({"zone":"a","disk":"ssd"})");
  EXPECT_EQ(NodeMisfit(Pod(R"({"nodeSelector":{"zone":"a"}})"), node), "");
  EXPECT_EQ(NodeMisfit(Pod(R"({"nodeSelector":{"zone":"a","disk":"ssd"}})"), node), "");
  EXPECT_EQ(NodeMisfit(Pod(R"({"nodeSelector":{"zone":"b"}})"), node), kAffinityMisfit);
  EXPECT_EQ(NodeMisfit(Pod(R"({"nodeSelector":{"zone":"a","gpu":"yes"}})"), node), kAffinityMisfit);
  EXPECT_EQ(NodeMisfit(Pod(R"({"nodeSelector":{"zone":"a"}})"), Node()), kAffinityMisfit);
}

TEST(PodFitTest, MatchExpressionOperators) {
  const Object node = Node(R"({"zone":"a","cores":"16"})");
  struct Case {
    const char* expressions;
    bool fits;
  };
  const Case cases[] = {
      {R"([{"key":"zone","operator":"In","values":["a","b"]}])", true},
      {R"([{"key":"zone","operator":"In","values":["b"]}])", false},
      {R"([{"key":"missing","operator":"In","values":["a"]}])", false},
      {R"([{"key":"zone","operator":"NotIn","values":["b"]}])", true},
      {R"([{"key":"zone","operator":"NotIn","values":["a"]}])", false},
      {R"([{"key":"missing","operator":"NotIn","values":["a"]}])", true},
      {R"([{"key":"zone","operator":"Exists"}])", true},
      {R"([{"key":"missing","operator":"Exists"}])", false},
      {R"([{"key":"missing","operator":"DoesNotExist"}])", true},
      {R"([{"key":"zone","operator":"DoesNotExist"}])", false},
      {R"([{"key":"cores","operator":"Gt","values":["8"]}])", true},
      {R"([{"key":"cores","operator":"Gt","values":["16"]}])", false},
      {R"([{"key":"cores","operator":"Lt","values":["32"]}])", true},
      {R"([{"key":"zone","operator":"Lt","values":["32"]}])", false},  // not a number
      {R"([{"key":"zone","operator":"Near","values":["a"]}])", false},
      // ANDed within a term.
      {R"([{"key":"zone","operator":"In","values":["a"]},{"key":"cores","operator":"Exists"}])",
       true},
      {R"([{"key":"zone","operator":"In","values":["a"]},{"key":"gpu","operator":"Exists"}])",
       false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(NodeMisfit(PodWithExpressions(c.expressions), node), c.fits ? "" : kAffinityMisfit)
        << c.expressions;
  }
}

TEST(PodFitTest, TermsAreOredAndAnEmptyTermMatchesNothing) {
  const Object node = Node(R"({"zone":"a"})");
  const char* prefix =
      R"({"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{)"
      R"("nodeSelectorTerms":)";
  auto pod = [&](std::string_view terms) { return Pod(prefix + std::string(terms) + "}}}}"); };
  EXPECT_EQ(NodeMisfit(pod(R"([{"matchExpressions":[{"key":"zone","operator":"In","values":["b"]}]},
                              {"matchExpressions":[{"key":"zone","operator":"In","values":["a"]}]}])"),
                       node),
            "");
  EXPECT_EQ(NodeMisfit(pod(R"([{"matchExpressions":[{"key":"zone","operator":"In","values":["b"]}]},
                              {"matchExpressions":[{"key":"zone","operator":"In","values":["c"]}]}])"),
                       node),
            kAffinityMisfit);
  EXPECT_EQ(NodeMisfit(pod(R"([{}])"), node), kAffinityMisfit);
  EXPECT_EQ(NodeMisfit(pod(R"([])"), node), kAffinityMisfit);
  // matchFields: metadata.name only.
  EXPECT_EQ(
      NodeMisfit(
          pod(R"([{"matchFields":[{"key":"metadata.name","operator":"In","values":["n1"]}]}])"),
          node),
      "");
  EXPECT_EQ(
      NodeMisfit(
          pod(R"([{"matchFields":[{"key":"metadata.name","operator":"NotIn","values":["n1"]}]}])"),
          node),
      kAffinityMisfit);
}

TEST(PodFitTest, NodeSelectorAndAffinityMustBothMatch) {
  const Object node = Node(R"({"zone":"a","disk":"ssd"})");
  Object pod = PodWithExpressions(R"([{"key":"zone","operator":"In","values":["a"]}])");
  pod["spec"].as_object()["nodeSelector"] = {{"disk", "hdd"}};
  EXPECT_EQ(NodeMisfit(pod, node), kAffinityMisfit);
  pod["spec"].as_object()["nodeSelector"] = {{"disk", "ssd"}};
  EXPECT_EQ(NodeMisfit(pod, node), "");
}

TEST(PodFitTest, TaintsNeedTolerations) {
  const Object node = Node("{}", R"({"taints":[
      {"key":"soft","value":"x","effect":"PreferNoSchedule"},
      {"key":"dedicated","value":"infra","effect":"NoSchedule"},
      {"key":"evict","effect":"NoExecute"}]})");
  EXPECT_EQ(NodeMisfit(Pod("{}"), node), "node(s) had untolerated taint {dedicated: infra}");
  const char* infra =
      R"({"key":"dedicated","operator":"Equal","value":"infra","effect":"NoSchedule"})";
  EXPECT_EQ(NodeMisfit(Pod(R"({"tolerations":[)" + std::string(infra) + "]}"), node),
            "node(s) had untolerated taint {evict: }");
  EXPECT_EQ(NodeMisfit(Pod(R"({"tolerations":[)" + std::string(infra) +
                           R"(,{"key":"evict","operator":"Exists"}]})"),
                       node),
            "");
  // A wrong value, a wrong effect; then an empty key with Exists tolerates everything.
  EXPECT_NE(NodeMisfit(Pod(R"({"tolerations":[{"key":"dedicated","value":"web"},
                                               {"key":"evict","operator":"Exists"}]})"),
                       node),
            "");
  EXPECT_NE(NodeMisfit(Pod(R"({"tolerations":[{"key":"dedicated","value":"infra",
                                                "effect":"NoExecute"},
                                               {"key":"evict","operator":"Exists"}]})"),
                       node),
            "");
  EXPECT_EQ(NodeMisfit(Pod(R"({"tolerations":[{"operator":"Exists"}]})"), node), "");
}

TEST(PodFitTest, UnschedulableNodesTakeOnlyPodsTolerantOfIt) {
  const Object node = Node("{}", R"({"unschedulable":true})");
  EXPECT_EQ(NodeMisfit(Pod("{}"), node), "node(s) were unschedulable");
  EXPECT_EQ(NodeMisfit(Pod(R"({"tolerations":[{"key":"node.kubernetes.io/unschedulable",
                                               "operator":"Exists","effect":"NoSchedule"}]})"),
                       node),
            "");
}

TEST(PodFitTest, UnschedulableMessageCountsAndSortsReasons) {
  EXPECT_EQ(
      UnschedulableMessage(3, {kAffinityMisfit, "node(s) were unschedulable", kAffinityMisfit}),
      "0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) didn't match Pod's "
      "node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not "
      "helpful for scheduling.");
  EXPECT_EQ(UnschedulableMessage(0, {}), "no nodes available to schedule pods");
}

}  // namespace
}  // namespace vk::kubesim
