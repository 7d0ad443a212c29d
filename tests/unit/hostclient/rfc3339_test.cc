#include "hostclient/base/rfc3339.h"

#include <gtest/gtest.h>

namespace vk {
namespace {

using std::chrono::system_clock;

system_clock::time_point At(int64_t unix_seconds) {
  return system_clock::time_point(std::chrono::seconds(unix_seconds));
}

TEST(Rfc3339Test, FormatsWholeSecondsInUtc) {
  EXPECT_EQ(FormatRfc3339(At(1714557600)), "2024-05-01T10:00:00Z");
  EXPECT_EQ(FormatRfc3339(At(1714557600) + std::chrono::milliseconds(999)), "2024-05-01T10:00:00Z");
  EXPECT_EQ(FormatRfc3339(At(0)), "1970-01-01T00:00:00Z");
}

TEST(Rfc3339Test, FormatsMicroseconds) {
  EXPECT_EQ(FormatRfc3339Micro(At(1714557600) + std::chrono::microseconds(123456)),
            "2024-05-01T10:00:00.123456Z");
  EXPECT_EQ(FormatRfc3339Micro(At(1714557600)), "2024-05-01T10:00:00.000000Z");
}

TEST(Rfc3339Test, ParsesUtcOffsetsAndFractions) {
  EXPECT_EQ(ParseRfc3339("2024-05-01T10:00:00Z"), At(1714557600));
  EXPECT_EQ(ParseRfc3339("2024-05-01t10:00:00z"), At(1714557600));
  EXPECT_EQ(ParseRfc3339("2024-05-01T12:00:00+02:00"), At(1714557600));
  EXPECT_EQ(ParseRfc3339("2024-05-01T08:30:00-01:30"), At(1714557600));
  EXPECT_EQ(ParseRfc3339("2024-05-01T10:00:00.5Z"),
            At(1714557600) + std::chrono::milliseconds(500));
  EXPECT_EQ(ParseRfc3339("2024-05-01T10:00:00.123456789Z"),
            At(1714557600) + std::chrono::nanoseconds(123456789));
}

TEST(Rfc3339Test, RoundTripsFormattedTimes) {
  const auto t = At(1714557600) + std::chrono::microseconds(42);
  EXPECT_EQ(ParseRfc3339(FormatRfc3339Micro(t)), t);
  EXPECT_EQ(ParseRfc3339(FormatRfc3339(t)), At(1714557600));
}

TEST(Rfc3339Test, RejectsMalformedText) {
  for (const char* bad :
       {"", "yesterday", "2024-05-01T10:00:00", "2024-05-01 10:00:00Z", "2024-05-01T10:00:00.Z",
        "2024-13-01T10:00:00Z", "2024-02-30T10:00:00Z", "2024-05-01T24:00:00Z",
        "2024-05-01T10:60:00Z", "2024-05-01T10:00:60Z", "2024-05-01T10:00:00+2:00",
        "2024-05-01T10:00:00+02:60", "2024-05-01T10:00:00Zjunk", "2024-05-01T10:00:00+02:00x",
        "24-05-01T10:00:00Z"}) {
    EXPECT_FALSE(ParseRfc3339(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace vk
