#include "syncer/shared/event_copier.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <functional>
#include <string_view>
#include <unordered_set>

#include "hostclient/backoff.h"
#include "hostclient/base/rfc3339.h"
#include "hostclient/base/thread_name.h"
#include "hostclient/informer.h"
#include "hostclient/lister_watcher.h"
#include "hostclient/rest_client.h"
#include "syncer/shared/event_translator.h"
#include "syncer/work_queue.h"

namespace vk::syncer::shared {
namespace {

using hostclient::resources::Events;

// How often the runner looks up from waiting for the host cache to check for a stop.
constexpr auto kSyncWaitSlice = std::chrono::milliseconds(100);

// What a copy's last update is remembered by: a hash of the serialised update.
uint64_t Fingerprint(std::string_view update) { return std::hash<std::string_view>{}(update); }

// What the informer's cache keeps of a host event: what identifies it (the restart's live set and
// relists need no more).
Object EventIdentity(const Object& host_event) {
  Object metadata{{"name", obj::Name(host_event)},
                  {"namespace", obj::Namespace(host_event)},
                  {"resourceVersion", obj::ResourceVersion(host_event)}};
  if (const std::string_view uid = obj::Uid(host_event); !uid.empty()) metadata["uid"] = uid;
  return Object{{"metadata", std::move(metadata)}};
}

// The identity of a host event across restarts: its uid, which the copy's annotation records.
std::string HostIdentity(const Object& host_event) {
  const std::string_view uid = obj::Uid(host_event);
  return uid.empty() ? obj::Key(host_event) : std::string(uid);
}

bool Retryable(const Error& error) {
  switch (error.retry_action()) {
    case RetryAction::kBackoff:
    case RetryAction::kAfterDelay:
    case RetryAction::kReread:
      return true;
    default:
      return false;
  }
}

// Whether the event was last seen before the pod was created: it is about an earlier pod of the
// same name (timestamps have whole seconds, so only a strictly earlier second counts).
bool OlderThanPod(const Object& host_event, const Object& host_pod) {
  const auto seen = EventLastSeen(host_event);
  const auto created = ParseRfc3339(obj::String(host_pod, {"metadata", "creationTimestamp"}));
  return seen && created && *seen + std::chrono::seconds(1) <= *created;
}

}  // namespace

struct EventCopier::Metrics {
  prometheus::Counter* copied = nullptr;
  prometheus::Family<prometheus::Counter>* errors = nullptr;
  prometheus::Gauge* pending = nullptr;
};

EventCopier::EventCopier(hostclient::RestClient& host, hostclient::RestClient& virtual_client,
                         EventCopierOptions options, HostPodLookup host_pod_lookup,
                         VirtualNodeOf virtual_node_of, prometheus::Registry* metrics)
    : host_(host),
      virtual_(virtual_client),
      options_(std::move(options)),
      host_pod_lookup_(std::move(host_pod_lookup)),
      virtual_node_of_(std::move(virtual_node_of)) {
  if (metrics != nullptr) {
    try {
      auto m = std::make_unique<Metrics>();
      m->copied = &prometheus::BuildCounter()
                       .Name("vkubelet_events_copied_total")
                       .Help(
                           "Events of host pods copied to (created or patched in) the virtual "
                           "cluster.")
                       .Register(*metrics)
                       .Add({});
      m->errors = &prometheus::BuildCounter()
                       .Name("vkubelet_event_copy_errors_total")
                       .Help(
                           "Host pod events given up on, by reason: PodUnknown, or the error of "
                           "the last write.")
                       .Register(*metrics);
      m->pending = &prometheus::BuildGauge()
                        .Name("vkubelet_events_pending")
                        .Help("Host pod events watched and not copied yet, held in memory.")
                        .Register(*metrics)
                        .Add({});
      metrics_ = std::move(m);
    } catch (const std::exception& e) {
      spdlog::error("event copier: metrics disabled: {}", e.what());
    }
  }

  WorkQueueOptions queue_options;
  queue_options.name = "host_events";
  queue_options.rate_limiter = std::make_unique<ItemExponentialFailureRateLimiter>(
      options_.retry_base, options_.max_retry_delay);
  queue_options.metrics = metrics;
  queue_ = std::make_unique<WorkQueue>(std::move(queue_options));

  hostclient::InformerOptions informer_options;
  informer_options.name = "events@host";
  informer_options.deliver_old_objects = false;
  informer_options.cache_form = EventIdentity;
  informer_ = std::make_unique<hostclient::SharedInformer>(
      std::make_unique<hostclient::RestListerWatcher>(host_, Events(), options_.host_namespace, "",
                                                      "involvedObject.kind=Pod"),
      informer_options);
  hostclient::EventHandler handler;
  auto changed = [this](const ObjectPtr& event) {
    std::string key = obj::Key(*event);
    std::string text = obj::Serialize(*event);
    {
      std::lock_guard lock(mutex_);
      pending_[key] = std::move(text);
      PublishPendingLocked();
    }
    queue_->Add(key);
  };
  handler.on_add = [changed](const ObjectPtr& event, bool) { changed(event); };
  handler.on_update = [changed](const ObjectPtr&, const ObjectPtr& event) { changed(event); };
  handler.on_delete = [this](const ObjectPtr& event) {
    std::lock_guard lock(mutex_);
    copies_.erase(HostIdentity(*event));
    pending_.erase(obj::Key(*event));
    PublishPendingLocked();
  };
  informer_->AddEventHandler(std::move(handler));
}

EventCopier::~EventCopier() { Stop(); }

void EventCopier::PublishPendingLocked() {
  if (metrics_) metrics_->pending->Set(static_cast<double>(pending_.size()));
}

Status EventCopier::Start() {
  if (options_.host_namespace.empty()) {
    return MakeError(ErrorCode::kConfig, "event copier: no host namespace");
  }
  std::lock_guard lock(mutex_);
  if (started_ || stopping_) {
    return MakeError(ErrorCode::kUnavailableLocally, "event copier: already started");
  }
  started_ = true;
  informer_->Start();
  runner_ = std::thread([this] {
    SetCurrentThreadName("event-copier");
    Run();
  });
  return Ok();
}

void EventCopier::RequestStop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  queue_->ShutDown();
}

