#include "kubelet/node_status.h"

#include <openssl/evp.h>
#include <sys/utsname.h>

#include <fstream>
#include <set>

#include "hostclient/base/rfc3339.h"
#include "kubelet/version.h"

namespace vk::kubelet {
namespace {

constexpr std::string_view kOurConditions[] = {"Ready", "MemoryPressure", "DiskPressure",
                                               "PIDPressure"};

bool IsOurCondition(std::string_view type) {
  for (auto ours : kOurConditions) {
    if (ours == type) return true;
  }
  return false;
}

std::string HexSha256(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

// A UUID-shaped (version 4 layout) rendering of 32 hex digits.
std::string AsUuid(std::string hex) {
  hex[12] = '4';
  hex[16] = "89ab"[(hex[16] - '0') & 3];
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

boost::json::array TaintsJson(const std::vector<Taint>& taints) {
  boost::json::array out;
  for (const auto& taint : taints) {
    Object t{{"key", taint.key}, {"effect", taint.effect}};
    if (!taint.value.empty()) t["value"] = taint.value;
    out.push_back(std::move(t));
  }
  return out;
}

boost::json::array AddressesJson(const NodeTemplate& node) {
  boost::json::array out;
  if (!node.internal_ip.empty()) {
    out.push_back(Object{{"type", "InternalIP"}, {"address", node.internal_ip}});
  }
  out.push_back(Object{{"type", "Hostname"}, {"address", node.name}});
  return out;
}

Object NodeInfoJson(const NodeInfo& info) {
  return Object{{"machineID", info.machine_id},
                {"systemUUID", info.system_uuid},
                {"bootID", info.boot_id},
                {"kernelVersion", info.kernel_version},
                {"osImage", info.os_image},
                {"containerRuntimeVersion", info.container_runtime_version},
                {"kubeletVersion", info.kubelet_version},
                {"kubeProxyVersion", info.kube_proxy_version},
                {"operatingSystem", info.operating_system},
                {"architecture", info.architecture}};
}

boost::json::array ConditionsJson(const std::vector<NodeCondition>& conditions, WallTime now) {
  boost::json::array out;
  for (const auto& c : conditions) {
    out.push_back(Object{{"type", c.type},
                         {"status", c.status},
                         {"reason", c.reason},
                         {"message", c.message},
                         {"lastHeartbeatTime", FormatTime(now)},
                         {"lastTransitionTime", FormatTime(c.last_transition)}});
  }
  return out;
}

// The status fields we own, shared by BuildNode and BuildStatusPatch.
Object OwnStatus(const NodeTemplate& node, const ResourceList& capacity,
                 const std::vector<NodeCondition>& conditions, WallTime now) {
  Object status;
  status["addresses"] = AddressesJson(node);
  status["daemonEndpoints"] = Object{{"kubeletEndpoint", Object{{"Port", node.kubelet_port}}}};
  status["nodeInfo"] = NodeInfoJson(node.info);
  status["capacity"] = ToJson(capacity);
  status["allocatable"] = ToJson(capacity);
  status["conditions"] = ConditionsJson(conditions, now);
  return status;
}

}  // namespace

std::string FormatTime(WallTime time) { return FormatRfc3339(time); }
std::string FormatMicroTime(WallTime time) { return FormatRfc3339Micro(time); }

std::optional<WallTime> ParseTime(std::string_view text) { return ParseRfc3339(text); }

std::string GoArch(std::string_view machine) {
  if (machine == "x86_64" || machine == "amd64") return "amd64";
  if (machine == "aarch64" || machine == "arm64") return "arm64";
  if (machine == "i386" || machine == "i686") return "386";
  if (machine == "ppc64le") return "ppc64le";
  if (machine == "s390x") return "s390x";
  if (machine.starts_with("armv")) return "arm";
  return std::string(machine);
}

SystemInfo ReadSystemInfo() {
  SystemInfo info;
  struct utsname name {};
  if (uname(&name) == 0) {
    info.architecture = GoArch(name.machine);
    info.kernel_version = name.release;
  }
  std::ifstream os_release("/etc/os-release");
  std::string line;
  while (std::getline(os_release, line)) {
    if (!line.starts_with("PRETTY_NAME=")) continue;
    std::string value = line.substr(12);
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'')) {
      value = value.substr(1, value.size() - 2);
    }
    info.os_image = value;
  }
  if (info.os_image.empty()) info.os_image = "Linux";
  return info;
}

NodeInfo MakeNodeInfo(std::string_view node_name, const SystemInfo& system) {
  NodeInfo info;
  const std::string name(node_name);
  info.machine_id = HexSha256("machine-id/" + name).substr(0, 32);
  info.system_uuid = AsUuid(HexSha256("system-uuid/" + name).substr(0, 32));
  info.boot_id = AsUuid(HexSha256("boot-id/" + name).substr(0, 32));
  info.kernel_version = system.kernel_version;
  info.os_image = system.os_image;
  info.architecture = system.architecture;
  info.container_runtime_version = std::string("vkubelet://") + kVersion;
  info.kubelet_version = kKubeletVersion;
  info.kube_proxy_version = kKubeletVersion;
  return info;
}

std::map<std::string, std::string> NodeLabels(std::string_view node_name,
                                              std::string_view architecture,
                                              const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> labels = extra;
  labels[kTypeLabel] = kTypeValue;
  labels["kubernetes.io/os"] = "linux";
  labels["kubernetes.io/arch"] = std::string(architecture);
  labels["beta.kubernetes.io/os"] = "linux";
  labels["beta.kubernetes.io/arch"] = std::string(architecture);
  labels["kubernetes.io/hostname"] = std::string(node_name);
  labels["node.kubernetes.io/instance-type"] = "virtual";
  labels[kRoleLabel] = "agent";
  return labels;
}

void ConditionTracker::Seed(const Object& node) {
  const auto* conditions = obj::Find(node, {"status", "conditions"});
  if (conditions == nullptr || !conditions->is_array()) return;
  for (const auto& value : conditions->get_array()) {
    if (!value.is_object()) continue;
    const Object& condition = value.get_object();
    std::string_view type = obj::String(condition, {"type"});
    if (!IsOurCondition(type)) continue;
    auto time = ParseTime(obj::String(condition, {"lastTransitionTime"}));
    if (!time) continue;
    // The seeded time only holds while the status is the one stored with it.
    conditions_.push_back(NodeCondition{std::string(type),
                                        std::string(obj::String(condition, {"status"})),
                                        std::string(obj::String(condition, {"reason"})),
                                        std::string(obj::String(condition, {"message"})), *time});
  }
}

void ConditionTracker::Set(std::string_view type, std::string_view status, std::string_view reason,
                           std::string_view message, WallTime now) {
  for (auto& c : conditions_) {
    if (c.type != type) continue;
    if (c.status != status) c.last_transition = now;
    c.status = status;
    c.reason = reason;
    c.message = message;
    return;
  }
  conditions_.push_back(NodeCondition{std::string(type), std::string(status), std::string(reason),
                                      std::string(message), now});
}

void ConditionTracker::Update(bool ready, std::string_view not_ready_reason,
                              std::string_view not_ready_message, WallTime now) {
  if (ready) {
    Set("Ready", "True", "KubeletReady", "kubelet is posting ready status", now);
  } else {
    Set("Ready", "False", not_ready_reason, not_ready_message, now);
  }
  Set("MemoryPressure", "False", "KubeletHasSufficientMemory",
      "kubelet has sufficient memory available", now);
  Set("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure", now);
  Set("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available",
      now);
  // Seeded conditions may come in any order; report ours in a fixed one.
  std::vector<NodeCondition> ordered;
  for (auto type : kOurConditions) {
    for (auto& c : conditions_) {
      if (c.type == type) ordered.push_back(std::move(c));
    }
  }
  conditions_ = std::move(ordered);
}

Object BuildNode(const NodeTemplate& node, const ResourceList& capacity,
                 const std::vector<NodeCondition>& conditions, WallTime now) {
  Object labels;
  for (const auto& [key, value] : node.labels) labels[key] = value;
  Object out{{"apiVersion", "v1"},
             {"kind", "Node"},
             {"metadata", Object{{"name", node.name}, {"labels", std::move(labels)}}}};
  Object spec;
  if (!node.taints.empty()) spec["taints"] = TaintsJson(node.taints);
  out["spec"] = std::move(spec);
  out["status"] = OwnStatus(node, capacity, conditions, now);
  return out;
}

std::string BuildMetadataPatch(const NodeTemplate& node, const Object& existing) {
  Object patch;
  Object labels;
  for (const auto& [key, value] : node.labels) {
    if (obj::Find(existing, {"metadata", "labels", key}) == nullptr ||
        obj::Label(existing, key) != value) {
      labels[key] = value;
    }
  }
  if (!labels.empty()) patch["metadata"] = Object{{"labels", std::move(labels)}};

  std::vector<Taint> current;
  if (const auto* taints = obj::Find(existing, {"spec", "taints"}); taints && taints->is_array()) {
    for (const auto& value : taints->get_array()) {
      if (!value.is_object()) continue;
      const Object& t = value.get_object();
      current.push_back(Taint{std::string(obj::String(t, {"key"})),
                              std::string(obj::String(t, {"value"})),
                              std::string(obj::String(t, {"effect"}))});
    }
  }
  std::vector<Taint> wanted = node.taints;
  std::set<std::pair<std::string, std::string>> ours;
  for (const auto& t : node.taints) ours.emplace(t.key, t.effect);
  for (const auto& t : current) {
    if (!ours.contains({t.key, t.effect})) wanted.push_back(t);
  }
  auto as_set = [](const std::vector<Taint>& taints) {
    std::set<std::tuple<std::string, std::string, std::string>> s;
    for (const auto& t : taints) s.emplace(t.key, t.value, t.effect);
    return s;
  };
  if (as_set(wanted) != as_set(current)) {
    // Keep timeAdded and any other field of others' taints: copy them from the stored list.
    boost::json::array taints = TaintsJson(node.taints);
    if (const auto* stored = obj::Find(existing, {"spec", "taints"});
        stored && stored->is_array()) {
      for (const auto& value : stored->get_array()) {
        if (!value.is_object()) continue;
        const Object& t = value.get_object();
        if (!ours.contains(
                {std::string(obj::String(t, {"key"})), std::string(obj::String(t, {"effect"}))})) {
          taints.push_back(value);
        }
      }
    }
    patch["spec"] = Object{{"taints", std::move(taints)}};
    obj::EnsureObject(patch, {"metadata"})["resourceVersion"] = obj::ResourceVersion(existing);
  }
  if (patch.empty()) return {};
  return obj::Serialize(patch);
}

Object BuildStatusPatch(const NodeTemplate& node, const ResourceList& capacity,
                        const std::vector<std::string>& previous_resources,
                        const std::vector<NodeCondition>& conditions, WallTime now) {
  Object status = OwnStatus(node, capacity, conditions, now);
  for (const auto& name : previous_resources) {
    if (capacity.contains(name)) continue;
    status["capacity"].as_object()[name] = nullptr;
    status["allocatable"].as_object()[name] = nullptr;
  }
  return Object{{"status", std::move(status)}};
}

}  // namespace vk::kubelet
