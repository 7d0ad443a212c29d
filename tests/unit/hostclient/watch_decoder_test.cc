#include "hostclient/watch_decoder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vk::hostclient {
namespace {

std::string Event(std::string_view type, std::string_view name, std::string_view rv) {
  return R"({"type":")" + std::string(type) +
         R"(","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":")" + std::string(name) +
         R"(","namespace":"default","resourceVersion":")" + std::string(rv) +
         R"("},"spec":{"containers":[{"name":"c","image":"nginx"}]}}})" + "\n";
}

const std::string kStream = Event("ADDED", "a", "1") + Event("MODIFIED", "a", "2") +
                            Event("DELETED", "a", "3") +
                            R"({"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1",)"
                            R"("metadata":{"resourceVersion":"4"}}})"
                            "\n";

void ExpectStreamEvents(const std::vector<WatchEvent>& events) {
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].type, WatchEvent::Type::kAdded);
  EXPECT_EQ(events[1].type, WatchEvent::Type::kModified);
  EXPECT_EQ(events[2].type, WatchEvent::Type::kDeleted);
  EXPECT_EQ(events[3].type, WatchEvent::Type::kBookmark);
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_NE(events[i].object, nullptr);
    EXPECT_EQ(obj::ResourceVersion(*events[i].object), std::to_string(i + 1));
  }
  EXPECT_EQ(obj::Name(*events[0].object), "a");
  EXPECT_EQ(obj::String(*events[0].object, {"kind"}), "Pod");
}

TEST(WatchDecoderTest, ManyEventsInOneChunk) {
  WatchDecoder decoder;
  std::vector<WatchEvent> events;
  ASSERT_TRUE(decoder.Feed(kStream, events).has_value());
  ExpectStreamEvents(events);
  EXPECT_FALSE(decoder.InEvent());
  EXPECT_TRUE(decoder.Finish().has_value());
}

TEST(WatchDecoderTest, SplitAtEveryBytePosition) {
  for (size_t split = 0; split <= kStream.size(); ++split) {
    WatchDecoder decoder;
    std::vector<WatchEvent> events;
    ASSERT_TRUE(decoder.Feed(std::string_view(kStream).substr(0, split), events).has_value())
        << split;
    ASSERT_TRUE(decoder.Feed(std::string_view(kStream).substr(split), events).has_value()) << split;
    ASSERT_TRUE(decoder.Finish().has_value()) << split;
    ExpectStreamEvents(events);
  }
}

TEST(WatchDecoderTest, OneByteAtATime) {
  WatchDecoder decoder;
  std::vector<WatchEvent> events;
  for (char c : kStream) {
    ASSERT_TRUE(decoder.Feed(std::string_view(&c, 1), events).has_value());
  }
  ExpectStreamEvents(events);
}

TEST(WatchDecoderTest, TenThousandEventsInOrderAcrossOddChunks) {
  std::string stream;
  for (int i = 0; i < 10000; ++i)
    stream += Event("ADDED", "p" + std::to_string(i), std::to_string(i));
  WatchDecoder decoder;
  std::vector<WatchEvent> events;
  // Chunk sizes that never line up with event boundaries.
  size_t offset = 0;
  for (size_t size = 1; offset < stream.size(); size = size * 7 % 4093 + 1) {
    const size_t n = std::min(size, stream.size() - offset);
    ASSERT_TRUE(decoder.Feed(std::string_view(stream).substr(offset, n), events).has_value());
    offset += n;
  }
  ASSERT_TRUE(decoder.Finish().has_value());
  ASSERT_EQ(events.size(), 10000u);
  for (int i = 0; i < 10000; ++i) {
    ASSERT_EQ(obj::Name(*events[i].object), "p" + std::to_string(i));
  }
}

TEST(WatchDecoderTest, WhitespaceBetweenEventsAndNoTrailingNewline) {
  WatchDecoder decoder;
  std::vector<WatchEvent> events;
  ASSERT_TRUE(decoder.Feed("\r\n  ", events).has_value());
  EXPECT_FALSE(decoder.InEvent());
  ASSERT_TRUE(
      decoder.Feed(R"({"type":"ADDED","object":{}}  {"type":"DELETED","object":{}})", events)
          .has_value());
  ASSERT_TRUE(decoder.Finish().has_value());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].type, WatchEvent::Type::kDeleted);
}

