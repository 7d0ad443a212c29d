// The real kubectl against kubesim over TLS with a client certificate: discovery, Table output,
// create/get/delete (with its watch-based wait), client- and server-side apply, auth can-i,
// get --watch, and deployments with the workload controllers (apply, scale, rollout, delete).
// Skipped where kubectl is not installed.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tests/kubesim/api_server.h"
#include "tests/kubesim/kubeconfig_writer.h"
#include "tests/kubesim/test_pki.h"
#include "tests/support/wait_for.h"

namespace vk::kubesim {
namespace {

namespace fs = std::filesystem;
constexpr char kKubectl[] = "/usr/bin/kubectl";

struct CommandResult {
  int exit_code = -1;
  std::string output;
};

CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) result.output.append(buf, n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

class KubectlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kKubectl)) GTEST_SKIP() << "kubectl not installed";
    char tmpl[] = "/tmp/kubesim-kubectl-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto pki = MakeCa();
    ASSERT_TRUE(pki);
    auto server_cert = IssueServerCert(*pki);
    auto admin = IssueClientCert(*pki, "kubesim-admin", {"system:masters"});
    ASSERT_TRUE(server_cert && admin);
    ApiServer::Options o;
    o.tls_cert_pem = server_cert->cert_pem;
    o.tls_key_pem = server_cert->key_pem;
    o.client_ca_pem = pki->ca_cert_pem;
    o.storage.root_ca_pem = pki->ca_cert_pem;
    Configure(o);
    server_ = std::make_unique<ApiServer>(std::move(o));
    ASSERT_TRUE(server_->Start());
    KubeconfigSpec spec;
    spec.server_url = server_->url();
    spec.ca_pem = pki->ca_cert_pem;
    spec.client_cert_pem = admin->cert_pem;
    spec.client_key_pem = admin->key_pem;
    Write("kubeconfig", MakeKubeconfig(spec));
  }

  // Lets a derived fixture change the server's options.
  virtual void Configure(ApiServer::Options&) {}

  void TearDown() override {
    if (server_) server_->Stop();
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }

  CommandResult Kubectl(const std::string& args) {
    return RunCommand(std::string(kKubectl) + " --kubeconfig " + (dir_ / "kubeconfig").string() +
                      " --cache-dir " + (dir_ / "cache").string() + " --request-timeout=10s " +
                      args);
  }

  fs::path dir_;
  std::unique_ptr<ApiServer> server_;
};

TEST_F(KubectlTest, VersionDiscoveryAndRawPaths) {
  CommandResult version = Kubectl("version -o json");
  EXPECT_EQ(version.exit_code, 0) << version.output;
  EXPECT_NE(version.output.find(kKubeGitVersion), std::string::npos) << version.output;
  CommandResult resources = Kubectl("api-resources");
  EXPECT_EQ(resources.exit_code, 0) << resources.output;
  EXPECT_NE(resources.output.find("pods"), std::string::npos) << resources.output;
  EXPECT_NE(resources.output.find("leases"), std::string::npos) << resources.output;
  CommandResult health = Kubectl("get --raw /healthz");
  EXPECT_EQ(health.exit_code, 0) << health.output;
  EXPECT_EQ(health.output, "ok");
}

