#include "kubelet/config.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <variant>

namespace vk::kubelet {
namespace {

using StringRef = std::string& (*)(Config&);
using IntRef = int& (*)(Config&);
using DoubleRef = double& (*)(Config&);
using MapRef = std::map<std::string, std::string>& (*)(Config&);
using TaintsRef = std::vector<Taint>& (*)(Config&);
using BoolRef = bool& (*)(Config&);
using ListRef = std::vector<std::string>& (*)(Config&);
using Target = std::variant<StringRef, IntRef, DoubleRef, MapRef, TaintsRef, BoolRef, ListRef>;

// One option: where it lives in the YAML file, its flag and environment variable, and the
// member of Config it sets. The table below is the single list that loading, --help and the
// "required" hints are generated from.
struct Field {
  const char* key;
  const char* flag;
  const char* env;
  const char* value_name;
  const char* help;
  Target target;
};

constexpr const char* kConfigFlag = "config";
constexpr const char* kConfigEnv = "VKUBELET_CONFIG";

const std::vector<Field>& Fields() {
  static const std::vector<Field> fields = {
      {"cluster_name", "cluster-name", "CLUSTER_NAME", "NAME",
       "name of the virtual cluster (DNS label); required",
       StringRef([](Config& c) -> std::string& { return c.cluster_name; })},
      {"cluster_namespace", "cluster-namespace", "CLUSTER_NAMESPACE", "NAMESPACE",
       "host namespace where the virtual cluster's pods run; required",
       StringRef([](Config& c) -> std::string& { return c.cluster_namespace; })},
      {"host_kubeconfig", "host-kubeconfig", "HOST_KUBECONFIG", "FILE",
       "kubeconfig of the host cluster; empty: in-cluster service account",
       StringRef([](Config& c) -> std::string& { return c.host_kubeconfig; })},
      {"virtual_kubeconfig", "virtual-kubeconfig", "VIRT_KUBECONFIG", "FILE",
       "kubeconfig of the virtual cluster; required",
       StringRef([](Config& c) -> std::string& { return c.virtual_kubeconfig; })},
      {"virtual_pod_ip", "virtual-pod-ip", "VIRT_POD_IP", "IP",
       "IP address the virtual API server uses to reach this kubelet",
       StringRef([](Config& c) -> std::string& { return c.virtual_pod_ip; })},
      {"node_name", "node-name", "VKUBELET_NODE_NAME", "NAME", "name of the virtual node",
       StringRef([](Config& c) -> std::string& { return c.node_name; })},
      {"mode", "mode", "VKUBELET_MODE", "MODE", "shared or virtual",
       StringRef([](Config& c) -> std::string& { return c.mode; })},
      {"node_mode", "node-mode", "VKUBELET_NODE_MODE", "MODE",
       "single (one virtual node) or per-host-node (one per host node)",
       StringRef([](Config& c) -> std::string& { return c.node_mode; })},
      {"kubelet_port", "kubelet-port", "VKUBELET_KUBELET_PORT", "PORT",
       "port of the kubelet HTTPS API", IntRef([](Config& c) -> int& { return c.kubelet_port; })},
      {"http_addr", "http-addr", "VKUBELET_HTTP_ADDR", "HOST:PORT",
       "address of the plain-HTTP health and metrics endpoint (alias --metrics-addr)",
       StringRef([](Config& c) -> std::string& { return c.http_addr; })},
      {"log_level", "log-level", "VKUBELET_LOG_LEVEL", "LEVEL",
       "trace, debug, info, warn, error, critical or off",
       StringRef([](Config& c) -> std::string& { return c.log_level; })},
      {"log_format", "log-format", "VKUBELET_LOG_FORMAT", "FORMAT",
       "text or json (one object per line)",
       StringRef([](Config& c) -> std::string& { return c.log_format; })},
      {"host_qps", "host-qps", "VKUBELET_HOST_QPS", "QPS",
       "requests per second to the host API server; 0 disables the limit",
       DoubleRef([](Config& c) -> double& { return c.host_qps; })},
      {"host_burst", "host-burst", "VKUBELET_HOST_BURST", "N",
       "burst of requests to the host API server",
       IntRef([](Config& c) -> int& { return c.host_burst; })},
      {"virtual_qps", "virtual-qps", "VKUBELET_VIRTUAL_QPS", "QPS",
       "requests per second to the virtual API server; 0 disables the limit",
       DoubleRef([](Config& c) -> double& { return c.virtual_qps; })},
      {"virtual_burst", "virtual-burst", "VKUBELET_VIRTUAL_BURST", "N",
       "burst of requests to the virtual API server",
       IntRef([](Config& c) -> int& { return c.virtual_burst; })},
      {"workers", "workers", "VKUBELET_WORKERS", "N", "reconcile workers per controller",
       IntRef([](Config& c) -> int& { return c.workers; })},
      {"node.labels", "node-labels", "VKUBELET_NODE_LABELS", "K=V,...",
       "extra labels of the virtual node(s)",
       MapRef([](Config& c) -> std::map<std::string, std::string>& { return c.node.labels; })},
      {"node.taints", "node-taints", "VKUBELET_NODE_TAINTS", "K[=V]:EFFECT,...",
       "taints of the virtual node(s)",
       TaintsRef([](Config& c) -> std::vector<Taint>& { return c.node.taints; })},
      {"node.max_pods", "max-pods", "VKUBELET_MAX_PODS", "N", "pods capacity of a virtual node",
       IntRef([](Config& c) -> int& { return c.node.max_pods; })},
      {"node.host_node_selector", "host-node-selector", "VKUBELET_HOST_NODE_SELECTOR", "K=V,...",
       "labels selecting the host nodes the virtual node(s) stand for",
       MapRef([](Config& c) -> std::map<std::string, std::string>& {
         return c.node.host_node_selector;
       })},
      {"pods.allow_host_network", "allow-host-network", "VKUBELET_ALLOW_HOST_NETWORK", "BOOL",
       "let pods use the host's network (spec.hostNetwork)",
       BoolRef([](Config& c) -> bool& { return c.pods.allow_host_network; })},
      {"pods.allow_host_pid", "allow-host-pid", "VKUBELET_ALLOW_HOST_PID", "BOOL",
       "let pods use the host's process namespace (spec.hostPID)",
       BoolRef([](Config& c) -> bool& { return c.pods.allow_host_pid; })},
      {"pods.allow_host_ipc", "allow-host-ipc", "VKUBELET_ALLOW_HOST_IPC", "BOOL",
       "let pods use the host's IPC namespace (spec.hostIPC)",
       BoolRef([](Config& c) -> bool& { return c.pods.allow_host_ipc; })},
      {"pods.allow_host_path", "allow-host-path", "VKUBELET_ALLOW_HOST_PATH", "BOOL",
       "let pods mount hostPath volumes",
       BoolRef([](Config& c) -> bool& { return c.pods.allow_host_path; })},
      {"pods.allow_privileged", "allow-privileged", "VKUBELET_ALLOW_PRIVILEGED", "BOOL",
       "let containers run privileged",
       BoolRef([](Config& c) -> bool& { return c.pods.allow_privileged; })},
      {"pods.allowed_capabilities", "allowed-capabilities", "VKUBELET_ALLOWED_CAPABILITIES",
       "CAP,...", "capabilities containers may add (ALL: any)",
       ListRef([](Config& c) -> std::vector<std::string>& { return c.pods.allowed_capabilities; })},
      {"pods.dns_service_ip", "dns-service-ip", "VKUBELET_DNS_SERVICE_IP", "IP",
       "the virtual cluster's DNS service, for pods with dnsPolicy ClusterFirst",
       StringRef([](Config& c) -> std::string& { return c.pods.dns_service_ip; })},
      {"pods.cluster_domain", "cluster-domain", "VKUBELET_CLUSTER_DOMAIN", "DOMAIN",
       "the virtual cluster's DNS domain",
       StringRef([](Config& c) -> std::string& { return c.pods.cluster_domain; })},
      {"pods.api_server_host", "api-server-host", "VKUBELET_API_SERVER_HOST", "HOST",
       "address at which host pods reach the virtual API server (KUBERNETES_SERVICE_HOST)",
       StringRef([](Config& c) -> std::string& { return c.pods.api_server_host; })},
      {"pods.api_server_port", "api-server-port", "VKUBELET_API_SERVER_PORT", "PORT",
       "port at which host pods reach the virtual API server",
       IntRef([](Config& c) -> int& { return c.pods.api_server_port; })},
      {"pods.host_priority_class", "host-priority-class", "VKUBELET_HOST_PRIORITY_CLASS", "NAME",
       "PriorityClass of every host pod",
       StringRef([](Config& c) -> std::string& { return c.pods.host_priority_class; })},
      {"pods.token_expiration_seconds", "token-expiration-seconds",
       "VKUBELET_TOKEN_EXPIRATION_SECONDS", "SECONDS",
       "lifetime of service-account tokens whose pods do not ask for one",
       IntRef([](Config& c) -> int& { return c.pods.token_expiration_seconds; })},
  };
  return fields;
}

const Field* FindFieldByKey(std::string_view key) {
  for (const Field& field : Fields()) {
    if (key == field.key) return &field;
  }
  return nullptr;
}

const Field* FindFieldByFlag(std::string_view flag) {
  if (flag == "metrics-addr") flag = "http-addr";
  for (const Field& field : Fields()) {
    if (flag == field.flag) return &field;
  }
  return nullptr;
}

// Where each option's value came from, for error messages: "from --kubelet-port".
using Sources = std::map<std::string, std::string, std::less<>>;

std::string FormatMap(const std::map<std::string, std::string>& map) {
  std::string out;
  for (const auto& [key, value] : map) {
    if (!out.empty()) out += ',';
    out += key + "=" + value;
  }
  return out;
}

std::string FormatTaints(const std::vector<Taint>& taints) {
  std::string out;
  for (const Taint& taint : taints) {
    if (!out.empty()) out += ',';
    out += taint.key;
    if (!taint.value.empty()) out += "=" + taint.value;
    out += ":" + taint.effect;
  }
  return out;
}

std::string FormatDouble(double value) { return fmt::format("{}", value); }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> SplitList(std::string_view text) {
  std::vector<std::string_view> items;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = Trim(text.substr(0, comma));
    if (!item.empty()) items.push_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return items;
}

Result<std::map<std::string, std::string>> ParseMap(std::string_view text) {
  std::map<std::string, std::string> map;
  for (std::string_view item : SplitList(text)) {
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return MakeError(ErrorCode::kConfig, fmt::format("\"{}\" is not KEY=VALUE", item));
    }
    map[std::string(Trim(item.substr(0, eq)))] = std::string(Trim(item.substr(eq + 1)));
  }
  return map;
}

Result<Taint> ParseTaint(std::string_view item) {
  size_t colon = item.rfind(':');
  if (colon == std::string_view::npos) {
    return MakeError(ErrorCode::kConfig, fmt::format("\"{}\" is not KEY[=VALUE]:EFFECT", item));
  }
  Taint taint;
  taint.effect = std::string(Trim(item.substr(colon + 1)));
  std::string_view key_value = item.substr(0, colon);
  size_t eq = key_value.find('=');
  taint.key = std::string(Trim(key_value.substr(0, eq)));
  if (eq != std::string_view::npos) taint.value = std::string(Trim(key_value.substr(eq + 1)));
  return taint;
}

Result<std::vector<Taint>> ParseTaints(std::string_view text) {
  std::vector<Taint> taints;
  for (std::string_view item : SplitList(text)) {
    auto taint = ParseTaint(item);
    if (!taint) return tl::unexpected(taint.error());
    taints.push_back(std::move(*taint));
  }
  return taints;
}

Result<bool> ParseBool(std::string_view text) {
  std::string lower(Trim(text));
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "true" || lower == "yes" || lower == "on" || lower == "1") return true;
  if (lower == "false" || lower == "no" || lower == "off" || lower == "0") return false;
  return MakeError(ErrorCode::kConfig, fmt::format("\"{}\" is not true or false", text));
}

