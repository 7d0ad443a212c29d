#include "tests/kubesim/watcher_impl.h"

namespace vk::kubesim {

bool ObjectFilter::Matches(const Object& o) const {
  if (!ns.empty() && obj::Namespace(o) != ns) return false;
  return labels.MatchesObject(o) && (fields.Empty() || fields.Matches(resource, o));
}

WatcherImpl::WatcherImpl(ObjectFilter filter, bool allow_bookmarks,
                         std::function<void(WatcherImpl&)> bookmark)
    : filter_(std::move(filter)),
      allow_bookmarks_(allow_bookmarks),
      bookmark_(std::move(bookmark)) {}

bool WatcherImpl::Drain(std::vector<WatchEventRecord>& out) {
  std::lock_guard lock(mu_);
  if (pending_.empty()) return !closed();
  if (out.empty()) {
    out.swap(pending_);
  } else {
    out.insert(out.end(), std::make_move_iterator(pending_.begin()),
               std::make_move_iterator(pending_.end()));
    pending_.clear();
  }
  return true;
}

void WatcherImpl::SetNotify(std::function<void()> notify) {
  {
    // Waits for a callback in flight, so that after SetNotify(nullptr) the old one never runs.
    std::lock_guard notify_lock(notify_mu_);
    notify_ = std::move(notify);
  }
  bool has_work;
  {
    std::lock_guard lock(mu_);
    has_work = !pending_.empty() || closed();
  }
  // Events queued before the consumer was ready (initial ADDED events) must not wait for the next
  // write.
  if (has_work) Notify();
}

void WatcherImpl::RequestBookmark() {
  if (!allow_bookmarks_ || closed() || !bookmark_) return;
  bookmark_(*this);
}

void WatcherImpl::Close() {
  if (closed_.exchange(true, std::memory_order_acq_rel)) return;
  Notify();
}

bool WatcherImpl::Push(WatchEventRecord event) {
  if (closed()) return false;
  std::lock_guard lock(mu_);
  pending_.push_back(std::move(event));
  return pending_.size() == 1;
}

void WatcherImpl::Notify() {
  std::lock_guard notify_lock(notify_mu_);
  if (notify_) notify_();
}

}  // namespace vk::kubesim
