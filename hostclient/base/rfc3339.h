#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace vk {

// RFC 3339 date-times as Kubernetes writes them (metav1.Time, metav1.MicroTime, the exec
// credential plugin's expirationTimestamp). Pure functions, thread-safe.

// metav1.Time: UTC with whole seconds, "2024-05-01T12:00:00Z" (the fraction is dropped).
std::string FormatRfc3339(std::chrono::system_clock::time_point time);
// metav1.MicroTime: UTC with six fraction digits, "2024-05-01T12:00:00.123456Z".
std::string FormatRfc3339Micro(std::chrono::system_clock::time_point time);
// Accepts "YYYY-MM-DDTHH:MM:SS[.digits](Z|±HH:MM)" ('T' and 'Z' in either case), as Go's
// time.RFC3339 parser does: out-of-range fields, an empty fraction or trailing text are nullopt.
std::optional<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view text);

}  // namespace vk