void EventCopier::Stop() {
  RequestStop();
  std::lock_guard join_lock(join_mutex_);
  if (runner_.joinable()) runner_.join();
  // The runner has finished: workers_ is ours now.
  for (auto& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
  informer_->Stop();
}

bool EventCopier::HasSynced() const { return copies_loaded_ && informer_->HasSynced(); }

void EventCopier::Run() {
  if (!LoadExistingCopies()) return;
  for (;;) {
    if (informer_->WaitForSync(kSyncWaitSlice)) break;
    std::lock_guard lock(mutex_);
    if (stopping_) return;
  }
  std::lock_guard lock(mutex_);
  // Forget copies whose host event expired while we were away: nothing will delete them here.
  std::unordered_set<std::string> live;
  informer_->store().ForEach([&](const Object& event) { live.insert(HostIdentity(event)); });
  std::erase_if(copies_, [&](const auto& entry) { return !live.contains(entry.first); });
  copies_loaded_ = true;
  if (stopping_) return;
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    workers_.emplace_back([this] {
      SetCurrentThreadName("event-worker");
      Work();
    });
  }
}

bool EventCopier::LoadExistingCopies() {
  hostclient::ListOptions list_options;
  list_options.label_selector = std::string(kLabelCopiedFrom) + "=" + std::string(kCopiedFromHost);
  hostclient::Backoff backoff(options_.retry_base, options_.max_retry_delay);
  for (;;) {
    auto list = virtual_.ListAll(Events(), "", list_options);
    if (list) {
      std::unordered_map<std::string, Copy> loaded;
      if (const auto* items = list->if_contains("items"); items && items->is_array()) {
        for (const auto& item : items->get_array()) {
          if (!item.is_object()) continue;
          const Object& copy = item.get_object();
          const std::string_view uid = obj::Annotation(copy, kAnnotationHostEventUid);
          if (uid.empty()) continue;
          loaded[std::string(uid)] =
              Copy{std::string(obj::Namespace(copy)), std::string(obj::Name(copy)),
                   Fingerprint(boost::json::serialize(EventCopyUpdate(copy)))};
        }
      }
      spdlog::info("event copier: {} event copies found in the virtual cluster", loaded.size());
      std::lock_guard lock(mutex_);
      copies_ = std::move(loaded);
      return true;
    }
    spdlog::warn("event copier: listing the virtual copies: {}", list.error().ToString());
    std::unique_lock lock(mutex_);
    if (stop_cv_.wait_for(lock, backoff.Next(), [this] { return stopping_; })) return false;
  }
}

