#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "hostclient/base/base64.h"
#include "hostclient/cluster_config.h"
#include "tests/unit/hostclient/test_files.h"

namespace vk::hostclient {
namespace {

using ::testing::HasSubstr;
using testutil::ScopedEnv;
using testutil::TempDir;

constexpr char kCaPem[] = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";
constexpr char kCertPem[] = "-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n";
constexpr char kKeyPem[] = "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n";

// A kubeconfig with one context "dev" -> cluster "c", user "u"; the blocks are spliced in.
std::string Config(const std::string& cluster_body, const std::string& user_body,
                   const std::string& extra_context = "") {
  return "apiVersion: v1\n"
         "kind: Config\n"
         "current-context: dev\n"
         "clusters:\n"
         "- name: c\n"
         "  cluster:\n" +
         cluster_body +
         "users:\n"
         "- name: u\n"
         "  user:\n" +
         user_body +
         "contexts:\n"
         "- name: dev\n"
         "  context:\n"
         "    cluster: c\n"
         "    user: u\n" +
         extra_context;
}

KubeconfigOptions Options(std::vector<std::string> paths, std::string context = "",
                          std::string cluster_name = "") {
  KubeconfigOptions options;
  options.paths = std::move(paths);
  options.context = std::move(context);
  options.cluster_name = std::move(cluster_name);
  return options;
}

class KubeconfigTest : public ::testing::Test {
 protected:
  Result<ClusterConfig> Parse(const std::string& text, const std::string& context = "") {
    return ParseKubeconfig(text, dir_.path().string(), context, "virtual");
  }

  // Expects a kConfig error whose message contains every given fragment.
  static void ExpectConfigError(const Result<ClusterConfig>& result,
                                std::initializer_list<std::string> fragments) {
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code(), ErrorCode::kConfig);
    for (const auto& f : fragments) EXPECT_THAT(result.error().message(), HasSubstr(f));
  }

  TempDir dir_;
  // Tests must not see the developer's kubeconfig.
  ScopedEnv kubeconfig_env_{"KUBECONFIG", std::nullopt};
};

TEST_F(KubeconfigTest, ParsesClusterUserAndContext) {
  auto config = Parse(
      "current-context: dev\n"
      "clusters:\n"
      "- name: c\n"
      "  cluster:\n"
      "    server: https://api.example.com:6443\n"
      "    certificate-authority-data: " +
      Base64Encode(kCaPem) +
      "\n"
      "    tls-server-name: kubernetes.default\n"
      "    proxy-url: http://proxy:3128\n"
      "users:\n"
      "- name: u\n"
      "  user:\n"
      "    token: secret-token\n"
      "    client-certificate-data: " +
      Base64Encode(kCertPem) +
      "\n"
      "    client-key-data: " +
      Base64Encode(kKeyPem) +
      "\n"
      "contexts:\n"
      "- name: dev\n"
      "  context: {cluster: c, user: u, namespace: team-a}\n");
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->name, "virtual");
  EXPECT_EQ(config->server, "https://api.example.com:6443");
  EXPECT_EQ(config->ca_pem, kCaPem);
  EXPECT_EQ(config->tls_server_name, "kubernetes.default");
  EXPECT_EQ(config->proxy_url, "http://proxy:3128");
  EXPECT_FALSE(config->insecure_skip_tls_verify);
  EXPECT_EQ(config->token, "secret-token");
  EXPECT_EQ(config->client_cert_pem, kCertPem);
  EXPECT_EQ(config->client_key_pem, kKeyPem);
  EXPECT_EQ(config->default_namespace, "team-a");
  EXPECT_FALSE(config->exec.has_value());
}

TEST_F(KubeconfigTest, NamespaceDefaultsToDefault) {
  auto config = Parse(Config("    server: https://a\n", "    token: t\n"));
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->default_namespace, "default");
}

TEST_F(KubeconfigTest, ContextOverrideSelectsAnotherContext) {
  auto text = Config("    server: https://a\n", "    token: t\n",
                     "- name: prod\n"
                     "  context: {cluster: c, user: u, namespace: prod-ns}\n");
  auto config = Parse(text, "prod");
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->default_namespace, "prod-ns");
}

