#include "hostclient/status_error.h"

#include <gtest/gtest.h>

#include "hostclient/rest_client.h"

namespace vk::hostclient {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string StatusBody(int code, std::string_view reason, std::string_view message) {
  return R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":")" +
         std::string(message) + R"(","reason":")" + std::string(reason) + R"(","code":)" +
         std::to_string(code) + "}";
}

HttpResponse Response(int status, std::string body, HttpHeaders headers = {}) {
  return HttpResponse{status, std::move(headers), std::move(body)};
}

struct ReasonCase {
  int status;
  const char* reason;
  ErrorCode code;
  RetryAction action;
};

class StatusReasonTest : public ::testing::TestWithParam<ReasonCase> {};

TEST_P(StatusReasonTest, MapsReasonToCode) {
  const auto& c = GetParam();
  Error error = ErrorFromResponse(Response(c.status, StatusBody(c.status, c.reason, "it failed")));
  EXPECT_EQ(error.code(), c.code) << c.reason;
  EXPECT_EQ(error.http_status(), c.status);
  EXPECT_EQ(error.reason(), c.reason);
  EXPECT_EQ(error.message(), "it failed");
  EXPECT_EQ(error.retry_action(), c.action) << c.reason;
}

INSTANTIATE_TEST_SUITE_P(
    AllReasons, StatusReasonTest,
    ::testing::Values(
        ReasonCase{400, "BadRequest", ErrorCode::kBadRequest, RetryAction::kNever},
        ReasonCase{401, "Unauthorized", ErrorCode::kUnauthorized, RetryAction::kNever},
        ReasonCase{403, "Forbidden", ErrorCode::kForbidden, RetryAction::kNever},
        ReasonCase{404, "NotFound", ErrorCode::kNotFound, RetryAction::kNever},
        ReasonCase{405, "MethodNotAllowed", ErrorCode::kMethodNotAllowed, RetryAction::kNever},
        ReasonCase{406, "NotAcceptable", ErrorCode::kNotAcceptable, RetryAction::kNever},
        ReasonCase{409, "AlreadyExists", ErrorCode::kAlreadyExists, RetryAction::kNever},
        ReasonCase{409, "Conflict", ErrorCode::kConflict, RetryAction::kReread},
        ReasonCase{410, "Gone", ErrorCode::kGone, RetryAction::kRelist},
        ReasonCase{410, "Expired", ErrorCode::kGone, RetryAction::kRelist},
        ReasonCase{413, "RequestEntityTooLarge", ErrorCode::kRequestTooLarge, RetryAction::kNever},
        ReasonCase{415, "UnsupportedMediaType", ErrorCode::kUnsupportedMedia, RetryAction::kNever},
        ReasonCase{422, "Invalid", ErrorCode::kInvalid, RetryAction::kNever},
        ReasonCase{429, "TooManyRequests", ErrorCode::kTooManyRequests, RetryAction::kBackoff},
        ReasonCase{500, "InternalError", ErrorCode::kInternal, RetryAction::kBackoff},
        ReasonCase{500, "ServerTimeout", ErrorCode::kServerTimeout, RetryAction::kBackoff},
        ReasonCase{503, "ServiceUnavailable", ErrorCode::kServiceUnavailable,
                   RetryAction::kBackoff},
        ReasonCase{504, "Timeout", ErrorCode::kServerTimeout, RetryAction::kBackoff}));

struct CodeCase {
  int status;
  ErrorCode code;
};

class HttpCodeTest : public ::testing::TestWithParam<CodeCase> {};

TEST_P(HttpCodeTest, MapsStatusWhenReasonIsMissingOrUnknown) {
  const auto& c = GetParam();
  EXPECT_EQ(ErrorFromResponse(Response(c.status, "")).code(), c.code) << c.status;
  EXPECT_EQ(ErrorFromResponse(Response(c.status, StatusBody(c.status, "Unknown", "x"))).code(),
            c.code)
      << c.status;
  EXPECT_EQ(ErrorFromResponse(Response(c.status, StatusBody(c.status, "", "x"))).code(), c.code)
      << c.status;
  EXPECT_EQ(ErrorCodeFor("SomethingNew", c.status), c.code);
}

