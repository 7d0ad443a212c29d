#include "syncer/shared/pod_status_translator.h"

#include <algorithm>
#include <string_view>

namespace vk::syncer::shared {
namespace {

namespace json = boost::json;

// Conditions the kubelet writes; every other type belongs to the virtual cluster's scheduler or
// controllers (PodScheduled, readiness gates, DisruptionTarget) and keeps its virtual value.
bool IsKubeletCondition(std::string_view type) {
  return type == "Initialized" || type == "ContainersReady" || type == "Ready" ||
         type == "PodReadyToStartContainers" || type == "PodHasNetwork";
}

const Object* FindCondition(const json::array& conditions, std::string_view type) {
  for (const auto& condition : conditions) {
    if (condition.is_object() && obj::String(condition.get_object(), {"type"}) == type) {
      return &condition.get_object();
    }
  }
  return nullptr;
}

Object* FindCondition(json::array& conditions, std::string_view type) {
  for (auto& condition : conditions) {
    if (condition.is_object() && obj::String(condition.get_object(), {"type"}) == type) {
      return &condition.get_object();
    }
  }
  return nullptr;
}

// The kubelet's verdict on the pod's readiness gates: "" when all hold, else its message.
std::string UnreadyGateMessage(const Object& virtual_pod, const json::array& conditions) {
  const json::value* gates = obj::Find(virtual_pod, {"spec", "readinessGates"});
  if (gates == nullptr || !gates->is_array()) return {};
  for (const auto& gate : gates->get_array()) {
    if (!gate.is_object()) continue;
    const std::string_view type = obj::String(gate.get_object(), {"conditionType"});
    const Object* condition = FindCondition(conditions, type);
    if (condition == nullptr) {
      return "corresponding condition of pod readiness gate \"" + std::string(type) +
             "\" does not exist.";
    }
    const std::string_view status = obj::String(*condition, {"status"});
    if (status != "True") {
      return "the status of pod readiness gate \"" + std::string(type) +
             "\" is not \"True\", but " + std::string(status);
    }
  }
  return {};
}

json::array MergeConditions(const Object& host_status, const Object& virtual_pod) {
  json::array merged;
  json::array virtual_conditions;
  if (const json::value* v = obj::Find(virtual_pod, {"status", "conditions"}); v && v->is_array()) {
    virtual_conditions = v->get_array();
  }
  if (const auto* host = host_status.if_contains("conditions"); host && host->is_array()) {
    for (const auto& condition : host->get_array()) {
      if (!condition.is_object()) continue;
      const std::string_view type = obj::String(condition.get_object(), {"type"});
      if (!IsKubeletCondition(type) && FindCondition(virtual_conditions, type) != nullptr) continue;
      Object copy = condition.get_object();
      copy.erase("observedGeneration");
      merged.push_back(std::move(copy));
    }
  }
  for (const auto& condition : virtual_conditions) {
    if (!condition.is_object()) continue;
    const std::string_view type = obj::String(condition.get_object(), {"type"});
    if (!IsKubeletCondition(type)) merged.push_back(condition);
  }

  Object* ready = FindCondition(merged, "Ready");
  if (ready != nullptr && obj::String(*ready, {"status"}) == "True") {
    std::string message = UnreadyGateMessage(virtual_pod, merged);
    if (!message.empty()) {
      (*ready)["status"] = "False";
      (*ready)["reason"] = "ReadinessGatesNotReady";
      (*ready)["message"] = std::move(message);
      // The flip happened on our side; keep the virtual pod's transition time when it already
      // reported the pod unready.
      const Object* previous = FindCondition(virtual_conditions, "Ready");
      if (previous != nullptr && obj::String(*previous, {"status"}) == "False") {
        if (const auto* time = previous->if_contains("lastTransitionTime")) {
          (*ready)["lastTransitionTime"] = *time;
        }
      }
    }
  }
  return merged;
}

}  // namespace

Object TranslateStatusBack(const Object& host_pod, const Object& virtual_pod,
                           const StatusContext& ctx) {
  Object status;
  if (const Object* host_status = obj::ObjectAt(host_pod, {"status"})) status = *host_status;
  status.erase("nominatedNodeName");
  status.erase("observedGeneration");

  json::array conditions = MergeConditions(status, virtual_pod);
  if (conditions.empty()) {
    status.erase("conditions");
  } else {
    status["conditions"] = std::move(conditions);
  }

  if (ctx.host_ip_mode == HostIpMode::kVirtualNode && !ctx.virtual_node_ip.empty()) {
    status["hostIP"] = ctx.virtual_node_ip;
    Object ip;
    ip["ip"] = ctx.virtual_node_ip;
    json::array ips;
    ips.push_back(std::move(ip));
    status["hostIPs"] = std::move(ips);
  }
  return status;
}

void ReportDeniedEphemeralContainers(Object& status, const std::vector<DeniedContainer>& denied) {
  if (denied.empty()) return;
  json::value& listed = status["ephemeralContainerStatuses"];
  if (!listed.is_array()) listed = json::array();
  json::array& statuses = listed.get_array();
  for (const auto& container : denied) {
    const bool present = std::ranges::any_of(statuses, [&](const json::value& s) {
      return s.is_object() && obj::String(s.get_object(), {"name"}) == container.name;
    });
    if (present) continue;
    Object waiting;
    waiting["reason"] = "HostPrivilegeDenied";
    waiting["message"] = container.message;
    Object state;
    state["waiting"] = std::move(waiting);
    Object entry;
    entry["name"] = container.name;
    entry["image"] = container.image;
    entry["imageID"] = "";
    entry["ready"] = false;
    entry["restartCount"] = 0;
    entry["state"] = std::move(state);
    entry["lastState"] = Object{};
    statuses.push_back(std::move(entry));
  }
}

bool StatusEqual(const Object& a, const Object& b) { return a == b; }

}  // namespace vk::syncer::shared