TEST_F(KubeconfigTest, ContextWithoutUserHasNoCredentials) {
  auto config = Parse(
      "current-context: anon\n"
      "clusters: [{name: c, cluster: {server: 'http://127.0.0.1:8080'}}]\n"
      "contexts: [{name: anon, context: {cluster: c}}]\n");
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->server, "http://127.0.0.1:8080");
  EXPECT_TRUE(config->token.empty());
}

TEST_F(KubeconfigTest, MissingContextIsNamedWithThePath) {
  std::string path = dir_.Write("config", Config("    server: https://a\n", "    token: t\n"));
  auto config = LoadKubeconfig(Options({path}, "staging"));
  ExpectConfigError(config, {});
  EXPECT_EQ(config.error().message(), "kubeconfig " + path + ": context \"staging\" not found");
}

TEST_F(KubeconfigTest, NoCurrentContextIsAnError) {
  ExpectConfigError(Parse("clusters: []\n"), {"current-context is not set"});
}

TEST_F(KubeconfigTest, ReferencedEntriesMustExist) {
  ExpectConfigError(Parse("current-context: dev\n"
                          "contexts: [{name: dev, context: {cluster: nope, user: u}}]\n"),
                    {"context \"dev\"", "cluster \"nope\" not found"});
  ExpectConfigError(Parse(Config("    server: https://a\n", "    token: t\n") +
                              "- name: other\n  context: {cluster: c, user: ghost}\n",
                          "other"),
                    {"context \"other\"", "user \"ghost\" not found"});
  ExpectConfigError(Parse("current-context: dev\n"
                          "contexts: [{name: dev, context: {user: u}}]\n"),
                    {"context \"dev\": cluster is required"});
}

TEST_F(KubeconfigTest, ServerIsRequired) {
  ExpectConfigError(Parse(Config("    insecure-skip-tls-verify: true\n", "    token: t\n")),
                    {"cluster \"c\": server is required"});
}

TEST_F(KubeconfigTest, ServerSchemes) {
  auto http = Parse(Config("    server: http://localhost:8080/\n", "    token: t\n"));
  ASSERT_TRUE(http) << http.error().ToString();
  EXPECT_EQ(http->server, "http://localhost:8080");

  auto bare = Parse(Config("    server: api.example.com:6443\n", "    token: t\n"));
  ASSERT_TRUE(bare) << bare.error().ToString();
  EXPECT_EQ(bare->server, "https://api.example.com:6443");

  auto prefixed =
      Parse(Config("    server: https://lb.example.com/k8s/clusters/c1/?x=1\n", "    token: t\n"));
  ASSERT_TRUE(prefixed) << prefixed.error().ToString();
  EXPECT_EQ(prefixed->server, "https://lb.example.com/k8s/clusters/c1");

  auto ipv6 = Parse(Config("    server: https://[fd00::1]:6443\n", "    token: t\n"));
  ASSERT_TRUE(ipv6) << ipv6.error().ToString();
  EXPECT_EQ(ipv6->server, "https://[fd00::1]:6443");

  ExpectConfigError(Parse(Config("    server: ftp://files:21\n", "    token: t\n")),
                    {"cluster \"c\"", "unsupported scheme \"ftp\""});
  ExpectConfigError(Parse(Config("    server: https://user:pw@host\n", "    token: t\n")),
                    {"cluster \"c\"", "credentials in the URL"});
}

TEST_F(KubeconfigTest, ClientCertificateWithoutKeyIsRejected) {
  ExpectConfigError(Parse(Config("    server: https://a\n",
                                 "    client-certificate-data: " + Base64Encode(kCertPem) + "\n")),
                    {"user \"u\": client-certificate given without client-key"});
  ExpectConfigError(Parse(Config("    server: https://a\n",
                                 "    client-key-data: " + Base64Encode(kKeyPem) + "\n")),
                    {"user \"u\": client-key given without client-certificate"});
}

