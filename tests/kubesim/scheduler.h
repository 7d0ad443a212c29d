#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "hostclient/base/error.h"
#include "tests/kubesim/resource_catalog.h"
#include "tests/kubesim/storage.h"

namespace vk::kubesim {

// A kube-scheduler for clusters whose kubelets kubesim does not simulate — the virtual cluster,
// whose nodes are registered by someone else (vkubelet). README.md, "Scheduler".
//
// Binds pods that have no spec.nodeName, whose schedulerName is options.scheduler_name (or
// empty), that are not gated, terminal or being deleted, to an existing node that is not being
// deleted and fits them — pod_fit.h's filters (unschedulable nodes, NoSchedule/NoExecute taints,
// nodeSelector, required node affinity), with a node whose Ready condition is not True treated as
// tainted node.kubernetes.io/not-ready:NoSchedule (node.kubernetes.io/unreachable when Unknown),
// as kube's node lifecycle controller taints it — round-robin in node name order, through
// Storage::BindPod (pods/binding: watchers see a MODIFIED with spec.nodeName and PodScheduled=True)
// and a Scheduled event. A pod that fits no node gets PodScheduled=False (Unschedulable, with
// kube-scheduler's message) and a FailedScheduling event, and is tried again when a node appears
// or its labels, spec or readiness change, or when the pod's spec changes.
//
// Not the NodeSimulator's scheduler (NodeSimulator::Options::schedule), which places pods on the
// nodes it simulates: a cluster runs one or the other, not both.
//
// Threading: one worker thread, driven by Storage watches of pods and nodes (no polling). Public
// methods are thread-safe. Borrows storage and catalog, which must outlive it; Stop() (or the
// destructor) joins the worker.
class Scheduler {
 public:
  using WallClock = std::function<std::chrono::system_clock::time_point()>;

  struct Options {
    std::string scheduler_name = "default-scheduler";
    bool emit_events = true;
    WallClock wall_clock;  // timestamps in objects; system_clock when empty
  };

  struct Stats {
    uint64_t pods_bound = 0;
    uint64_t scheduling_failures = 0;  // attempts that found no node for a pod
    uint64_t bind_errors = 0;
  };

  Scheduler(Storage& storage, const ResourceCatalog& catalog, Options options);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Starts the watches and the worker. kConfig when the catalog lacks pods, nodes or events;
  // kUnavailableLocally when already started.
  Status Start();
  void Stop();

  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vk::kubesim
