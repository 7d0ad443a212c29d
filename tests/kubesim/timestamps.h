#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace vk::kubesim {

// metav1.Time on the wire: RFC 3339 in UTC with whole seconds, "2024-05-01T12:00:00Z".
std::string FormatTime(std::chrono::system_clock::time_point t);
// Accepts "YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)" as Go's time.RFC3339 does; nullopt otherwise.
std::optional<std::chrono::system_clock::time_point> ParseTime(std::string_view text);

}  // namespace vk::kubesim
