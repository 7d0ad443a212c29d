#include "hostclient/rest_watch_stream.h"

#include <atomic>
#include <deque>
#include <utility>
#include <vector>

#include "hostclient/watch_decoder.h"

namespace vk::hostclient {
namespace {

class RestWatchStream : public WatchStream {
 public:
  RestWatchStream(ByteStreamPtr body, std::string context)
      : body_(std::move(body)), context_(std::move(context)) {}

  Result<std::optional<WatchEvent>> Next() override {
    while (true) {
      if (!pending_.empty()) {
        WatchEvent event = std::move(pending_.front());
        pending_.pop_front();
        return event;
      }
      if (cancelled_.load()) return Fail(Error(ErrorCode::kCancelled, "watch cancelled"));
      if (error_) return tl::unexpected(*error_);
      if (ended_) return std::nullopt;

      auto chunk = body_->Read();
      if (!chunk) {
        if (cancelled_.load()) return Fail(Error(ErrorCode::kCancelled, "watch cancelled"));
        return Fail(std::move(chunk.error()));
      }
      if (!chunk->has_value()) {
        ended_ = true;
        if (auto finished = decoder_.Finish(); !finished) return Fail(finished.error());
        return std::nullopt;
      }
      decoded_.clear();
      auto fed = decoder_.Feed(**chunk, decoded_);
      for (auto& event : decoded_) pending_.push_back(std::move(event));
      // Events that arrived before the failure are still delivered first.
      if (!fed) error_ = WithContext(std::move(fed.error()));
    }
  }

  void Cancel() override {
    cancelled_.store(true);
    body_->Cancel();
  }

 private:
  Error WithContext(Error error) const {
    error.Context(context_);
    return error;
  }

  tl::unexpected<Error> Fail(Error error) {
    error_ = WithContext(std::move(error));
    return tl::unexpected(*error_);
  }

  ByteStreamPtr body_;
  const std::string context_;
  WatchDecoder decoder_;
  std::vector<WatchEvent> decoded_;  // reused between chunks
  std::deque<WatchEvent> pending_;
  std::optional<Error> error_;
  bool ended_ = false;
  std::atomic<bool> cancelled_{false};
};

}  // namespace

WatchStreamPtr NewRestWatchStream(ByteStreamPtr body, std::string context) {
  return std::make_unique<RestWatchStream>(std::move(body), std::move(context));
}

}  // namespace vk::hostclient