Status SetListFromYaml(std::vector<std::string>& out, const Field& field, const YAML::Node& value,
                       const std::string& source);

// Sets a field from its textual form (a flag, an environment variable or a YAML scalar).
Status SetFromText(Config& config, const Field& field, const std::string& text) {
  return std::visit(
      [&](auto ref) -> Status {
        using Ref = decltype(ref);
        if constexpr (std::is_same_v<Ref, StringRef>) {
          ref(config) = text;
        } else if constexpr (std::is_same_v<Ref, IntRef>) {
          std::string_view s = Trim(text);
          int value = 0;
          auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
          if (s.empty() || ec != std::errc() || end != s.data() + s.size()) {
            return MakeError(ErrorCode::kConfig, fmt::format("\"{}\" is not an integer", text));
          }
          ref(config) = value;
        } else if constexpr (std::is_same_v<Ref, DoubleRef>) {
          std::string_view s = Trim(text);
          double value = 0;
          auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
          if (s.empty() || ec != std::errc() || end != s.data() + s.size() ||
              !std::isfinite(value)) {
            return MakeError(ErrorCode::kConfig, fmt::format("\"{}\" is not a number", text));
          }
          ref(config) = value;
        } else if constexpr (std::is_same_v<Ref, MapRef>) {
          auto map = ParseMap(text);
          if (!map) return tl::unexpected(map.error());
          ref(config) = std::move(*map);
        } else if constexpr (std::is_same_v<Ref, BoolRef>) {
          auto value = ParseBool(text);
          if (!value) return tl::unexpected(value.error());
          ref(config) = *value;
        } else if constexpr (std::is_same_v<Ref, ListRef>) {
          std::vector<std::string> items;
          for (std::string_view item : SplitList(text)) items.emplace_back(item);
          ref(config) = std::move(items);
        } else {
          auto taints = ParseTaints(text);
          if (!taints) return tl::unexpected(taints.error());
          ref(config) = std::move(*taints);
        }
        return Ok();
      },
      field.target);
}

