#pragma once

#include <string>
#include <vector>

#include "hostclient/base/object.h"
#include "syncer/shared/pod_translator.h"

namespace vk::syncer::shared {

// Which address the virtual pod reports as status.hostIP(s).
enum class HostIpMode {
  kHostNode,     // the host node's IP, as the host kubelet reports it
  kVirtualNode,  // the virtual node's IP (StatusContext::virtual_node_ip)
};

struct StatusContext {
  HostIpMode host_ip_mode = HostIpMode::kHostNode;
  std::string virtual_node_ip;  // used in kVirtualNode mode; empty falls back to the host's
};

// The status the virtual pod should have, given its host twin (shared mode, DESIGN.md §4). Pure.
//
// The host kubelet's report is taken as it is (phase, conditions, message, reason, pod IPs, start
// time, container statuses of every kind, QoS class, and any field a newer API adds), except:
//  - hostIP/hostIPs follow the node mode;
//  - nominatedNodeName (a host scheduler's node) and observedGeneration (host generations) are
//    dropped;
//  - conditions the kubelet does not own (PodScheduled, readiness gates, DisruptionTarget, ...)
//    keep the virtual pod's value where it has one;
//  - Ready honours the virtual pod's readiness gates as the kubelet would, since the host twin
//    carries none.
Object TranslateStatusBack(const Object& host_pod, const Object& virtual_pod,
                           const StatusContext& ctx);

// Gives each denied ephemeral container that has no status yet (the host never saw it) a waiting
// status with reason HostPrivilegeDenied and the denial as message, as the kubelet reports a
// container it cannot create, so that `kubectl debug` and `kubectl describe` show why.
void ReportDeniedEphemeralContainers(Object& status, const std::vector<DeniedContainer>& denied);

// Whether two pod statuses are the same, to skip no-op status writes. Key order does not matter.
bool StatusEqual(const Object& a, const Object& b);

}  // namespace vk::syncer::shared
