#pragma once

#include <spdlog/formatter.h>

#include <memory>
#include <string>
#include <string_view>

#include "hostclient/base/error.h"

namespace vk::kubelet {

// Formats each record as one JSON object per line:
//   {"ts":"2024-05-01T10:00:00.123Z","level":"info","logger":"vkubelet","msg":"..."}
// The message is JSON-escaped (quotes, backslashes, control characters) and bytes that are not
// valid UTF-8 become U+FFFD, so that every line parses whatever a peer sent us. Stateless.
class JsonFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

// Appends s to out as the inside of a JSON string literal (no surrounding quotes).
void AppendJsonEscaped(std::string_view s, std::string& out);

// Makes the process's default logger ("vkubelet") write to stderr in the given format ("text" or
// "json") at the given level (trace, debug, info, warn/warning, error, critical, off). Loggers
// created later through spdlog's registry get the same format. kConfig on an unknown value.
// Call once at startup, before other threads log.
Status ConfigureLogging(std::string_view level, std::string_view format);

}  // namespace vk::kubelet
