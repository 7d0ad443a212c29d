#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hostclient/base/error.h"
#include "kubelet/flags.h"

namespace vk::kubelet {

// A node taint (core/v1 Taint without timeAdded).
struct Taint {
  std::string key;
  std::string value;
  std::string effect;  // NoSchedule, PreferNoSchedule or NoExecute
  bool operator==(const Taint&) const = default;
};

// How the virtual node(s) present themselves to the virtual cluster.
struct NodeConfig {
  std::map<std::string, std::string> labels;  // added to the node's own labels
  std::vector<Taint> taints;                  // registered with the node
  int max_pods = 110;                         // the node's pods capacity
  // Restricts the host nodes whose capacity the virtual node(s) stand for, and where pods go.
  std::map<std::string, std::string> host_node_selector;
};

// How pods of the virtual cluster are run on the host (shared mode).
struct PodsConfig {
  // Host-level privileges a virtual pod may use; all denied by default (a denied pod fails with
  // an event naming the field and the option that would allow it).
  bool allow_host_network = false;
  bool allow_host_pid = false;
  bool allow_host_ipc = false;
  bool allow_host_path = false;
  bool allow_privileged = false;
  std::vector<std::string> allowed_capabilities;  // "NET_ADMIN", ...; "ALL" allows every one
  // The virtual cluster's DNS service (pods with dnsPolicy ClusterFirst use it); empty keeps the
  // pod's DNS settings as they are.
  std::string dns_service_ip;
  std::string cluster_domain = "cluster.local";
  // Where host pods reach the virtual API server (KUBERNETES_SERVICE_HOST/PORT); empty host
  // leaves the variables alone.
  std::string api_server_host;
  int api_server_port = 443;
  std::string host_priority_class;  // PriorityClass of every host pod; empty: none
  // Token lifetime asked from the virtual API server for service-account tokens that do not say.
  int token_expiration_seconds = 3607;
};

// The whole daemon's configuration: built-in defaults < YAML file (--config) < environment
// variables < command-line flags. Load with LoadConfig, which also validates; a Config built by
// hand should go through Validate before use.
struct Config {
  std::string cluster_name;       // the virtual cluster's name (DNS label)
  std::string cluster_namespace;  // host namespace where the virtual cluster's pods run
  std::string host_kubeconfig;    // empty: in-cluster config (vkubelet runs as a host pod)
  std::string virtual_kubeconfig;
  // Address the virtual API server uses to reach our kubelet API (the node's InternalIP).
  std::string virtual_pod_ip;
  std::string node_name;             // default "vkubelet-<cluster_name>"
  std::string mode = "shared";       // "shared" | "virtual"
  std::string node_mode = "single";  // "single" | "per-host-node"
  int kubelet_port = 10250;
  // Plain-HTTP endpoint for /healthz, /livez, /readyz and /metrics (virtual-kubelet's port).
  std::string http_addr = "0.0.0.0:10255";
  std::string log_level = "info";   // trace, debug, info, warn, error, critical, off
  std::string log_format = "text";  // "text" | "json"
  double host_qps = 50;             // client-side rate limit towards the host API server
  int host_burst = 100;
  double virtual_qps = 50;  // and towards the virtual API server
  int virtual_burst = 100;
  int workers = 10;  // reconcile workers per controller
  NodeConfig node;
  PodsConfig pods;

  bool operator==(const Config&) const = default;
};

// Looks up an environment variable; nullopt when unset. Injected so that tests stay hermetic.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup ProcessEnvironment();

// One configuration option as --help describes it.
struct OptionInfo {
  std::string key;            // YAML key: "kubelet_port", "node.max_pods"
  std::string flag;           // "kubelet-port"
  std::string env;            // "VKUBELET_KUBELET_PORT"
  std::string value_name;     // "PORT"
  std::string default_value;  // as text, "" when none
  std::string help;
};
std::vector<OptionInfo> ConfigOptions();

// The flags LoadConfig understands (every option plus --config), for ParseFlags.
std::vector<FlagSpec> ConfigFlagSpecs();

// Merges defaults, the YAML file (--config FILE, or $VKUBELET_CONFIG), the environment and the
// flags, then validates. Errors are kConfig with one line "invalid config: <field>: <problem>
// (<where it came from>)"; a YAML key that is not an option is an error naming it.
Result<Config> LoadConfig(std::span<const ParsedFlag> flags, const EnvLookup& env);
// Parses args with ConfigFlagSpecs() first; positional arguments are an error.
Result<Config> LoadConfigFromArgs(std::span<const std::string> args, const EnvLookup& env);

// Checks a Config's values; the same messages as LoadConfig, without the source.
Status Validate(const Config& config);

struct HostPort {
  std::string host;  // an IP literal; "" means every address
  uint16_t port = 0;
};
// Splits "host:port", "[v6]:port" or ":port"; the host must be an IP literal or empty.
Result<HostPort> ParseHostPort(std::string_view text);

// Kubernetes name rules (apimachinery validation).
bool IsDnsLabel(std::string_view s);       // RFC 1123 label, at most 63 characters
bool IsDnsSubdomain(std::string_view s);   // RFC 1123 subdomain, at most 253 characters
bool IsQualifiedName(std::string_view s);  // label/annotation key: [prefix/]name
bool IsLabelValue(std::string_view s);
bool IsIpAddress(std::string_view s);

}  // namespace vk::kubelet
