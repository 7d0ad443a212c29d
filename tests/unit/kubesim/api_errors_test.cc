#include "tests/kubesim/api_errors.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "tests/kubesim/name_validation.h"
#include "tests/kubesim/storage.h"
#include "tests/kubesim/timestamps.h"

namespace vk::kubesim {
namespace {

Object J(std::string_view s) { return boost::json::parse(s).as_object(); }

TEST(ApiErrorsTest, NotFoundStatus) {
  EXPECT_EQ(StatusFromError(NotFoundError("pods", "web")),
            J(R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
                  "message":"pods \"web\" not found","reason":"NotFound",
                  "details":{"name":"web","kind":"pods"},"code":404})"));
  Object lease = StatusFromError(NotFoundError("leases.coordination.k8s.io", "l"));
  EXPECT_EQ(lease.at("details"),
            J(R"({"name":"l","group":"coordination.k8s.io","kind":"leases"})"));
}

TEST(ApiErrorsTest, InvalidStatusCarriesCauses) {
  Error e = InvalidError(
      "Pod", "p",
      {FieldRequired("spec.containers"), FieldInvalid("metadata.name", GoQuote("P"), "bad")});
  EXPECT_EQ(e.message(),
            "Pod \"p\" is invalid: [spec.containers: Required value, metadata.name: Invalid value: "
            "\"P\": bad]");
  Object status = StatusFromError(e);
  EXPECT_EQ(status.at("code"), 422);
  EXPECT_EQ(status.at("reason"), "Invalid");
  EXPECT_EQ(status.at("details"), J(R"({"name":"p","kind":"Pod","causes":[
                 {"reason":"FieldValueRequired","message":"Required value","field":"spec.containers"},
                 {"reason":"FieldValueInvalid","message":"Invalid value: \"P\": bad","field":"metadata.name"}]})"));
}

TEST(ApiErrorsTest, ConflictGoneAndTimeout) {
  Object conflict = StatusFromError(ConflictError("pods", "p", kOptimisticLockMessage));
  EXPECT_EQ(conflict.at("code"), 409);
  EXPECT_EQ(conflict.at("reason"), "Conflict");
  EXPECT_EQ(conflict.at("details"), J(R"({"name":"p","kind":"pods"})"));

  Object gone = StatusFromError(ExpiredError("too old resource version: 1 (5)"));
  EXPECT_EQ(gone.at("code"), 410);
  EXPECT_EQ(gone.at("reason"), "Expired");
  EXPECT_FALSE(gone.contains("details"));

  Object timeout = StatusFromError(TooLargeResourceVersionError(10, 5));
  EXPECT_EQ(timeout.at("code"), 504);
  EXPECT_EQ(timeout.at("reason"), "Timeout");
  EXPECT_EQ(timeout.at("message"), "Timeout: Too large resource version: 10, current: 5");
  EXPECT_EQ(timeout.at("details").at("retryAfterSeconds"), 1);
}

TEST(ApiErrorsTest, HttpStatusForPlainErrors) {
  EXPECT_EQ(HttpStatusFor(Error(ErrorCode::kNotFound, "x")), 404);
  EXPECT_EQ(HttpStatusFor(Error(ErrorCode::kAlreadyExists, "x")), 409);
  EXPECT_EQ(HttpStatusFor(Error(ErrorCode::kGone, "x")), 410);
  EXPECT_EQ(HttpStatusFor(Error(ErrorCode::kInvalid, "x")), 422);
  EXPECT_EQ(HttpStatusFor(Error(ErrorCode::kBadRequest, "x")), 400);
  EXPECT_EQ(HttpStatusFor(Error(ErrorCode::kForbidden, "x")), 403);
  EXPECT_EQ(HttpStatusFor(Error(ErrorCode::kUnauthorized, "x")), 401);
  EXPECT_EQ(HttpStatusFor(Error(ErrorCode::kMethodNotAllowed, "x")), 405);
  EXPECT_EQ(HttpStatusFor(Error(ErrorCode::kTooManyRequests, "x")), 429);
  EXPECT_EQ(HttpStatusFor(Error(ErrorCode::kServerTimeout, "x")), 504);
  EXPECT_EQ(HttpStatusFor(Error(ErrorCode::kInternal, "x")), 500);
  EXPECT_EQ(HttpStatusFor(Error(ErrorCode::kServiceUnavailable, "x")), 503);
  Error throttled(ErrorCode::kTooManyRequests, "slow down");
  throttled.WithRetryAfter(std::chrono::seconds(3));
  Object status = StatusFromError(throttled);
  EXPECT_EQ(status.at("reason"), "TooManyRequests");
  EXPECT_EQ(status.at("details").at("retryAfterSeconds"), 3);
}

TEST(ApiErrorsTest, GoQuote) {
  EXPECT_EQ(GoQuote("a\"b\\c\n"), R"("a\"b\\c\n")");
  EXPECT_EQ(GoQuote(std::string("\x01", 1)), R"("\x01")");
}

TEST(NameValidationTest, KubeRules) {
  EXPECT_TRUE(IsDns1123Subdomain("a.b-c.d").empty());
  EXPECT_FALSE(IsDns1123Subdomain("A").empty());
  EXPECT_FALSE(IsDns1123Subdomain("a..b").empty());
  EXPECT_FALSE(IsDns1123Subdomain("-a").empty());
  EXPECT_FALSE(IsDns1123Subdomain(std::string(254, 'a')).empty());
  EXPECT_TRUE(IsDns1123Label("abc-1").empty());
  EXPECT_FALSE(IsDns1123Label("a.b").empty());
  EXPECT_FALSE(IsDns1035Label("1abc").empty());
  EXPECT_TRUE(IsQualifiedName("example.com/My_Key.1").empty());
  EXPECT_FALSE(IsQualifiedName("a/b/c").empty());
  EXPECT_FALSE(IsQualifiedName("/x").empty());
  EXPECT_TRUE(IsValidLabelValue("").empty());
  EXPECT_FALSE(IsValidLabelValue("a b").empty());
  EXPECT_TRUE(IsConfigMapKey("KEY_name.1").empty());
  EXPECT_FALSE(IsConfigMapKey("..x").empty());
}

TEST(TimestampsTest, RoundTrip) {
  auto t = ParseTime("2024-05-01T12:30:45Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(FormatTime(*t), "2024-05-01T12:30:45Z");
  auto offset = ParseTime("2024-05-01T14:30:45.123+02:00");
  ASSERT_TRUE(offset);
  EXPECT_EQ(FormatTime(*offset), "2024-05-01T12:30:45Z");
  EXPECT_FALSE(ParseTime("yesterday"));
}

}  // namespace
}  // namespace vk::kubesim