std::string DefaultText(const Field& field) {
  Config defaults;
  return std::visit(
      [&](auto ref) -> std::string {
        using Ref = decltype(ref);
        if constexpr (std::is_same_v<Ref, StringRef>) {
          return ref(defaults);
        } else if constexpr (std::is_same_v<Ref, IntRef>) {
          return std::to_string(ref(defaults));
        } else if constexpr (std::is_same_v<Ref, DoubleRef>) {
          return FormatDouble(ref(defaults));
        } else if constexpr (std::is_same_v<Ref, MapRef>) {
          return FormatMap(ref(defaults));
        } else if constexpr (std::is_same_v<Ref, BoolRef>) {
          return ref(defaults) ? "true" : "false";
        } else if constexpr (std::is_same_v<Ref, ListRef>) {
          std::string out;
          for (const auto& item : ref(defaults)) out += (out.empty() ? "" : ",") + item;
          return out;
        } else {
          return FormatTaints(ref(defaults));
        }
      },
      field.target);
}

tl::unexpected<Error> Invalid(std::string_view key, std::string_view problem,
                              std::string_view source) {
  std::string message = fmt::format("invalid config: {}: {}", key, problem);
  if (!source.empty()) message += fmt::format(" ({})", source);
  return MakeError(ErrorCode::kConfig, message);
}

