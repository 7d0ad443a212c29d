#include "hostclient/informer.h"

#include <spdlog/spdlog.h>

#include <exception>
#include <utility>

#include "hostclient/base/thread_name.h"

namespace vk::hostclient {
namespace {

ReflectorOptions ReflectorOptionsFor(const InformerOptions& options) {
  ReflectorOptions out = options.reflector;
  if (out.name == ReflectorOptions{}.name) out.name = options.name;
  return out;
}

// A handler that throws must not take the dispatch thread (and every other handler) down.
template <typename F>
void Guarded(const std::string& informer, const char* what, F&& call) {
  try {
    call();
  } catch (const std::exception& e) {
    spdlog::error("{}: {} handler threw: {}", informer, what, e.what());
  } catch (...) {
    spdlog::error("{}: {} handler threw a non-standard exception", informer, what);
  }
}

}  // namespace

SharedInformer::SharedInformer(ListerWatcherPtr lister_watcher, InformerOptions options)
    : options_(std::move(options)),
      lister_watcher_(std::move(lister_watcher)),
      store_([this](const std::vector<StoreChange>& changes,
                    bool from_replace) { OnStoreChanges(changes, from_replace); },
             options_.deliver_old_objects ? OldObjects::kReported : OldObjects::kNotReported,
             options_.cache_form),
      reflector_(
          std::make_unique<Reflector>(*lister_watcher_, store_, ReflectorOptionsFor(options_))) {}

SharedInformer::~SharedInformer() { Stop(); }

Status SharedInformer::AddIndexer(const std::string& name, IndexFunc fn) {
  return store_.AddIndexer(name, std::move(fn));
}

void SharedInformer::AddEventHandler(EventHandler handler) {
  auto shared = std::make_shared<EventHandler>(std::move(handler));
  // The snapshot and the registration enter the dispatch queue atomically with respect to store
  // changes: every change after the snapshot is queued behind the registration.
  store_.VisitAtomically([&](const std::vector<ObjectPtr>& objects) {
    std::lock_guard lock(mutex_);
    Notification n;
    n.kind = Notification::Kind::kRegister;
    n.handler = shared;
    n.snapshot = objects;
    pending_.push_back(std::move(n));
  });
  dispatch_cv_.notify_one();
}

void SharedInformer::Start() {
  {
    std::lock_guard lock(mutex_);
    if (started_ || stopped_) return;
    started_ = true;
    dispatch_thread_ = std::thread([this] {
      SetCurrentThreadName("d:" + options_.name);
      DispatchLoop();
    });
  }
  reflector_->Start();
}

void SharedInformer::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
  }
  // The reflector first, so that no change arrives after dispatching ends.
  reflector_->Stop();
  dispatch_cv_.notify_all();
  synced_cv_.notify_all();
  if (dispatch_thread_.joinable()) dispatch_thread_.join();
}

bool SharedInformer::HasSynced() const {
  std::lock_guard lock(mutex_);
  return synced_;
}

bool SharedInformer::WaitForSync(std::chrono::steady_clock::time_point deadline) const {
  std::unique_lock lock(mutex_);
  synced_cv_.wait_until(lock, deadline, [this] { return synced_ || stopped_; });
  return synced_;
}

std::string SharedInformer::LastSyncResourceVersion() const {
  return reflector_->LastSyncResourceVersion();
}

void SharedInformer::OnStoreChanges(const std::vector<StoreChange>& changes, bool from_replace) {
  {
    std::lock_guard lock(mutex_);
    const bool initial = from_replace && !initial_list_seen_;
    for (const auto& change : changes) {
      Notification n;
      n.object = change.object;
      switch (change.type) {
        case StoreChange::Type::kAdded:
          n.kind = Notification::Kind::kAdd;
          n.object_json = change.object_json;
          n.is_initial_list = initial;
          break;
        case StoreChange::Type::kUpdated:
          n.kind = Notification::Kind::kUpdate;
          n.old_object = change.old_object;
          n.object_json = change.object_json;
          break;
        case StoreChange::Type::kDeleted:
          n.kind = Notification::Kind::kDelete;
          n.old_object = change.old_object;
          break;
      }
      pending_.push_back(std::move(n));
    }
    if (initial) {
      initial_list_seen_ = true;
      Notification synced;
      synced.kind = Notification::Kind::kSynced;
      pending_.push_back(std::move(synced));
    }
  }
  dispatch_cv_.notify_one();
}

void SharedInformer::EnqueueResync(const std::vector<ObjectPtr>& objects) {
  {
    std::lock_guard lock(mutex_);
    for (const auto& object : objects) {
      Notification n;
      n.kind = Notification::Kind::kUpdate;
      n.old_object = object;
      n.object = object;
      pending_.push_back(std::move(n));
    }
  }
  dispatch_cv_.notify_one();
}

void SharedInformer::DispatchLoop() {
  using SteadyClock = std::chrono::steady_clock;
  const bool resync = options_.resync_period > SteadyClock::duration::zero();
  auto next_resync = SteadyClock::now() + options_.resync_period;
  std::unique_lock lock(mutex_);
  while (!stopped_) {
    if (!pending_.empty()) {
      Notification n = std::move(pending_.front());
      pending_.pop_front();
      lock.unlock();
      Deliver(n);
      lock.lock();
      continue;
    }
    if (resync && SteadyClock::now() >= next_resync) {
      next_resync = SteadyClock::now() + options_.resync_period;
      // Resyncing before the first list would only replay a partial cache.
      if (!synced_) continue;
      lock.unlock();
      store_.VisitAtomically(
          [this](const std::vector<ObjectPtr>& objects) { EnqueueResync(objects); });
      lock.lock();
      continue;
    }
    if (resync) {
      dispatch_cv_.wait_until(lock, next_resync);
    } else {
      dispatch_cv_.wait(lock);
    }
  }
}

void SharedInformer::Deliver(Notification& n) {
  const std::string& name = options_.name;
  // Parsed one at a time, so that a relist is never held parsed whole.
  if (n.object == nullptr && n.object_json != nullptr) n.object = ParseStored(*n.object_json);
  switch (n.kind) {
    case Notification::Kind::kAdd:
      for (const auto& h : handlers_) {
        if (h->on_add) Guarded(name, "add", [&] { h->on_add(n.object, n.is_initial_list); });
      }
      break;
    case Notification::Kind::kUpdate:
      for (const auto& h : handlers_) {
        if (h->on_update) Guarded(name, "update", [&] { h->on_update(n.old_object, n.object); });
      }
      break;
    case Notification::Kind::kDelete:
      for (const auto& h : handlers_) {
        if (h->on_delete) Guarded(name, "delete", [&] { h->on_delete(n.object); });
      }
      break;
    case Notification::Kind::kRegister:
      handlers_.push_back(n.handler);
      if (n.handler->on_add) {
        for (const auto& object : n.snapshot) {
          Guarded(name, "add", [&] { n.handler->on_add(object, true); });
        }
      }
      break;
    case Notification::Kind::kSynced: {
      std::lock_guard lock(mutex_);
      synced_ = true;
    }
      synced_cv_.notify_all();
      break;
  }
}

}  // namespace vk::hostclient
