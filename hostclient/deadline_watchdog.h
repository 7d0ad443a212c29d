#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>

namespace vk::hostclient {

// Calls a function when a deadline passes, for blocking I/O that has no timeout of its own: the
// function interrupts the I/O (shuts its socket down). One thread sleeps until the earliest
// deadline; adding a later deadline than those pending does not wake it, so a request costs two
// short critical sections and no thread switch.
//
// Remove guarantees that the function is not running and will not run once it returns. Functions
// run on the watchdog's thread, one at a time, and must be quick. Thread-safe.
class DeadlineWatchdog {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Id = uint64_t;

  explicit DeadlineWatchdog(std::string thread_name);
  ~DeadlineWatchdog();
  DeadlineWatchdog(const DeadlineWatchdog&) = delete;
  DeadlineWatchdog& operator=(const DeadlineWatchdog&) = delete;

  Id Add(TimePoint deadline, std::function<void()> on_expiry);
  // Returns whether the function ran (the deadline passed before the removal).
  bool Remove(Id id);

 private:
  struct Entry {
    Id id;
    std::function<void()> on_expiry;
  };

  void Loop();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::multimap<TimePoint, Entry> pending_;
  std::map<Id, std::multimap<TimePoint, Entry>::iterator> by_id_;
  std::set<Id> fired_;  // ids whose function ran and that were not removed yet
  Id next_id_ = 1;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace vk::hostclient