TEST_F(KubectlTest, CreateGetDeletePod) {
  Write("pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kc-pod\n  labels:\n    app: demo\n"
        "spec:\n  containers:\n  - name: web\n    image: nginx\n");
  CommandResult create = Kubectl("create -f " + (dir_ / "pod.yaml").string());
  EXPECT_EQ(create.exit_code, 0) << create.output;
  EXPECT_NE(create.output.find("pod/kc-pod created"), std::string::npos) << create.output;

  CommandResult all = Kubectl("get pods -A");
  EXPECT_EQ(all.exit_code, 0) << all.output;
  EXPECT_NE(all.output.find("NAMESPACE"), std::string::npos) << all.output;
  EXPECT_NE(all.output.find("READY"), std::string::npos) << all.output;
  EXPECT_NE(all.output.find("kc-pod"), std::string::npos) << all.output;
  EXPECT_NE(all.output.find("Pending"), std::string::npos) << all.output;

  CommandResult wide = Kubectl("get pods -o wide -l app=demo");
  EXPECT_EQ(wide.exit_code, 0) << wide.output;
  EXPECT_NE(wide.output.find("NODE"), std::string::npos) << wide.output;

  CommandResult yaml = Kubectl("get po kc-pod -o yaml");
  EXPECT_EQ(yaml.exit_code, 0) << yaml.output;
  EXPECT_NE(yaml.output.find("name: kc-pod"), std::string::npos) << yaml.output;
  EXPECT_NE(yaml.output.find("image: nginx"), std::string::npos) << yaml.output;

  CommandResult del = Kubectl("delete po kc-pod");
  EXPECT_EQ(del.exit_code, 0) << del.output;
  EXPECT_NE(del.output.find("pod \"kc-pod\" deleted"), std::string::npos) << del.output;
  CommandResult gone = Kubectl("get po kc-pod");
  EXPECT_NE(gone.exit_code, 0);
  EXPECT_NE(gone.output.find("NotFound"), std::string::npos) << gone.output;
}

TEST_F(KubectlTest, ClientSideAndServerSideApply) {
  Write("cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kc-cm\ndata:\n  color: blue\n");
  CommandResult first = Kubectl("apply -f " + (dir_ / "cm.yaml").string());
  EXPECT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("configmap/kc-cm created"), std::string::npos) << first.output;
  Write("cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kc-cm\ndata:\n  color: green\n");
  CommandResult second = Kubectl("apply -f " + (dir_ / "cm.yaml").string());
  EXPECT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("configmap/kc-cm configured"), std::string::npos) << second.output;
  CommandResult value = Kubectl("get cm kc-cm -o jsonpath={.data.color}");
  EXPECT_EQ(value.output, "green");

  Write("ssa.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kc-ssa\ndata:\n  size: large\n");
  CommandResult ssa = Kubectl("apply --server-side -f " + (dir_ / "ssa.yaml").string());
  EXPECT_EQ(ssa.exit_code, 0) << ssa.output;
  EXPECT_NE(ssa.output.find("configmap/kc-ssa serverside-applied"), std::string::npos)
      << ssa.output;
  CommandResult size = Kubectl("get cm kc-ssa -o jsonpath={.data.size}");
  EXPECT_EQ(size.output, "large");
}

TEST_F(KubectlTest, AuthCanIFollowsRules) {
  AuthzRule deny;
  deny.user = "kubesim-admin";
  deny.verb = "delete";
  deny.resource = "configmaps";
  server_->AddAuthzRule(deny);
  CommandResult whoami = Kubectl("auth whoami");
  EXPECT_EQ(whoami.exit_code, 0) << whoami.output;
  EXPECT_NE(whoami.output.find("kubesim-admin"), std::string::npos) << whoami.output;
  EXPECT_NE(whoami.output.find("system:masters"), std::string::npos) << whoami.output;
  CommandResult yes = Kubectl("auth can-i list pods");
  EXPECT_EQ(yes.output, "yes\n");
  CommandResult no = Kubectl("auth can-i delete configmaps");
  EXPECT_NE(no.output.find("no"), std::string::npos) << no.output;
  CommandResult forbidden = Kubectl("delete cm kube-root-ca.crt");
  EXPECT_NE(forbidden.exit_code, 0);
  EXPECT_NE(forbidden.output.find("cannot delete resource \"configmaps\""), std::string::npos)
      << forbidden.output;
}

