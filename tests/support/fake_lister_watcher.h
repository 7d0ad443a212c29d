#pragma once

#include <boost/json/array.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "hostclient/base/object.h"
#include "hostclient/lister_watcher.h"

// Test doubles for the cache machinery: a ListerWatcher whose lists are set by the test and whose
// watch streams are queues the test fills (events, end of stream, errors), plus object builders.
namespace vk::testing {

inline constexpr std::chrono::seconds kWaitTimeout{5};

// The script of one watch: what Next returns, in order. Next blocks until the test pushes
// something or the stream is cancelled.
class ScriptedWatch {
 public:
  void Push(hostclient::WatchEvent::Type type, ObjectPtr object) {
    Enqueue(std::optional<hostclient::WatchEvent>(hostclient::WatchEvent{type, std::move(object)}));
  }
  // The server ends the watch normally (timeoutSeconds).
  void End() { Enqueue(std::optional<hostclient::WatchEvent>()); }
  void Fail(Error error) { Enqueue(tl::unexpected<Error>(std::move(error))); }

  bool cancelled() const {
    std::lock_guard lock(mutex_);
    return cancelled_;
  }

  // Waits until the consumer is blocked in Next with nothing to read.
  bool WaitForReader() {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, kWaitTimeout, [this] { return readers_blocked_ > 0; });
  }

  Result<std::optional<hostclient::WatchEvent>> Next() {
    std::unique_lock lock(mutex_);
    ++readers_blocked_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return cancelled_ || !script_.empty(); });
    --readers_blocked_;
    if (cancelled_) return MakeError(ErrorCode::kCancelled, "watch cancelled");
    auto next = std::move(script_.front());
    script_.pop_front();
    return next;
  }

  void Cancel() {
    {
      std::lock_guard lock(mutex_);
      cancelled_ = true;
    }
    cv_.notify_all();
  }

 private:
  void Enqueue(Result<std::optional<hostclient::WatchEvent>> item) {
    {
      std::lock_guard lock(mutex_);
      script_.push_back(std::move(item));
    }
    cv_.notify_all();
  }

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Result<std::optional<hostclient::WatchEvent>>> script_;
  bool cancelled_ = false;
  int readers_blocked_ = 0;
};

class FakeWatchStream : public hostclient::WatchStream {
 public:
  explicit FakeWatchStream(std::shared_ptr<ScriptedWatch> script) : script_(std::move(script)) {}
  Result<std::optional<hostclient::WatchEvent>> Next() override { return script_->Next(); }
  void Cancel() override { script_->Cancel(); }

 private:
  std::shared_ptr<ScriptedWatch> script_;
};

class FakeListerWatcher : public hostclient::ListerWatcher {
 public:
  // What every successful List returns from now on.
  void SetList(Object list) {
    std::lock_guard lock(mutex_);
    list_ = std::move(list);
  }
  // The next Lists / Watches fail with these errors, one each, in order.
  void FailNextList(Error error) {
    std::lock_guard lock(mutex_);
    list_failures_.push_back(std::move(error));
  }
  void FailNextWatch(Error error) {
    std::lock_guard lock(mutex_);
    watch_failures_.push_back(std::move(error));
  }

  Result<Object> List(const hostclient::ListOptions& options) override {
    std::lock_guard lock(mutex_);
    list_calls_.push_back(options);
    cv_.notify_all();
    if (!list_failures_.empty()) {
      Error error = std::move(list_failures_.front());
      list_failures_.pop_front();
      return tl::unexpected<Error>(std::move(error));
    }
    return list_;
  }

  Result<hostclient::WatchStreamPtr> Watch(const hostclient::ListOptions& options) override {
    std::lock_guard lock(mutex_);
    watch_calls_.push_back(options);
    cv_.notify_all();
    if (!watch_failures_.empty()) {
      Error error = std::move(watch_failures_.front());
      watch_failures_.pop_front();
      watches_.push_back(nullptr);
      return tl::unexpected<Error>(std::move(error));
    }
    auto script = std::make_shared<ScriptedWatch>();
    watches_.push_back(script);
    return std::make_unique<FakeWatchStream>(std::move(script));
  }

  // The script of the n-th Watch call (1-based) once it has been made; null when that call failed
  // or did not happen in time.
  std::shared_ptr<ScriptedWatch> WaitForWatch(size_t n) {
    std::unique_lock lock(mutex_);
    if (!cv_.wait_for(lock, kWaitTimeout, [&] { return watches_.size() >= n; })) return nullptr;
    return watches_[n - 1];
  }
  bool WaitForWatchCalls(size_t n) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, kWaitTimeout, [&] { return watch_calls_.size() >= n; });
  }
  bool WaitForListCalls(size_t n) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, kWaitTimeout, [&] { return list_calls_.size() >= n; });
  }
  std::vector<hostclient::ListOptions> list_calls() const {
    std::lock_guard lock(mutex_);
    return list_calls_;
  }
  std::vector<hostclient::ListOptions> watch_calls() const {
    std::lock_guard lock(mutex_);
    return watch_calls_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  Object list_ = Object{{"kind", "PodList"},
                        {"apiVersion", "v1"},
                        {"metadata", Object{{"resourceVersion", "1"}}},
                        {"items", boost::json::array()}};
  std::deque<Error> list_failures_;
  std::deque<Error> watch_failures_;
  std::vector<hostclient::ListOptions> list_calls_;
  std::vector<hostclient::ListOptions> watch_calls_;
  std::vector<std::shared_ptr<ScriptedWatch>> watches_;
};

// A pod as the API server would send it in a watch event.
inline Object PodObject(const std::string& ns, const std::string& name, const std::string& rv,
                        const std::string& node = {}, const std::string& app_label = {}) {
  Object pod{{"apiVersion", "v1"},
             {"kind", "Pod"},
             {"metadata", Object{{"name", name}, {"namespace", ns}, {"resourceVersion", rv}}}};
  if (!node.empty()) pod["spec"] = Object{{"nodeName", node}};
  if (!app_label.empty()) {
    obj::EnsureObject(pod, {"metadata", "labels"})["app"] = app_label;
  }
  return pod;
}

inline ObjectPtr Pod(const std::string& ns, const std::string& name, const std::string& rv,
                     const std::string& node = {}, const std::string& app_label = {}) {
  return std::make_shared<const Object>(PodObject(ns, name, rv, node, app_label));
}

// A PodList of the given pods as a list response: items without kind/apiVersion, as servers send.
inline Object PodList(const std::vector<ObjectPtr>& pods, const std::string& rv) {
  boost::json::array items;
  for (const auto& pod : pods) {
    Object item = *pod;
    item.erase("kind");
    item.erase("apiVersion");
    items.push_back(std::move(item));
  }
  return Object{{"kind", "PodList"},
                {"apiVersion", "v1"},
                {"metadata", Object{{"resourceVersion", rv}}},
                {"items", std::move(items)}};
}

// A metav1.Status as a watch ERROR event carries it.
inline ObjectPtr StatusObject(int code, const std::string& reason, const std::string& message) {
  return std::make_shared<const Object>(Object{{"kind", "Status"},
                                               {"apiVersion", "v1"},
                                               {"status", "Failure"},
                                               {"code", code},
                                               {"reason", reason},
                                               {"message", message}});
}

inline Error GoneError() { return Error(ErrorCode::kGone, "too old resource version"); }
inline Error NetworkError() { return Error(ErrorCode::kNetwork, "connection reset by peer"); }

}  // namespace vk::testing