// ---- YAML ----------------------------------------------------------------------------------

std::string LineOf(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.line < 0) return "";
  return fmt::format(" line {}", mark.line + 1);
}

Status SetFromYamlScalar(Config& config, const Field& field, const YAML::Node& value,
                         const std::string& source) {
  if (!value.IsScalar()) {
    return Invalid(field.key, "expected a single value", source + LineOf(value));
  }
  if (auto status = SetFromText(config, field, value.Scalar()); !status) {
    return Invalid(field.key, status.error().message(), source + LineOf(value));
  }
  return Ok();
}

Status SetMapFromYaml(std::map<std::string, std::string>& out, const Field& field,
                      const YAML::Node& value, const std::string& source) {
  if (!value.IsMap()) {
    return Invalid(field.key, "expected a map of strings", source + LineOf(value));
  }
  std::map<std::string, std::string> map;
  for (const auto& entry : value) {
    if (!entry.first.IsScalar() || !entry.second.IsScalar()) {
      return Invalid(field.key, "expected a map of strings", source + LineOf(entry.first));
    }
    map[entry.first.Scalar()] = entry.second.Scalar();
  }
  out = std::move(map);
  return Ok();
}

Status SetTaintsFromYaml(std::vector<Taint>& out, const Field& field, const YAML::Node& value,
                         const std::string& source) {
  if (!value.IsSequence()) {
    return Invalid(field.key, "expected a list of taints", source + LineOf(value));
  }
  std::vector<Taint> taints;
  for (size_t i = 0; i < value.size(); ++i) {
    const YAML::Node item = value[i];
    const std::string where = fmt::format("{}[{}]", field.key, i);
    if (item.IsScalar()) {
      auto taint = ParseTaint(item.Scalar());
      if (!taint) return Invalid(where, taint.error().message(), source + LineOf(item));
      taints.push_back(std::move(*taint));
      continue;
    }
    if (!item.IsMap()) {
      return Invalid(where, "expected {key, value, effect}", source + LineOf(item));
    }
    Taint taint;
    for (const auto& entry : item) {
      const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "";
      std::string* target = key == "key"      ? &taint.key
                            : key == "value"  ? &taint.value
                            : key == "effect" ? &taint.effect
                                              : nullptr;
      if (target == nullptr) {
        return Invalid(where, fmt::format("unknown field \"{}\"", key),
                       source + LineOf(entry.first));
      }
      if (!entry.second.IsScalar()) {
        return Invalid(where + "." + key, "expected a string", source + LineOf(entry.second));
      }
      *target = entry.second.Scalar();
    }
    taints.push_back(std::move(taint));
  }
  out = std::move(taints);
  return Ok();
}