INSTANTIATE_TEST_SUITE_P(
    AllCodes, HttpCodeTest,
    ::testing::Values(
        CodeCase{400, ErrorCode::kBadRequest}, CodeCase{401, ErrorCode::kUnauthorized},
        CodeCase{403, ErrorCode::kForbidden}, CodeCase{404, ErrorCode::kNotFound},
        CodeCase{405, ErrorCode::kMethodNotAllowed}, CodeCase{406, ErrorCode::kNotAcceptable},
        CodeCase{409, ErrorCode::kConflict}, CodeCase{410, ErrorCode::kGone},
        CodeCase{413, ErrorCode::kRequestTooLarge}, CodeCase{415, ErrorCode::kUnsupportedMedia},
        CodeCase{422, ErrorCode::kInvalid}, CodeCase{429, ErrorCode::kTooManyRequests},
        CodeCase{500, ErrorCode::kInternal}, CodeCase{502, ErrorCode::kUnknownStatus},
        CodeCase{503, ErrorCode::kServiceUnavailable}, CodeCase{504, ErrorCode::kServerTimeout},
        CodeCase{418, ErrorCode::kUnknownStatus}, CodeCase{302, ErrorCode::kUnknownStatus}));

TEST(StatusErrorTest, AlreadyExistsAndConflictShareA409) {
  Error exists = ErrorFromResponse(
      Response(409, StatusBody(409, "AlreadyExists", "pods \\\"web\\\" already exists")));
  EXPECT_TRUE(exists.IsAlreadyExists());
  EXPECT_FALSE(exists.IsConflict());
  EXPECT_EQ(exists.message(), "pods \"web\" already exists");
  Error conflict = ErrorFromResponse(Response(409, StatusBody(409, "Conflict", "modified")));
  EXPECT_TRUE(conflict.IsConflict());
  EXPECT_FALSE(conflict.IsAlreadyExists());
}

TEST(StatusErrorTest, DecodesCauses) {
  const std::string body = R"({"kind":"Status","apiVersion":"v1","status":"Failure",
    "message":"Pod \"x\" is invalid","reason":"Invalid","code":422,
    "details":{"name":"x","kind":"pods","causes":[
      {"reason":"FieldValueRequired","message":"Required value","field":"spec.containers"},
      {"reason":"FieldValueInvalid","message":"Invalid value: \"A\"","field":"metadata.name"},
      "not an object"]}})";
  Error error = ErrorFromResponse(Response(422, body));
  EXPECT_EQ(error.code(), ErrorCode::kInvalid);
  ASSERT_EQ(error.causes().size(), 2u);
  EXPECT_EQ(error.causes()[0].reason, "FieldValueRequired");
  EXPECT_EQ(error.causes()[0].message, "Required value");
  EXPECT_EQ(error.causes()[0].field, "spec.containers");
  EXPECT_EQ(error.causes()[1].field, "metadata.name");
  EXPECT_EQ(error.ToString(),
            "Invalid (HTTP 422): Pod \"x\" is invalid; spec.containers: Required value; "
            "metadata.name: Invalid value: \"A\"");
}

TEST(StatusErrorTest, RetryAfterSecondsFromDetails) {
  const std::string body = R"({"kind":"Status","status":"Failure","message":"slow down",
    "reason":"TooManyRequests","code":429,"details":{"retryAfterSeconds":3}})";
  Error error = ErrorFromResponse(Response(429, body));
  ASSERT_TRUE(error.retry_after().has_value());
  EXPECT_EQ(*error.retry_after(), seconds(3));
  EXPECT_EQ(error.retry_action(), RetryAction::kAfterDelay);
}

TEST(StatusErrorTest, RetryAfterHeaderWinsOverDetails) {
  const std::string body = R"({"kind":"Status","status":"Failure","message":"slow down",
    "reason":"TooManyRequests","code":429,"details":{"retryAfterSeconds":3}})";
  Error error = ErrorFromResponse(Response(429, body, {{"retry-after", "7"}}));
  ASSERT_TRUE(error.retry_after().has_value());
  EXPECT_EQ(*error.retry_after(), seconds(7));
}