TEST_F(KubectlTest, GetWatchPrintsRows) {
  Write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: watched\n");
  ASSERT_EQ(Kubectl("create -f " + (dir_ / "cm.yaml").string()).exit_code, 0);
  // kubectl get --watch never ends by itself; `timeout` bounds it.
  CommandResult watch = RunCommand("timeout 1.5 " + std::string(kKubectl) + " --kubeconfig " +
                                   (dir_ / "kubeconfig").string() + " --cache-dir " +
                                   (dir_ / "cache").string() + " get configmaps --watch");
  EXPECT_EQ(watch.exit_code, 124) << watch.output;
  EXPECT_NE(watch.output.find("watched"), std::string::npos) << watch.output;
  EXPECT_EQ(watch.output.find("error"), std::string::npos) << watch.output;
}

class KubectlWorkloadTest : public KubectlTest {
 protected:
  void Configure(ApiServer::Options& o) override { o.workload_controllers = true; }

  // How many objects `kubectl get <what> -o name` lists ("No resources found" is none).
  int Count(const std::string& what) {
    CommandResult listed = Kubectl("get " + what + " -o name");
    if (listed.exit_code != 0) return -1;
    int n = 0;
    for (size_t at = listed.output.find('/'); at != std::string::npos;
         at = listed.output.find('/', at + 1)) {
      ++n;
    }
    return n;
  }
  int CountPods(const std::string& selector) { return Count("pods -l " + selector); }

  std::string Deployment(const std::string& image, int replicas) {
    return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: " +
           std::to_string(replicas) +
           "\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n"
           "      labels:\n        app: web\n    spec:\n      containers:\n      - name: web\n"
           "        image: " +
           image + "\n";
  }
};

TEST_F(KubectlWorkloadTest, ApplyScaleRolloutAndDeleteADeployment) {
  using vk::testing::WaitFor;
  Write("web.yaml", Deployment("nginx:1.25", 3));
  CommandResult apply = Kubectl("apply -f " + (dir_ / "web.yaml").string());
  ASSERT_EQ(apply.exit_code, 0) << apply.output;
  EXPECT_NE(apply.output.find("deployment.apps/web created"), std::string::npos) << apply.output;
  EXPECT_TRUE(WaitFor([&] { return CountPods("app=web") == 3; }, std::chrono::seconds(20)));

  CommandResult get = Kubectl("get deploy web");
  EXPECT_EQ(get.exit_code, 0) << get.output;
  EXPECT_NE(get.output.find("UP-TO-DATE"), std::string::npos) << get.output;
  CommandResult rs = Kubectl("get rs -o wide");
  EXPECT_EQ(rs.exit_code, 0) << rs.output;
  EXPECT_NE(rs.output.find("pod-template-hash="), std::string::npos) << rs.output;

  CommandResult scale = Kubectl("scale deployment web --replicas=1");
  EXPECT_EQ(scale.exit_code, 0) << scale.output;
  EXPECT_NE(scale.output.find("deployment.apps/web scaled"), std::string::npos) << scale.output;
  EXPECT_TRUE(WaitFor([&] { return CountPods("app=web") == 1; }, std::chrono::seconds(20)));

  // A new template: a second replica set (the pod cannot become ready without a kubelet, so the
  // old one keeps its pod).
  Write("web.yaml", Deployment("nginx:1.26", 1));
  CommandResult again = Kubectl("apply -f " + (dir_ / "web.yaml").string());
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("deployment.apps/web configured"), std::string::npos) << again.output;
  EXPECT_TRUE(WaitFor([&] { return Count("rs") == 2; }, std::chrono::seconds(20)));

  CommandResult del = Kubectl("delete deployment web");
  EXPECT_EQ(del.exit_code, 0) << del.output;
  EXPECT_TRUE(WaitFor([&] { return CountPods("app=web") == 0; }, std::chrono::seconds(20)));
  EXPECT_TRUE(WaitFor([&] { return Count("rs") == 0; }, std::chrono::seconds(20)));
}

}  // namespace
}  // namespace vk::kubesim