Status SetListFromYaml(std::vector<std::string>& out, const Field& field, const YAML::Node& value,
                       const std::string& source) {
  std::vector<std::string> items;
  for (size_t i = 0; i < value.size(); ++i) {
    if (!value[i].IsScalar()) {
      return Invalid(fmt::format("{}[{}]", field.key, i), "expected a string",
                     source + LineOf(value[i]));
    }
    items.push_back(value[i].Scalar());
  }
  out = std::move(items);
  return Ok();
}

bool IsSection(std::string_view prefix) {
  for (const Field& field : Fields()) {
    if (std::string_view(field.key).starts_with(prefix) &&
        std::string_view(field.key).size() > prefix.size()) {
      return true;
    }
  }
  return false;
}

Status ApplyYamlMap(Config& config, const YAML::Node& map, const std::string& prefix,
                    const std::string& source, Sources& sources) {
  std::set<std::string> seen;
  for (const auto& entry : map) {
    if (!entry.first.IsScalar()) {
      return MakeError(
          ErrorCode::kConfig,
          fmt::format("invalid config: a key is not a string ({}{})", source, LineOf(entry.first)));
    }
    const std::string key = prefix + entry.first.Scalar();
    if (!seen.insert(key).second) {
      return MakeError(ErrorCode::kConfig,
                       fmt::format("invalid config: field \"{}\" is set twice ({}{})", key, source,
                                   LineOf(entry.first)));
    }
    const YAML::Node& value = entry.second;
    if (const Field* field = FindFieldByKey(key)) {
      if (value.IsNull()) continue;  // "key:" with no value keeps the default
      Status status;
      if (const auto* map_ref = std::get_if<MapRef>(&field->target)) {
        status = SetMapFromYaml((*map_ref)(config), *field, value, source);
      } else if (const auto* taints_ref = std::get_if<TaintsRef>(&field->target)) {
        status = SetTaintsFromYaml((*taints_ref)(config), *field, value, source);
      } else if (const auto* list_ref = std::get_if<ListRef>(&field->target);
                 list_ref != nullptr && value.IsSequence()) {
        status = SetListFromYaml((*list_ref)(config), *field, value, source);
      } else {
        status = SetFromYamlScalar(config, *field, value, source);
      }
      if (!status) return status;
      sources[field->key] = "from " + source;
      continue;
    }
    if (IsSection(key + ".")) {
      if (value.IsNull()) continue;
      if (!value.IsMap()) {
        return Invalid(key, "expected a map", source + LineOf(value));
      }
      if (auto status = ApplyYamlMap(config, value, key + ".", source, sources); !status) {
        return status;
      }
      continue;
    }
    return MakeError(ErrorCode::kConfig, fmt::format("invalid config: unknown field \"{}\" ({}{})",
                                                     key, source, LineOf(entry.first)));
  }
  return Ok();
}

Status ApplyYamlFile(Config& config, const std::string& path, Sources& sources) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return MakeError(
        ErrorCode::kConfig,
        fmt::format("invalid config: cannot read config file {}: {}", path, std::strerror(errno)));
  }
  std::stringstream text;
  text << in.rdbuf();
  const std::string source = "config file " + path;
  YAML::Node root;
  try {
    root = YAML::Load(text.str());
  } catch (const YAML::Exception& e) {
    return MakeError(ErrorCode::kConfig,
                     fmt::format("invalid config: {}: {} (line {}, column {})", source, e.msg,
                                 e.mark.line + 1, e.mark.column + 1));
  }
  if (root.IsNull()) return Ok();
  if (!root.IsMap()) {
    return MakeError(
        ErrorCode::kConfig,
        fmt::format("invalid config: {}: the document must be a map of options", source));
  }
  try {
    return ApplyYamlMap(config, root, "", source, sources);
  } catch (const YAML::Exception& e) {
    return MakeError(ErrorCode::kConfig, fmt::format("invalid config: {}: {}", source, e.msg));
  }
}