TEST(StatusErrorTest, RetryAfterHeaderWithoutStatusBody) {
  Error error = ErrorFromResponse(Response(503, "", {{"Retry-After", "2"}}));
  EXPECT_EQ(error.code(), ErrorCode::kServiceUnavailable);
  ASSERT_TRUE(error.retry_after().has_value());
  EXPECT_EQ(*error.retry_after(), seconds(2));
  // A malformed header is ignored rather than guessed at.
  Error malformed = ErrorFromResponse(Response(503, "", {{"Retry-After", "soon"}}));
  EXPECT_FALSE(malformed.retry_after().has_value());
  EXPECT_EQ(malformed.retry_action(), RetryAction::kBackoff);
}

TEST(StatusErrorTest, NonStatusBodyBecomesSnippet) {
  Error error = ErrorFromResponse(Response(502, "<html>\n<h1>Bad Gateway</h1></html>"));
  EXPECT_EQ(error.code(), ErrorCode::kUnknownStatus);
  EXPECT_EQ(error.http_status(), 502);
  EXPECT_EQ(error.message(),
            "the server responded with HTTP 502: <html> <h1>Bad Gateway</h1></html>");
  Error long_body = ErrorFromResponse(Response(500, std::string(10000, 'x')));
  EXPECT_LT(long_body.message().size(), 400u);
  // JSON that is not a Status is just a body.
  Error other = ErrorFromResponse(Response(404, R"({"error":"nope"})"));
  EXPECT_EQ(other.code(), ErrorCode::kNotFound);
  EXPECT_EQ(other.reason(), "");
  // Truncated JSON must not crash the decoder.
  Error truncated = ErrorFromResponse(Response(500, R"({"kind":"Status","mess)"));
  EXPECT_EQ(truncated.code(), ErrorCode::kInternal);
}

TEST(StatusErrorTest, EmptyMessageFallsBackOnReason) {
  Error error = ErrorFromResponse(Response(404, R"({"kind":"Status","reason":"NotFound"})"));
  EXPECT_EQ(error.code(), ErrorCode::kNotFound);
  EXPECT_EQ(error.message(), "the server responded with reason NotFound");
}

TEST(StatusErrorTest, ErrorFromStatusUsesItsCode) {
  auto status = obj::Parse(
      R"js({"kind":"Status","status":"Failure","message":"too old resource version: 1 (5)",
          "reason":"Expired","code":410})js");
  ASSERT_TRUE(status.has_value());
  Error error = ErrorFromStatus(*status, 0);
  EXPECT_TRUE(error.IsGone());
  EXPECT_EQ(error.http_status(), 410);
  auto no_reason = obj::Parse(R"({"kind":"Status","message":"boom","code":500})");
  ASSERT_TRUE(no_reason.has_value());
  EXPECT_EQ(ErrorFromStatus(*no_reason, 0).code(), ErrorCode::kInternal);
  auto no_code = obj::Parse(R"({"kind":"Status","message":"boom"})");
  ASSERT_TRUE(no_code.has_value());
  EXPECT_EQ(ErrorFromStatus(*no_code, 503).code(), ErrorCode::kServiceUnavailable);
}

TEST(RetryAfterTest, ParsesSeconds) {
  EXPECT_EQ(ParseRetryAfter("0"), milliseconds(0));
  EXPECT_EQ(ParseRetryAfter(" 120 "), seconds(120));
  EXPECT_EQ(ParseRetryAfter("99999999999999999999999"), std::chrono::hours(24));
  EXPECT_EQ(ParseRetryAfter("-1"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("1.5"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter(""), std::nullopt);
}

TEST(RetryAfterTest, ParsesHttpDates) {
  // 1994-11-06 08:49:37 UTC.
  const auto date = std::chrono::system_clock::from_time_t(784111777);
  const auto now = date - seconds(30);
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now), seconds(30));
  EXPECT_EQ(ParseRetryAfter("Sunday, 06-Nov-94 08:49:37 GMT", now), seconds(30));
  EXPECT_EQ(ParseRetryAfter("Sun Nov  6 08:49:37 1994", now), seconds(30));
  // In the past: retry now.
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", date + seconds(5)), milliseconds(0));
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 PST", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("yesterday", now), std::nullopt);
}

}  // namespace
}  // namespace vk::hostclient
