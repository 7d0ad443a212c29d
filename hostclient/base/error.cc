#include "hostclient/base/error.h"

namespace vk {

const char* ToString(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadRequest:
      return "BadRequest";
    case ErrorCode::kUnauthorized:
      return "Unauthorized";
    case ErrorCode::kForbidden:
      return "Forbidden";
    case ErrorCode::kNotFound:
      return "NotFound";
    case ErrorCode::kMethodNotAllowed:
      return "MethodNotAllowed";
    case ErrorCode::kNotAcceptable:
      return "NotAcceptable";
    case ErrorCode::kAlreadyExists:
      return "AlreadyExists";
    case ErrorCode::kConflict:
      return "Conflict";
    case ErrorCode::kGone:
      return "Gone";
    case ErrorCode::kRequestTooLarge:
      return "RequestEntityTooLarge";
    case ErrorCode::kUnsupportedMedia:
      return "UnsupportedMediaType";
    case ErrorCode::kInvalid:
      return "Invalid";
    case ErrorCode::kTooManyRequests:
      return "TooManyRequests";
    case ErrorCode::kInternal:
      return "InternalError";
    case ErrorCode::kServiceUnavailable:
      return "ServiceUnavailable";
    case ErrorCode::kServerTimeout:
      return "ServerTimeout";
    case ErrorCode::kUnknownStatus:
      return "UnknownStatus";
    case ErrorCode::kTimeout:
      return "Timeout";
    case ErrorCode::kNetwork:
      return "NetworkError";
    case ErrorCode::kTls:
      return "TLSError";
    case ErrorCode::kConfig:
      return "ConfigError";
    case ErrorCode::kDecode:
      return "DecodeError";
    case ErrorCode::kCancelled:
      return "Cancelled";
    case ErrorCode::kUnavailableLocally:
      return "Unavailable";
  }
  return "Unknown";
}

const char* ToString(RetryAction action) {
  switch (action) {
    case RetryAction::kNever:
      return "never";
    case RetryAction::kBackoff:
      return "backoff";
    case RetryAction::kAfterDelay:
      return "after-delay";
    case RetryAction::kReread:
      return "reread";
    case RetryAction::kRelist:
      return "relist";
  }
  return "never";
}

Error::Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

Error& Error::WithHttpStatus(int status) {
  http_status_ = status;
  return *this;
}

Error& Error::WithReason(std::string reason) {
  reason_ = std::move(reason);
  return *this;
}

Error& Error::WithCause(ErrorCause cause) {
  causes_.push_back(std::move(cause));
  return *this;
}

Error& Error::WithRetryAfter(std::chrono::milliseconds delay) {
  retry_after_ = delay;
  return *this;
}

Error& Error::Context(const std::string& what) {
  message_ = what + ": " + message_;
  return *this;
}

RetryAction Error::retry_action() const {
  switch (code_) {
    case ErrorCode::kConflict:
      return RetryAction::kReread;
    case ErrorCode::kGone:
      return RetryAction::kRelist;
    case ErrorCode::kTooManyRequests:
    case ErrorCode::kServiceUnavailable:
    case ErrorCode::kServerTimeout:
    case ErrorCode::kInternal:
      return retry_after_ ? RetryAction::kAfterDelay : RetryAction::kBackoff;
    case ErrorCode::kTimeout:
    case ErrorCode::kNetwork:
    case ErrorCode::kTls:  // a rotating server certificate or a restarting server
    case ErrorCode::kUnavailableLocally:
    case ErrorCode::kUnknownStatus:
      return RetryAction::kBackoff;
    default:
      return RetryAction::kNever;
  }
}

std::string Error::ToString() const {
  std::string out = vk::ToString(code_);
  if (http_status_ != 0) out += " (HTTP " + std::to_string(http_status_) + ")";
  out += ": " + message_;
  for (const auto& cause : causes_) {
    out += "; ";
    if (!cause.field.empty()) out += cause.field + ": ";
    out += cause.message;
  }
  return out;
}

}  // namespace vk
