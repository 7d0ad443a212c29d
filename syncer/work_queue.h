#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "hostclient/base/clock.h"
#include "syncer/rate_limiter.h"

namespace prometheus {
class Registry;
}

namespace vk::syncer {

struct WorkQueueOptions {
  // Label of the queue's metrics ({name="..."}); distinct queues sharing a registry need distinct
  // names.
  std::string name = "default";
  // Time source for delays, rate limits and metrics. Null: the real clock. Must outlive the queue.
  Clock* clock = nullptr;
  // Null: DefaultControllerRateLimiter on the queue's clock.
  RateLimiterPtr rate_limiter;
  // Null: no metrics. Must outlive the queue.
  prometheus::Registry* metrics = nullptr;
  // How often workqueue_unfinished_work_seconds and workqueue_longest_running_processor_seconds
  // are refreshed (real time), when metrics are on.
  std::chrono::steady_clock::duration metrics_update_period{std::chrono::milliseconds(500)};
};

// A rate-limited, delaying work queue of keys with client-go's workqueue semantics:
//
// - Stingy: a key added many times before a worker takes it is handed out once (the dirty set).
// - Exclusive: a key is never handed to two workers at once. A key added while a worker holds it
//   is handed out again only after that worker calls Done.
// - Fair: keys are handed out in the order they became ready.
// - AddAfter holds a key back until its delay has passed (the earliest pending delay wins); a
//   thread of the queue's moves due keys into the queue. With an injected FakeClock, advance the
//   clock and call ProcessDelayed to make due keys ready at once.
// - AddRateLimited = AddAfter(key, rate_limiter.When(key)); Forget clears the key's retry
//   history; NumRequeues reports it.
// - ShutDown rejects further adds and wakes every Get; Get still hands out keys already queued
//   and returns nullopt once the queue is empty. Keys waiting on a delay are dropped.
//   ShutDownWithDrain also waits until every key handed out has been marked Done.
//
// Metrics (when a registry is given, labelled name=<options.name>): workqueue_depth,
// workqueue_adds_total, workqueue_queue_duration_seconds, workqueue_work_duration_seconds,
// workqueue_retries_total, workqueue_unfinished_work_seconds,
// workqueue_longest_running_processor_seconds.
//
// All methods are thread-safe. Every key a Get returned must be passed to Done exactly once.
class WorkQueue {
 public:
  explicit WorkQueue(WorkQueueOptions options = {});
  // Shuts down (without draining) and joins the delay thread.
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void Add(const std::string& key);
  void AddAfter(const std::string& key, Clock::Duration delay);
  void AddRateLimited(const std::string& key);
  void Forget(const std::string& key);
  int NumRequeues(const std::string& key) const;

  // Blocks until a key is ready or the queue is shut down and empty (nullopt).
  std::optional<std::string> Get();
  // Marks a key returned by Get as finished; queues it again if it was added meanwhile.
  void Done(const std::string& key);

  // Keys ready to be handed out.
  size_t Len() const;
  // Keys waiting for their delay.
  size_t NumWaiting() const;

  void ShutDown();
  void ShutDownWithDrain();
  bool ShuttingDown() const;

  // Moves every delayed key that is due by the clock into the queue. The delay thread does this on
  // its own; tests driving a FakeClock call it after advancing the clock.
  void ProcessDelayed();

 private:
  struct Metrics;

  void AddLocked(const std::string& key);
  void ProcessDelayedLocked();
  void UpdateUnfinishedLocked();
  void DelayLoop();

  const std::string name_;
  Clock& clock_;
  const RateLimiterPtr rate_limiter_;
  const std::chrono::steady_clock::duration metrics_update_period_;
  std::unique_ptr<Metrics> metrics_;

  mutable std::mutex mutex_;
  std::condition_variable get_cv_;
  std::condition_variable delay_cv_;
  std::condition_variable drain_cv_;
  std::deque<std::string> queue_;
  std::unordered_set<std::string> dirty_;
  // Keys handed out and not yet Done, with the time they were handed out.
  std::unordered_map<std::string, Clock::TimePoint> processing_;
  // When each dirty key was added, for the queue-duration histogram.
  std::unordered_map<std::string, Clock::TimePoint> added_at_;
  std::unordered_map<std::string, Clock::TimePoint> waiting_;
  std::set<std::pair<Clock::TimePoint, std::string>> waiting_by_time_;
  bool shutting_down_ = false;
  bool draining_ = false;
  std::thread delay_thread_;
};

using WorkQueuePtr = std::unique_ptr<WorkQueue>;

}  // namespace vk::syncer
