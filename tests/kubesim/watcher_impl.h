#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tests/kubesim/field_selector.h"
#include "tests/kubesim/label_selector.h"
#include "tests/kubesim/storage.h"

namespace vk::kubesim {

// Which objects a watch (or list) selects: namespace, label selector, field selector.
struct ObjectFilter {
  ResourceInfo resource;
  std::string ns;  // "" = every namespace
  LabelSelector labels;
  FieldSelector fields;

  bool Matches(const Object& o) const;
};

// Storage's Watcher: an unbounded queue of events in resourceVersion order. Storage pushes under
// its own lock (Push never blocks on the consumer) and calls Notify after releasing it; the
// consumer drains from any thread. Thread-safe. Callbacks never overlap, and once
// SetNotify(nullptr) returns the previous callback is not running and will not run again, so a
// consumer may detach before it goes away.
class WatcherImpl final : public Watcher {
 public:
  // bookmark: asks Storage to queue a BOOKMARK at its current resourceVersion (Storage takes its
  // lock there, so the bookmark cannot overtake an event).
  WatcherImpl(ObjectFilter filter, bool allow_bookmarks,
              std::function<void(WatcherImpl&)> bookmark);

  bool Drain(std::vector<WatchEventRecord>& out) override;
  void SetNotify(std::function<void()> notify) override;
  void RequestBookmark() override;
  void Close() override;

  const ObjectFilter& filter() const { return filter_; }
  bool allow_bookmarks() const { return allow_bookmarks_; }
  bool closed() const { return closed_.load(std::memory_order_acquire); }
  // Queues an event; true when the queue was empty, i.e. the consumer needs a Notify.
  bool Push(WatchEventRecord event);
  // Invokes the notify callback, if any. Call without Storage's lock held.
  void Notify();

 private:
  const ObjectFilter filter_;
  const bool allow_bookmarks_;
  const std::function<void(WatcherImpl&)> bookmark_;
  std::atomic<bool> closed_{false};
  std::mutex mu_;  // guards pending_
  std::vector<WatchEventRecord> pending_;
  // Held while the callback runs; recursive so that a callback may call back into the watcher.
  std::recursive_mutex notify_mu_;
  std::function<void()> notify_;
};

}  // namespace vk::kubesim
