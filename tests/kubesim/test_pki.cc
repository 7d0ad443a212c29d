#include "tests/kubesim/test_pki.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <memory>

namespace vk::kubesim {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free_all(b); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct X509ExtFree {
  void operator()(X509_EXTENSION* e) const { X509_EXTENSION_free(e); }
};
struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};

using BioPtr = std::unique_ptr<BIO, BioFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using X509ExtPtr = std::unique_ptr<X509_EXTENSION, X509ExtFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;

constexpr long kNotBeforeSkewSeconds = 60 * 60;
constexpr long kValiditySeconds = 365L * 24 * 60 * 60;

// Drains OpenSSL's thread-local error queue into one error, so that a later call does not report
// a stale reason.
tl::unexpected<Error> OpenSslError(const std::string& what) {
  std::string reasons;
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    if (!reasons.empty()) reasons += "; ";
    reasons += buf;
  }
  if (reasons.empty()) reasons = "unknown OpenSSL error";
  return MakeError(ErrorCode::kTls, "test pki: " + what + ": " + reasons);
}

Result<PkeyPtr> NewKey() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return OpenSslError("generate EC P-256 key");
  return key;
}

Result<std::string> CertToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return OpenSslError("write certificate");
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

Result<std::string> KeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpenSslError("write private key");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

Result<X509Ptr> CertFromPem(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return OpenSslError("read CA certificate");
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return OpenSslError("read CA certificate");
  return cert;
}

Result<PkeyPtr> KeyFromPem(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return OpenSslError("read CA key");
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return OpenSslError("read CA key");
  return key;
}

// Adds one extension given in openssl.cnf syntax; ctx carries issuer and subject for the key
// identifier extensions.
Status AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  X509ExtPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return OpenSslError(std::string("add extension ") + OBJ_nid2sn(nid) + "=" + value);
  }
  return Ok();
}

Status AddNameEntry(X509_NAME* name, const char* field, const std::string& value) {
  if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                 0) != 1) {
    return OpenSslError(std::string("set subject ") + field + "=" + value);
  }
  return Ok();
}

// A certificate with version 3, a random positive 127-bit serial, the test validity window and
// the given subject, public key and (later) issuer.
Result<X509Ptr> NewCertificate(EVP_PKEY* subject_key, const std::string& cn,
                               const std::vector<std::string>& orgs) {
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return OpenSslError("create certificate");
  }
  BnPtr serial(BN_new());
  if (!serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return OpenSslError("set serial number");
  }
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kNotBeforeSkewSeconds) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), kValiditySeconds) == nullptr) {
    return OpenSslError("set validity");
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const std::string& org : orgs) {
    if (auto st = AddNameEntry(name, "O", org); !st) return tl::unexpected(st.error());
  }
  if (auto st = AddNameEntry(name, "CN", cn); !st) return tl::unexpected(st.error());
  if (X509_set_pubkey(cert.get(), subject_key) != 1) return OpenSslError("set public key");
  return cert;
}

Status Sign(X509* cert, EVP_PKEY* issuer_key) {
  if (X509_sign(cert, issuer_key, EVP_sha256()) <= 0) return OpenSslError("sign certificate");
  return Ok();
}