// ---- validation ----------------------------------------------------------------------------

bool IsAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnumMixedCase(char c) { return IsAlnum(c) || (c >= 'A' && c <= 'Z'); }

std::string RequiredHint(const Field& field) {
  return fmt::format("required (set --{}, {} or {} in the config file)", field.flag, field.env,
                     field.key);
}

std::string SourceOf(const Sources& sources, std::string_view key, bool with_sources) {
  if (!with_sources) return "";
  auto it = sources.find(key);
  return it == sources.end() ? "default" : it->second;
}

Status CheckLabels(const std::map<std::string, std::string>& labels, std::string_view key,
                   const std::string& source) {
  for (const auto& [name, value] : labels) {
    if (!IsQualifiedName(name)) {
      return Invalid(key, fmt::format("\"{}\" is not a valid label key", name), source);
    }
    if (!IsLabelValue(value)) {
      return Invalid(key, fmt::format("\"{}\" is not a valid label value (for {})", value, name),
                     source);
    }
  }
  return Ok();
}

Status CheckOneOf(std::string_view key, const std::string& value,
                  std::initializer_list<std::string_view> allowed, const std::string& source) {
  for (std::string_view a : allowed) {
    if (value == a) return Ok();
  }
  std::string list;
  for (std::string_view a : allowed) {
    if (!list.empty()) list += ", ";
    list += a;
  }
  return Invalid(key, fmt::format("\"{}\" is not one of {}", value, list), source);
}

Status CheckRange(std::string_view key, double value, double min, double max,
                  const std::string& source) {
  if (value >= min && value <= max) return Ok();
  return Invalid(key, fmt::format("{} is out of range [{}, {}]", value, min, max), source);
}

template <typename SourceFn>
Status ValidatePods(const PodsConfig& p, const SourceFn& src) {
  if (!p.dns_service_ip.empty() && !IsIpAddress(p.dns_service_ip)) {
    return Invalid("pods.dns_service_ip",
                   fmt::format("\"{}\" is not an IP address", p.dns_service_ip),
                   src("pods.dns_service_ip"));
  }
  if (!IsDnsSubdomain(p.cluster_domain)) {
    return Invalid("pods.cluster_domain",
                   fmt::format("\"{}\" is not a DNS domain", p.cluster_domain),
                   src("pods.cluster_domain"));
  }
  if (p.api_server_port < 1 || p.api_server_port > 65535) {
    return Invalid("pods.api_server_port", fmt::format("{} is not a port", p.api_server_port),
                   src("pods.api_server_port"));
  }
  // The API server refuses TokenRequests shorter than 10 minutes.
  if (auto s = CheckRange("pods.token_expiration_seconds", p.token_expiration_seconds, 600, 1 << 30,
                          src("pods.token_expiration_seconds"));
      !s) {
    return s;
  }
  if (!p.host_priority_class.empty() && !IsDnsSubdomain(p.host_priority_class)) {
    return Invalid("pods.host_priority_class",
                   fmt::format("\"{}\" is not a valid name", p.host_priority_class),
                   src("pods.host_priority_class"));
  }
  return Ok();
}

