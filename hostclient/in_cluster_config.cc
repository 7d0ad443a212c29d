// The config of a pod's service account, with client-go's rules (rest.InClusterConfig and the
// in-cluster namespace lookup).

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>

#include "hostclient/base/file.h"
#include "hostclient/base/text.h"
#include "hostclient/cluster_config.h"

namespace vk::hostclient {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

}  // namespace

Result<ClusterConfig> InClusterConfig(const std::string& cluster_name,
                                      const std::string& service_account_dir) {
  std::string host = Env("KUBERNETES_SERVICE_HOST");
  std::string port = Env("KUBERNETES_SERVICE_PORT");
  if (host.empty() || port.empty()) {
    return MakeError(ErrorCode::kConfig,
                     "not running in a cluster: KUBERNETES_SERVICE_HOST and "
                     "KUBERNETES_SERVICE_PORT must be set");
  }
  namespace fs = std::filesystem;
  const fs::path dir(service_account_dir);

  ClusterConfig config;
  config.name = cluster_name;
  // An IPv6 service address needs brackets in a URL (net.JoinHostPort does the same).
  bool ipv6 = host.find(':') != std::string::npos && host.front() != '[';
  config.server = "https://" + (ipv6 ? "[" + host + "]" : host) + ":" + port;

  // The token is only checked here; Credentials reads it on use so that rotation is picked up.
  config.token_file = (dir / "token").string();
  if (auto probe = ReadFileContents(config.token_file); !probe) {
    return MakeError(ErrorCode::kConfig,
                     "in-cluster service account token " + probe.error().message());
  }

  // As in client-go, a missing CA is not fatal: the system roots may still verify the server.
  const std::string ca_path = (dir / "ca.crt").string();
  if (auto ca = ReadFileContents(ca_path); ca) {
    config.ca_pem = std::move(*ca);
  } else {
    spdlog::warn("in-cluster config for {}: no CA bundle ({}); using the system roots",
                 cluster_name, ca.error().message());
  }

  // POD_NAMESPACE (downward API) first, then the service account's namespace, then "default".
  if (std::string ns = Env("POD_NAMESPACE"); !ns.empty()) {
    config.default_namespace = ns;
  } else if (auto file = ReadFileContents((dir / "namespace").string()); file) {
    if (std::string trimmed = TrimSpace(*file); !trimmed.empty()) {
      config.default_namespace = trimmed;
    }
  }
  return config;
}

}  // namespace vk::hostclient
