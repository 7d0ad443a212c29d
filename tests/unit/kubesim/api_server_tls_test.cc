// kubesim over TLS: server certificate, bearer tokens and client certificates on one port.

#include <gtest/gtest.h>

#include "tests/kubesim/api_server.h"
#include "tests/kubesim/http_test_client.h"
#include "tests/kubesim/test_pki.h"

namespace vk::kubesim {
namespace {

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pki = MakeCa("kubesim-test-ca");
    ASSERT_TRUE(pki);
    pki_ = *pki;
    auto server_cert = IssueServerCert(pki_);
    ASSERT_TRUE(server_cert);
    auto alice = IssueClientCert(pki_, "alice", {"devs", "qa"});
    ASSERT_TRUE(alice);
    alice_ = *alice;

    ApiServer::Options o;
    o.tls_cert_pem = server_cert->cert_pem;
    o.tls_key_pem = server_cert->key_pem;
    o.client_ca_pem = pki_.ca_cert_pem;
    o.tokens["secret-token"] = UserInfo{"bob", "", {}, {}};
    server_ = std::make_unique<ApiServer>(std::move(o));
    auto port = server_->Start();
    ASSERT_TRUE(port) << port.error().ToString();
    // Identities show in 403 messages: deny everyone listing secrets.
    AuthzRule deny;
    deny.verb = "list";
    deny.resource = "secrets";
    server_->AddAuthzRule(deny);
  }

  HttpTestClient::Options ClientOptions() {
    HttpTestClient::Options o;
    o.base_url = server_->url();
    o.ca_pem = pki_.ca_cert_pem;
    return o;
  }

  // The user the server saw, from the message of a 403.
  std::string SeenUser(HttpTestClient& client) {
    auto r = client.Get("/api/v1/namespaces/default/secrets");
    EXPECT_TRUE(r) << r.error().ToString();
    if (!r) return "";
    EXPECT_EQ(r->status, 403) << r->body;
    auto status = r->Json();
    std::string message(obj::String(*status, {"message"}));
    auto start = message.find("User \"");
    if (start == std::string::npos) return message;
    start += 6;
    return message.substr(start, message.find('"', start) - start);
  }

  Pki pki_;
  CertAndKey alice_;
  std::unique_ptr<ApiServer> server_;
};

TEST_F(TlsTest, UrlIsHttps) { EXPECT_EQ(server_->url().substr(0, 8), "https://"); }

TEST_F(TlsTest, BearerTokenOverTls) {
  auto o = ClientOptions();
  o.bearer_token = "secret-token";
  HttpTestClient client(o);
  auto r = client.Get("/api/v1/namespaces/default/pods");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(SeenUser(client), "bob");
}

TEST_F(TlsTest, ClientCertificateNamesUserAndGroups) {
  auto o = ClientOptions();
  o.client_cert_pem = alice_.cert_pem;
  o.client_key_pem = alice_.key_pem;
  HttpTestClient client(o);
  EXPECT_EQ(SeenUser(client), "alice");
  // Group membership from O: a rule for group qa applies to alice.
  AuthzRule deny_qa;
  deny_qa.user_group = "qa";
  deny_qa.verb = "get";
  deny_qa.resource = "configmaps";
  server_->AddAuthzRule(deny_qa);
  auto r = client.Get("/api/v1/namespaces/default/configmaps/x");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
}

TEST_F(TlsTest, NoCredentialsIs401) {
  HttpTestClient client(ClientOptions());
  auto r = client.Get("/api/v1/pods");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->status, 401);
  auto status = r->Json();
  ASSERT_TRUE(status);
  EXPECT_EQ(obj::String(*status, {"reason"}), "Unauthorized");
}

TEST_F(TlsTest, CertificateFromAnotherCaDoesNotAuthenticate) {
  auto other = MakeCa("other-ca");
  ASSERT_TRUE(other);
  auto mallory = IssueClientCert(*other, "mallory", {"system:masters"});
  ASSERT_TRUE(mallory);
  auto o = ClientOptions();
  o.client_cert_pem = mallory->cert_pem;
  o.client_key_pem = mallory->key_pem;
  HttpTestClient client(o);
  auto r = client.Get("/api/v1/pods");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->status, 401);
  // ... but a token on the same connection still does.
  o.bearer_token = "secret-token";
  HttpTestClient with_token(o);
  EXPECT_EQ(SeenUser(with_token), "bob");
}

TEST_F(TlsTest, ClientRejectsServerFromAnotherCa) {
  auto other = MakeCa("other-ca");
  ASSERT_TRUE(other);
  auto o = ClientOptions();
  o.ca_pem = other->ca_cert_pem;
  o.bearer_token = "secret-token";
  HttpTestClient client(o);
  auto r = client.Get("/version");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kTls);
}

TEST_F(TlsTest, WatchOverTls) {
  auto o = ClientOptions();
  o.bearer_token = "secret-token";
  HttpTestClient client(o);
  auto stream = client.OpenStream("GET", "/api/v1/namespaces/default/configmaps?watch=1");
  ASSERT_TRUE(stream) << stream.error().ToString();
  EXPECT_EQ((*stream)->status(), 200);
  auto created = client.Post("/api/v1/namespaces/default/configmaps",
                             Object{{"metadata", boost::json::object{{"name", "tls-cm"}}}});
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  bool seen = false;
  for (int i = 0; i < 10 && !seen; ++i) {
    auto line = (*stream)->ReadLine(std::chrono::seconds(2));
    ASSERT_TRUE(line && *line);
    auto event = obj::Parse(**line);
    ASSERT_TRUE(event);
    seen = obj::String(*event, {"object", "metadata", "name"}) == "tls-cm";
  }
  EXPECT_TRUE(seen);
}

TEST(TlsConfigTest, BadCertificateIsAConfigError) {
  ApiServer::Options o;
  o.tls_cert_pem = "not a certificate";
  o.tls_key_pem = "not a key";
  ApiServer server(std::move(o));
  auto port = server.Start();
  ASSERT_FALSE(port);
  EXPECT_EQ(port.error().code(), ErrorCode::kConfig);
  EXPECT_FALSE(server.running());
}

}  // namespace
}  // namespace vk::kubesim
