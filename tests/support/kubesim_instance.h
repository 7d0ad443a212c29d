#pragma once

#include <memory>
#include <string>

#include "hostclient/base/error.h"
#include "hostclient/cluster_config.h"
#include "hostclient/rest_client.h"
#include "tests/kubesim/api_server.h"
#include "tests/kubesim/test_pki.h"

namespace vk::testing {

// An in-process kubesim over TLS, as tests and benchmarks use it: its own CA, a server
// certificate for 127.0.0.1, an admin bearer token and an admin client certificate (group
// system:masters). Builds the ClusterConfig a client needs to reach it. Owns the server; stops it
// on destruction.
class KubesimInstance {
 public:
  static constexpr char kAdminToken[] = "admin-token";

  // options.tls_* and client_ca_pem are filled in; the rest is passed through.
  static Result<std::unique_ptr<KubesimInstance>> Start(kubesim::ApiServer::Options options = {});

  kubesim::ApiServer& server() { return *server_; }
  const kubesim::Pki& pki() const { return pki_; }

  // Trusts the CA and authenticates with the admin token.
  hostclient::ClusterConfig TokenConfig(const std::string& cluster_name = "test") const;
  // Trusts the CA and authenticates with a client certificate (CN=user, O=groups).
  Result<hostclient::ClusterConfig> ClientCertConfig(
      const std::string& user, const std::vector<std::string>& groups,
      const std::string& cluster_name = "test") const;

 private:
  KubesimInstance() = default;
  kubesim::Pki pki_;
  std::unique_ptr<kubesim::ApiServer> server_;
};

// For fixtures that talk to several clusters: starts a kubesim (kube-controller-manager's
// namespace population on or off) and an admin client named `name` for it. Failures are reported
// as test failures (EXPECT) and leave both null.
std::unique_ptr<KubesimInstance> StartKubesimWithClient(
    const std::string& name, bool builtin_controllers,
    std::unique_ptr<hostclient::RestClient>& client);

}  // namespace vk::testing
