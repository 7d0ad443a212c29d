#include "hostclient/watch_decoder.h"

#include <boost/json/stream_parser.hpp>
#include <string>
#include <utility>

#include "hostclient/status_error.h"

namespace vk::hostclient {
namespace {

std::optional<WatchEvent::Type> ParseType(std::string_view type) {
  if (type == "ADDED") return WatchEvent::Type::kAdded;
  if (type == "MODIFIED") return WatchEvent::Type::kModified;
  if (type == "DELETED") return WatchEvent::Type::kDeleted;
  if (type == "BOOKMARK") return WatchEvent::Type::kBookmark;
  if (type == "ERROR") return WatchEvent::Type::kError;
  return std::nullopt;
}

// Watch payloads are deep only by accident; the default (32) rejects some real CRDs.
boost::json::parse_options ParseOptions() {
  boost::json::parse_options options;
  options.max_depth = 128;
  return options;
}

}  // namespace

const char* ToString(WatchEvent::Type type) {
  switch (type) {
    case WatchEvent::Type::kAdded:
      return "ADDED";
    case WatchEvent::Type::kModified:
      return "MODIFIED";
    case WatchEvent::Type::kDeleted:
      return "DELETED";
    case WatchEvent::Type::kBookmark:
      return "BOOKMARK";
    case WatchEvent::Type::kError:
      return "ERROR";
  }
  return "UNKNOWN";
}

struct WatchDecoder::Impl {
  explicit Impl(size_t max) : max_event_bytes(max), parser({}, ParseOptions()) {}

  Status Fail(Error error) {
    failed = error;
    return tl::unexpected(std::move(error));
  }

  // Turns one complete JSON value into an event or an error.
  Status Emit(boost::json::value value, std::vector<WatchEvent>& out) {
    auto* event = value.if_object();
    if (event == nullptr)
      return Fail(Error(ErrorCode::kDecode, "watch event is not a JSON object"));
    const auto* type_value = event->if_contains("type");
    if (type_value == nullptr || !type_value->is_string()) {
      return Fail(Error(ErrorCode::kDecode, "watch event has no type"));
    }
    const std::string_view type_name = type_value->get_string();
    const auto type = ParseType(type_name);
    if (!type) {
      return Fail(Error(ErrorCode::kDecode, "unknown watch event type \"" +
                                                std::string(type_name.substr(0, 64)) + "\""));
    }
    auto* object = event->if_contains("object");
    if (object == nullptr || !object->is_object()) {
      return Fail(Error(ErrorCode::kDecode, std::string(type_name) + " watch event has no object"));
    }
    if (*type == WatchEvent::Type::kError) {
      // Not Fail(): a Status is a well-formed end of the watch, yet still the last thing read.
      Error error = ErrorFromStatus(object->get_object(), 0);
      error.Context("watch ERROR event");
      failed = error;
      return tl::unexpected(std::move(error));
    }
    out.push_back(
        WatchEvent{*type, std::make_shared<const Object>(std::move(object->get_object()))});
    return Ok();
  }

  const size_t max_event_bytes;
  boost::json::stream_parser parser;
  size_t event_bytes = 0;  // bytes of the event being parsed, leading whitespace included
  bool started = false;    // a non-whitespace byte of the next event has been fed
  std::optional<Error> failed;
};

WatchDecoder::WatchDecoder(size_t max_event_bytes)
    : impl_(std::make_unique<Impl>(max_event_bytes)) {}

WatchDecoder::~WatchDecoder() = default;

Status WatchDecoder::Feed(std::string_view bytes, std::vector<WatchEvent>& out) {
  Impl& d = *impl_;
  if (d.failed) return tl::unexpected(*d.failed);
  while (!bytes.empty()) {
    if (!d.started) d.started = bytes.find_first_not_of(" \t\r\n") != std::string_view::npos;
    boost::system::error_code ec;
    // Stops at the end of each complete value (and the whitespace after it), so one chunk may
    // yield many events.
    const size_t used = d.parser.write_some(bytes.data(), bytes.size(), ec);
    if (ec) {
      return d.Fail(Error(ErrorCode::kDecode, "malformed watch event: " + ec.message()));
    }
    bytes.remove_prefix(used);
    d.event_bytes += used;
    if (d.parser.done()) {
      boost::json::value value = d.parser.release();
      d.parser.reset();
      d.event_bytes = 0;
      d.started = false;
      if (auto status = d.Emit(std::move(value), out); !status) return status;
    } else if (d.event_bytes > d.max_event_bytes) {
      return d.Fail(Error(ErrorCode::kDecode, "watch event larger than " +
                                                  std::to_string(d.max_event_bytes) + " bytes"));
    }
  }
  return Ok();
}

Status WatchDecoder::Finish() {
  Impl& d = *impl_;
  if (d.failed) return tl::unexpected(*d.failed);
  if (!InEvent()) return Ok();
  return d.Fail(Error(ErrorCode::kNetwork, "watch stream ended in the middle of an event"));
}

bool WatchDecoder::InEvent() const { return impl_->started; }

}  // namespace vk::hostclient
