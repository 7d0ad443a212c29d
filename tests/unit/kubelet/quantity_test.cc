#include "kubelet/quantity.h"

#include <gtest/gtest.h>

#include <limits>

namespace vk::kubelet {
namespace {

int64_t Milli(std::string_view text) {
  auto q = Quantity::Parse(text);
  EXPECT_TRUE(q.has_value()) << text << ": " << (q ? "" : q.error().ToString());
  return q ? q->milli() : -1;
}

std::string Canonical(std::string_view text) {
  auto q = Quantity::Parse(text);
  EXPECT_TRUE(q.has_value()) << text;
  return q ? q->ToString() : "";
}

TEST(QuantityTest, ParsesCpuForms) {
  EXPECT_EQ(Milli("1"), 1000);
  EXPECT_EQ(Milli("250m"), 250);
  EXPECT_EQ(Milli("1.5"), 1500);
  EXPECT_EQ(Milli("0.1"), 100);
  EXPECT_EQ(Milli(".5"), 500);
  EXPECT_EQ(Milli("007"), 7000);
  EXPECT_EQ(Milli("+2"), 2000);
  EXPECT_EQ(Milli("-2"), -2000);
  EXPECT_EQ(Milli("0"), 0);
  EXPECT_EQ(Milli("0.000"), 0);
}

TEST(QuantityTest, ParsesMemoryAndStorageSuffixes) {
  EXPECT_EQ(Milli("1Ki"), 1024 * 1000);
  EXPECT_EQ(Milli("1Mi"), (int64_t{1} << 20) * 1000);
  EXPECT_EQ(Milli("64Gi"), (int64_t{64} << 30) * 1000);
  EXPECT_EQ(Milli("1.5Gi"), (int64_t{3} << 29) * 1000);
  EXPECT_EQ(Milli("2Ti"), (int64_t{2} << 40) * 1000);
  EXPECT_EQ(Milli("1Pi"), (int64_t{1} << 50) * 1000);
  EXPECT_EQ(Milli("1k"), 1000 * 1000);
  EXPECT_EQ(Milli("5M"), int64_t{5000000} * 1000);
  EXPECT_EQ(Milli("3G"), int64_t{3000000000} * 1000);
  EXPECT_EQ(Milli("1T"), int64_t{1000000000000} * 1000);
  EXPECT_EQ(Milli("2P"), int64_t{2000000000000000} * 1000);
  EXPECT_EQ(Milli("129e6"), int64_t{129000000} * 1000);
  EXPECT_EQ(Milli("1e3"), 1000 * 1000);
  EXPECT_EQ(Milli("1E3"), 1000 * 1000);
  EXPECT_EQ(Milli("12e-3"), 12);
  EXPECT_EQ(Milli("1e+2"), 100 * 1000);
  EXPECT_EQ(Milli("8Pi"), (int64_t{8} << 50) * 1000);
}

TEST(QuantityTest, RoundsSubMilliValuesUp) {
  EXPECT_EQ(Milli("1n"), 1);
  EXPECT_EQ(Milli("1500u"), 2);
  EXPECT_EQ(Milli("0.0001"), 1);
  EXPECT_EQ(Milli("1000000n"), 1);
  EXPECT_EQ(Milli("0.0001Ki"), 103);  // 102.4 milli
  EXPECT_EQ(Milli("-1n"), -1);
}

TEST(QuantityTest, RejectsMalformedAndOutOfRange) {
  for (std::string_view bad : {"", "m", "1.2.3", "1 Gi", "1Gb", "1KiB", "abc", "1e", "1e+", "--1",
                               "1x", ".", "1ki", "1Zi"}) {
    auto q = Quantity::Parse(bad);
    EXPECT_FALSE(q.has_value()) << bad;
    if (!q) {
      EXPECT_EQ(q.error().code(), ErrorCode::kInvalid);
    }
  }
  // 1 Ei is about 1.15e21 milli-units: beyond int64.
  EXPECT_FALSE(Quantity::Parse("1Ei").has_value());
  EXPECT_TRUE(Quantity::Parse("9P").has_value());
  EXPECT_FALSE(Quantity::Parse("10P").has_value());
  EXPECT_FALSE(Quantity::Parse("1e100").has_value());
  EXPECT_FALSE(Quantity::Parse("99999999999999999999").has_value());
  auto error = Quantity::Parse("1Gb");
  ASSERT_FALSE(error.has_value());
  EXPECT_NE(error.error().message().find("1Gb"), std::string::npos);
}

TEST(QuantityTest, LongDigitRunsNeedNoWideArithmetic) {
  EXPECT_EQ(Milli("100000000000000000000000n"), int64_t{100000000000000} * 1000);
  EXPECT_EQ(Milli("1.000000000000000000000000"), 1000);
  EXPECT_EQ(Milli("0.000000000000000000000001"), 1);
}

TEST(QuantityTest, FormatsCanonically) {
  EXPECT_EQ(Canonical("1"), "1");
  EXPECT_EQ(Canonical("1000m"), "1");
  EXPECT_EQ(Canonical("1.5"), "1500m");
  EXPECT_EQ(Canonical("250m"), "250m");
  EXPECT_EQ(Canonical("1000"), "1k");
  EXPECT_EQ(Canonical("1500000"), "1500k");
  EXPECT_EQ(Canonical("2000000000"), "2G");
  EXPECT_EQ(Canonical("1024Ki"), "1Mi");
  EXPECT_EQ(Canonical("1.5Gi"), "1536Mi");
  EXPECT_EQ(Canonical("1025Ki"), "1025Ki");
  EXPECT_EQ(Canonical("0.5Ki"), "512");
  EXPECT_EQ(Canonical("12e3"), "12e3");
  EXPECT_EQ(Canonical("1e6"), "1e6");
  EXPECT_EQ(Canonical("1200e0"), "1200");
  EXPECT_EQ(Canonical("0Gi"), "0");
  EXPECT_EQ(Canonical("-1Gi"), "-1Gi");
  EXPECT_EQ(Canonical("-1.5"), "-1500m");
  EXPECT_EQ(Canonical("7Pi"), "7Pi");
}

TEST(QuantityTest, RoundTripsThroughText) {
  for (std::string_view text : {"1", "250m", "64Gi", "1536Mi", "3k", "12e3", "7Pi", "-5m"}) {
    auto q = Quantity::Parse(text);
    ASSERT_TRUE(q.has_value());
    auto again = Quantity::Parse(q->ToString());
    ASSERT_TRUE(again.has_value()) << q->ToString();
    EXPECT_EQ(*again, *q);
    EXPECT_EQ(again->ToString(), q->ToString());
  }
}

TEST(QuantityTest, ValueRoundsUp) {
  EXPECT_EQ(Quantity::FromMilli(1500).Value(), 2);
  EXPECT_EQ(Quantity::FromMilli(2000).Value(), 2);
  EXPECT_EQ(Quantity::FromMilli(1).Value(), 1);
  EXPECT_EQ(Quantity::FromMilli(-1500).Value(), -1);
}

TEST(QuantityTest, SumsExactlyAndKeepsTheFirstFormat) {
  auto a = *Quantity::Parse("1.5Gi");
  auto b = *Quantity::Parse("512Mi");
  auto sum = a + b;
  EXPECT_EQ(sum.ToString(), "2Gi");
  EXPECT_EQ(sum.format(), Quantity::Format::kBinarySI);
  auto cpu = *Quantity::Parse("100m") + *Quantity::Parse("900m") + *Quantity::Parse("3");
  EXPECT_EQ(cpu.ToString(), "4");
  EXPECT_EQ((*Quantity::Parse("4") - *Quantity::Parse("250m")).ToString(), "3750m");
  // Many tiny values sum without drift.
  Quantity total;
  for (int i = 0; i < 1000; ++i) total += *Quantity::Parse("0.001");
  EXPECT_EQ(total.ToString(), "1");
}

TEST(QuantityTest, ArithmeticSaturates) {
  const int64_t max = std::numeric_limits<int64_t>::max();
  auto big = Quantity::FromMilli(max - 1);
  EXPECT_EQ((big + Quantity::FromMilli(10)).milli(), max);
  EXPECT_EQ((Quantity::FromMilli(-max) - Quantity::FromMilli(10)).milli(),
            std::numeric_limits<int64_t>::min());
  EXPECT_EQ(Quantity::FromUnits(max).milli(), max);
  EXPECT_FALSE(Quantity::FromMilli(std::numeric_limits<int64_t>::min()).ToString().empty());
}

TEST(QuantityTest, ComparesByValueNotFormat) {
  EXPECT_EQ(*Quantity::Parse("1Ki"), *Quantity::Parse("1024"));
  EXPECT_LT(*Quantity::Parse("1k"), *Quantity::Parse("1Ki"));
  EXPECT_GT(*Quantity::Parse("1"), *Quantity::Parse("999m"));
}

}  // namespace
}  // namespace vk::kubelet
