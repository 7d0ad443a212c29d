#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hostclient/base/error.h"
#include "hostclient/rest_client.h"
#include "tests/kubesim/node_simulator.h"
#include "tests/support/daemon_process.h"
#include "tests/support/kubesim_instance.h"

namespace vk::testing {

// A whole shared-mode deployment for end-to-end tests, in one test process: a "virtual" kubesim
// (the tenant's API server), a "host" kubesim whose NodeSimulator plays `host_nodes` kubelets and
// kube-scheduler, the host namespace the virtual cluster's pods go to, two kubeconfig files
// (token auth, CA embedded) and the real vkubelet binary (Options::vkubelet_binary) between them,
// which a test starts, kills (SIGKILL) and stops (SIGTERM) at will. Both API servers serve TLS on
// ephemeral ports, vkubelet's HTTP endpoint too: tests may run in parallel.
//
// Every wait here is a deadline on a condition (WaitFor), never a sleep. vkubelet's stdout and
// stderr go to one log file across restarts (VkubeletLog()); print it when a test fails.
// Not thread-safe: use it from the test's thread. The destructor kills vkubelet, stops the
// simulator and both servers, and removes the temporary directory.
class SharedModeEnv {
 public:
  struct Options {
    int host_nodes = 3;                            // simulated host nodes, sim-node-1..N
    std::chrono::milliseconds pod_start_delay{0};  // from binding to containers running
    std::string host_namespace = "vc-e2e";
    std::string cluster_name = "e2e";
    std::string vkubelet_binary;  // required to start vkubelet
    // Both set: use these clusters instead of starting kubesims (no simulator runs then: nothing
    // plays the host's kubelets unless the caller does, see FakeKubelet).
    std::string external_virtual_kubeconfig;
    std::string external_host_kubeconfig;
    hostclient::RestClientOptions client;  // of the admin clients (rate limit...)
  };

  static Result<std::unique_ptr<SharedModeEnv>> Start(Options options);
  ~SharedModeEnv();
  SharedModeEnv(const SharedModeEnv&) = delete;
  SharedModeEnv& operator=(const SharedModeEnv&) = delete;

  // ---- the clusters (admin clients)

  hostclient::RestClient& virtual_client() { return *virtual_client_; }
  hostclient::RestClient& host_client() { return *host_client_; }
  // Only when the env started the kubesims (external() is false).
  KubesimInstance& virtual_kubesim() { return *virtual_; }
  KubesimInstance& host_kubesim() { return *host_; }
  kubesim::NodeSimulator& host_simulator() { return *simulator_; }
  bool external() const { return virtual_ == nullptr; }
  const Options& options() const { return options_; }
  const std::string& host_namespace() const { return options_.host_namespace; }
  const std::string& virtual_kubeconfig() const { return virtual_kubeconfig_; }
  const std::string& host_kubeconfig() const { return host_kubeconfig_; }
  const std::string& dir() const { return dir_; }
  // The virtual node's name in the default (single) node mode: vkubelet-<cluster name>.
  std::string node_name() const { return "vkubelet-" + options_.cluster_name; }

  // ---- vkubelet

  // Starts vkubelet with the flags that point it at this environment (cluster name and
  // namespace, both kubeconfigs, --http-addr 127.0.0.1:0, --virtual-pod-ip 127.0.0.1), then
  // extra_args (later flags win), and waits until it reports its HTTP port. kUnavailableLocally
  // when it is already running; kInternal (with the log) when it exits or reports no port.
  Status StartVkubelet(std::vector<std::string> extra_args = {});
  // SIGKILL, as a crash or an OOM kill would: no cleanup runs.
  void KillVkubelet();
  // SIGTERM; an error unless it exits with 0 within the timeout (killed then).
  Status StopVkubelet(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool VkubeletRunning();
  DaemonProcess* vkubelet() { return vkubelet_.get(); }
  // The port of /healthz, /readyz, /metrics of the running (or last) vkubelet; 0 before any.
  uint16_t http_port() const { return http_port_; }
  // Everything vkubelet wrote, across restarts.
  std::string VkubeletLog() const;

  // Waits for the virtual Node to have condition Ready=True; kTimeout saying what it saw.
  Status WaitForNodeReady(const std::string& node,
                          std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Waits for GET /readyz to answer 200.
  Status WaitForReadyz(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // GET /metrics: the Prometheus text.
  Result<std::string> Metrics();

 private:
  explicit SharedModeEnv(Options options) : options_(std::move(options)) {}
  Status Init();
  Status InitExternal();
  Status EnsureHostNamespace();

  Options options_;
  std::string dir_;
  std::unique_ptr<KubesimInstance> virtual_;
  std::unique_ptr<KubesimInstance> host_;
  std::unique_ptr<kubesim::NodeSimulator> simulator_;
  std::unique_ptr<hostclient::RestClient> virtual_client_;
  std::unique_ptr<hostclient::RestClient> host_client_;
  std::string virtual_kubeconfig_;
  std::string host_kubeconfig_;
  std::unique_ptr<DaemonProcess> vkubelet_;
  uint16_t http_port_ = 0;
};

// For ASSERT_TRUE(Succeeded(env->StartVkubelet())): a failed Status prints its error.
inline ::testing::AssertionResult Succeeded(const Status& status) {
  if (status) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << status.error().ToString();
}

}  // namespace vk::testing
