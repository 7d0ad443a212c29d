#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <tl/expected.hpp>
#include <vector>

namespace vk {

// What went wrong, in the terms a caller needs to decide how to react. Kubernetes API failures map
// to the codes of metav1.Status reasons; transport and local failures have codes of their own.
enum class ErrorCode {
  kBadRequest,        // 400 BadRequest
  kUnauthorized,      // 401
  kForbidden,         // 403
  kNotFound,          // 404
  kMethodNotAllowed,  // 405
  kNotAcceptable,     // 406
  kAlreadyExists,     // 409 AlreadyExists
  kConflict,          // 409 Conflict (resourceVersion or UID precondition failed)
  kGone,              // 410 Expired / Gone: the resourceVersion is older than the server's history
  kRequestTooLarge,   // 413
  kUnsupportedMedia,  // 415
  kInvalid,           // 422 Invalid, with causes
  kTooManyRequests,   // 429, usually with Retry-After
  kInternal,          // 500
  kServiceUnavailable,  // 503
  kServerTimeout,       // 504 or reason ServerTimeout
  kUnknownStatus,       // any other HTTP status
  kTimeout,             // our own deadline passed (connect, request, idle)
  kNetwork,             // connection refused, reset, DNS, closed mid-response
  kTls,                 // handshake or certificate verification failed
  kConfig,              // invalid configuration (kubeconfig, flags, YAML)
  kDecode,              // the peer sent something we cannot parse
  kCancelled,           // shutdown or explicit cancel
  kUnavailableLocally,  // a local resource (pool, queue) is closed or exhausted
};

// How a caller should react to an error. Each Error carries one.
enum class RetryAction {
  kNever,       // terminal: retrying the same request cannot succeed
  kBackoff,     // transient: retry with exponential backoff and jitter
  kAfterDelay,  // the server said when (Retry-After): wait that long, then retry
  kReread,      // conflict: read the object again, recompute, then write
  kRelist,      // gone: the watch or list position expired; list again from scratch
};

const char* ToString(ErrorCode code);
const char* ToString(RetryAction action);

// One field-level cause of an Invalid error (metav1.StatusCause).
struct ErrorCause {
  std::string reason;
  std::string message;
  std::string field;
};

// The project's error value. Cheap to move; carries what the API server said where there was one.
class Error {
 public:
  Error(ErrorCode code, std::string message);

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // HTTP status of the response that produced it, 0 when there was no response.
  int http_status() const { return http_status_; }
  // metav1.Status reason ("NotFound", "Conflict", ...), empty when there was none.
  const std::string& reason() const { return reason_; }
  const std::vector<ErrorCause>& causes() const { return causes_; }
  // Delay requested by the server (Retry-After or details.retryAfterSeconds).
  std::optional<std::chrono::milliseconds> retry_after() const { return retry_after_; }

  Error& WithHttpStatus(int status);
  Error& WithReason(std::string reason);
  Error& WithCause(ErrorCause cause);
  Error& WithRetryAfter(std::chrono::milliseconds delay);
  // Prefixes the message with what was being done, e.g. "get pods/default/web: ".
  Error& Context(const std::string& what);

  RetryAction retry_action() const;
  bool IsNotFound() const { return code_ == ErrorCode::kNotFound; }
  bool IsAlreadyExists() const { return code_ == ErrorCode::kAlreadyExists; }
  bool IsConflict() const { return code_ == ErrorCode::kConflict; }
  bool IsGone() const { return code_ == ErrorCode::kGone; }

  // "<code>: <message>" plus causes; suitable for logs and user-facing reports.
  std::string ToString() const;

 private:
  ErrorCode code_;
  std::string message_;
  int http_status_ = 0;
  std::string reason_;
  std::vector<ErrorCause> causes_;
  std::optional<std::chrono::milliseconds> retry_after_;
};

template <typename T>
using Result = tl::expected<T, Error>;

// Result of an operation that returns nothing on success.
using Status = tl::expected<void, Error>;

inline tl::unexpected<Error> MakeError(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error(code, std::move(message)));
}

inline Status Ok() { return {}; }

}  // namespace vk