Status ValidateWithSources(const Config& c, const Sources& sources, bool with_sources) {
  auto src = [&](std::string_view key) { return SourceOf(sources, key, with_sources); };
  const std::pair<const char*, const std::string*> required[] = {
      {"cluster_name", &c.cluster_name},
      {"cluster_namespace", &c.cluster_namespace},
      {"virtual_kubeconfig", &c.virtual_kubeconfig}};
  for (const auto& [key, value] : required) {
    if (value->empty()) return Invalid(key, RequiredHint(*FindFieldByKey(key)), "");
  }
  for (const auto& [key, value] : {required[0], required[1]}) {
    if (!IsDnsLabel(*value)) {
      return Invalid(key,
                     fmt::format("\"{}\" is not a DNS label (at most 63 lowercase letters, digits "
                                 "and '-', starting and ending with a letter or digit)",
                                 *value),
                     src(key));
    }
  }
  if (!IsDnsSubdomain(c.node_name)) {
    return Invalid("node_name",
                   fmt::format("\"{}\" is not a DNS subdomain (at most 253 lowercase letters, "
                               "digits, '-' and '.')",
                               c.node_name),
                   src("node_name"));
  }
  if (!c.virtual_pod_ip.empty() && !IsIpAddress(c.virtual_pod_ip)) {
    return Invalid("virtual_pod_ip", fmt::format("\"{}\" is not an IP address", c.virtual_pod_ip),
                   src("virtual_pod_ip"));
  }
  if (auto s = CheckOneOf("mode", c.mode, {"shared", "virtual"}, src("mode")); !s) return s;
  if (auto s = CheckOneOf("node_mode", c.node_mode, {"single", "per-host-node"}, src("node_mode"));
      !s) {
    return s;
  }
  if (c.kubelet_port < 1 || c.kubelet_port > 65535) {
    return Invalid("kubelet_port", fmt::format("{} is not a port", c.kubelet_port),
                   src("kubelet_port"));
  }
  if (auto hp = ParseHostPort(c.http_addr); !hp) {
    return Invalid("http_addr", hp.error().message(), src("http_addr"));
  }
  if (auto s = CheckOneOf("log_level", c.log_level,
                          {"trace", "debug", "info", "warn", "warning", "error", "critical", "off"},
                          src("log_level"));
      !s) {
    return s;
  }
  if (auto s = CheckOneOf("log_format", c.log_format, {"text", "json"}, src("log_format")); !s) {
    return s;
  }
  if (auto s = CheckRange("host_qps", c.host_qps, 0, 1e6, src("host_qps")); !s) return s;
  if (auto s = CheckRange("host_burst", c.host_burst, 1, 1e6, src("host_burst")); !s) return s;
  if (auto s = CheckRange("virtual_qps", c.virtual_qps, 0, 1e6, src("virtual_qps")); !s) return s;
  if (auto s = CheckRange("virtual_burst", c.virtual_burst, 1, 1e6, src("virtual_burst")); !s) {
    return s;
  }
  if (auto s = CheckRange("workers", c.workers, 1, 1000, src("workers")); !s) return s;
  if (auto s = CheckLabels(c.node.labels, "node.labels", src("node.labels")); !s) return s;
  std::set<std::pair<std::string, std::string>> taint_keys;
  for (const Taint& taint : c.node.taints) {
    const std::string source = src("node.taints");
    if (!IsQualifiedName(taint.key)) {
      return Invalid("node.taints", fmt::format("\"{}\" is not a valid taint key", taint.key),
                     source);
    }
    if (!IsLabelValue(taint.value)) {
      return Invalid("node.taints", fmt::format("\"{}\" is not a valid taint value", taint.value),
                     source);
    }
    if (auto s = CheckOneOf("node.taints", taint.effect,
                            {"NoSchedule", "PreferNoSchedule", "NoExecute"}, source);
        !s) {
      return s;
    }
    if (!taint_keys.emplace(taint.key, taint.effect).second) {
      return Invalid("node.taints",
                     fmt::format("taint {}:{} is listed twice", taint.key, taint.effect), source);
    }
  }
  if (auto s = CheckRange("node.max_pods", c.node.max_pods, 1, 1e6, src("node.max_pods")); !s) {
    return s;
  }
  if (auto s = CheckLabels(c.node.host_node_selector, "node.host_node_selector",
                           src("node.host_node_selector"));
      !s) {
    return s;
  }
  return ValidatePods(c.pods, src);
}

void ApplyDerivedDefaults(Config& config, Sources& sources) {
  if (config.node_name.empty() && !config.cluster_name.empty()) {
    config.node_name = "vkubelet-" + config.cluster_name;
    sources["node_name"] = "default vkubelet-<cluster_name>";
  }
}

}  // namespace

EnvLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

std::vector<OptionInfo> ConfigOptions() {
  std::vector<OptionInfo> options;
  options.push_back({"", kConfigFlag, kConfigEnv, "FILE", "",
                     "YAML file with any of the options below (keys as shown)"});
  for (const Field& field : Fields()) {
    std::string default_value = DefaultText(field);
    if (std::string_view(field.key) == "node_name") default_value = "vkubelet-<cluster-name>";
    options.push_back(
        {field.key, field.flag, field.env, field.value_name, default_value, field.help});
  }
  return options;
}

std::vector<FlagSpec> ConfigFlagSpecs() {
  std::vector<FlagSpec> specs;
  specs.push_back({kConfigFlag, true});
  for (const Field& field : Fields()) specs.push_back({field.flag, true});
  specs.push_back({"metrics-addr", true});
  return specs;
}

