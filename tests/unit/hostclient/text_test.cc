#include "hostclient/base/text.h"

#include <gtest/gtest.h>

namespace vk {
namespace {

TEST(TextTest, TrimSpaceRemovesAsciiWhitespaceAtBothEnds) {
  EXPECT_EQ(TrimSpace(" \t\r\n\f\vtoken \n"), "token");
  EXPECT_EQ(TrimSpace("a b"), "a b");
  EXPECT_EQ(TrimSpace(" \n\t"), "");
  EXPECT_EQ(TrimSpace(""), "");
}

TEST(TextTest, HasControlCharactersFindsC0AndDelete) {
  EXPECT_FALSE(HasControlCharacters("abc-._~+/= "));
  EXPECT_FALSE(HasControlCharacters("\xc3\xa9"));
  EXPECT_TRUE(HasControlCharacters("a\nb"));
  EXPECT_TRUE(HasControlCharacters(std::string_view("a\0b", 3)));
  EXPECT_TRUE(HasControlCharacters("a\x7f"));
}

}  // namespace
}  // namespace vk
