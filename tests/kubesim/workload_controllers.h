#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "hostclient/base/error.h"
#include "tests/kubesim/resource_catalog.h"
#include "tests/kubesim/storage.h"

namespace vk::kubesim {

// kube-controller-manager's deployment and replicaset controllers, and the garbage collector for
// what they own, run in process against kubesim's Storage (README.md, "Workload controllers"):
//
// - Deployment: one ReplicaSet per pod template, named <deployment>-<pod-template-hash>, with the
//   pod-template-hash label on itself, its selector and its template, a controller
//   ownerReference and the deployment.kubernetes.io/revision annotation. RollingUpdate scales the
//   new ReplicaSet up within maxSurge and the old ones down within maxUnavailable as pods become
//   available (kube's rolloutRolling, without proportional scaling); Recreate scales the old ones
//   to 0 and the new one up once their pods are gone. Old ReplicaSets beyond
//   revisionHistoryLimit are deleted. Status: replicas, updatedReplicas, readyReplicas,
//   availableReplicas, unavailableReplicas, observedGeneration, conditions Available and
//   Progressing.
// - ReplicaSet: keeps spec.replicas active pods (not terminal, not being deleted) among the pods
//   it controls that match its selector: creates them from the template (generateName
//   <replicaset>-, labels and annotations of the template, controller ownerReference), deletes
//   extras (unscheduled, then pending, then not ready, then newest first) and deletes Failed and
//   Succeeded pods so that they are replaced. Status: replicas, fullyLabeledReplicas,
//   readyReplicas, availableReplicas (ready for minReadySeconds), observedGeneration, and
//   ReplicaFailure while pods cannot be created.
// - Garbage collection (background propagation): a ReplicaSet or Pod whose every ownerReference
//   names an object that no longer exists (by kind, name and uid) is deleted, with a uid
//   precondition.
//
// Events (SuccessfulCreate, SuccessfulDelete, FailedCreate, ScalingReplicaSet) are recorded as
// kube's controllers record them.
//
// Threading: one worker thread, driven by Storage watches of deployments, replicasets and pods (no
// polling); a change marks the keys it affects dirty and each dirty key is reconciled once per
// batch of events, reading the current objects from Storage (always in sync, so no expectations
// are needed). Failed writes are retried with backoff. Public methods are thread-safe. Borrows
// storage and catalog, which must outlive it; Stop() (or the destructor) joins the worker.
class WorkloadControllers {
 public:
  using WallClock = std::function<std::chrono::system_clock::time_point()>;

  struct Options {
    bool emit_events = true;
    WallClock wall_clock;  // timestamps in objects; system_clock when empty
  };

  // Counters, for tests and benchmarks.
  struct Stats {
    uint64_t reconciles = 0;
    uint64_t pods_created = 0;
    uint64_t pods_deleted = 0;
    uint64_t replica_sets_created = 0;
    uint64_t replica_sets_scaled = 0;
    uint64_t garbage_collected = 0;  // dependents deleted because their owners are gone
    uint64_t write_errors = 0;
  };

  WorkloadControllers(Storage& storage, const ResourceCatalog& catalog, Options options);
  ~WorkloadControllers();
  WorkloadControllers(const WorkloadControllers&) = delete;
  WorkloadControllers& operator=(const WorkloadControllers&) = delete;

  // Starts the watches and the worker. kConfig when the catalog lacks deployments, replicasets,
  // pods or events; kUnavailableLocally when already started.
  Status Start();
  void Stop();

  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The pod-template-hash of a pod template: FNV-1a (32 bits) of its canonical JSON (keys sorted),
// printed as kube prints it (rand.SafeEncodeString of the decimal number). Pure.
std::string PodTemplateHash(const Object& pod_template);

}  // namespace vk::kubesim
