#pragma once

#include <functional>
#include <string>
#include <vector>

#include "hostclient/base/error.h"
#include "tests/kubesim/resource_catalog.h"
#include "tests/kubesim/storage.h"

namespace vk::kubesim {

// One resource's Storage watch as kubesim's in-process controllers consume it (their informer):
// opened from the current state (synthetic ADDED events first), drained by the controller's own
// thread, and reopened where it got to when Storage closes it (CloseAllWatchers) — from the
// current state again when that is older than the history, so a controller must be level-based
// (a deletion in the gap is not seen).
//
// wake is called from writers' threads, without Storage's locks held, whenever events are waiting
// or the watch closed; it must be cheap and must not call back into the feed. Not thread-safe
// otherwise: one thread opens, drains and closes it. Borrows storage and resource, which must
// outlive it.
class StorageFeed {
 public:
  StorageFeed(Storage& storage, const ResourceInfo& resource, std::function<void()> wake);
  ~StorageFeed();
  StorageFeed(const StorageFeed&) = delete;
  StorageFeed& operator=(const StorageFeed&) = delete;

  // Starts (or restarts) the watch from where the feed got to, or from the current state the first
  // time. Storage's error when it cannot watch.
  Status Open();
  // Hands every waiting event except BOOKMARKs and ERRORs to handle, in resourceVersion order, and
  // reopens the watch when Storage closed it. false when it was closed and could not be reopened:
  // the caller calls Open() again later.
  bool Drain(const std::function<void(const WatchEventRecord&)>& handle);
  // Detaches wake (it is not running and will not run once this returns) and ends the watch.
  void Close();

  // Whether a watch is open (false before Open, after Close, or after a failed reopen).
  bool watching() const { return watcher_ != nullptr; }
  const ResourceInfo& resource() const { return resource_; }

 private:
  Storage& storage_;
  const ResourceInfo& resource_;
  const std::function<void()> wake_;
  WatcherPtr watcher_;
  std::string last_rv_;  // of the last event handed out; "" before the first
  std::vector<WatchEventRecord> batch_;
};

}  // namespace vk::kubesim
