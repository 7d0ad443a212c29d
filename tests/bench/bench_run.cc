#include "tests/bench/bench_run.h"

#include <atomic>
#include <sstream>
#include <thread>

#include "hostclient/resource.h"

namespace vk::bench {
namespace {

using hostclient::resources::Namespaces;
using hostclient::resources::Pods;

constexpr auto kSyncTimeout = std::chrono::seconds(60);

Status EnsureNamespace(hostclient::RestClient& client, const std::string& name) {
  auto created = client.Create(
      Namespaces(), "",
      Object{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", Object{{"name", name}}}});
  if (!created && created.error().code() != ErrorCode::kAlreadyExists) {
    return tl::unexpected(created.error());
  }
  return Ok();
}

// Runs fn(i) for i in [0, n) on `threads` threads; the first error wins.
Status ForEachParallel(size_t n, int threads, const std::function<Status(size_t)>& fn) {
  std::atomic<size_t> next{0};
  std::mutex mutex;
  Status first = Ok();
  std::vector<std::thread> pool;
  for (int t = 0; t < std::max(1, threads); ++t) {
    pool.emplace_back([&] {
      for (size_t i = next++; i < n; i = next++) {
        if (auto s = fn(i); !s) {
          std::lock_guard lock(mutex);
          if (first) first = s;
        }
      }
    });
  }
  for (auto& thread : pool) thread.join();
  return first;
}

}  // namespace

double Millis(Steady::time_point a, Steady::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

Result<std::unique_ptr<BenchRun>> BenchRun::Start(const BenchOptions& options) {
  std::unique_ptr<BenchRun> run(new BenchRun(options));
  if (auto s = run->Init(); !s) return tl::unexpected(s.error());
  return run;
}

BenchRun::~BenchRun() {
  // Watches and the fake kubelet stop before the clusters they talk to.
  virtual_pods_.reset();
  twins_.reset();
  direct_pods_.reset();
  fake_kubelet_.reset();
  env_.reset();
}

Status BenchRun::Init() {
  testing::SharedModeEnv::Options env_options;
  env_options.vkubelet_binary = options_.vkubelet_binary;
  env_options.cluster_name = "bench";
  env_options.host_namespace = "vc-bench";
  env_options.external_virtual_kubeconfig = options_.virtual_kubeconfig;
  env_options.external_host_kubeconfig = options_.host_kubeconfig;
  env_options.client.qps = options_.qps;
  env_options.client.burst = options_.qps > 0 ? static_cast<int>(options_.qps * 2) : 1;
  auto env = testing::SharedModeEnv::Start(std::move(env_options));
  if (!env) return tl::unexpected(env.error());
  env_ = std::move(*env);
  if (auto s = EnsureNamespace(env_->virtual_client(), kVirtualNamespace); !s) return s;
  if (auto s = EnsureNamespace(env_->host_client(), kDirectNamespace); !s) return s;

  if (env_->external()) {
    // Nothing runs the pods of a cluster given by kubeconfig: play its kubelets, for the twins
    // and for the direct baseline's pods alike.
    testing::FakeKubelet::Options kubelet;
    kubelet.ns = "";  // every namespace: the twins' and the direct baseline's
    fake_kubelet_ = std::make_unique<testing::FakeKubelet>(env_->host_client(), kubelet);
    if (auto s = fake_kubelet_->Start(); !s) return s;
  }
  virtual_pods_ = std::make_unique<PodTracker>(env_->virtual_client(), kVirtualNamespace,
                                               PodTracker::KeyBy::kName);
  twins_ = std::make_unique<PodTracker>(env_->host_client(), env_->host_namespace(),
                                        PodTracker::KeyBy::kOrigin);
  direct_pods_ =
      std::make_unique<PodTracker>(env_->host_client(), kDirectNamespace, PodTracker::KeyBy::kName);
  for (PodTracker* tracker : {virtual_pods_.get(), twins_.get(), direct_pods_.get()}) {
    if (!tracker->Start(kSyncTimeout)) {
      return MakeError(ErrorCode::kTimeout, "bench: the pod watches did not sync");
    }
  }
  return Ok();
}

Status BenchRun::StartVkubelet() {
  const std::string qps = std::to_string(options_.qps);
  const std::string burst =
      std::to_string(options_.qps > 0 ? static_cast<int>(options_.qps * 2) : 1);
  return env_->StartVkubelet({"--host-qps", qps, "--host-burst", burst, "--virtual-qps", qps,
                              "--virtual-burst", burst, "--workers",
                              std::to_string(options_.workers)});
}

Status BenchRun::WaitVkubeletReady(std::chrono::milliseconds timeout) {
  return env_->WaitForReadyz(timeout);
}

Result<ProcessSample> BenchRun::Daemon() const {
  if (env_->vkubelet() == nullptr) {
    return MakeError(ErrorCode::kUnavailableLocally, "vkubelet is not running");
  }
  return SampleProcess(env_->vkubelet()->pid());
}

double BenchRun::MetricSum(const std::string& metrics, const std::string& family,
                           const std::vector<std::string>& label_parts) const {
  double sum = 0;
  std::istringstream lines(metrics);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.compare(0, family.size(), family) != 0) continue;
    const char after = line.size() > family.size() ? line[family.size()] : '\0';
    if (after != '{' && after != ' ') continue;
    bool matches = true;
    for (const auto& part : label_parts) matches = matches && line.find(part) != std::string::npos;
    if (!matches) continue;
    const size_t space = line.rfind(' ');
    sum += std::stod(line.substr(space + 1));
  }
  return sum;
}

Object BenchRun::PodObject(Side side, const std::string& name) const {
  Object spec{{"containers", boost::json::array{Object{{"name", "app"}, {"image", "nginx"}}}}};
  if (side == Side::kVirtual) spec["nodeName"] = env_->node_name();
  return Object{{"apiVersion", "v1"},
                {"kind", "Pod"},
                {"metadata", Object{{"name", name}, {"labels", Object{{"app", "bench"}}}}},
                {"spec", std::move(spec)}};
}

Status BenchRun::CreatePod(Side side, const std::string& name) {
  auto& client = side == Side::kVirtual ? env_->virtual_client() : env_->host_client();
  const char* ns = side == Side::kVirtual ? kVirtualNamespace : kDirectNamespace;
  {
    std::lock_guard lock(mutex_);
    created_at_[name] = Steady::now();
  }
  auto created = client.Create(Pods(), ns, PodObject(side, name));
  if (!created) return tl::unexpected(created.error());
  return Ok();
}

Status BenchRun::CreatePods(Side side, const std::vector<std::string>& names) {
  return ForEachParallel(names.size(), options_.creators,
                         [&](size_t i) { return CreatePod(side, names[i]); });
}

Status BenchRun::DeletePods(Side side, const std::vector<std::string>& names,
                            int64_t grace_seconds) {
  auto& client = side == Side::kVirtual ? env_->virtual_client() : env_->host_client();
  const char* ns = side == Side::kVirtual ? kVirtualNamespace : kDirectNamespace;
  hostclient::DeleteOptions options;
  options.grace_period_seconds = grace_seconds;
  return ForEachParallel(names.size(), options_.creators, [&](size_t i) -> Status {
    auto deleted = client.Delete(Pods(), ns, names[i], options);
    if (!deleted && deleted.error().code() != ErrorCode::kNotFound) {
      return tl::unexpected(deleted.error());
    }
    return Ok();
  });
}

std::optional<Steady::time_point> BenchRun::CreatedAt(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = created_at_.find(name);
  if (it == created_at_.end()) return std::nullopt;
  return it->second;
}

}  // namespace vk::bench
