#include "hostclient/base/error.h"

#include <gtest/gtest.h>

namespace vk {
namespace {

TEST(ErrorTest, RetryActionFollowsCode) {
  EXPECT_EQ(Error(ErrorCode::kConflict, "x").retry_action(), RetryAction::kReread);
  EXPECT_EQ(Error(ErrorCode::kGone, "x").retry_action(), RetryAction::kRelist);
  EXPECT_EQ(Error(ErrorCode::kNotFound, "x").retry_action(), RetryAction::kNever);
  EXPECT_EQ(Error(ErrorCode::kNetwork, "x").retry_action(), RetryAction::kBackoff);
  EXPECT_EQ(Error(ErrorCode::kTooManyRequests, "x").retry_action(), RetryAction::kBackoff);
  Error throttled(ErrorCode::kTooManyRequests, "slow down");
  throttled.WithRetryAfter(std::chrono::seconds(2));
  EXPECT_EQ(throttled.retry_action(), RetryAction::kAfterDelay);
  EXPECT_EQ(*throttled.retry_after(), std::chrono::milliseconds(2000));
}

TEST(ErrorTest, ToStringNamesStatusAndCauses) {
  Error invalid(ErrorCode::kInvalid, "Pod \"x\" is invalid");
  invalid.WithHttpStatus(422).WithCause(
      {"FieldValueRequired", "Required value", "spec.containers"});
  invalid.Context("create pods/default/x");
  EXPECT_EQ(invalid.ToString(),
            "Invalid (HTTP 422): create pods/default/x: Pod \"x\" is invalid; spec.containers: "
            "Required value");
}

TEST(ResultTest, CarriesValueOrError) {
  Result<int> ok = 3;
  Result<int> failed = MakeError(ErrorCode::kNotFound, "gone");
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(*ok, 3);
  ASSERT_FALSE(failed.has_value());
  EXPECT_TRUE(failed.error().IsNotFound());
}

}  // namespace
}  // namespace vk
