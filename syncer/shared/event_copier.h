#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "hostclient/base/error.h"
#include "hostclient/base/object.h"

namespace prometheus {
class Registry;
}

namespace vk::hostclient {
class RestClient;
class SharedInformer;
}  // namespace vk::hostclient

namespace vk::syncer {
class WorkQueue;
}

namespace vk::syncer::shared {

struct EventCopierOptions {
  std::string host_namespace;
  // Node named in copies of events whose host pod virtual_node_of cannot place.
  std::string virtual_node_name_for_unknown;
  int workers = 2;
  // An event whose host pod host_pod_lookup does not know (yet), or whose copy could not be
  // written, is tried again this many times, rate limited (from retry_base, doubling up to
  // max_retry_delay), then dropped: the pod may be someone else's, the namespace may be gone.
  int max_retries = 5;
  std::chrono::milliseconds retry_base{std::chrono::milliseconds(100)};
  std::chrono::milliseconds max_retry_delay{std::chrono::seconds(30)};
};

// Copies the events of host twin pods to their virtual pods (shared mode, DESIGN.md §4), so that
// `kubectl describe pod` in the virtual cluster shows what the host's kubelet and scheduler said.
//
// A host informer lists and watches the events in host_namespace whose involvedObject.kind is
// Pod; each change queues the event's key on a WorkQueue that `workers` threads drain. For an
// event about a pod that host_pod_lookup returns with origin annotations (VirtualPodRefOf), the
// copy TranslateEventBack makes is created in the virtual cluster, or merge-patched when its
// changing fields (count, timestamps, message...) differ from what was last written. No write
// happens for an unchanged event, for one about an earlier incarnation of the host pod (another
// uid) or last seen before the host pod was created. AlreadyExists on create becomes a patch,
// NotFound on patch a create.
//
// Restart safety: Start lists the copies already in the virtual cluster (label
// kLabelCopiedFrom=host, all namespaces) before the workers begin, and remembers what each holds,
// so that the informer's initial list writes only what changed while vkubelet was away.
// What is remembered of a host event is forgotten when the informer reports it deleted.
//
// Copies are never deleted: the virtual API server's event TTL removes them, as it does for
// events its own components write.
//
// Threading: host_pod_lookup and virtual_node_of are called from the worker threads, concurrently;
// they must be thread-safe and quick (a cache lookup). Start, RequestStop and Stop follow
// kubelet::Component: Start once; RequestStop does not block; Stop joins everything and is
// idempotent. Borrows both clients and the registry, which must outlive it.
//
// Metrics (when a registry is given): vkubelet_events_copied_total (copies created or patched),
// vkubelet_event_copy_errors_total{reason} (events given up on: PodUnknown when the host pod
// never showed up, else the ErrorCode of the last failed write, e.g. Forbidden).
class EventCopier {
 public:
  using HostPodLookup = std::function<ObjectPtr(const std::string& host_pod_name)>;
  using VirtualNodeOf = std::function<std::string(const Object& host_pod)>;

  EventCopier(hostclient::RestClient& host, hostclient::RestClient& virtual_client,
              EventCopierOptions options, HostPodLookup host_pod_lookup,
              VirtualNodeOf virtual_node_of, prometheus::Registry* metrics = nullptr);
  ~EventCopier();
  EventCopier(const EventCopier&) = delete;
  EventCopier& operator=(const EventCopier&) = delete;

  // kConfig without a host namespace; kUnavailableLocally when started before.
  Status Start();
  void RequestStop();
  void Stop();
  // The copies were listed and the host events' first list has been queued.
  bool HasSynced() const;

 private:
  struct Metrics;
  // What the virtual cluster holds for one host event (by host event uid).
  struct Copy {
    std::string ns;
    std::string name;
    // Hash of the serialised EventCopyUpdate last written: a copy per host event is held, so
    // its text would cost more than the rest of the entry.
    uint64_t fingerprint = 0;
  };
  // What became of one event; when not kDone, why (a metric label) and the details (for the log).
  struct Outcome {
    enum Kind { kDone, kRetry, kGiveUp } kind = kDone;
    std::string reason;
    std::string detail;
  };

  void Run();
  // Lists the copies already written; retries until it succeeds or the copier stops.
  bool LoadExistingCopies();
  void Work();
  Outcome Sync(const Object& event);
  // Sets the pending gauge; requires mutex_.
  void PublishPendingLocked();
  Outcome WriteCopy(const std::string& host_uid, const Object& desired);

  hostclient::RestClient& host_;
  hostclient::RestClient& virtual_;
  const EventCopierOptions options_;
  const HostPodLookup host_pod_lookup_;
  const VirtualNodeOf virtual_node_of_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<hostclient::SharedInformer> informer_;
  std::unique_ptr<WorkQueue> queue_;

  std::mutex mutex_;
  std::unordered_map<std::string, Copy> copies_;  // by host event uid
  // Host events not copied yet, as last watched, by key, as JSON text (a third of the parsed
  // size; a burst can leave thousands waiting). The informer's cache keeps identities only
  // (events are most of what it would hold), so an event waits here until it is copied.
  std::unordered_map<std::string, std::string> pending_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  bool started_ = false;
  std::mutex join_mutex_;  // Stop may be called from two threads at once

  std::atomic<bool> copies_loaded_{false};
  std::thread runner_;  // loads the copies, waits for the cache, then runs the workers
  std::vector<std::thread> workers_;
};

}  // namespace vk::syncer::shared
