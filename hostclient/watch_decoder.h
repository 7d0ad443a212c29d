#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "hostclient/base/error.h"
#include "hostclient/rest_client.h"

namespace vk::hostclient {

// Decodes a watch response body incrementally: a sequence of JSON objects
// {"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":{...}}, separated by newlines or any
// JSON whitespace, arriving in chunks cut anywhere. Each byte is parsed once (a streaming JSON
// parser keeps the state of a partial event between chunks), so a large event split into many
// small chunks costs no re-scanning.
//
// ERROR events become Errors: the metav1.Status they carry is mapped like an HTTP failure, so a
// 410 (reason Expired or Gone) is kGone and the caller relists. An unknown type, a line that is
// not a JSON object, an event without an object, or one larger than max_event_bytes is kDecode.
// After the first error the decoder is spent: every later call returns that error.
// Not thread-safe: one decoder per stream.
class WatchDecoder {
 public:
  static constexpr size_t kDefaultMaxEventBytes = 64 << 20;

  explicit WatchDecoder(size_t max_event_bytes = kDefaultMaxEventBytes);
  ~WatchDecoder();
  WatchDecoder(const WatchDecoder&) = delete;
  WatchDecoder& operator=(const WatchDecoder&) = delete;

  // Appends the events completed by bytes to out. On error, out still receives the events that
  // came before the failing one, in order.
  [[nodiscard]] Status Feed(std::string_view bytes, std::vector<WatchEvent>& out);
  // The body ended: an error when it ended inside an event.
  [[nodiscard]] Status Finish();
  // True while a partially received event is buffered.
  bool InEvent() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vk::hostclient