Result<Config> LoadConfig(std::span<const ParsedFlag> flags, const EnvLookup& env) {
  Config config;
  Sources sources;

  std::string config_file;
  if (auto from_env = env(kConfigEnv); from_env && !from_env->empty()) config_file = *from_env;
  for (const ParsedFlag& flag : flags) {
    if (flag.name == kConfigFlag) config_file = flag.value;
  }
  if (!config_file.empty()) {
    if (auto status = ApplyYamlFile(config, config_file, sources); !status) {
      return tl::unexpected(status.error());
    }
  }

  // An empty variable counts as unset: manifests often template variables that may be blank.
  for (const Field& field : Fields()) {
    auto value = env(field.env);
    if (!value || value->empty()) continue;
    const std::string source = fmt::format("from env {}", field.env);
    if (auto status = SetFromText(config, field, *value); !status) {
      return Invalid(field.key, status.error().message(), source);
    }
    sources[field.key] = source;
  }

  for (const ParsedFlag& flag : flags) {
    if (flag.name == kConfigFlag) continue;
    const Field* field = FindFieldByFlag(flag.name);
    if (field == nullptr) {
      return MakeError(ErrorCode::kConfig, "unknown flag --" + flag.name);
    }
    const std::string source = "from --" + flag.name;
    if (auto status = SetFromText(config, *field, flag.value); !status) {
      return Invalid(field->key, status.error().message(), source);
    }
    sources[field->key] = source;
  }

  ApplyDerivedDefaults(config, sources);
  if (auto status = ValidateWithSources(config, sources, true); !status) {
    return tl::unexpected(status.error());
  }
  return config;
}

Result<Config> LoadConfigFromArgs(std::span<const std::string> args, const EnvLookup& env) {
  const std::vector<FlagSpec> specs = ConfigFlagSpecs();
  auto parsed = ParseFlags(args, specs);
  if (!parsed) return tl::unexpected(parsed.error());
  if (!parsed->positional.empty()) {
    return MakeError(ErrorCode::kConfig,
                     "unexpected argument \"" + parsed->positional.front() + "\"");
  }
  return LoadConfig(parsed->flags, env);
}

Status Validate(const Config& config) { return ValidateWithSources(config, {}, false); }

Result<HostPort> ParseHostPort(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return MakeError(ErrorCode::kConfig, fmt::format("\"{}\" is not HOST:PORT", text));
  }
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  if (host.starts_with('[')) {
    if (!host.ends_with(']')) {
      return MakeError(ErrorCode::kConfig, fmt::format("\"{}\" is not HOST:PORT", text));
    }
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return MakeError(ErrorCode::kConfig,
                     fmt::format("\"{}\": write IPv6 addresses in brackets, [::1]:PORT", text));
  }
  if (!host.empty() && !IsIpAddress(host)) {
    return MakeError(ErrorCode::kConfig,
                     fmt::format("\"{}\" is not an IP address (in \"{}\")", host, text));
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535) {
    return MakeError(ErrorCode::kConfig,
                     fmt::format("\"{}\" is not a port (in \"{}\")", port_text, text));
  }
  return HostPort{std::string(host), static_cast<uint16_t>(port)};
}

bool IsDnsLabel(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '-') return false;
  }
  return true;
}

bool IsDnsSubdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  while (true) {
    size_t dot = s.find('.');
    std::string_view label = s.substr(0, dot);
    // Subdomain labels follow the label rules except for the 63-character limit per label.
    if (label.empty() || !IsAlnum(label.front()) || !IsAlnum(label.back())) return false;
    for (char c : label) {
      if (!IsAlnum(c) && c != '-') return false;
    }
    if (dot == std::string_view::npos) return true;
    s.remove_prefix(dot + 1);
  }
}

bool IsLabelValue(std::string_view s) {
  if (s.empty()) return true;
  if (s.size() > 63) return false;
  if (!IsAlnumMixedCase(s.front()) || !IsAlnumMixedCase(s.back())) return false;
  for (char c : s) {
    if (!IsAlnumMixedCase(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

bool IsQualifiedName(std::string_view s) {
  std::string_view name = s;
  if (size_t slash = s.find('/'); slash != std::string_view::npos) {
    if (!IsDnsSubdomain(s.substr(0, slash))) return false;
    name = s.substr(slash + 1);
  }
  return !name.empty() && IsLabelValue(name);
}

bool IsIpAddress(std::string_view s) {
  std::string text(s);
  unsigned char buffer[16];
  return inet_pton(AF_INET, text.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

}  // namespace vk::kubelet
