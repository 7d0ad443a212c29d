#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "hostclient/backoff.h"
#include "hostclient/base/clock.h"
#include "hostclient/lister_watcher.h"
#include "hostclient/sleeper.h"
#include "hostclient/store.h"

namespace vk::hostclient {

struct ReflectorOptions {
  // Names the reflector in logs, e.g. "pods@virtual".
  std::string name = "reflector";
  // Each watch asks the server to end it after a random timeoutSeconds in [min, max), so that
  // many watchers do not all reconnect at once.
  std::chrono::seconds min_watch_timeout{std::chrono::minutes(5)};
  std::chrono::seconds max_watch_timeout{std::chrono::minutes(10)};
  // ListOptions.limit of a list (page size); the ListerWatcher follows the pages.
  int64_t page_size = 500;
  // Delays after failures grow from base to max (decorrelated jitter); the sequence restarts once
  // `backoff_reset` has passed without a failure.
  Clock::Duration backoff_base{std::chrono::milliseconds(800)};
  Clock::Duration backoff_max{std::chrono::seconds(30)};
  Clock::Duration backoff_reset{std::chrono::minutes(2)};
  // A watch that ends without a single event sooner than this after it began counts as a failure
  // (a proxy closing streams at once must not turn into a tight reconnect loop).
  Clock::Duration min_watch_duration{std::chrono::seconds(1)};
  // Applied to every listed and watched object before the store sees it, to drop what no reader
  // needs (client-go's TransformFunc): the store and every handler get the result. Returns its
  // argument when there is nothing to drop. Null: objects are kept whole.
  std::function<ObjectPtr(ObjectPtr)> transform;
  // Injection points for tests. Null clock: the real one. Null sleeper: the reflector's own
  // RealSleeper. An injected sleeper is dedicated to this reflector: Stop shuts it down. Null
  // random source: a seeded engine (for both backoff jitter and watch timeouts).
  Clock* clock = nullptr;
  Sleeper* sleeper = nullptr;
  Backoff::RandomSource random;
};

// Keeps a Store equal to the server's view of one collection: lists it, replaces the store's
// contents, then watches from the list's resourceVersion and applies every event in order.
//
// - A watch that ends (server timeout) is reopened from the last resourceVersion seen; BOOKMARK
//   events advance that resourceVersion without touching the store.
// - 410 Gone (the resourceVersion fell out of the server's history), whether from opening the
//   watch or as an ERROR event, leads to a relist; Store::Replace turns the difference into
//   changes, including deletions of objects that vanished while the watch was down.
// - Other failures wait (bounded exponential backoff with jitter) and reopen the watch, or retry
//   the list when the list failed.
//
// Runs on a thread of its own between Start and Stop. The store's change hook runs on that
// thread. Stop cancels the watch in progress and joins; a list in progress finishes first (lists
// are bounded by the client's request timeout). Borrows the ListerWatcher and the Store, which
// must outlive the reflector. Public methods are thread-safe.
class Reflector {
 public:
  Reflector(ListerWatcher& lister_watcher, Store& store, ReflectorOptions options = {});
  ~Reflector();
  Reflector(const Reflector&) = delete;
  Reflector& operator=(const Reflector&) = delete;

  // Starts the list-and-watch thread. Does nothing when already started or stopped.
  void Start();
  // Stops and joins; idempotent. A stopped reflector does not start again.
  void Stop();

  // True once the first list has been written to the store.
  bool HasSynced() const { return synced_.load(std::memory_order_acquire); }
  // resourceVersion of the last list, event or bookmark applied ("" before the first list).
  std::string LastSyncResourceVersion() const;

 private:
  enum class WatchOutcome { kRewatch, kRelist, kBackoff, kBackoffThenRelist, kStopped };

  void Run();
  Status ListAndReplace();
  WatchOutcome WatchOnce(bool just_listed);
  // Waits the next backoff delay; false when stopped meanwhile.
  bool BackoffWait();
  std::chrono::seconds RandomWatchTimeout();
  void SetLastResourceVersion(std::string_view rv);
  bool Stopping() const;

  ListerWatcher& lister_watcher_;
  Store& store_;
  const ReflectorOptions options_;
  Clock& clock_;
  std::unique_ptr<Sleeper> own_sleeper_;
  Sleeper& sleeper_;
  // Used only by the reflector thread.
  Backoff backoff_;
  std::mt19937_64 engine_;
  std::optional<Clock::TimePoint> last_failure_;

  std::atomic<bool> synced_{false};
  mutable std::mutex mutex_;
  bool started_ = false;
  bool stopping_ = false;
  WatchStream* current_watch_ = nullptr;  // cancelled by Stop; owned by the reflector thread
  std::string last_rv_;
  std::thread thread_;
};

}  // namespace vk::hostclient
