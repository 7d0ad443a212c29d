#include "hostclient/base/base64.h"

#include <gtest/gtest.h>

namespace vk {
namespace {

TEST(Base64Test, EncodesRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
}

TEST(Base64Test, DecodesRfc4648Vectors) {
  for (const char* plain : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    auto decoded = Base64Decode(Base64Encode(plain));
    ASSERT_TRUE(decoded) << plain;
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(Base64Test, RoundTripsEveryByteValue) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  EXPECT_EQ(*Base64Decode(Base64Encode(all)), all);
  EXPECT_EQ(*Base64UrlDecode(Base64UrlEncode(all)), all);
}

TEST(Base64Test, UrlAlphabetHasNoPaddingAndNoPlusOrSlash) {
  std::string bytes = "\xfb\xff\xfe";
  EXPECT_EQ(Base64Encode(bytes), "+//+");
  EXPECT_EQ(Base64UrlEncode(bytes), "-__-");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(*Base64UrlDecode("-__-"), bytes);
  EXPECT_FALSE(Base64UrlDecode("+//+"));
  EXPECT_FALSE(Base64Decode("-__-"));
}

TEST(Base64Test, AcceptsMissingPaddingAndLineBreaks) {
  EXPECT_EQ(*Base64Decode("Zg"), "f");
  EXPECT_EQ(*Base64Decode("Zm8"), "fo");
  EXPECT_EQ(*Base64Decode("Zm9v\nYmFy\r\n"), "foobar");
}

TEST(Base64Test, RejectsInvalidInput) {
  auto bad_char = Base64Decode("Zm9v!mFy");
  ASSERT_FALSE(bad_char);
  EXPECT_EQ(bad_char.error().code(), ErrorCode::kDecode);
  EXPECT_NE(bad_char.error().message().find("offset 4"), std::string::npos);

  EXPECT_FALSE(Base64Decode("Z"));         // a lone symbol carries no whole byte
  EXPECT_FALSE(Base64Decode("Zg=a"));      // data after padding
  EXPECT_FALSE(Base64Decode("Zg="));       // padding that does not complete the group
  EXPECT_FALSE(Base64Decode("Zm9v===="));  // padding after a complete group
  EXPECT_FALSE(Base64Decode("Zm 9v"));     // spaces are not skipped
}

}  // namespace
}  // namespace vk
