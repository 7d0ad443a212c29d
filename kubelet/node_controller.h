#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "hostclient/base/clock.h"
#include "hostclient/base/error.h"
#include "kubelet/component.h"
#include "kubelet/config.h"
#include "kubelet/node_capacity.h"
#include "kubelet/node_status.h"

namespace prometheus {
class Registry;
}

namespace vk::hostclient {
class RestClient;
class SharedInformer;
}  // namespace vk::hostclient

namespace vk::kubelet {

struct NodeControllerOptions {
  enum class Mode {
    kSingle,       // one virtual node (node_name) standing for every selected host node
    kPerHostNode,  // one virtual node per selected host node: <node_prefix><host node name>
  };
  Mode mode = Mode::kSingle;
  std::string node_name;                      // kSingle
  std::string node_prefix;                    // kPerHostNode
  std::map<std::string, std::string> labels;  // added to the standard labels
  std::vector<Taint> taints;
  std::string internal_ip;  // the InternalIP address (the API server reaches our kubelet API there)
  int kubelet_port = 10250;
  int64_t max_pods = 110;  // pods capacity of each virtual node; 0: the host nodes' sum
  std::map<std::string, std::string> host_node_selector;  // equality label selector
  std::string host_namespace;  // whose ResourceQuotas cap capacity; "" for none
  ResourceList extra_resources;
  SystemInfo system = ReadSystemInfo();

  int32_t lease_duration_seconds = 40;
  std::chrono::milliseconds lease_renew_interval{std::chrono::seconds(10)};
  // The status is patched on every change and at least this often.
  std::chrono::milliseconds status_update_interval{std::chrono::minutes(1)};
  // Wait before retrying a failed registration, lease renewal or status patch.
  std::chrono::milliseconds retry_interval{std::chrono::seconds(1)};
};

// Builds the options for a daemon Config: node name and mode, labels, taints, pods, host node
// selector, InternalIP (virtual_pod_ip), kubelet port and the host namespace.
NodeControllerOptions NodeControllerOptionsFromConfig(const Config& config);

// The node face of vkubelet towards the virtual cluster: registers the virtual Node(s), keeps
// their Leases in kube-node-lease renewed, and patches their status (addresses, daemon endpoint,
// node info, conditions, capacity) when it changes and at least every status_update_interval.
//
// Capacity is the sum of the allocatable of the host nodes a virtual node stands for (those
// matching host_node_selector), plus extra resources, capped by the host namespace's
// ResourceQuotas (see ComputeCapacity). Two host informers (nodes, resourcequotas) wake the
// controller on every change: nothing is polled.
//
// Registration never deletes: an existing Node keeps its UID; our labels and taints are patched
// in and other writers' taints and conditions are kept. Status writes are strategic merge
// patches of nodes/<name>/status that carry only our condition types, so conditions set by
// others survive. A Node deleted behind our back is registered again.
//
// kSingle with no host node selected: the node stays registered, Ready=False (reason
// NoHostNodes). kPerHostNode: a virtual node appears when its host node does, and is deleted
// (with its lease) when the host node is gone; virtual nodes of host nodes removed while vkubelet
// was down are not collected.
//
// Threading: one worker thread does all API calls, in order, per node; the informers run their
// own threads. Start/RequestStop/Stop as Component says; Ready, NodeNames and
// SetExtraResources are thread-safe. Borrows both clients and the registry, which must outlive
// it.
//
// Metrics (when a registry is given): vkubelet_node_status_updates_total{node},
// vkubelet_node_status_update_failures_total{node}, vkubelet_node_lease_renewals_total{node},
// vkubelet_node_lease_renew_failures_total{node}, vkubelet_node_capacity{node,resource} (units;
// cpu in cores).
class NodeController : public Component {
 public:
  NodeController(hostclient::RestClient& virtual_client, hostclient::RestClient& host_client,
                 NodeControllerOptions options, prometheus::Registry* metrics = nullptr,
                 Clock& clock = Clock::Real());
  ~NodeController() override;
  NodeController(const NodeController&) = delete;
  NodeController& operator=(const NodeController&) = delete;

  std::string name() const override { return "node-controller"; }
  Status Start() override;
  void RequestStop() override;
  void Stop() override;

  // For /readyz: the host caches have synced, every virtual node is registered, and each lease
  // was renewed within its lease duration.
  bool Ready() const;
  // Status() for HealthChecks: the reason when not ready.
  Status Check() const;
  // The virtual nodes served right now (registered or not yet).
  std::vector<std::string> NodeNames() const;
  // Replaces the extra resources (e.g. GPUs from the device registry); capacity follows.
  void SetExtraResources(ResourceList extra);

 private:
  struct Node;
  struct Metrics;

  void Loop();
  void Wake();
  // Brings the served set in line with the host nodes (kPerHostNode), deleting what is gone.
  void ReconcileNodeSet();
  // Registration, lease and status of one node; returns when it next needs attention.
  Clock::TimePoint SyncNode(Node& node, Clock::TimePoint now);
  Status Register(Node& node);
  Status PatchStatus(Node& node, const ResourceList& capacity);
  ResourceList CapacityFor(const Node& node) const;
  std::unique_ptr<Node> MakeNode(const std::string& name, const std::string& host_node);
  void PublishReadiness();

  hostclient::RestClient& virtual_client_;
  hostclient::RestClient& host_client_;
  const NodeControllerOptions options_;
  Clock& clock_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<hostclient::SharedInformer> host_nodes_;
  std::unique_ptr<hostclient::SharedInformer> quotas_;

  // Touched by the worker thread only.
  std::map<std::string, std::unique_ptr<Node>> nodes_;
  // Virtual nodes whose host node is gone, still to delete: name -> uid (the precondition).
  std::map<std::string, std::string> pending_deletions_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool dirty_ = true;
  bool stopping_ = false;
  ResourceList extra_resources_;
  // What Ready() reads, published by the worker.
  std::string not_ready_reason_ = "waiting for the host caches to sync";
  // Served node -> when its lease was last renewed (clock_).
  std::map<std::string, std::optional<Clock::TimePoint>> renewals_;
  std::thread worker_;
};

}  // namespace vk::kubelet
