#include "tests/kubesim/timestamps.h"

#include "hostclient/base/rfc3339.h"

namespace vk::kubesim {

std::string FormatTime(std::chrono::system_clock::time_point t) { return FormatRfc3339(t); }

std::optional<std::chrono::system_clock::time_point> ParseTime(std::string_view s) {
  return ParseRfc3339(s);
}

}  // namespace vk::kubesim
