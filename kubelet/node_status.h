#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hostclient/base/object.h"
#include "kubelet/config.h"
#include "kubelet/node_capacity.h"

namespace vk::kubelet {

using WallTime = std::chrono::system_clock::time_point;

// RFC 3339 in UTC: metav1.Time ("2024-05-01T10:00:00Z") and metav1.MicroTime
// ("2024-05-01T10:00:00.123456Z", what Lease.spec.renewTime holds).
std::string FormatTime(WallTime time);
std::string FormatMicroTime(WallTime time);
// Parses metav1.Time (fractions allowed, "Z" or a numeric offset); nullopt when malformed.
std::optional<WallTime> ParseTime(std::string_view text);

// Labels every virtual node carries. The role is kubernetes.io/role=agent, which virtual-kubelet
// users select on (nodeSelector) and which kubectl shows as ROLES; node-role.kubernetes.io/agent
// as well would make kubectl show "agent,agent".
inline constexpr char kTypeLabel[] = "type";
inline constexpr char kTypeValue[] = "virtual-kubelet";
inline constexpr char kRoleLabel[] = "kubernetes.io/role";
inline constexpr char kHostNodeLabel[] = "vkubelet.io/host-node";

// What the machine vkubelet runs on reports: uname(2) and /etc/os-release.
struct SystemInfo {
  std::string architecture = "amd64";  // GOARCH spelling
  std::string kernel_version;
  std::string os_image;
};
SystemInfo ReadSystemInfo();
// uname's machine in GOARCH spelling: x86_64 → amd64, aarch64 → arm64; others unchanged.
std::string GoArch(std::string_view machine);

// status.nodeInfo (core/v1 NodeSystemInfo).
struct NodeInfo {
  std::string machine_id;
  std::string system_uuid;
  std::string boot_id;
  std::string kernel_version;
  std::string os_image;
  std::string container_runtime_version;
  std::string kubelet_version;
  std::string kube_proxy_version;
  std::string operating_system = "linux";
  std::string architecture;
};
// Identifiers derived from the node name (SHA-256), so a restarted vkubelet reports the same
// machine and the API server sees no new boot.
NodeInfo MakeNodeInfo(std::string_view node_name, const SystemInfo& system);

// Everything about a virtual node that does not change while it runs.
struct NodeTemplate {
  std::string name;
  std::map<std::string, std::string> labels;  // complete: see NodeLabels
  std::vector<Taint> taints;
  std::string internal_ip;  // empty: no InternalIP address
  int kubelet_port = 10250;
  NodeInfo info;
};

// The standard labels (type, os, arch, hostname, instance type, role) under `extra`: configured
// labels may add to them but not replace them.
std::map<std::string, std::string> NodeLabels(std::string_view node_name,
                                              std::string_view architecture,
                                              const std::map<std::string, std::string>& extra);

// One node condition as we report it.
struct NodeCondition {
  std::string type;
  std::string status;  // "True", "False", "Unknown"
  std::string reason;
  std::string message;
  WallTime last_transition;
};

// The conditions one virtual node reports, with kubelet's transition-time rule: the transition
// time moves only when the status changes. Seeding from the node stored in the API server keeps
// transition times across vkubelet restarts. Not thread-safe (one owner).
class ConditionTracker {
 public:
  // Takes lastTransitionTime of every condition of the node (status.conditions) that we manage.
  void Seed(const Object& node);
  // Sets our conditions for the node's readiness at `now`: Ready (True, KubeletReady, or False
  // with the reason and message given), MemoryPressure, DiskPressure, PIDPressure (False).
  void Update(bool ready, std::string_view not_ready_reason, std::string_view not_ready_message,
              WallTime now);
  // In a fixed order: Ready, MemoryPressure, DiskPressure, PIDPressure.
  const std::vector<NodeCondition>& conditions() const { return conditions_; }

 private:
  void Set(std::string_view type, std::string_view status, std::string_view reason,
           std::string_view message, WallTime now);

  std::map<std::string, WallTime, std::less<>> seeded_;
  std::vector<NodeCondition> conditions_;
};

// The Node to create: metadata (name, labels), spec.taints, and the full status (addresses,
// daemonEndpoints, nodeInfo, capacity, allocatable, conditions with heartbeat `now`).
Object BuildNode(const NodeTemplate& node, const ResourceList& capacity,
                 const std::vector<NodeCondition>& conditions, WallTime now);

// Strategic merge patch for an existing Node: our labels, and spec.taints = our taints plus the
// taints of others (those whose key and effect we do not set). Taints are an atomic list in the
// Node schema, hence the read-modify-write; when the taints change, the resourceVersion of
// `existing` is the precondition, so a concurrent taint change makes the patch fail with a
// conflict instead of being lost. Empty when nothing needs to change.
std::string BuildMetadataPatch(const NodeTemplate& node, const Object& existing);

// Strategic merge patch for nodes/<name>/status touching only our fields: addresses (merged by
// type), daemonEndpoints, nodeInfo, capacity and allocatable (with null for resources we
// reported before and no longer do: `previous_resources`), and our conditions (merged by type:
// other writers' conditions stay).
Object BuildStatusPatch(const NodeTemplate& node, const ResourceList& capacity,
                        const std::vector<std::string>& previous_resources,
                        const std::vector<NodeCondition>& conditions, WallTime now);

}  // namespace vk::kubelet
