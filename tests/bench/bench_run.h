#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hostclient/base/error.h"
#include "tests/bench/latency.h"
#include "tests/bench/pod_tracker.h"
#include "tests/bench/process_stats.h"
#include "tests/support/fake_kubelet.h"
#include "tests/support/shared_mode_env.h"

namespace vk::bench {

struct BenchOptions {
  int pods = 10000;   // burst and restart
  int creators = 16;  // threads creating (and deleting) pods
  double qps = 0;     // client-side limit of every client, the bench's and vkubelet's; 0: none
  int workers = 8;    // vkubelet --workers
  double rate = 100;  // pods/s offered by the steady and churn scenarios
  std::chrono::seconds duration{60};
  int standing = 5000;  // churn: pods that stay
  std::string vkubelet_binary;
  std::string virtual_kubeconfig;  // both set: run against these clusters, play their kubelets
  std::string host_kubeconfig;
};

// One line of the result table.
struct Row {
  std::string scenario;
  size_t pods = 0;
  double seconds = 0;
  double pods_per_second = 0;  // 0 where throughput is not what the row measures
  LatencySummary latency;      // milliseconds
  std::string latency_what;    // what was timed
  double daemon_cpu_seconds = 0;
  uint64_t daemon_peak_rss = 0;
  std::string note;
};

enum class Side { kVirtual, kHostDirect };

// The clusters, vkubelet and the benchmark's watches of both sides. Virtual pods live in
// namespace "bench" bound to the virtual node; the direct baseline's pods in "bench-direct" on the
// host, created with the same client.
class BenchRun {
 public:
  static constexpr char kVirtualNamespace[] = "bench";
  static constexpr char kDirectNamespace[] = "bench-direct";

  static Result<std::unique_ptr<BenchRun>> Start(const BenchOptions& options);
  ~BenchRun();

  const BenchOptions& options() const { return options_; }
  testing::SharedModeEnv& env() { return *env_; }
  PodTracker& virtual_pods() { return *virtual_pods_; }
  PodTracker& twins() { return *twins_; }
  PodTracker& direct_pods() { return *direct_pods_; }

  // Starts vkubelet with the benchmark's client settings (not waiting for readiness).
  Status StartVkubelet();
  Status WaitVkubeletReady(std::chrono::milliseconds timeout);
  Result<ProcessSample> Daemon() const;
  Result<std::string> Metrics() { return env_->Metrics(); }
  // Sum of the samples of one metric family whose labels contain every `label_parts` entry.
  double MetricSum(const std::string& metrics, const std::string& family,
                   const std::vector<std::string>& label_parts = {}) const;

  // Creates the pods with `creators` threads; records when each create was sent.
  Status CreatePods(Side side, const std::vector<std::string>& names);
  // Deletes them (grace period `grace_seconds`), with `creators` threads.
  Status DeletePods(Side side, const std::vector<std::string>& names, int64_t grace_seconds);
  // Creates one pod now and records the time.
  Status CreatePod(Side side, const std::string& name);
  std::optional<Steady::time_point> CreatedAt(const std::string& name) const;

 private:
  explicit BenchRun(BenchOptions options) : options_(std::move(options)) {}
  Status Init();
  Object PodObject(Side side, const std::string& name) const;

  BenchOptions options_;
  std::unique_ptr<testing::SharedModeEnv> env_;
  std::unique_ptr<testing::FakeKubelet> fake_kubelet_;
  std::unique_ptr<PodTracker> virtual_pods_;
  std::unique_ptr<PodTracker> twins_;
  std::unique_ptr<PodTracker> direct_pods_;
  mutable std::mutex mutex_;
  std::map<std::string, Steady::time_point> created_at_;
};

// Milliseconds from a to b.
double Millis(Steady::time_point a, Steady::time_point b);

}  // namespace vk::bench
