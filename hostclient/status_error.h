#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "hostclient/base/error.h"
#include "hostclient/base/object.h"

// Decoding of API server failures into vk::Error. ErrorFromResponse (declared in rest_client.h)
// is the entry point for HTTP responses; these pieces serve it and the watch decoder, whose ERROR
// events carry a metav1.Status without an HTTP response around it.
namespace vk::hostclient {

// The ErrorCode for a metav1.Status reason, falling back on the HTTP status when the reason is
// empty or not one we know ("Unknown", or a newer server's).
ErrorCode ErrorCodeFor(std::string_view reason, int http_status);

// The Error for a metav1.Status object: reason, message, details.causes and
// details.retryAfterSeconds. http_status is used when status.code is absent.
Error ErrorFromStatus(const Object& status, int http_status);

// A Retry-After header value: delay-seconds or an HTTP-date (RFC 9110 10.2.3; IMF-fixdate and the
// two obsolete forms). A date in the past means no delay. nullopt when malformed. Capped at a day,
// which no server means literally.
std::optional<std::chrono::milliseconds> ParseRetryAfter(
    std::string_view value,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

}  // namespace vk::hostclient
