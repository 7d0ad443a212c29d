#include "hostclient/base/object.h"

#include <gtest/gtest.h>

namespace vk {
namespace {

TEST(ObjectTest, ReadsMetadataAndKeepsUnknownFields) {
  auto parsed = obj::Parse(R"({"apiVersion":"v1","kind":"Pod",
    "metadata":{"name":"web","namespace":"shop","uid":"u1","resourceVersion":"7",
                "labels":{"app":"web"},"annotations":{"a":"b"}},
    "spec":{"futureField":{"x":[1,2,3]}}})");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  const Object& pod = *parsed;
  EXPECT_EQ(obj::Name(pod), "web");
  EXPECT_EQ(obj::Namespace(pod), "shop");
  EXPECT_EQ(obj::Uid(pod), "u1");
  EXPECT_EQ(obj::ResourceVersion(pod), "7");
  EXPECT_EQ(obj::Key(pod), "shop/web");
  EXPECT_EQ(obj::Label(pod, "app"), "web");
  EXPECT_EQ(obj::Annotation(pod, "a"), "b");
  EXPECT_EQ(obj::Label(pod, "missing"), "");
  EXPECT_FALSE(obj::IsBeingDeleted(pod));

  auto round_trip = obj::Parse(obj::Serialize(pod));
  ASSERT_TRUE(round_trip.has_value());
  EXPECT_EQ(*round_trip, pod);
  EXPECT_NE(obj::Find(*round_trip, {"spec", "futureField", "x"}), nullptr);
}

TEST(ObjectTest, EnsureObjectCreatesPath) {
  Object o;
  obj::EnsureObject(o, {"metadata", "labels"})["k"] = "v";
  EXPECT_EQ(obj::Label(o, "k"), "v");
  EXPECT_EQ(obj::Key("", "node-1"), "node-1");
}

TEST(ObjectTest, ParseRejectsNonObjects) {
  EXPECT_FALSE(obj::Parse("[1,2]").has_value());
  EXPECT_EQ(obj::Parse("{").error().code(), ErrorCode::kDecode);
}

}  // namespace
}  // namespace vk
