#include "tests/bench/pod_tracker.h"

#include "hostclient/lister_watcher.h"
#include "hostclient/resource.h"
#include "syncer/shared/host_naming.h"

namespace vk::bench {

PodTracker::PodTracker(hostclient::RestClient& client, std::string ns, KeyBy key_by)
    : key_by_(key_by),
      informer_(std::make_unique<hostclient::RestListerWatcher>(
          client, hostclient::resources::Pods(), std::move(ns))) {
  informer_.AddEventHandler({[this](const ObjectPtr& pod, bool) { Seen(pod); },
                             [this](const ObjectPtr&, const ObjectPtr& pod) { Seen(pod); },
                             [this](const ObjectPtr& pod) { Gone(pod); }});
}

PodTracker::~PodTracker() { informer_.Stop(); }

bool PodTracker::Start(std::chrono::milliseconds timeout) {
  informer_.Start();
  return informer_.WaitForSync(timeout);
}

std::string PodTracker::KeyOf(const Object& pod) const {
  if (key_by_ == KeyBy::kName) return std::string(obj::Name(pod));
  return std::string(obj::Annotation(pod, syncer::shared::kAnnotationOriginName));
}

void PodTracker::Seen(const ObjectPtr& pod) {
  const std::string key = KeyOf(*pod);
  if (key.empty()) return;
  const auto now = Steady::now();
  const bool is_running = obj::String(*pod, {"status", "phase"}) == "Running";
  {
    std::lock_guard lock(mutex_);
    const std::string uid(obj::Uid(*pod));
    Record& record = records_[key];
    if (record.uid != uid) {
      record = Record{uid, now, std::nullopt};
    }
    if (present_[key].insert(uid).second) ++pods_present_;
    if (is_running && !record.running) {
      record.running = now;
      ++running_;
    }
  }
  changed_.notify_all();
}

void PodTracker::Gone(const ObjectPtr& pod) {
  const std::string key = KeyOf(*pod);
  if (key.empty()) return;
  {
    std::lock_guard lock(mutex_);
    auto it = present_.find(key);
    if (it != present_.end() && it->second.erase(std::string(obj::Uid(*pod))) != 0) {
      --pods_present_;
      if (it->second.empty()) present_.erase(it);
    }
    auto record = records_.find(key);
    if (record != records_.end() && record->second.uid == obj::Uid(*pod) &&
        record->second.running) {
      --running_;
      record->second.running.reset();
    }
  }
  changed_.notify_all();
}

size_t PodTracker::present() const {
  std::lock_guard lock(mutex_);
  return present_.size();
}

size_t PodTracker::running() const {
  std::lock_guard lock(mutex_);
  return running_;
}

size_t PodTracker::pods_present() const {
  std::lock_guard lock(mutex_);
  return pods_present_;
}

bool PodTracker::WaitUntil(const std::function<bool(size_t, size_t)>& done,
                           std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return done(present_.size(), running_); });
}

std::optional<PodTracker::Record> PodTracker::Get(const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto it = records_.find(key);
  if (it == records_.end()) return std::nullopt;
  return it->second;
}

std::map<std::string, std::string> PodTracker::PresentUids() const {
  std::lock_guard lock(mutex_);
  std::map<std::string, std::string> out;
  for (const auto& [key, uids] : present_) {
    if (!uids.empty()) out[key] = *uids.begin();
  }
  return out;
}

void PodTracker::Forget() {
  std::lock_guard lock(mutex_);
  for (auto it = records_.begin(); it != records_.end();) {
    it = present_.count(it->first) == 0 ? records_.erase(it) : std::next(it);
  }
}

}  // namespace vk::bench
