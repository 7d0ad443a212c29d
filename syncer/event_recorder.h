#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "hostclient/base/clock.h"
#include "hostclient/base/error.h"
#include "hostclient/base/object.h"

namespace prometheus {
class Registry;
}

namespace vk::hostclient {
class RestClient;
}

namespace vk::syncer {

// Who reports: source.component/host and reportingComponent/reportingInstance of every event.
struct EventSource {
  std::string component = "vkubelet";
  std::string host;      // the (virtual) node name
  std::string instance;  // reportingInstance; "" = host
};

struct EventRecorderOptions {
  // Events waiting to be written; Record drops (and counts) beyond this.
  std::size_t queue_capacity = 4096;
  // A repeat of an event (same object uid, type, reason and message) within this window of the
  // last one bumps its count instead of creating another Event (client-go's EventCorrelator).
  std::chrono::steady_clock::duration aggregation_window{std::chrono::minutes(10)};
  // Distinct events remembered for aggregation; the least recently seen is forgotten first.
  std::size_t aggregation_cache_size = 4096;
  // Attempts per write for transient errors (network, 5xx, 429), with backoff between them.
  int max_attempts = 3;
  std::chrono::milliseconds retry_base{std::chrono::milliseconds(200)};
  // How long Shutdown keeps writing what is queued.
  std::chrono::milliseconds shutdown_timeout{std::chrono::seconds(5)};
};

// Records core/v1 Events about the objects of ONE cluster (the virtual cluster: "pod denied host
// privileges", "host twin name taken"...), as client-go's EventRecorder does for controllers.
//
// Record never blocks on the API: it puts the event in a bounded queue and returns; one
// background thread writes the queue out in order. A full queue drops the event. A repeat within
// the aggregation window becomes a merge patch of count and lastTimestamp on the Event written
// first (re-created if it has gone meanwhile). Events are written to the involved object's
// namespace ("default" for cluster-scoped objects), named "<object name>.<16 hex digits>".
// Transient write errors are retried max_attempts times with backoff; then, or on a terminal
// error, the event is logged and dropped. Nothing is retried forever.
//
// Threading: Record is thread-safe and may be called from anywhere, before Shutdown or after (it
// then drops). Shutdown writes what is queued for up to shutdown_timeout (plus the request in
// flight, which the client's own timeout or cancellation bounds), then stops the thread; it is
// idempotent and called by the destructor. Borrows the client, registry and clock (which measures
// the aggregation window), which must outlive it.
//
// Metrics (when a registry is given): vkubelet_events_recorded_total{type} (Events created or
// bumped), vkubelet_events_dropped_total{reason} (reason: queue_full, shutdown, invalid_type,
// write_error).
class EventRecorder {
 public:
  EventRecorder(hostclient::RestClient& client, EventSource source,
                prometheus::Registry* metrics = nullptr, Clock& clock = Clock::Real(),
                EventRecorderOptions options = {});
  ~EventRecorder();
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // involved: the object the event is about, as read from the API (kind and apiVersion must be
  // set: objects of a list lack them). type: "Normal" or "Warning" (others are dropped). The
  // message is cut to 1024 bytes.
  void Record(const Object& involved, std::string_view type, std::string_view reason,
              std::string message);

  void Shutdown();

 private:
  struct Metrics;
  // One Record call, waiting to be written.
  struct Pending {
    Object involved;  // the object reference
    std::string type;
    std::string reason;
    std::string message;
    std::chrono::system_clock::time_point wall_time;  // for the Event's timestamps
    Clock::TimePoint seen;                            // for the aggregation window
    std::string aggregation_key;
  };
  // Where an aggregated event lives, and when it was last seen.
  struct Aggregate {
    std::string ns;
    std::string name;
    int64_t count = 0;
    Clock::TimePoint last_seen;
    std::list<std::string>::iterator lru_position;
  };

  void Loop();
  void Write(const Pending& event);
  // Creates the event, or bumps `aggregate` when given; retries transient errors. An error only
  // when the event is lost.
  Status WriteWithRetries(const Pending& event, Aggregate* aggregate);
  Result<Object> CreateEvent(const Pending& event);
  // Notes where the event now lives, for the repeats to come.
  void Remember(const Pending& event, const Object& written);
  // Waits up to d unless the shutdown deadline comes first; false when it came.
  bool SleepUnlessDeadline(std::chrono::steady_clock::duration d);
  void Drop(std::string_view reason, std::size_t n = 1);

  hostclient::RestClient& client_;
  const EventSource source_;
  Clock& clock_;
  const EventRecorderOptions options_;
  std::unique_ptr<Metrics> metrics_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  bool shutting_down_ = false;
  bool overflowing_ = false;  // the last Record found the queue full
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  std::mutex join_mutex_;  // Shutdown may be called from two threads at once

  // Touched by the worker thread only: aggregation state, most recently seen first in lru_.
  std::unordered_map<std::string, Aggregate> aggregates_;
  std::list<std::string> lru_;
  uint64_t sequence_ = 0;

  std::thread worker_;
};

using EventRecorderPtr = std::unique_ptr<EventRecorder>;

}  // namespace vk::syncer
