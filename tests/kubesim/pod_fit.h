#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "hostclient/base/object.h"

namespace vk::kubesim {

// The kube-scheduler filters that the node simulator applies before binding a pod, in
// kube-scheduler's order, each answering with kube-scheduler's reason when the node is rejected:
//
// - NodeUnschedulable: a node with spec.unschedulable takes only pods tolerating
//   node.kubernetes.io/unschedulable:NoSchedule ("node(s) were unschedulable").
// - TaintToleration: every NoSchedule and NoExecute taint of the node must be tolerated
//   ("node(s) had untolerated taint {key: value}", naming the first one that is not).
// - NodeAffinity: spec.nodeSelector (every label equal) and
//   spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution (nodeSelectorTerms
//   ORed; within a term matchExpressions on labels with In, NotIn, Exists, DoesNotExist, Gt, Lt
//   and matchFields on metadata.name with In, NotIn, all ANDed; a term with neither matches
//   nothing) ("node(s) didn't match Pod's node affinity/selector").
//
// Resources, ports, volumes, inter-pod affinity and topology spread are not considered. Pure
// functions of the two objects.

// Why the node does not take the pod; "" when it does.
std::string NodeMisfit(const Object& pod, const Object& node);

// kube-scheduler's FailedScheduling message (and PodScheduled condition message) for a pod that
// fits none of `node_count` nodes, from one misfit reason per node: "0/3 nodes are available:
// 1 node(s) were unschedulable, 2 node(s) didn't match Pod's node affinity/selector.
// preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
std::string UnschedulableMessage(size_t node_count, const std::vector<std::string>& misfits);

// The status patch (strategic merge) that sets PodScheduled=False/Unschedulable with `message`,
// as kube-scheduler writes it: nullopt when the pod already says so; the transition time is kept
// while the status stays False, else `now`.
std::optional<std::string> UnschedulableConditionPatch(const Object& pod,
                                                       const std::string& message,
                                                       const std::string& now);

}  // namespace vk::kubesim