void EventCopier::Work() {
  while (auto key = queue_->Get()) {
    std::string text;
    {
      std::lock_guard lock(mutex_);
      auto it = pending_.find(*key);
      if (it != pending_.end()) text = it->second;
    }
    // No pending event: copied already, or deleted meanwhile.
    Outcome outcome;
    if (!text.empty()) {
      // Cannot fail: the text is our own serialization of a watched event.
      if (auto event = obj::Parse(text)) outcome = Sync(*event);
    }
    if (outcome.kind == Outcome::kRetry && queue_->NumRequeues(*key) < options_.max_retries) {
      queue_->AddRateLimited(*key);
    } else {
      if (outcome.kind != Outcome::kDone) {
        spdlog::warn("event copier: gave up on host event {}: {}", *key, outcome.detail);
        if (metrics_) metrics_->errors->Add({{"reason", outcome.reason}}).Increment();
      }
      queue_->Forget(*key);
      std::lock_guard lock(mutex_);
      // A newer state watched meanwhile stays: the queue holds its key again.
      auto it = pending_.find(*key);
      if (it != pending_.end() && it->second == text) pending_.erase(it);
      PublishPendingLocked();
    }
    queue_->Done(*key);
  }
}

EventCopier::Outcome EventCopier::Sync(const Object& event) {
  if (obj::String(event, {"involvedObject", "kind"}) != "Pod") return {};

  const std::string pod_name(obj::String(event, {"involvedObject", "name"}));
  const ObjectPtr host_pod = host_pod_lookup_(pod_name);
  if (host_pod == nullptr) {
    return {Outcome::kRetry, "PodUnknown", "host pod " + pod_name + " is not known"};
  }
  const auto pod_ref = VirtualPodRefOf(*host_pod);
  if (!pod_ref) return {};  // not a host twin: someone else's pod

  const std::string_view event_pod_uid = obj::String(event, {"involvedObject", "uid"});
  if (!event_pod_uid.empty() && !obj::Uid(*host_pod).empty() &&
      event_pod_uid != obj::Uid(*host_pod)) {
    return {};  // about an earlier host pod of the same name
  }
  if (OlderThanPod(event, *host_pod)) return {};

  std::string node = virtual_node_of_ ? virtual_node_of_(*host_pod) : std::string();
  if (node.empty()) node = options_.virtual_node_name_for_unknown;
  const Object desired =
      TranslateEventBack(event, *pod_ref, node, obj::String(*host_pod, {"spec", "nodeName"}));
  return WriteCopy(HostIdentity(event), desired);
}

EventCopier::Outcome EventCopier::WriteCopy(const std::string& host_uid, const Object& desired) {
  // The update is also the patch: it carries exactly the fields that may have changed.
  const std::string update = boost::json::serialize(EventCopyUpdate(desired));
  const uint64_t fingerprint = Fingerprint(update);
  const std::string ns(obj::Namespace(desired));
  const std::string name(obj::Name(desired));
  bool known = false;
  {
    std::lock_guard lock(mutex_);
    auto it = copies_.find(host_uid);
    if (it != copies_.end() && it->second.ns == ns && it->second.name == name) {
      if (it->second.fingerprint == fingerprint) return {};
      known = true;
    }
  }

  auto patch_copy = [&] {
    return virtual_.Patch(Events(), ns, name, hostclient::PatchType::kMergePatch, update);
  };
  auto create_copy = [&] { return virtual_.Create(Events(), ns, desired); };
  // A copy we did not know of (written before a crash, its label lost): its marks are patched in
  // too, so that the next start-up list finds it.
  auto adopt_copy = [&] {
    Object patch = EventCopyUpdate(desired);
    Object metadata;
    if (const Object* labels = obj::ObjectAt(desired, {"metadata", "labels"})) {
      metadata["labels"] = *labels;
    }
    if (const Object* annotations = obj::ObjectAt(desired, {"metadata", "annotations"})) {
      metadata["annotations"] = *annotations;
    }
    patch["metadata"] = std::move(metadata);
    return virtual_.Patch(Events(), ns, name, hostclient::PatchType::kMergePatch,
                          boost::json::serialize(patch));
  };
  // Either guess can be wrong (a copy expired by TTL, a copy written before a crash): the other
  // verb follows.
  Result<Object> written = known ? patch_copy() : create_copy();
  if (!written && known && written.error().IsNotFound()) written = create_copy();
  if (!written && !known && written.error().IsAlreadyExists()) written = adopt_copy();

  if (!written) {
    const Error& error = written.error();
    if (error.code() == ErrorCode::kCancelled) return {};  // shutting down
    spdlog::debug("event copier: writing {}/{}: {}", ns, name, error.ToString());
    return {Retryable(error) ? Outcome::kRetry : Outcome::kGiveUp, ToString(error.code()),
            "writing " + ns + "/" + name + ": " + error.ToString()};
  }
  {
    std::lock_guard lock(mutex_);
    copies_[host_uid] = Copy{ns, name, fingerprint};
  }
  if (metrics_) metrics_->copied->Increment();
  return {};
}

}  // namespace vk::syncer::shared
