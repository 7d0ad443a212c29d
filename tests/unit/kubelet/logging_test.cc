#include "kubelet/logging.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <boost/json/parse.hpp>
#include <map>
#include <sstream>

namespace vk::kubelet {
namespace {

using ::testing::HasSubstr;

class JsonLoggingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out_);
    sink->set_formatter(std::make_unique<JsonFormatter>());
    logger_ = std::make_shared<spdlog::logger>("host", sink);
    logger_->set_level(spdlog::level::trace);
  }

  // Logs one message and parses the line it produced; returns its string fields.
  std::map<std::string, std::string> LogAndParse(spdlog::level::level_enum level,
                                                 std::string_view message) {
    out_.str("");
    logger_->log(level, message);
    const std::string line = out_.str();
    EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << line;
    EXPECT_TRUE(line.ends_with("}\n")) << line;
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(line, ec);
    EXPECT_FALSE(ec) << "not JSON: " << line;
    std::map<std::string, std::string> fields;
    EXPECT_TRUE(value.is_object()) << line;
    if (!value.is_object()) return fields;
    for (const auto& [key, field] : value.as_object()) {
      EXPECT_TRUE(field.is_string()) << key;
      if (field.is_string()) fields[std::string(key)] = std::string(field.as_string());
    }
    return fields;
  }

  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> logger_;
};

TEST_F(JsonLoggingTest, OneObjectPerLineWithTheStandardFields) {
  auto line = LogAndParse(spdlog::level::info, "node registered");
  EXPECT_EQ(line["msg"], "node registered");
  EXPECT_EQ(line["level"], "info");
  EXPECT_EQ(line["logger"], "host");
  EXPECT_EQ(line.size(), 4u);
  const std::string ts = line["ts"];
  EXPECT_EQ(ts.size(), std::string("2024-05-01T10:00:00.123Z").size()) << ts;
  EXPECT_EQ(ts[10], 'T');
  EXPECT_EQ(ts.back(), 'Z');
  EXPECT_EQ(LogAndParse(spdlog::level::warn, "w")["level"], "warning");
  EXPECT_EQ(LogAndParse(spdlog::level::err, "e")["level"], "error");
}

TEST_F(JsonLoggingTest, EscapesQuotesBackslashesAndControlCharacters) {
  const std::string message = "pod \"web\" failed:\n\tpath C:\\x\r\x01\x7f end";
  auto line = LogAndParse(spdlog::level::err, message);
  EXPECT_EQ(line["msg"], message);
  EXPECT_THAT(out_.str(), HasSubstr(R"(pod \"web\" failed:\n\tpath C:\\x\r\u0001\u007f end)"));
}

TEST_F(JsonLoggingTest, KeepsUtf8AndReplacesInvalidBytes) {
  auto line = LogAndParse(spdlog::level::info, "caf\xc3\xa9 \xe2\x9c\x93 \xff\xc3 end");
  EXPECT_EQ(line["msg"], "caf\xc3\xa9 \xe2\x9c\x93 \xef\xbf\xbd\xef\xbf\xbd end");
}

TEST(JsonEscapeTest, RejectsOverlongAndSurrogateSequences) {
  std::string out;
  AppendJsonEscaped("\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\xf0\x9f\x98\x80", out);
  EXPECT_EQ(out,
            "\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd\\ufffd|\xf0\x9f\x98\x80");
}

TEST(ConfigureLoggingTest, AcceptsKnownLevelsAndFormats) {
  EXPECT_TRUE(ConfigureLogging("debug", "json"));
  EXPECT_EQ(spdlog::get_level(), spdlog::level::debug);
  EXPECT_EQ(spdlog::default_logger()->name(), "vkubelet");
  EXPECT_TRUE(ConfigureLogging("warning", "text"));
  EXPECT_EQ(spdlog::get_level(), spdlog::level::warn);
  auto bad_level = ConfigureLogging("loud", "text");
  ASSERT_FALSE(bad_level);
  EXPECT_EQ(bad_level.error().code(), ErrorCode::kConfig);
  EXPECT_FALSE(ConfigureLogging("info", "xml"));
  EXPECT_TRUE(ConfigureLogging("info", "text"));
}

}  // namespace
}  // namespace vk::kubelet
