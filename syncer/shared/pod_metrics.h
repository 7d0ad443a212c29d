#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace vk::syncer::shared {

// The pod controller's metrics. Without a registry every call is a no-op. Thread-safe.
//   vkubelet_pods{state}: virtual pods we serve, by state (pending, running, succeeded, failed,
//     terminating);
//   vkubelet_pod_sync_latency_seconds{stage}: virtual_create_to_host_create (we saw the virtual
//     pod → its twin was created) and host_running_to_virtual_running (we saw the twin Running →
//     the virtual pod says Running);
//   vkubelet_pod_sync_errors_total{reason}; vkubelet_pod_host_writes_total{op}.
class PodMetrics {
 public:
  static constexpr std::string_view kCreateStage = "virtual_create_to_host_create";
  static constexpr std::string_view kRunningStage = "host_running_to_virtual_running";

  explicit PodMetrics(prometheus::Registry* registry);

  // The state of virtual pod `key`; an empty state forgets the pod.
  void SetState(const std::string& key, std::string_view state);
  void ObserveLatency(std::string_view stage, std::chrono::steady_clock::duration latency);
  void CountError(std::string_view reason);
  void CountHostWrite(std::string_view op);

 private:
  prometheus::Family<prometheus::Gauge>* pods_ = nullptr;
  prometheus::Family<prometheus::Histogram>* latency_ = nullptr;
  prometheus::Family<prometheus::Counter>* errors_ = nullptr;
  prometheus::Family<prometheus::Counter>* host_writes_ = nullptr;

  std::mutex mutex_;
  std::map<std::string, std::string, std::less<>> states_;
};

}  // namespace vk::syncer::shared
