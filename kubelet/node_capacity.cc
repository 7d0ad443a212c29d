#include "kubelet/node_capacity.h"

#include <spdlog/spdlog.h>

#include <optional>
#include <string_view>

namespace vk::kubelet {
namespace {

// The resource a quota key bounds, or nullopt for keys that are not compute resources.
std::optional<std::string> ResourceOfQuotaKey(std::string_view key) {
  for (std::string_view prefix : {"requests.", "limits."}) {
    if (key.starts_with(prefix)) {
      std::string_view resource = key.substr(prefix.size());
      // limits.<extended> is not allowed by kube (extended resources cannot overcommit).
      if (resource.empty()) return std::nullopt;
      return std::string(resource);
    }
  }
  if (key == "cpu" || key == "memory" || key == "ephemeral-storage" || key == "pods") {
    return std::string(key);
  }
  return std::nullopt;
}

void Lower(ResourceList& list, const std::string& name, const Quantity& value) {
  auto [it, inserted] = list.emplace(name, value);
  if (!inserted && value < it->second) it->second = value;
}

}  // namespace

ResourceList ParseResourceList(const Object* list) {
  ResourceList out;
  if (list == nullptr) return out;
  for (const auto& [name, value] : *list) {
    if (!value.is_string()) continue;
    auto quantity = Quantity::Parse(value.get_string());
    if (!quantity) {
      spdlog::warn("ignoring resource {}: {}", std::string_view(name), quantity.error().message());
      continue;
    }
    out.emplace(std::string(name), *quantity);
  }
  return out;
}

Object ToJson(const ResourceList& list) {
  Object out;
  for (const auto& [name, quantity] : list) out[name] = quantity.ToString();
  return out;
}

ResourceList SumAllocatable(const std::vector<ObjectPtr>& host_nodes) {
  ResourceList sum;
  for (const auto& node : host_nodes) {
    if (node == nullptr || obj::IsBeingDeleted(*node)) continue;
    const auto* unschedulable = obj::Find(*node, {"spec", "unschedulable"});
    if (unschedulable != nullptr && unschedulable->is_bool() && unschedulable->get_bool()) continue;
    const Object* allocatable = obj::ObjectAt(*node, {"status", "allocatable"});
    if (allocatable == nullptr) allocatable = obj::ObjectAt(*node, {"status", "capacity"});
    for (const auto& [name, quantity] : ParseResourceList(allocatable)) {
      auto [it, inserted] = sum.emplace(name, quantity);
      if (!inserted) it->second += quantity;
    }
  }
  return sum;
}

ResourceList QuotaCeiling(const std::vector<ObjectPtr>& quotas) {
  ResourceList ceiling;
  for (const auto& quota : quotas) {
    if (quota == nullptr) continue;
    for (const auto& [key, value] : ParseResourceList(obj::ObjectAt(*quota, {"spec", "hard"}))) {
      if (auto resource = ResourceOfQuotaKey(key)) Lower(ceiling, *resource, value);
    }
  }
  return ceiling;
}

ResourceList ComputeCapacity(const CapacityInputs& inputs) {
  ResourceList capacity = SumAllocatable(inputs.host_nodes);
  for (const auto& [name, quantity] : inputs.extra) {
    auto [it, inserted] = capacity.emplace(name, quantity);
    if (!inserted) it->second += quantity;
  }
  if (inputs.max_pods > 0) capacity["pods"] = Quantity::FromUnits(inputs.max_pods);
  for (const auto& [name, limit] : QuotaCeiling(inputs.quotas)) {
    auto it = capacity.find(name);
    if (it != capacity.end() && limit < it->second) {
      // Keep the node's format ("64Gi" rather than the quota's "68719476736").
      it->second = Quantity::FromMilli(limit.milli(), it->second.format());
    }
  }
  return capacity;
}

}  // namespace vk::kubelet