TEST_F(KubeconfigTest, InvalidBase64NamesTheField) {
  ExpectConfigError(Parse(Config("    server: https://a\n",
                                 "    client-certificate-data: " + Base64Encode(kCertPem) +
                                     "\n"
                                     "    client-key-data: not*base64\n")),
                    {"user \"u\"", "client-key-data", "invalid base64"});
  ExpectConfigError(
      Parse(Config("    server: https://a\n    certificate-authority-data: '%%%'\n", "")),
      {"cluster \"c\"", "certificate-authority-data", "invalid base64"});
}

TEST_F(KubeconfigTest, FileAndDataForTheSameFieldConflict) {
  dir_.Write("ca.crt", kCaPem);
  ExpectConfigError(Parse(Config("    server: https://a\n"
                                 "    certificate-authority: ca.crt\n"
                                 "    certificate-authority-data: " +
                                     Base64Encode(kCaPem) + "\n",
                                 "")),
                    {"certificate-authority and certificate-authority-data are both set"});
}

TEST_F(KubeconfigTest, InsecureWithCaIsRejected) {
  ExpectConfigError(Parse(Config("    server: https://a\n"
                                 "    insecure-skip-tls-verify: true\n"
                                 "    certificate-authority-data: " +
                                     Base64Encode(kCaPem) + "\n",
                                 "")),
                    {"cluster \"c\"", "insecure-skip-tls-verify cannot be combined"});
  auto insecure = Parse(Config("    server: https://a\n    insecure-skip-tls-verify: true\n", ""));
  ASSERT_TRUE(insecure) << insecure.error().ToString();
  EXPECT_TRUE(insecure->insecure_skip_tls_verify);
  ExpectConfigError(
      Parse(Config("    server: https://a\n    insecure-skip-tls-verify: maybe\n", "")),
      {"insecure-skip-tls-verify must be true or false"});
}

TEST_F(KubeconfigTest, MissingReferencedFileIsNamed) {
  ExpectConfigError(
      Parse(Config("    server: https://a\n    certificate-authority: missing/ca.crt\n", "")),
      {"cluster \"c\"", "certificate-authority", dir_.Join("missing/ca.crt"),
       "No such file or directory"});
}

TEST_F(KubeconfigTest, TokenAndBasicAuthConflict) {
  ExpectConfigError(Parse(Config("    server: https://a\n", "    token: t\n    username: admin\n")),
                    {"user \"u\"", "token and username/password are both set"});
  auto basic = Parse(Config("    server: https://a\n", "    username: admin\n    password: pw\n"));
  ASSERT_TRUE(basic) << basic.error().ToString();
  EXPECT_EQ(basic->username, "admin");
  EXPECT_EQ(basic->password, "pw");
}

TEST_F(KubeconfigTest, AuthProviderIsNotSupported) {
  ExpectConfigError(Parse(Config("    server: https://a\n",
                                 "    auth-provider:\n      name: gcp\n      config: {}\n")),
                    {"user \"u\": auth-provider \"gcp\" is not supported; use an exec plugin"});
}

TEST_F(KubeconfigTest, ImpersonationIsRejectedRatherThanIgnored) {
  ExpectConfigError(Parse(Config("    server: https://a\n", "    token: t\n    as: admin\n")),
                    {"user \"u\"", "impersonation is not supported"});
}

TEST_F(KubeconfigTest, ParsesExecPlugin) {
  auto config = Parse(Config("    server: https://a\n",
                             "    exec:\n"
                             "      apiVersion: client.authentication.k8s.io/v1beta1\n"
                             "      command: aws\n"
                             "      args: [eks, get-token, --cluster-name, prod]\n"
                             "      env:\n"
                             "      - {name: AWS_PROFILE, value: ops}\n"
                             "      installHint: install the aws cli\n"
                             "      provideClusterInfo: true\n"));
  ASSERT_TRUE(config) << config.error().ToString();
  ASSERT_TRUE(config->exec.has_value());
  const ExecConfig& exec = *config->exec;
  EXPECT_EQ(exec.api_version, "client.authentication.k8s.io/v1beta1");
  EXPECT_EQ(exec.command, "aws");  // a bare name stays a PATH lookup
  EXPECT_EQ(exec.args, (std::vector<std::string>{"eks", "get-token", "--cluster-name", "prod"}));
  ASSERT_EQ(exec.env.size(), 1u);
  EXPECT_EQ(exec.env[0].first, "AWS_PROFILE");
  EXPECT_EQ(exec.env[0].second, "ops");
  EXPECT_EQ(exec.install_hint, "install the aws cli");
  EXPECT_TRUE(exec.provide_cluster_info);
  EXPECT_EQ(exec.interactive_mode, "IfAvailable");  // client-go's default for v1beta1
}

