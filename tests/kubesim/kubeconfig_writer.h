#pragma once

#include <string>

namespace vk::kubesim {

// What a kubeconfig for a kubesim server holds: the server URL, the CA to trust (empty for plain
// HTTP), and either a client certificate or a bearer token for the user.
struct KubeconfigSpec {
  std::string server_url;
  std::string ca_pem;
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string token;  // used when no client certificate is given
  std::string name = "kubesim";
};

// A kubeconfig (YAML, one cluster/user/context, current-context set) with the certificates
// embedded as *-data fields, as kubectl and client-go read it.
std::string MakeKubeconfig(const KubeconfigSpec& spec);

}  // namespace vk::kubesim
