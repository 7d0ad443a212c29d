#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hostclient/base/error.h"
#include "tests/kubesim/resource_catalog.h"
#include "tests/kubesim/sim_logs.h"
#include "tests/kubesim/storage.h"

namespace vk::kubesim {

// Plays the kubelets of a cluster against kubesim's Storage, as seen through the API: registers
// Node objects and renews their Leases, (optionally) schedules unbound pods onto its nodes, runs
// the pods bound to them (status with IPs, conditions and container statuses, kubelet Events,
// logs in SimLogs), makes containers exit, restart or fail to pull as their image says
// (sim_image.h), honours graceful deletion (stops containers, then deletes with grace 0 and a UID
// precondition, as the kubelet does) and evicts on request. README.md, "Node simulator".
//
// Threading: one worker thread owns all pod state; it learns of pods through a Storage watch
// (no polling) and keeps its timers in one priority queue, so 10,000 pods need no thread each
// and every pod event is O(1) work. Public methods are thread-safe; Evict() waits for the worker,
// so it must not be called from a Storage watch callback. Borrows storage and catalog, which must
// outlive it. Stop() (or the destructor) joins the worker and ends followed log streams; pods keep
// the status they had, as when a kubelet dies.
class NodeSimulator {
 public:
  using WallClock = std::function<std::chrono::system_clock::time_point()>;

  struct Options {
    int nodes = 1;
    std::string node_prefix = "sim-node-";  // nodes are <prefix>1 .. <prefix>N
    // Bind pods with no spec.nodeName and schedulerName default-scheduler to the nodes that
    // fit them (pod_fit.h: unschedulable nodes, taints, nodeSelector, required node affinity;
    // no resource fitting), round-robin. A pod that fits none stays Pending with PodScheduled=False
    // (reason Unschedulable) and a FailedScheduling event, and is tried again when a node's
    // labels or spec change, or its own spec does.
    bool schedule = false;
    // From seeing a bound pod to its containers running.
    std::chrono::milliseconds start_delay{0};
    // From ErrImagePull to ImagePullBackOff for fail-pull images.
    std::chrono::milliseconds pull_backoff{std::chrono::seconds(1)};
    // A container that exits and is to be restarted waits this long in CrashLoopBackOff; 0
    // restarts it in the same status write.
    std::chrono::milliseconds restart_delay{std::chrono::seconds(1)};
    // Containers stop this fraction of the way into a deletion's grace period (ignore-sigterm
    // ones at its end).
    double deletion_grace_fraction = 0;
    std::chrono::milliseconds lease_interval{std::chrono::seconds(10)};        // 0: no renewals
    std::chrono::milliseconds node_status_interval{std::chrono::seconds(60)};  // 0: none
    bool emit_events = true;
    std::string cpu = "8";
    std::string memory = "32Gi";
    std::string max_pods = "110";
    std::string ephemeral_storage = "100Gi";
    std::string kubelet_version = "v1.29.0-kubesim";
    std::shared_ptr<SimLogs> logs;  // null: the simulator makes its own
    WallClock wall_clock;           // timestamps in objects; system_clock when empty
  };

  // Counters, for tests and benchmarks.
  struct Stats {
    uint64_t pods_bound = 0;           // by the scheduler
    uint64_t scheduling_failures = 0;  // attempts that found no node for a pod
    uint64_t pods_started = 0;         // status written Running/Pending for the first time
    uint64_t pods_deleted = 0;         // final deletes issued
    uint64_t status_writes = 0;
    uint64_t write_errors = 0;
  };

  NodeSimulator(Storage& storage, const ResourceCatalog& catalog, Options options);
  ~NodeSimulator();
  NodeSimulator(const NodeSimulator&) = delete;
  NodeSimulator& operator=(const NodeSimulator&) = delete;

  // Registers the nodes and leases and starts the worker. kConfig for bad options, Storage's
  // errors when a node cannot be written, kUnavailableLocally when already started.
  Status Start();
  void Stop();

  // A kubelet eviction: containers killed, phase Failed, reason Evicted, message "The node was
  // low on resource: <resource>. ", condition DisruptionTarget; the pod stays until deleted.
  // kNotFound when the pod is not running on a simulated node.
  Status Evict(std::string_view ns, std::string_view name, std::string_view resource = "memory");

  const std::vector<std::string>& node_names() const;
  SimLogs& logs();
  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vk::kubesim
