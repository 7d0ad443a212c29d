#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hostclient/base/clock.h"
#include "hostclient/base/error.h"
#include "hostclient/lister_watcher.h"
#include "hostclient/reflector.h"
#include "hostclient/store.h"

namespace vk::hostclient {

// Callbacks for changes of an informer's objects. Any of them may be empty.
struct EventHandler {
  // is_initial_list: the object was part of the state the handler started from (the first list,
  // or the synthetic adds of a handler registered after start), not a new creation.
  std::function<void(const ObjectPtr& object, bool is_initial_list)> on_add;
  // Resyncs deliver old == new. old_object is null when the informer does not deliver old
  // objects (InformerOptions::deliver_old_objects).
  std::function<void(const ObjectPtr& old_object, const ObjectPtr& new_object)> on_update;
  // The last state known: the final object of a watch DELETED event, or the cached state for an
  // object that vanished between two lists. Delivered even for objects the cache never held.
  std::function<void(const ObjectPtr& object)> on_delete;
};

struct InformerOptions {
  std::string name = "informer";
  // Every resync period, on_update(o, o) is delivered for every cached object, so that handlers
  // re-check state they may have failed to act on. Zero disables it. Measured on the real clock.
  std::chrono::steady_clock::duration resync_period{0};
  // Whether on_update receives the object's previous state. The cache keeps objects as text, so
  // each previous state costs a parse; handlers that only need the new state turn this off.
  bool deliver_old_objects = true;
  // What the cache keeps of each object (see CacheForm), when handlers need objects whole but
  // store() readers need less. What comes from the cache comes in this form: resyncs, the
  // synthetic adds of a handler registered after Start, and objects that vanished between two
  // lists. Null: the whole object.
  CacheForm cache_form;
  // The reflector's options; its name defaults to the informer's.
  ReflectorOptions reflector;
};

// One list-and-watch of a collection shared by any number of event handlers, with an indexed
// cache (a Reflector feeding a Store; see client-go's SharedIndexInformer).
//
// Contract:
// - Handlers run on one dispatch thread, one call at a time, in the order the cache changed, and
//   never while the store's lock is held: a handler may read store() and may register further
//   handlers. A slow handler delays later notifications, never the cache.
// - A handler registered at any time first receives on_add(o, true) for every object cached at
//   that moment, then every later change; it sees each change exactly once.
// - HasSynced turns true once the handlers registered by then have received the first list.
// - Start and Stop are idempotent; Stop cancels the watch, stops dispatching (notifications not
//   yet delivered are dropped) and joins both threads. An informer runs once: no Start after
//   Stop. Do not call Stop from a handler.
// All methods are thread-safe.
class SharedInformer {
 public:
  explicit SharedInformer(ListerWatcherPtr lister_watcher, InformerOptions options = {});
  ~SharedInformer();
  SharedInformer(const SharedInformer&) = delete;
  SharedInformer& operator=(const SharedInformer&) = delete;

  // Adds a named index to the store (see Store::AddIndexer); allowed before or after Start.
  Status AddIndexer(const std::string& name, IndexFunc fn);
  void AddEventHandler(EventHandler handler);

  void Start();
  void Stop();

  bool HasSynced() const;
  // Blocks until synced, the deadline or Stop; returns HasSynced().
  bool WaitForSync(std::chrono::steady_clock::time_point deadline) const;
  bool WaitForSync(std::chrono::steady_clock::duration timeout) const {
    return WaitForSync(std::chrono::steady_clock::now() + timeout);
  }

  const Store& store() const { return store_; }
  // resourceVersion of the last list or event the cache applied.
  std::string LastSyncResourceVersion() const;

 private:
  struct Notification {
    enum class Kind { kAdd, kUpdate, kDelete, kRegister, kSynced };
    Kind kind = Kind::kSynced;
    ObjectPtr old_object;
    ObjectPtr object;
    // For changes of a relist, which exist as text until delivered (see Store::Listed).
    std::shared_ptr<const std::string> object_json;
    bool is_initial_list = false;
    // kRegister only: the new handler and the cache's contents at registration.
    std::shared_ptr<EventHandler> handler;
    std::vector<ObjectPtr> snapshot;
  };

  void OnStoreChanges(const std::vector<StoreChange>& changes, bool from_replace);
  void EnqueueResync(const std::vector<ObjectPtr>& objects);
  void DispatchLoop();
  void Deliver(Notification& notification);

  const InformerOptions options_;
  ListerWatcherPtr lister_watcher_;
  Store store_;
  std::unique_ptr<Reflector> reflector_;

  mutable std::mutex mutex_;
  std::condition_variable dispatch_cv_;
  mutable std::condition_variable synced_cv_;
  std::deque<Notification> pending_;
  bool initial_list_seen_ = false;  // the first Replace has been enqueued
  bool synced_ = false;             // ... and delivered
  bool started_ = false;
  bool stopped_ = false;
  std::thread dispatch_thread_;
  // Touched by the dispatch thread only.
  std::vector<std::shared_ptr<EventHandler>> handlers_;
};

using SharedInformerPtr = std::unique_ptr<SharedInformer>;

}  // namespace vk::hostclient
