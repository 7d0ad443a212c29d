#include "tests/support/kubesim_instance.h"

#include <gtest/gtest.h>

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
  // Pods see the cluster CA in kube-root-ca.crt, as kube-controller-manager publishes it.
  if (options.storage.root_ca_pem.empty()) options.storage.root_ca_pem = instance->pki_.ca_cert_pem;
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

std::unique_ptr<KubesimInstance> StartKubesimWithClient(
    const std::string& name, bool builtin_controllers,
    std::unique_ptr<hostclient::RestClient>& client) {
  kubesim::ApiServer::Options options;
  options.storage.builtin_controllers = builtin_controllers;
  auto instance = KubesimInstance::Start(options);
  EXPECT_TRUE(instance.has_value()) << instance.error().ToString();
  if (!instance) return nullptr;
  auto made = hostclient::RestClient::Create((*instance)->TokenConfig(name));
  EXPECT_TRUE(made.has_value()) << made.error().ToString();
  if (!made) return nullptr;
  client = std::move(*made);
  return std::move(*instance);
}

}  // namespace vk::testing
