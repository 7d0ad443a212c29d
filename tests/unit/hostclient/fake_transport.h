#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "hostclient/credentials.h"
#include "hostclient/transport.h"

namespace vk::hostclient::testing {

// A response body handed out in scripted chunks. After the last chunk the body ends, or, with
// HoldOpen, Read blocks until Cancel (a watch that stays quiet). Thread-safe.
class FakeByteStream : public ByteStream {
 public:
  explicit FakeByteStream(int status = 200, HttpHeaders headers = {})
      : status_(status), headers_(std::move(headers)) {}

  FakeByteStream& Chunk(std::string bytes) {
    std::lock_guard lock(mutex_);
    chunks_.emplace_back(std::move(bytes));
    cv_.notify_all();
    return *this;
  }
  FakeByteStream& Fail(Error error) {
    std::lock_guard lock(mutex_);
    chunks_.emplace_back(std::move(error));
    cv_.notify_all();
    return *this;
  }
  FakeByteStream& HoldOpen() {
    std::lock_guard lock(mutex_);
    hold_open_ = true;
    return *this;
  }

  int status() const override { return status_; }
  const HttpHeaders& headers() const override { return headers_; }

  Result<std::optional<std::string>> Read() override {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return cancelled_ || !chunks_.empty() || !hold_open_; });
    if (cancelled_) return MakeError(ErrorCode::kCancelled, "stream cancelled");
    if (chunks_.empty()) return std::optional<std::string>();
    auto next = std::move(chunks_.front());
    chunks_.pop_front();
    if (auto* error = std::get_if<Error>(&next)) return tl::unexpected(std::move(*error));
    return std::optional<std::string>(std::move(std::get<std::string>(next)));
  }

  void Cancel() override {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    cv_.notify_all();
  }

 private:
  const int status_;
  const HttpHeaders headers_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::variant<std::string, Error>> chunks_;
  bool hold_open_ = false;
  bool cancelled_ = false;
};

// A Transport that answers from a script, in order, and records every request. RoundTrip and
// Stream take the next scripted reply: a response (a Stream call gets it as a one-chunk body), an
// error, a stream, or "block until Shutdown". With nothing scripted a call fails with kConfig,
// which no client retries. Thread-safe.
class FakeTransport : public Transport {
 public:
  struct Block {};
  using Reply = std::variant<HttpResponse, Error, std::unique_ptr<FakeByteStream>, Block>;

  FakeTransport& Respond(int status, std::string body = {}, HttpHeaders headers = {}) {
    return Push(HttpResponse{status, std::move(headers), std::move(body)});
  }
  FakeTransport& Fail(Error error) { return Push(std::move(error)); }
  FakeTransport& RespondStream(std::unique_ptr<FakeByteStream> stream) {
    return Push(std::move(stream));
  }
  FakeTransport& BlockUntilShutdown() { return Push(Block{}); }

  Result<HttpResponse> RoundTrip(const HttpRequest& request) override {
    auto reply = Take(request);
    if (!reply) return tl::unexpected(std::move(reply.error()));
    if (auto* response = std::get_if<HttpResponse>(&*reply)) return std::move(*response);
    if (auto* error = std::get_if<Error>(&*reply)) return tl::unexpected(std::move(*error));
    return MakeError(ErrorCode::kConfig, "FakeTransport: a stream was scripted for RoundTrip");
  }

  Result<ByteStreamPtr> Stream(const HttpRequest& request) override {
    auto reply = Take(request);
    if (!reply) return tl::unexpected(std::move(reply.error()));
    if (auto* response = std::get_if<HttpResponse>(&*reply)) {
      auto stream = std::make_unique<FakeByteStream>(response->status, response->headers);
      if (!response->body.empty()) stream->Chunk(response->body);
      return stream;
    }
    if (auto* error = std::get_if<Error>(&*reply)) return tl::unexpected(std::move(*error));
    return std::move(std::get<std::unique_ptr<FakeByteStream>>(*reply));
  }

  void Shutdown() override {
    std::lock_guard lock(mutex_);
    shutdown_ = true;
    cv_.notify_all();
  }

  std::vector<HttpRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  size_t request_count() const {
    std::lock_guard lock(mutex_);
    return requests_.size();
  }
  HttpRequest last_request() const {
    std::lock_guard lock(mutex_);
    return requests_.empty() ? HttpRequest{} : requests_.back();
  }
  // Waits until n requests have arrived; false at the deadline.
  bool WaitForRequests(size_t n, std::chrono::milliseconds deadline = std::chrono::seconds(5)) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, deadline, [&] { return requests_.size() >= n; });
  }

 private:
  FakeTransport& Push(Reply reply) {
    std::lock_guard lock(mutex_);
    replies_.push_back(std::move(reply));
    return *this;
  }

  Result<Reply> Take(const HttpRequest& request) {
    std::unique_lock lock(mutex_);
    requests_.push_back(request);
    cv_.notify_all();
    if (shutdown_) return MakeError(ErrorCode::kCancelled, "transport shut down");
    if (replies_.empty()) return MakeError(ErrorCode::kConfig, "FakeTransport: no reply scripted");
    Reply reply = std::move(replies_.front());
    replies_.pop_front();
    if (std::holds_alternative<Block>(reply)) {
      cv_.wait(lock, [this] { return shutdown_; });
      return MakeError(ErrorCode::kCancelled, "transport shut down");
    }
    return reply;
  }

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Reply> replies_;
  std::vector<HttpRequest> requests_;
  bool shutdown_ = false;
};

// Credentials that hand out "Bearer token-<n>", n counting the Invalidate calls.
class FakeCredentials : public Credentials {
 public:
  Result<std::string> AuthorizationHeader() override {
    std::lock_guard lock(mutex_);
    if (error_) return tl::unexpected(*error_);
    return "Bearer token-" + std::to_string(invalidations_);
  }
  void Invalidate() override {
    std::lock_guard lock(mutex_);
    ++invalidations_;
  }
  void SetError(Error error) {
    std::lock_guard lock(mutex_);
    error_ = std::move(error);
  }
  int invalidations() const {
    std::lock_guard lock(mutex_);
    return invalidations_;
  }

 private:
  mutable std::mutex mutex_;
  int invalidations_ = 0;
  std::optional<Error> error_;
};

}  // namespace vk::hostclient::testing
