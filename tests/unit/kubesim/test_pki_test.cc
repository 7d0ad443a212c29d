#include "tests/kubesim/test_pki.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <vector>

namespace vk::kubesim {
namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr ParseCert(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

bool KeyMatchesCert(const CertAndKey& pair) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pair.key_pem.data(), static_cast<int>(pair.key_pem.size())), &BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  X509Ptr cert = ParseCert(pair.cert_pem);
  return key && cert && X509_check_private_key(cert.get(), key.get()) == 1;
}

// Verifies `leaf` against `ca` for the given purpose; returns the X509_V_* result.
int Verify(const std::string& ca_pem, const std::string& leaf_pem, int purpose) {
  X509Ptr ca = ParseCert(ca_pem);
  X509Ptr leaf = ParseCert(leaf_pem);
  if (!ca || !leaf) return -1;
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), &X509_STORE_free);
  X509_STORE_add_cert(store.get(), ca.get());
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(),
                                                                      &X509_STORE_CTX_free);
  X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), nullptr);
  X509_STORE_CTX_set_purpose(ctx.get(), purpose);
  if (X509_verify_cert(ctx.get()) == 1) return X509_V_OK;
  return X509_STORE_CTX_get_error(ctx.get());
}

std::vector<std::string> SubjectEntries(X509* cert, int nid) {
  std::vector<std::string> out;
  X509_NAME* name = X509_get_subject_name(cert);
  for (int i = X509_NAME_get_index_by_NID(name, nid, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(name, nid, i)) {
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                     static_cast<size_t>(ASN1_STRING_length(data)));
  }
  return out;
}

class TestPkiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pki = MakeCa("unit-ca");
    ASSERT_TRUE(pki.has_value()) << pki.error().ToString();
    pki_ = *pki;
  }
  Pki pki_;
};

TEST_F(TestPkiTest, CaIsSelfSignedCa) {
  X509Ptr ca = ParseCert(pki_.ca_cert_pem);
  ASSERT_TRUE(ca);
  EXPECT_EQ(X509_check_ca(ca.get()), 1);
  EXPECT_EQ(SubjectEntries(ca.get(), NID_commonName), std::vector<std::string>{"unit-ca"});
  EXPECT_EQ(Verify(pki_.ca_cert_pem, pki_.ca_cert_pem, X509_PURPOSE_ANY), X509_V_OK);
  EXPECT_TRUE(KeyMatchesCert({pki_.ca_cert_pem, pki_.ca_key_pem}));
}

TEST_F(TestPkiTest, ServerCertChainsToCaAndCarriesSans) {
  auto server = IssueServerCert(pki_, {"kubesim.local", "localhost"}, {"10.0.0.7"});
  ASSERT_TRUE(server.has_value()) << server.error().ToString();
  EXPECT_TRUE(KeyMatchesCert(*server));
  EXPECT_EQ(Verify(pki_.ca_cert_pem, server->cert_pem, X509_PURPOSE_SSL_SERVER), X509_V_OK);

  X509Ptr cert = ParseCert(server->cert_pem);
  ASSERT_TRUE(cert);
  EXPECT_EQ(X509_check_host(cert.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(cert.get(), "kubesim.local", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(cert.get(), "other.example", 0, 0, nullptr), 0);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "10.0.0.7", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "10.0.0.8", 0), 0);
  EXPECT_EQ(X509_check_ca(cert.get()), 0);

  // "localhost" was passed twice; the SAN list holds it once.
  auto* sans = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  ASSERT_NE(sans, nullptr);
  EXPECT_EQ(sk_GENERAL_NAME_num(sans), 4);
  GENERAL_NAMES_free(sans);
}

TEST_F(TestPkiTest, ServerCertIsNotAClientCert) {
  auto server = IssueServerCert(pki_);
  ASSERT_TRUE(server.has_value());
  EXPECT_NE(Verify(pki_.ca_cert_pem, server->cert_pem, X509_PURPOSE_SSL_CLIENT), X509_V_OK);
}

TEST_F(TestPkiTest, ClientCertCarriesUserAndGroups) {
  auto client = IssueClientCert(pki_, "system:node:vk-0", {"system:nodes", "team-a"});
  ASSERT_TRUE(client.has_value()) << client.error().ToString();
  EXPECT_TRUE(KeyMatchesCert(*client));
  EXPECT_EQ(Verify(pki_.ca_cert_pem, client->cert_pem, X509_PURPOSE_SSL_CLIENT), X509_V_OK);
  X509Ptr cert = ParseCert(client->cert_pem);
  ASSERT_TRUE(cert);
  EXPECT_EQ(SubjectEntries(cert.get(), NID_commonName),
            std::vector<std::string>{"system:node:vk-0"});
  EXPECT_EQ(SubjectEntries(cert.get(), NID_organizationName),
            (std::vector<std::string>{"system:nodes", "team-a"}));
}

TEST_F(TestPkiTest, CertFromAnotherCaDoesNotVerify) {
  auto other = MakeCa("other-ca");
  ASSERT_TRUE(other.has_value());
  auto server = IssueServerCert(*other);
  ASSERT_TRUE(server.has_value());
  EXPECT_EQ(Verify(pki_.ca_cert_pem, server->cert_pem, X509_PURPOSE_SSL_SERVER),
            X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
}

TEST_F(TestPkiTest, EachCaHasItsOwnKey) {
  auto other = MakeCa("unit-ca");
  ASSERT_TRUE(other.has_value());
  EXPECT_NE(other->ca_key_pem, pki_.ca_key_pem);
}

TEST_F(TestPkiTest, RejectsBadInput) {
  EXPECT_FALSE(IssueClientCert(pki_, "").has_value());
  EXPECT_FALSE(IssueServerCert(pki_, {"a,DNS:evil"}).has_value());
  auto broken = IssueServerCert(Pki{"not a pem", pki_.ca_key_pem});
  ASSERT_FALSE(broken.has_value());
  EXPECT_EQ(broken.error().code(), ErrorCode::kTls);
}

}  // namespace
}  // namespace vk::kubesim
