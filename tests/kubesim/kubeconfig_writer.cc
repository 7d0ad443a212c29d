#include "tests/kubesim/kubeconfig_writer.h"

#include "hostclient/base/base64.h"

namespace vk::kubesim {

std::string MakeKubeconfig(const KubeconfigSpec& spec) {
  const std::string& n = spec.name;
  std::string out = "apiVersion: v1\nkind: Config\nclusters:\n- name: " + n +
                    "\n  cluster:\n    server: " + spec.server_url + "\n";
  if (!spec.ca_pem.empty()) {
    out += "    certificate-authority-data: " + Base64Encode(spec.ca_pem) + "\n";
  }
  out += "users:\n- name: " + n + "-user\n  user:\n";
  if (!spec.client_cert_pem.empty()) {
    out += "    client-certificate-data: " + Base64Encode(spec.client_cert_pem) + "\n";
    out += "    client-key-data: " + Base64Encode(spec.client_key_pem) + "\n";
  } else if (!spec.token.empty()) {
    out += "    token: " + spec.token + "\n";
  } else {
    out += "    {}\n";
  }
  out += "contexts:\n- name: " + n + "\n  context:\n    cluster: " + n + "\n    user: " + n +
         "-user\ncurrent-context: " + n + "\n";
  return out;
}

}  // namespace vk::kubesim
