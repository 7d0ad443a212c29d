#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "hostclient/base/error.h"

namespace vk::hostclient {

// An exec credential plugin (client.authentication.k8s.io/v1 or v1beta1), as in a kubeconfig user.
struct ExecConfig {
  std::string api_version;  // e.g. "client.authentication.k8s.io/v1"
  std::string command;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::string install_hint;
  bool provide_cluster_info = false;
  std::string interactive_mode;  // "Never", "IfAvailable", "Always"; we never have a terminal
};

// Everything needed to talk to one API server: where it is, how to trust it and who we are.
// Produced by LoadKubeconfig or InClusterConfig; PEM fields hold file contents, already read.
struct ClusterConfig {
  std::string name;    // our label for this cluster in logs and metrics: "virtual", "host", ...
  std::string server;  // "https://host:port" with an optional path prefix
  std::string ca_pem;  // trusted CA bundle; empty: the system's default roots
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;  // overrides the name used for SNI and certificate verification
  std::string token;            // static bearer token
  std::string token_file;       // bearer token file, re-read when it changes (bound tokens rotate)
  std::string client_cert_pem;
  std::string client_key_pem;
  std::optional<ExecConfig> exec;
  std::string username;  // basic auth is deprecated but kubeconfigs may still carry it
  std::string password;
  std::string default_namespace = "default";  // the context's namespace
  std::string proxy_url;                      // recorded; proxies are not supported yet
};

// client-go's loading rules: explicit paths first; otherwise $KUBECONFIG (a ':'-separated list
// merged in order, the first file to set a map key wins), otherwise ~/.kube/config.
struct KubeconfigOptions {
  std::vector<std::string> paths;
  std::string context;       // empty: the merged current-context
  std::string cluster_name;  // copied into ClusterConfig::name
};

// Loads and validates a kubeconfig. Relative file paths inside it resolve against the directory
// of the file that declared them. Errors are kConfig and name the offending field.
Result<ClusterConfig> LoadKubeconfig(const KubeconfigOptions& options);

// Parses one kubeconfig document from text (base_dir resolves relative paths).
Result<ClusterConfig> ParseKubeconfig(const std::string& yaml_text, const std::string& base_dir,
                                      const std::string& context, const std::string& cluster_name);

// The config of a pod's service account: KUBERNETES_SERVICE_HOST/PORT and the files under
// /var/run/secrets/kubernetes.io/serviceaccount (root overridable for tests).
Result<ClusterConfig> InClusterConfig(
    const std::string& cluster_name,
    const std::string& service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

}  // namespace vk::hostclient
