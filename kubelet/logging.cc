#include "kubelet/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>

namespace vk::kubelet {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void AppendUnicodeEscape(unsigned code, std::string& out) {
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(code >> shift) & 0xF];
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not valid (overlong
// forms, surrogates and code points past U+10FFFF included).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char lead = byte(i);
  size_t length = 0;
  unsigned min = 0;
  unsigned code = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2, min = 0x80, code = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3, min = 0x800, code = lead & 0x0F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4, min = 0x10000, code = lead & 0x07;
  } else {
    return 0;
  }
  if (i + length > s.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    code = (code << 6) | (byte(i + k) & 0x3F);
  }
  if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
  return length;
}

void AppendTimestamp(std::chrono::system_clock::time_point time, std::string& out) {
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[40];
  size_t n = std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%S", &utc);
  out.append(buffer, n);
  n = static_cast<size_t>(
      std::snprintf(buffer, sizeof(buffer), ".%03dZ", static_cast<int>(millis % 1000)));
  out.append(buffer, n);
}

}  // namespace

void AppendJsonEscaped(std::string_view s, std::string& out) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t length = Utf8SequenceLength(s, i);
      if (length == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(s.substr(i, length));
        i += length;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          AppendUnicodeEscape(c, out);
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
}

void JsonFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  std::string line;
  line.reserve(msg.payload.size() + 96);
  line += R"({"ts":")";
  AppendTimestamp(msg.time, line);
  line += R"(","level":")";
  const auto level = spdlog::level::to_string_view(msg.level);
  line.append(level.data(), level.size());
  line += R"(","logger":")";
  AppendJsonEscaped(std::string_view(msg.logger_name.data(), msg.logger_name.size()), line);
  line += R"(","msg":")";
  AppendJsonEscaped(std::string_view(msg.payload.data(), msg.payload.size()), line);
  line += "\"}\n";
  dest.append(line.data(), line.data() + line.size());
}

std::unique_ptr<spdlog::formatter> JsonFormatter::clone() const {
  return std::make_unique<JsonFormatter>();
}

Status ConfigureLogging(std::string_view level, std::string_view format) {
  spdlog::level::level_enum parsed_level;
  if (level == "warn" || level == "warning") {
    parsed_level = spdlog::level::warn;
  } else if (level == "trace") {
    parsed_level = spdlog::level::trace;
  } else if (level == "debug") {
    parsed_level = spdlog::level::debug;
  } else if (level == "info") {
    parsed_level = spdlog::level::info;
  } else if (level == "error") {
    parsed_level = spdlog::level::err;
  } else if (level == "critical") {
    parsed_level = spdlog::level::critical;
  } else if (level == "off") {
    parsed_level = spdlog::level::off;
  } else {
    return MakeError(ErrorCode::kConfig, "unknown log level \"" + std::string(level) + "\"");
  }

  std::unique_ptr<spdlog::formatter> formatter;
  if (format == "json") {
    formatter = std::make_unique<JsonFormatter>();
  } else if (format == "text") {
    // One line per record: UTC time, level, logger, message; no colours (logs go to collectors).
    formatter = std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%eZ %-5l [%n] %v",
                                                            spdlog::pattern_time_type::utc);
  } else {
    return MakeError(ErrorCode::kConfig, "unknown log format \"" + std::string(format) + "\"");
  }

  auto logger = std::make_shared<spdlog::logger>("vkubelet",
                                                 std::make_shared<spdlog::sinks::stderr_sink_mt>());
  spdlog::set_default_logger(logger);
  spdlog::set_formatter(std::move(formatter));
  spdlog::set_level(parsed_level);
  // Warnings and worse are flushed at once so that nothing important is lost on a crash.
  spdlog::flush_on(spdlog::level::warn);
  return Ok();
}

}  // namespace vk::kubelet
