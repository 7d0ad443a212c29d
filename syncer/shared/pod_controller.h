#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "hostclient/base/clock.h"
#include "hostclient/base/error.h"
#include "hostclient/base/object.h"
#include "syncer/shared/pod_status_translator.h"
#include "syncer/shared/pod_translator.h"

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

class ObjectSyncer;
class TokenSecrets;
class PodMetrics;

// Records an Event about a virtual object (type Normal or Warning).
using EventSink = std::function<void(const Object& involved, std::string_view type,
                                     std::string_view reason, std::string message)>;

struct PodControllerOptions {
  // Cluster, host namespace, DNS, API server, host scheduling and the privilege policy; the
  // per-pod fields (virtual node, token Secret) are filled in for each pod.
  TranslationContext translation;
  StatusContext status;
  // The virtual nodes served. Single mode: node_name. Per-host-node mode: every node whose name
  // is node_prefix + <host node name>; its pods are pinned to that host node.
  std::string node_name;
  bool per_host_node = false;
  std::string node_prefix;
  int workers = 10;
  int64_t default_token_expiration_seconds = 3607;
  std::string virtual_ca_pem;  // ca.crt of token Secrets when a namespace has no kube-root-ca.crt
  EventSink events;            // may be empty
};

// The pod lifecycle of shared mode (DESIGN.md §4): every virtual pod bound to a node we serve
// gets a host twin in the host namespace; the twin's status flows back; deletions flow both ways
// with their grace periods. Watch-driven on both sides: a virtual pod informer (bound to our
// node(s)) and a host pod informer (our ownership labels) feed one work queue of virtual pod keys
// ("ns/name"), worked by options.workers threads. Nothing is polled.
//
// Reconcile(ns/name) compares the virtual pod, the cached twin and what we know, then:
//  - creates the twin (after the ConfigMaps/Secrets it references and its service-account token
//    Secret are on the host), or marks a pod that asks for denied host privileges Failed with an
//    event naming each field and the option that would allow it;
//  - patches what the API lets change on a running pod (images, labels, annotations, deadline,
//    tolerations) and writes the twin's status back to the virtual pod when it differs;
//  - on virtual deletion, deletes the twin with the virtual pod's grace period and removes the
//    virtual pod (grace 0, UID precondition, as the kubelet does) only once the twin is gone;
//  - on host-side deletion or eviction of the twin, deletes the virtual pod with the host's grace
//    period; a twin that vanished outright fails the virtual pod (reason HostPodLost) and removes
//    it;
//  - deletes twins whose virtual pod is gone (after a live read confirms it), so that a restart
//    adopts existing twins (same deterministic names: nothing is created twice, nothing running
//    is restarted) and collects the orphans of pods deleted while it was down.
//
// A host object of another origin under a twin's name is never touched (event HostNameConflict).
//
// Metrics: vkubelet_pods{state}, vkubelet_pod_sync_latency_seconds{stage} (virtual_create_to_
// host_create, host_running_to_virtual_running), vkubelet_pod_sync_errors_total{reason},
// vkubelet_pod_host_writes_total{op}.
//
// Threading: Start/RequestStop/Stop from one thread; the rest is internal. Borrows the clients and
// registry, which must outlive it.
class PodController {
 public:
  PodController(hostclient::RestClient& virtual_client, hostclient::RestClient& host_client,
                PodControllerOptions options, prometheus::Registry* metrics = nullptr,
                Clock& clock = Clock::Real());
  ~PodController();
  PodController(const PodController&) = delete;
  PodController& operator=(const PodController&) = delete;

  void Start();
  void RequestStop();
  void Stop();

  // Every cache has synced and the workers run; reported as a readiness check.
  bool Synced() const;
  Status Check() const;
  // A twin from the host pod cache by its host name (for the event copier); null when absent.
  ObjectPtr CachedTwin(const std::string& host_name) const;

 private:
  struct Twin;

  bool Serves(const Object& virtual_pod) const;
  std::string KeyOfHostObject(const Object& host_object) const;
  void OnVirtualPod(const ObjectPtr& pod, bool created, bool deleted);
  void OnHostPod(const ObjectPtr& pod, bool deleted);
  void StartWhenSynced();
  void Worker();

  Status Reconcile(const std::string& key);
  Status CreateTwin(const Object& virtual_pod, const std::string& key);
  Status SyncRunning(const Object& virtual_pod, const Object& host_pod, const std::string& key);
  Status SyncStatus(const Object& virtual_pod, const Object& host_pod, const std::string& key);
  // Adds the virtual pod's new ephemeral containers (kubectl debug) to the running twin through
  // its ephemeralcontainers subresource; those the policy denies get an event and a waiting status.
  Status SyncEphemeralContainers(const Object& virtual_pod, const Object& host_pod,
                                 const TranslationContext& ctx, const std::string& key);
  Status SyncDeletion(const Object& virtual_pod, const ObjectPtr& host_pod, const std::string& key);
  Status MirrorHostDeletion(const Object& virtual_pod, const Object& host_pod);
  Status HandleLostTwin(const Object& virtual_pod, const std::string& key);
  Status CollectOrphan(const std::string& key, const ObjectPtr& host_pod);
  Status MarkDenied(const Object& virtual_pod, const Error& denial);
  Status WriteVirtualStatus(const Object& virtual_pod, Object status);
  Status DeleteVirtualPod(const Object& virtual_pod, int64_t grace_seconds);
  Status DeleteHostPod(const Object& host_pod, std::optional<int64_t> grace_seconds);
  // The twin from the cache, or (when we created it a moment ago) from the API server.
  Result<ObjectPtr> FindTwin(const std::string& key, const std::string& host_name);
  TranslationContext ContextFor(const Object& virtual_pod) const;
  void Event(const Object& involved, std::string_view type, std::string_view reason,
             std::string message);
  void ScheduleTokenRenewal(const std::string& key, std::chrono::system_clock::time_point at);
  void Forget(const std::string& key);

  hostclient::RestClient& virtual_client_;
  hostclient::RestClient& host_client_;
  const PodControllerOptions options_;
  Clock& clock_;
  std::unique_ptr<PodMetrics> metrics_;
  std::unique_ptr<hostclient::SharedInformer> virtual_pods_;
  std::unique_ptr<hostclient::SharedInformer> host_pods_;
  std::unique_ptr<ObjectSyncer> objects_;
  std::unique_ptr<TokenSecrets> tokens_;
  std::unique_ptr<WorkQueue> queue_;

  mutable std::mutex mutex_;
  // Per virtual pod key: what the informers told us that the caches cannot (timings, creations
  // the host cache has not shown yet).
  std::map<std::string, Twin> twins_;
  bool stopping_ = false;
  bool synced_ = false;
  std::thread starter_;
  std::vector<std::thread> workers_;
};

}  // namespace vk::syncer::shared
