#pragma once

#include <fstream>
#include <memory>
#include <string>

#include "hostclient/base/error.h"
#include "tests/kubesim/api_server.h"
#include "tests/kubesim/test_pki.h"

namespace vk::testing {

// A kubesim API server over TLS (a fresh CA per instance) that knows one bearer token for the
// user "vkubelet", and a kubeconfig file that reaches it as that user. For integration tests of
// the kubelet daemon and its commands. Not thread-safe; the directory must exist.
class TlsKubesim {
 public:
  static constexpr char kToken[] = "vkubelet-test-token";
  static constexpr char kUser[] = "vkubelet";

  TlsKubesim(std::string dir, std::string name) : dir_(std::move(dir)), name_(std::move(name)) {}

  // Creates the PKI, starts the server and writes <dir>/<name>.kubeconfig (and its CA file).
  Status Start(const std::string& context_namespace = "default") {
    auto ca = kubesim::MakeCa(name_ + "-ca");
    if (!ca) return tl::unexpected(ca.error());
    auto cert = kubesim::IssueServerCert(*ca);
    if (!cert) return tl::unexpected(cert.error());
    kubesim::ApiServer::Options options;
    options.tls_cert_pem = cert->cert_pem;
    options.tls_key_pem = cert->key_pem;
    options.tokens[kToken] = kubesim::UserInfo{kUser, "uid-vkubelet", {}, {}};
    server_ = std::make_unique<kubesim::ApiServer>(std::move(options));
    auto port = server_->Start();
    if (!port) return tl::unexpected(port.error());

    const std::string ca_path = dir_ + "/" + name_ + "-ca.crt";
    std::ofstream(ca_path) << ca->ca_cert_pem;
    kubeconfig_ = dir_ + "/" + name_ + ".kubeconfig";
    std::ofstream(kubeconfig_) << "apiVersion: v1\n"
                               << "kind: Config\n"
                               << "clusters:\n"
                               << "- name: " << name_ << "\n"
                               << "  cluster:\n"
                               << "    server: " << server_->url() << "\n"
                               << "    certificate-authority: " << ca_path << "\n"
                               << "users:\n"
                               << "- name: " << kUser << "\n"
                               << "  user:\n"
                               << "    token: " << kToken << "\n"
                               << "contexts:\n"
                               << "- name: " << name_ << "\n"
                               << "  context:\n"
                               << "    cluster: " << name_ << "\n"
                               << "    user: " << kUser << "\n"
                               << "    namespace: " << context_namespace << "\n"
                               << "current-context: " << name_ << "\n";
    return Ok();
  }

  kubesim::ApiServer& server() { return *server_; }
  const std::string& kubeconfig() const { return kubeconfig_; }

 private:
  std::string dir_;
  std::string name_;
  std::string kubeconfig_;
  std::unique_ptr<kubesim::ApiServer> server_;
};

}  // namespace vk::testing
