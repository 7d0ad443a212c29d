#include "syncer/shared/pod_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace vk::syncer::shared {

PodMetrics::PodMetrics(prometheus::Registry* registry) {
  if (registry == nullptr) return;
  pods_ = &prometheus::BuildGauge()
               .Name("vkubelet_pods")
               .Help("Virtual pods served by this vkubelet, by state.")
               .Register(*registry);
  latency_ = &prometheus::BuildHistogram()
                  .Name("vkubelet_pod_sync_latency_seconds")
                  .Help("Time from a change seen on one cluster to its effect on the other.")
                  .Register(*registry);
  errors_ = &prometheus::BuildCounter()
                 .Name("vkubelet_pod_sync_errors_total")
                 .Help("Failed pod reconciliations, by reason.")
                 .Register(*registry);
  host_writes_ = &prometheus::BuildCounter()
                      .Name("vkubelet_pod_host_writes_total")
                      .Help("Writes of host pods, by operation.")
                      .Register(*registry);
  for (const char* state : {"pending", "running", "succeeded", "failed", "terminating"}) {
    pods_->Add({{"state", state}});
  }
}

void PodMetrics::SetState(const std::string& key, std::string_view state) {
  if (pods_ == nullptr) return;
  std::lock_guard lock(mutex_);
  auto it = states_.find(key);
  if (it != states_.end()) {
    if (it->second == state) return;
    pods_->Add({{"state", it->second}}).Decrement();
    if (state.empty()) {
      states_.erase(it);
      return;
    }
    it->second = std::string(state);
  } else {
    if (state.empty()) return;
    states_.emplace(key, std::string(state));
  }
  pods_->Add({{"state", std::string(state)}}).Increment();
}

void PodMetrics::ObserveLatency(std::string_view stage,
                                std::chrono::steady_clock::duration latency) {
  if (latency_ == nullptr) return;
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
  latency_->Add({{"stage", std::string(stage)}}, kBuckets)
      .Observe(std::chrono::duration<double>(latency).count());
}

void PodMetrics::CountError(std::string_view reason) {
  if (errors_ != nullptr) errors_->Add({{"reason", std::string(reason)}}).Increment();
}

void PodMetrics::CountHostWrite(std::string_view op) {
  if (host_writes_ != nullptr) host_writes_->Add({{"op", std::string(op)}}).Increment();
}

}  // namespace vk::syncer::shared