// Issues a leaf certificate for `cn` with the given subject, extensions and a fresh key.
Result<CertAndKey> IssueLeaf(const Pki& pki, const std::string& cn,
                             const std::vector<std::string>& orgs, const std::string& eku,
                             const std::string& san) {
  auto ca_cert = CertFromPem(pki.ca_cert_pem);
  if (!ca_cert) return tl::unexpected(ca_cert.error());
  auto ca_key = KeyFromPem(pki.ca_key_pem);
  if (!ca_key) return tl::unexpected(ca_key.error());
  auto key = NewKey();
  if (!key) return tl::unexpected(key.error());
  auto cert = NewCertificate(key->get(), cn, orgs);
  if (!cert) return tl::unexpected(cert.error());
  if (X509_set_issuer_name(cert->get(), X509_get_subject_name(ca_cert->get())) != 1) {
    return OpenSslError("set issuer");
  }
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, ca_cert->get(), cert->get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair<int, std::string>{NID_basic_constraints, "critical,CA:FALSE"},
                            {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
                            {NID_ext_key_usage, eku},
                            {NID_subject_key_identifier, "hash"},
                            {NID_authority_key_identifier, "keyid:always"}}) {
    if (auto st = AddExtension(cert->get(), &ctx, nid, value); !st) {
      return tl::unexpected(st.error());
    }
  }
  if (!san.empty()) {
    if (auto st = AddExtension(cert->get(), &ctx, NID_subject_alt_name, san); !st) {
      return tl::unexpected(st.error());
    }
  }
  if (auto st = Sign(cert->get(), ca_key->get()); !st) return tl::unexpected(st.error());
  auto cert_pem = CertToPem(cert->get());
  if (!cert_pem) return tl::unexpected(cert_pem.error());
  auto key_pem = KeyToPem(key->get());
  if (!key_pem) return tl::unexpected(key_pem.error());
  return CertAndKey{std::move(*cert_pem), std::move(*key_pem)};
}

void AppendUnique(std::vector<std::string>& list, const std::vector<std::string>& extra) {
  for (const std::string& item : extra) {
    if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
  }
}

// openssl.cnf syntax separates entries with commas; a name that holds one would silently turn
// into two entries.
bool ValidSanEntry(const std::string& value) {
  return !value.empty() && value.find_first_of(",\n") == std::string::npos;
}

}  // namespace

Result<Pki> MakeCa(const std::string& cn) {
  auto key = NewKey();
  if (!key) return tl::unexpected(key.error());
  auto cert = NewCertificate(key->get(), cn, {});
  if (!cert) return tl::unexpected(cert.error());
  if (X509_set_issuer_name(cert->get(), X509_get_subject_name(cert->get())) != 1) {
    return OpenSslError("set issuer");
  }
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, cert->get(), cert->get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair<int, std::string>{NID_basic_constraints, "critical,CA:TRUE"},
                            {NID_key_usage, "critical,digitalSignature,keyCertSign,cRLSign"},
                            {NID_subject_key_identifier, "hash"}}) {
    if (auto st = AddExtension(cert->get(), &ctx, nid, value); !st) {
      return tl::unexpected(st.error());
    }
  }
  if (auto st = Sign(cert->get(), key->get()); !st) return tl::unexpected(st.error());
  auto cert_pem = CertToPem(cert->get());
  if (!cert_pem) return tl::unexpected(cert_pem.error());
  auto key_pem = KeyToPem(key->get());
  if (!key_pem) return tl::unexpected(key_pem.error());
  return Pki{std::move(*cert_pem), std::move(*key_pem)};
}

Result<CertAndKey> IssueServerCert(const Pki& pki, const std::vector<std::string>& extra_dns,
                                   const std::vector<std::string>& extra_ips) {
  std::vector<std::string> dns{"localhost"};
  std::vector<std::string> ips{"127.0.0.1"};
  AppendUnique(dns, extra_dns);
  AppendUnique(ips, extra_ips);
  std::string san;
  for (const std::string& name : dns) {
    if (!ValidSanEntry(name)) return MakeError(ErrorCode::kConfig, "test pki: bad DNS name");
    san += (san.empty() ? "DNS:" : ",DNS:") + name;
  }
  for (const std::string& ip : ips) {
    if (!ValidSanEntry(ip)) return MakeError(ErrorCode::kConfig, "test pki: bad IP address");
    san += ",IP:" + ip;
  }
  return IssueLeaf(pki, dns.front(), {}, "serverAuth", san);
}

Result<CertAndKey> IssueClientCert(const Pki& pki, const std::string& cn,
                                   const std::vector<std::string>& orgs) {
  if (cn.empty()) return MakeError(ErrorCode::kConfig, "test pki: client certificate needs a CN");
  return IssueLeaf(pki, cn, orgs, "clientAuth", "");
}

}  // namespace vk::kubesim
