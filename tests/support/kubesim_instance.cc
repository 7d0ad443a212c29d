#include "tests/support/kubesim_instance.h"

namespace vk::testing {

Result<std::unique_ptr<KubesimInstance>> KubesimInstance::Start(
    kubesim::ApiServer::Options options) {
  std::unique_ptr<KubesimInstance> instance(new KubesimInstance());
  auto pki = kubesim::MakeCa("kubesim-test-ca");
  if (!pki) return tl::unexpected(pki.error());
  instance->pki_ = *pki;
  auto serving = kubesim::IssueServerCert(instance->pki_);
  if (!serving) return tl::unexpected(serving.error());
  options.tls_cert_pem = serving->cert_pem;
  options.tls_key_pem = serving->key_pem;
  options.client_ca_pem = instance->pki_.ca_cert_pem;
  options.tokens[kAdminToken] =
      kubesim::UserInfo{"admin", "", {"system:masters", kubesim::kAuthenticatedGroup}, {}};
  instance->server_ = std::make_unique<kubesim::ApiServer>(std::move(options));
  auto port = instance->server_->Start();
  if (!port) return tl::unexpected(port.error());
  return instance;
}

hostclient::ClusterConfig KubesimInstance::TokenConfig(const std::string& cluster_name) const {
  hostclient::ClusterConfig config;
  config.name = cluster_name;
  config.server = server_->url();
  config.ca_pem = pki_.ca_cert_pem;
  config.token = kAdminToken;
  return config;
}

Result<hostclient::ClusterConfig> KubesimInstance::ClientCertConfig(
    const std::string& user, const std::vector<std::string>& groups,
    const std::string& cluster_name) const {
  auto cert = kubesim::IssueClientCert(pki_, user, groups);
  if (!cert) return tl::unexpected(cert.error());
  hostclient::ClusterConfig config;
  config.name = cluster_name;
  config.server = server_->url();
  config.ca_pem = pki_.ca_cert_pem;
  config.client_cert_pem = cert->cert_pem;
  config.client_key_pem = cert->key_pem;
  return config;
}

}  // namespace vk::testing
