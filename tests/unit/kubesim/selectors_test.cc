#include <gtest/gtest.h>

#include "tests/kubesim/field_selector.h"
#include "tests/kubesim/label_selector.h"

namespace vk::kubesim {
namespace {

Object Labels(std::initializer_list<std::pair<const char*, const char*>> kv) {
  Object labels;
  for (auto [k, v] : kv) labels[k] = v;
  return labels;
}

bool Match(std::string_view selector, const Object& labels) {
  auto s = LabelSelector::Parse(selector);
  EXPECT_TRUE(s.has_value()) << selector << ": " << (s ? "" : s.error().message());
  return s && s->Matches(&labels);
}

TEST(LabelSelectorTest, EqualityOperators) {
  Object l = Labels({{"app", "web"}, {"tier", "front"}});
  EXPECT_TRUE(Match("app=web", l));
  EXPECT_TRUE(Match("app==web", l));
  EXPECT_FALSE(Match("app=db", l));
  EXPECT_TRUE(Match("app!=db", l));
  EXPECT_FALSE(Match("app!=web", l));
  EXPECT_TRUE(Match("missing!=x", l)) << "!= matches objects without the key";
  EXPECT_FALSE(Match("missing=x", l));
}

TEST(LabelSelectorTest, SetOperatorsAndExistence) {
  Object l = Labels({{"env", "prod"}});
  EXPECT_TRUE(Match("env in (prod, staging)", l));
  EXPECT_FALSE(Match("env in (dev)", l));
  EXPECT_TRUE(Match("env notin (dev,qa)", l));
  EXPECT_FALSE(Match("env notin (prod)", l));
  EXPECT_TRUE(Match("other notin (x)", l));
  EXPECT_TRUE(Match("env", l));
  EXPECT_FALSE(Match("!env", l));
  EXPECT_TRUE(Match("!other", l));
  EXPECT_FALSE(Match("other", l));
}

TEST(LabelSelectorTest, CommaIsAndAndEmptyMatchesEverything) {
  Object l = Labels({{"a", "1"}, {"b", "2"}});
  EXPECT_TRUE(Match("a=1,b=2", l));
  EXPECT_FALSE(Match("a=1,b=3", l));
  EXPECT_TRUE(Match("", l));
  EXPECT_TRUE(Match("  ", l));
  auto empty = LabelSelector::Parse("");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->Matches(nullptr));
  EXPECT_FALSE(Match("a", Object()));
}

TEST(LabelSelectorTest, EmptyValueAndNumericComparisons) {
  Object l = Labels({{"a", ""}, {"n", "5"}});
  EXPECT_TRUE(Match("a=", l));
  EXPECT_TRUE(Match("n>3", l));
  EXPECT_FALSE(Match("n<3", l));
  EXPECT_TRUE(Match("env in (in)", Labels({{"env", "in"}}))) << "keywords are words as values";
}

TEST(LabelSelectorTest, SyntaxAndValidationErrorsAreBadRequest) {
  for (const char* bad : {"a in ()", "a in (b", "=b", "a=b=c", "a b", "!a=b", "a in b", "a=-x-",
                          "-bad=x", "n>x", "a==(", "a,"}) {
    auto s = LabelSelector::Parse(bad);
    ASSERT_FALSE(s.has_value()) << bad;
    EXPECT_EQ(s.error().code(), ErrorCode::kBadRequest) << bad;
  }
  EXPECT_TRUE(LabelSelector::Parse("example.com/key=value").has_value());
}

ResourceInfo PodsInfo() { return *ResourceCatalog::Default().Find("", "v1", "pods"); }

Object Pod(std::string_view node, std::string_view phase) {
  Object pod;
  pod["metadata"] = Object{{"name", "p"}, {"namespace", "ns"}};
  pod["spec"] = Object{{"nodeName", node}, {"restartPolicy", "Always"}};
  pod["status"] = Object{{"phase", phase}};
  return pod;
}

TEST(FieldSelectorTest, PodFields) {
  auto r = PodsInfo();
  auto s = FieldSelector::Parse("spec.nodeName=n1,status.phase!=Failed", r);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_TRUE(s->Matches(r, Pod("n1", "Running")));
  EXPECT_FALSE(s->Matches(r, Pod("n2", "Running")));
  EXPECT_FALSE(s->Matches(r, Pod("n1", "Failed")));
  auto unscheduled = FieldSelector::Parse("spec.nodeName=", r);
  ASSERT_TRUE(unscheduled);
  EXPECT_TRUE(unscheduled->Matches(r, Pod("", "Pending")));
  EXPECT_FALSE(unscheduled->Matches(r, Pod("n1", "Pending")));
  auto by_name = FieldSelector::Parse("metadata.name==p,metadata.namespace=ns", r);
  ASSERT_TRUE(by_name);
  EXPECT_TRUE(by_name->Matches(r, Pod("", "")));
  EXPECT_EQ(by_name->RequiredValue("metadata.name"), "p");
}

TEST(FieldSelectorTest, UnsupportedFieldIsBadRequest) {
  auto s = FieldSelector::Parse("spec.hostname=x", PodsInfo());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kBadRequest);
  EXPECT_EQ(s.error().message(), "field label not supported: spec.hostname");
  auto nodes = *ResourceCatalog::Default().Find("", "v1", "nodes");
  EXPECT_FALSE(FieldSelector::Parse("metadata.namespace=x", nodes)) << "cluster-scoped";
  EXPECT_TRUE(FieldSelector::Parse("spec.unschedulable=false", nodes));
}

TEST(FieldSelectorTest, EscapesAndSyntaxErrors) {
  auto events = *ResourceCatalog::Default().Find("", "v1", "events");
  auto s = FieldSelector::Parse(R"(reason=a\,b\=c)", events);
  ASSERT_TRUE(s) << s.error().message();
  Object ev;
  ev["reason"] = "a,b=c";
  EXPECT_TRUE(s->Matches(events, ev));
  EXPECT_FALSE(FieldSelector::Parse("reason", events));
  EXPECT_FALSE(FieldSelector::Parse(R"(reason=a\x)", events));
  auto source = FieldSelector::Parse("source=kubelet,involvedObject.kind=Pod,type=Normal", events);
  ASSERT_TRUE(source);
  ev["source"] = Object{{"component", "kubelet"}};
  ev["involvedObject"] = Object{{"kind", "Pod"}};
  ev["type"] = "Normal";
  EXPECT_TRUE(source->Matches(events, ev));
}

TEST(FieldSelectorTest, BooleanFieldsDefaultToFalse) {
  auto nodes = *ResourceCatalog::Default().Find("", "v1", "nodes");
  auto s = FieldSelector::Parse("spec.unschedulable=false", nodes);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->Matches(nodes, Object{{"spec", Object()}}));
  EXPECT_FALSE(s->Matches(nodes, Object{{"spec", Object{{"unschedulable", true}}}}));
}

}  // namespace
}  // namespace vk::kubesim
