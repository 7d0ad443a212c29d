#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hostclient/base/error.h"
#include "hostclient/base/object.h"
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

// Keeps host copies of the virtual ConfigMaps and Secrets that pods reference (shared mode): a
// copy exists while at least one virtual pod of ours references the object, follows every change
// of the virtual object, and is deleted when the last reference or the virtual object goes.
//
// References come from the pod controller (SetPodReferences, called from its pod informer's
// handlers); the copies come from four informers (virtual and host ConfigMaps and Secrets, the
// host ones selected by our ownership labels) and one worker. EnsureSynced lets the pod
// controller write the copies a pod needs before it creates the pod's twin, so that the host
// kubelet never starts a pod whose volumes are missing (an object not in the cache yet is read from
// the virtual API server); a reference to a virtual object that does not exist is not an error
// (the host kubelet reports the missing volume, as a kubelet would, and the copy appears when the
// object does).
//
// Garbage collection of copies left by a previous run waits for ReferencesKnown(): until every
// pod's references have been reported, an unreferenced copy may still be needed.
//
// Metrics: vkubelet_object_syncs_total{kind,op} (op: create, update, delete),
// vkubelet_object_sync_errors_total{kind,reason}. Thread-safe.
class ObjectSyncer {
 public:
  ObjectSyncer(hostclient::RestClient& virtual_client, hostclient::RestClient& host_client,
               const TranslationContext& ctx, prometheus::Registry* metrics = nullptr);
  ~ObjectSyncer();
  ObjectSyncer(const ObjectSyncer&) = delete;
  ObjectSyncer& operator=(const ObjectSyncer&) = delete;

  void Start();
  bool HasSynced() const;
  // Every pod's references are known: unreferenced copies may be collected from now on.
  void ReferencesKnown();
  void RequestStop();
  void Stop();

  // The references of virtual pod ns/name; empty references remove the pod.
  void SetPodReferences(const std::string& pod_key, const std::string& ns, PodReferences refs);
  // Writes the copies of refs (in namespace ns) that are missing or stale, now.
  Status EnsureSynced(const std::string& ns, const PodReferences& refs);

  // The virtual ConfigMap ns/name from the cache (kube-root-ca.crt for token Secrets); null when
  // absent.
  ObjectPtr VirtualConfigMap(const std::string& ns, const std::string& name) const;
  // A host Secret of ours (host copies and token Secrets) from the cache; null when absent. The
  // cache keeps token Secrets (origin kind Pod) without their data.
  ObjectPtr HostSecret(const std::string& name) const;

 private:
  enum class Kind { kConfigMap, kSecret };
  struct Metrics;
  struct KindState;

  static std::string QueueKey(Kind kind, const std::string& ns, const std::string& name);
  KindState& StateOf(Kind kind);
  const KindState& StateOf(Kind kind) const;
  void AdjustReference(Kind kind, const std::string& ns, const std::string& name, int delta);
  // Brings the host copy of one virtual object in line with its references and content.
  Status Sync(Kind kind, const std::string& ns, const std::string& name, bool collect);
  Status WriteCopy(KindState& state, const Object& desired, const ObjectPtr& current);
  void Worker();

  hostclient::RestClient& virtual_client_;
  hostclient::RestClient& host_client_;
  const TranslationContext ctx_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<KindState> config_maps_;
  std::unique_ptr<KindState> secrets_;
  std::unique_ptr<WorkQueue> queue_;
  std::atomic<bool> references_known_{false};

  mutable std::mutex mutex_;
  // pod key -> its references (namespace, refs), to adjust counts when they change.
  std::map<std::string, std::pair<std::string, PodReferences>> pods_;
  std::thread worker_;
};

}  // namespace vk::syncer::shared
