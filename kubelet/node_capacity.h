#pragma once

#include <map>
#include <string>
#include <vector>

#include "hostclient/base/object.h"
#include "kubelet/quantity.h"

namespace vk::kubelet {

// A core/v1 ResourceList: resource name ("cpu", "memory", "nvidia.com/gpu") to quantity.
using ResourceList = std::map<std::string, Quantity>;

// Reads a ResourceList JSON object (node status.allocatable, quota spec.hard). Entries that are
// not valid quantities are skipped: one bad value from a peer must not hide the others.
ResourceList ParseResourceList(const Object* list);
// Canonical text form of every quantity.
Object ToJson(const ResourceList& list);

// Sum of the allocatable resources (capacity where a node reports no allocatable) of host nodes.
// Cordoned nodes (spec.unschedulable) and nodes being deleted are left out: the host scheduler
// will not place pods there.
ResourceList SumAllocatable(const std::vector<ObjectPtr>& host_nodes);

// The per-resource ceiling set by ResourceQuotas: for every quota's spec.hard, "cpu",
// "requests.cpu" and "limits.cpu" all bound cpu (likewise memory and ephemeral-storage),
// "requests.<extended>" bounds the extended resource, "pods" bounds pods; object counts
// ("count/...", "services"...) are ignored. Several quotas: the smallest wins.
//
// The ceiling is the quota's hard limit, not hard minus used: the virtual node advertises what
// the tenant may use at most, and the host API server's quota admission enforces the rest. This
// keeps capacity stable while pods come and go.
ResourceList QuotaCeiling(const std::vector<ObjectPtr>& quotas);

// What one virtual node offers.
struct CapacityInputs {
  std::vector<ObjectPtr> host_nodes;  // the host nodes it stands for
  std::vector<ObjectPtr> quotas;      // ResourceQuotas of the host namespace
  ResourceList extra;                 // registered devices and such, added to the host nodes' sum
  int64_t max_pods = 0;               // > 0: the pods capacity; 0: the host nodes' pods sum
};

// sum(host nodes) + extra, pods from max_pods, then every resource lowered to the quota ceiling.
// Resources the quotas name but the nodes do not offer are not added. Capacity and allocatable of
// the virtual node are both this (vkubelet reserves nothing for itself on the host).
ResourceList ComputeCapacity(const CapacityInputs& inputs);

}  // namespace vk::kubelet
