#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "hostclient/informer.h"
#include "hostclient/rest_client.h"

namespace vk::bench {

using Steady = std::chrono::steady_clock;

// The benchmark's own view of one namespace's pods, from a watch: when each pod was first seen
// and first seen Running. Host twins are keyed by the virtual pod they stand for (their origin
// annotation), other pods by name, so that both sides of one pod share a key. Records outlive
// the pods (Forget drops them). Thread-safe.
class PodTracker {
 public:
  enum class KeyBy { kName, kOrigin };

  struct Record {
    std::string uid;
    Steady::time_point seen{};
    std::optional<Steady::time_point> running;
  };

  PodTracker(hostclient::RestClient& client, std::string ns, KeyBy key_by);
  ~PodTracker();
  PodTracker(const PodTracker&) = delete;
  PodTracker& operator=(const PodTracker&) = delete;

  // Starts the watch and waits for its first list.
  bool Start(std::chrono::milliseconds timeout);

  size_t present() const;
  size_t running() const;
  // Waits until `done(present, running)` holds; false at the timeout.
  bool WaitUntil(const std::function<bool(size_t present, size_t running)>& done,
                 std::chrono::milliseconds timeout);
  std::optional<Record> Get(const std::string& key) const;
  // Keys and UIDs of the pods present now; `pods` counts several pods under one key once, so
  // `pods_present` tells duplicates apart.
  std::map<std::string, std::string> PresentUids() const;
  size_t pods_present() const;
  // Drops the records of pods that are gone.
  void Forget();

 private:
  std::string KeyOf(const Object& pod) const;
  void Seen(const ObjectPtr& pod);
  void Gone(const ObjectPtr& pod);

  const KeyBy key_by_;
  hostclient::SharedInformer informer_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, Record> records_;
  std::map<std::string, std::set<std::string>> present_;  // key -> UIDs
  size_t pods_present_ = 0;
  size_t running_ = 0;
};

}  // namespace vk::bench
