#pragma once

#include <string>
#include <vector>

#include "hostclient/base/error.h"

namespace vk::kubesim {

// A certificate and its private key, both PEM (the key as PKCS#8).
struct CertAndKey {
  std::string cert_pem;
  std::string key_pem;
};

// A throw-away certificate authority for tests and the sandbox: everything lives in memory, keys
// are EC P-256, certificates are valid from an hour ago for a year. Not for production use: the
// keys are never protected and the CA has no revocation.
struct Pki {
  std::string ca_cert_pem;
  std::string ca_key_pem;
};

// Creates a self-signed CA (basicConstraints CA:TRUE, keyCertSign) with the given common name.
Result<Pki> MakeCa(const std::string& cn = "kubesim-ca");

// Issues a TLS server certificate (serverAuth) signed by the CA. Its subjectAltName always holds
// DNS:localhost and IP:127.0.0.1, plus the extra names given here (duplicates are dropped). The
// common name is the first DNS name.
Result<CertAndKey> IssueServerCert(const Pki& pki, const std::vector<std::string>& extra_dns = {},
                                   const std::vector<std::string>& extra_ips = {});

// Issues a TLS client certificate (clientAuth) signed by the CA. Kubernetes reads the user name
// from the subject's CN and the groups from its O entries, in order.
Result<CertAndKey> IssueClientCert(const Pki& pki, const std::string& cn,
                                   const std::vector<std::string>& orgs = {});

}  // namespace vk::kubesim