TEST(WatchDecoderTest, Error410IsGone) {
  WatchDecoder decoder;
  std::vector<WatchEvent> events;
  const std::string stream =
      Event("ADDED", "a", "1") +
      R"({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},)"
      R"js("status":"Failure","message":"too old resource version: 1 (20)","reason":"Expired",)js"
      R"("code":410}})"
      "\n" +
      Event("ADDED", "b", "2");
  auto status = decoder.Feed(stream, events);
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code(), ErrorCode::kGone);
  EXPECT_EQ(status.error().retry_action(), RetryAction::kRelist);
  EXPECT_NE(status.error().message().find("too old resource version"), std::string::npos);
  // The event before the error is delivered; nothing after it.
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(obj::Name(*events[0].object), "a");
  // Spent: the error sticks.
  EXPECT_EQ(decoder.Feed(Event("ADDED", "c", "3"), events).error().code(), ErrorCode::kGone);
  EXPECT_EQ(events.size(), 1u);
}

TEST(WatchDecoderTest, GoneReasonWithoutCode) {
  WatchDecoder decoder;
  std::vector<WatchEvent> events;
  auto status =
      decoder.Feed(R"({"type":"ERROR","object":{"kind":"Status","reason":"Gone"}})", events);
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code(), ErrorCode::kGone);
}

TEST(WatchDecoderTest, OtherErrorEventsMapLikeResponses) {
  WatchDecoder decoder;
  std::vector<WatchEvent> events;
  auto status = decoder.Feed(
      R"({"type":"ERROR","object":{"kind":"Status","message":"etcd down","reason":"InternalError","code":500}})",
      events);
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code(), ErrorCode::kInternal);
  EXPECT_EQ(status.error().http_status(), 500);
}

TEST(WatchDecoderTest, UnknownTypeIsDecodeError) {
  WatchDecoder decoder;
  std::vector<WatchEvent> events;
  auto status = decoder.Feed(R"({"type":"RENAMED","object":{}})"
                             "\n",
                             events);
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code(), ErrorCode::kDecode);
  EXPECT_NE(status.error().message().find("RENAMED"), std::string::npos);
}

TEST(WatchDecoderTest, MalformedInputIsDecodeError) {
  const char* bad[] = {
      "garbage\n",
      "[1,2,3]\n",
      R"({"type":"ADDED"})"
      "\n",
      R"({"type":"ADDED","object":"x"})"
      "\n",
      R"({"object":{}})"
      "\n",
      R"({"type":7,"object":{}})"
      "\n",
      R"({"type":"ADDED","object":{}]})",
  };
  for (const char* input : bad) {
    WatchDecoder decoder;
    std::vector<WatchEvent> events;
    auto status = decoder.Feed(input, events);
    ASSERT_FALSE(status.has_value()) << input;
    EXPECT_EQ(status.error().code(), ErrorCode::kDecode) << input;
    EXPECT_TRUE(events.empty());
  }
}

TEST(WatchDecoderTest, EndInsideAnEventIsAnError) {
  WatchDecoder decoder;
  std::vector<WatchEvent> events;
  ASSERT_TRUE(decoder.Feed(R"({"type":"ADDED","obj)", events).has_value());
  EXPECT_TRUE(decoder.InEvent());
  auto finished = decoder.Finish();
  ASSERT_FALSE(finished.has_value());
  EXPECT_EQ(finished.error().code(), ErrorCode::kNetwork);
}

TEST(WatchDecoderTest, OversizedEventIsRejected) {
  WatchDecoder decoder(/*max_event_bytes=*/100);
  std::vector<WatchEvent> events;
  ASSERT_TRUE(decoder.Feed(Event("ADDED", "small", "1").substr(0, 90), events).has_value());
  auto status = decoder.Feed(std::string(50, ' '), events);
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code(), ErrorCode::kDecode);
}

TEST(WatchDecoderTest, DeeplyNestedObjectsWithinLimits) {
  std::string nested;
  for (int i = 0; i < 60; ++i) nested += R"({"a":)";
  nested += "1";
  for (int i = 0; i < 60; ++i) nested += "}";
  WatchDecoder decoder;
  std::vector<WatchEvent> events;
  ASSERT_TRUE(
      decoder.Feed(R"({"type":"ADDED","object":{"spec":)" + nested + "}}\n", events).has_value());
  EXPECT_EQ(events.size(), 1u);
}

TEST(WatchEventTest, TypeNames) {
  EXPECT_STREQ(ToString(WatchEvent::Type::kAdded), "ADDED");
  EXPECT_STREQ(ToString(WatchEvent::Type::kBookmark), "BOOKMARK");
  EXPECT_STREQ(ToString(WatchEvent::Type::kError), "ERROR");
}

}  // namespace
}  // namespace vk::hostclient