TEST_F(KubeconfigTest, ExecValidation) {
  ExpectConfigError(Parse(Config("    server: https://a\n",
                                 "    exec:\n"
                                 "      apiVersion: client.authentication.k8s.io/v1\n"
                                 "      command: plugin\n")),
                    {"user \"u\": exec", "interactiveMode is required"});
  ExpectConfigError(Parse(Config("    server: https://a\n",
                                 "    exec:\n"
                                 "      apiVersion: client.authentication.k8s.io/v1alpha1\n"
                                 "      command: plugin\n")),
                    {"apiVersion \"client.authentication.k8s.io/v1alpha1\" is not supported"});
  ExpectConfigError(Parse(Config("    server: https://a\n",
                                 "    exec:\n"
                                 "      apiVersion: client.authentication.k8s.io/v1\n"
                                 "      interactiveMode: Never\n")),
                    {"exec: command is required"});
  ExpectConfigError(Parse(Config("    server: https://a\n",
                                 "    exec:\n"
                                 "      apiVersion: client.authentication.k8s.io/v1\n"
                                 "      command: plugin\n"
                                 "      interactiveMode: Sometimes\n")),
                    {"interactiveMode \"Sometimes\" is invalid"});
  ExpectConfigError(Parse(Config("    server: https://a\n",
                                 "    exec:\n"
                                 "      apiVersion: client.authentication.k8s.io/v1\n"
                                 "      command: plugin\n"
                                 "      interactiveMode: Never\n"
                                 "      env: [{value: x}]\n")),
                    {"exec: env[0]: name is required"});
}

TEST_F(KubeconfigTest, RelativePathsResolveAgainstTheDeclaringFile) {
  dir_.Write("certs/ca.crt", kCaPem);
  dir_.Write("certs/client.crt", kCertPem);
  dir_.Write("certs/client.key", kKeyPem);
  std::string path =
      dir_.Write("kube/config", Config("    server: https://a\n"
                                       "    certificate-authority: ../certs/ca.crt\n",
                                       "    client-certificate: ../certs/client.crt\n"
                                       "    client-key: ../certs/client.key\n"
                                       "    tokenFile: tokens/t\n"
                                       "    exec:\n"
                                       "      apiVersion: client.authentication.k8s.io/v1\n"
                                       "      command: ./bin/plugin\n"
                                       "      interactiveMode: Never\n"));
  auto config = LoadKubeconfig(Options({path}));
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->ca_pem, kCaPem);
  EXPECT_EQ(config->client_cert_pem, kCertPem);
  EXPECT_EQ(config->client_key_pem, kKeyPem);
  EXPECT_EQ(config->token_file, dir_.Join("kube/tokens/t"));
  ASSERT_TRUE(config->exec);
  EXPECT_EQ(config->exec->command, dir_.Join("kube/bin/plugin"));
}

TEST_F(KubeconfigTest, ParseResolvesRelativePathsAgainstBaseDir) {
  dir_.Write("ca.crt", kCaPem);
  auto config = Parse(Config("    server: https://a\n    certificate-authority: ca.crt\n", ""));
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->ca_pem, kCaPem);
}

