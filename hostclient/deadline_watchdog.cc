#include "hostclient/deadline_watchdog.h"

#include <string>

#include "hostclient/base/thread_name.h"

namespace vk::hostclient {

DeadlineWatchdog::DeadlineWatchdog(std::string thread_name)
    : thread_([this, name = std::move(thread_name)] {
        SetCurrentThreadName(name);
        Loop();
      }) {}

DeadlineWatchdog::~DeadlineWatchdog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

DeadlineWatchdog::Id DeadlineWatchdog::Add(TimePoint deadline, std::function<void()> on_expiry) {
  std::lock_guard lock(mutex_);
  const Id id = next_id_++;
  const bool earliest = pending_.empty() || deadline < pending_.begin()->first;
  by_id_[id] = pending_.emplace(deadline, Entry{id, std::move(on_expiry)});
  if (earliest) wake_.notify_one();
  return id;
}

bool DeadlineWatchdog::Remove(Id id) {
  std::lock_guard lock(mutex_);
  if (fired_.erase(id) > 0) return true;
  if (auto it = by_id_.find(id); it != by_id_.end()) {
    pending_.erase(it->second);
    by_id_.erase(it);
  }
  return false;
}

void DeadlineWatchdog::Loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (pending_.empty()) {
      wake_.wait(lock);
      continue;
    }
    const TimePoint earliest = pending_.begin()->first;
    if (std::chrono::steady_clock::now() < earliest) {
      wake_.wait_until(lock, earliest);
      continue;
    }
    auto node = pending_.extract(pending_.begin());
    by_id_.erase(node.mapped().id);
    fired_.insert(node.mapped().id);
    // Under the lock, so that Remove cannot return while the function runs.
    node.mapped().on_expiry();
  }
}

}  // namespace vk::hostclient
