#include "kubelet/flags.h"

#include <gtest/gtest.h>

namespace vk::kubelet {
namespace {

const std::vector<FlagSpec> kSpecs = {{"name", true}, {"port", true}, {"help", false}};

Result<ParsedArgs> Parse(std::vector<std::string> args) { return ParseFlags(args, kSpecs); }

TEST(FlagsTest, AcceptsBothValueForms) {
  auto parsed = Parse({"--name=a", "--port", "80", "-name", "b"});
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->flags.size(), 3u);
  EXPECT_EQ(parsed->flags[0].name, "name");
  EXPECT_EQ(parsed->flags[0].value, "a");
  EXPECT_EQ(parsed->flags[1].value, "80");
  EXPECT_EQ(parsed->flags[2].value, "b");
}

TEST(FlagsTest, ValueMayBeEmptyOrContainEquals) {
  auto parsed = Parse({"--name=", "--port=a=b"});
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->flags[0].value, "");
  EXPECT_EQ(parsed->flags[1].value, "a=b");
}

TEST(FlagsTest, SwitchesTakeNoSeparateValue) {
  auto parsed = Parse({"--help", "run", "-h"});
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->Has("help"));
  EXPECT_EQ(parsed->flags.size(), 2u);
  EXPECT_EQ(parsed->positional, std::vector<std::string>{"run"});
  EXPECT_TRUE(Parse({"--help=false"}));
  auto bad = Parse({"--help=yes"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "flag --help takes no value, got \"yes\"");
}

TEST(FlagsTest, DoubleDashEndsFlags) {
  auto parsed = Parse({"--name", "x", "--", "--port"});
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->positional, std::vector<std::string>{"--port"});
}

TEST(FlagsTest, UnknownFlagGetsAHint) {
  auto parsed = Parse({"--prot", "1"});
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().code(), ErrorCode::kConfig);
  EXPECT_EQ(parsed.error().message(), "unknown flag --prot (did you mean --port?)");
  EXPECT_EQ(Parse({"--zzzzzz"}).error().message(), "unknown flag --zzzzzz");
}

TEST(FlagsTest, MissingValueNamesTheFlag) {
  auto parsed = Parse({"--name"});
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().message(), "flag --name needs a value");
}

}  // namespace
}  // namespace vk::kubelet