TEST_F(KubeconfigTest, KubeconfigListMergesFirstWins) {
  // First file: cluster "c" (wins), user "u", no current-context.
  std::string first = dir_.Write("a/config",
                                 "clusters:\n"
                                 "- name: c\n"
                                 "  cluster: {server: 'https://first', certificate-authority: ca}\n"
                                 "users:\n"
                                 "- name: u\n"
                                 "  user: {token: first-token}\n");
  dir_.Write("a/ca", kCaPem);
  // Second file: its own "c" (loses), a user "v", the contexts and the current-context.
  std::string second = dir_.Write("b/config",
                                  "current-context: second-ctx\n"
                                  "clusters:\n"
                                  "- name: c\n"
                                  "  cluster: {server: 'https://second'}\n"
                                  "users:\n"
                                  "- name: u\n"
                                  "  user: {token: second-token}\n"
                                  "contexts:\n"
                                  "- name: second-ctx\n"
                                  "  context: {cluster: c, user: u, namespace: two}\n");
  std::string third = dir_.Write("c/config", "current-context: third-ctx\n");
  ScopedEnv env("KUBECONFIG", ":" + first + "::" + dir_.Join("missing") + ":" + second + ":" +
                                  third + ":" + first);
  auto config = LoadKubeconfig(Options({}));
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->server, "https://first");
  EXPECT_EQ(config->ca_pem, kCaPem);  // resolved against the first file's directory
  EXPECT_EQ(config->token, "first-token");
  EXPECT_EQ(config->default_namespace, "two");
}

TEST_F(KubeconfigTest, KubeconfigListWithOnlyMissingFilesIsAnError) {
  ScopedEnv env("KUBECONFIG", dir_.Join("x") + ":" + dir_.Join("y"));
  auto config = LoadKubeconfig(Options({}));
  ExpectConfigError(config, {"none of the files in KUBECONFIG exist", dir_.Join("x")});
}

TEST_F(KubeconfigTest, ExplicitPathsMustExist) {
  std::string good = dir_.Write("config", Config("    server: https://a\n", ""));
  ScopedEnv env("KUBECONFIG", good);  // ignored when paths are given
  auto config = LoadKubeconfig(Options({good, dir_.Join("absent")}));
  ExpectConfigError(config, {"kubeconfig " + dir_.Join("absent"), "No such file or directory"});
}

TEST_F(KubeconfigTest, DefaultsToHomeKubeConfig) {
  dir_.Write(".kube/config", Config("    server: https://home\n", ""));
  ScopedEnv home("HOME", dir_.path().string());
  auto config = LoadKubeconfig(Options({}, "", "host"));
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->server, "https://home");
  EXPECT_EQ(config->name, "host");
}

TEST_F(KubeconfigTest, InvalidYamlNamesTheLine) {
  std::string path = dir_.Write("config", "clusters:\n- name: c\n  cluster: {server: [\n");
  auto config = LoadKubeconfig(Options({path}));
  ExpectConfigError(config, {"kubeconfig " + path, "invalid YAML at line"});
}

TEST_F(KubeconfigTest, StructuralErrorsAreReported) {
  ExpectConfigError(Parse("clusters: {c: 1}\n"), {"clusters must be a list"});
  ExpectConfigError(Parse("clusters:\n- cluster: {server: https://a}\n"),
                    {"clusters[0]: name is required"});
  ExpectConfigError(Parse("clusters:\n- {name: c, cluster: {server: https://a}}\n"
                          "- {name: c, cluster: {server: https://b}}\n"),
                    {"clusters: duplicate name \"c\""});
  ExpectConfigError(Parse(Config("    server: [https://a]\n", "")),
                    {"cluster \"c\": server must be a string"});
  ExpectConfigError(Parse("- just\n- a list\n"), {"must be a mapping"});
}

TEST_F(KubeconfigTest, NamespaceMustBeADnsLabel) {
  ExpectConfigError(Parse(Config("    server: https://a\n", "",
                                 "- name: bad\n  context: {cluster: c, namespace: Not_Valid}\n"),
                          "bad"),
                    {"context \"bad\"", "namespace \"Not_Valid\" is not a valid DNS label"});
}

TEST_F(KubeconfigTest, EmptyFileContributesNothing) {
  std::string empty = dir_.Write("empty", "");
  std::string real = dir_.Write("config", Config("    server: https://a\n", ""));
  auto config = LoadKubeconfig(Options({empty, real}));
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->server, "https://a");
}

}  // namespace
}  // namespace vk::hostclient
