#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "hostclient/base/error.h"
#include "hostclient/base/object.h"

namespace vk::hostclient {
class RestClient;
}

namespace vk::syncer::shared {

// What a pod's projected service-account token source asks for.
struct TokenRequestSpec {
  std::string service_account;  // "default" when the pod names none
  std::string audience;         // empty: the API server's own audience
  int64_t expiration_seconds = 0;
};

// The token a pod mounts (the first serviceAccountToken source of its projected volumes), or
// nullopt when it mounts none. default_expiration applies when the source does not say.
std::optional<TokenRequestSpec> TokenRequestOf(const Object& pod, int64_t default_expiration);

// Host name of the Secret holding the token of virtual pod ns/name. Distinct from the copies of
// the pod's ConfigMaps and Secrets, which HostName(cluster, ns, <object>) names.
std::string HostTokenSecretName(std::string_view cluster, std::string_view ns,
                                std::string_view pod_name);

// Keeps, for each virtual pod that mounts a service-account token, a host Secret with the keys
// the kube-api-access volume serves ("token", "ca.crt", "namespace"). Tokens come from
// TokenRequest on the virtual API server, bound to the virtual pod (so that they die with it),
// and are renewed once 80% of their lifetime has passed, as the kubelet does.
//
// The Secret records its token's pod UID and renewal time in annotations, so that a restarted
// daemon reuses fresh tokens instead of asking for new ones.
class TokenSecrets {
 public:
  using WallClock = std::function<std::chrono::system_clock::time_point()>;
  struct Options {
    std::string cluster;
    std::string host_namespace;
    int64_t default_expiration_seconds = 3607;
    // ca.crt when the pod's namespace has no kube-root-ca.crt ConfigMap: the CA of the virtual
    // API server as our kubeconfig trusts it.
    std::string fallback_ca_pem;
    WallClock wall_clock;  // system_clock when empty
  };
  // The cached host Secret of that name (null when absent) and the virtual ConfigMap ns/name.
  using SecretLookup = std::function<ObjectPtr(const std::string& name)>;
  using ConfigMapLookup = std::function<ObjectPtr(const std::string& ns, const std::string& name)>;

  TokenSecrets(hostclient::RestClient& virtual_client, hostclient::RestClient& host_client,
               Options options, SecretLookup host_secret, ConfigMapLookup virtual_config_map);

  struct Ensured {
    std::string secret_name;
    std::chrono::system_clock::time_point renew_at;
  };
  // Makes sure the pod's token Secret exists and is fresh; nullopt when the pod mounts no token.
  // The Secret cache behind host_secret must have synced: a Secret it does not show and that this
  // object did not write is taken as missing.
  Result<std::optional<Ensured>> Ensure(const Object& virtual_pod);
  // Deletes the token Secret of virtual pod ns/name, if any.
  Status Remove(const std::string& ns, const std::string& name);

 private:
  Result<Ensured> Issue(const Object& virtual_pod, const TokenRequestSpec& spec,
                        const std::string& secret_name, const ObjectPtr& current);
  Ensured Remember(const std::string& secret_name, const Object& virtual_pod,
                   const TokenRequestSpec& spec, std::chrono::system_clock::time_point renew_at);
  std::chrono::system_clock::time_point Now() const;

  hostclient::RestClient& virtual_client_;
  hostclient::RestClient& host_client_;
  const Options options_;
  const SecretLookup host_secret_;
  const ConfigMapLookup virtual_config_map_;

  // Secrets this process wrote, until the cache shows them: name -> what they hold. Without it, a
  // reconcile right after an Issue would find no Secret in the (lagging) cache and issue again.
  struct Issued {
    std::string pod_uid;
    std::string spec;
    std::chrono::system_clock::time_point renew_at;
  };
  std::mutex mutex_;
  std::map<std::string, Issued> issued_;
};

}  // namespace vk::syncer::shared
