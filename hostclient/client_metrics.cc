#include "hostclient/client_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <chrono>

namespace vk::hostclient {
namespace {

// From a cached GET (1 ms) to a slow LIST of a large collection (10 s).
const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return kBuckets;
}

double Seconds(Clock::Duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

struct ClientMetrics::Families {
  prometheus::Family<prometheus::Counter>& requests;
  prometheus::Family<prometheus::Histogram>& duration;
  prometheus::Family<prometheus::Counter>& retries;
  prometheus::Family<prometheus::Histogram>& limiter;
};

ClientMetrics::ClientMetrics(prometheus::Registry* registry, std::string cluster)
    : cluster_(std::move(cluster)) {
  if (registry == nullptr) return;
  families_.reset(new Families{
      prometheus::BuildCounter()
          .Name("rest_client_requests_total")
          .Help("HTTP requests to the API server, by cluster, verb and status code.")
          .Register(*registry),
      prometheus::BuildHistogram()
          .Name("rest_client_request_duration_seconds")
          .Help("Latency of API server requests, by cluster and verb.")
          .Register(*registry),
      prometheus::BuildCounter()
          .Name("rest_client_retries_total")
          .Help("Requests retried, by cluster, verb and the error that caused the retry.")
          .Register(*registry),
      prometheus::BuildHistogram()
          .Name("rest_client_rate_limiter_duration_seconds")
          .Help("Time requests waited for the client-side rate limiter, by cluster and verb.")
          .Register(*registry),
  });
}

ClientMetrics::~ClientMetrics() = default;

void ClientMetrics::ObserveRequest(std::string_view verb, int http_status,
                                   Clock::Duration latency) {
  if (!families_) return;
  const std::string code = http_status == 0 ? "<error>" : std::to_string(http_status);
  families_->requests.Add({{"cluster", cluster_}, {"verb", std::string(verb)}, {"code", code}})
      .Increment();
  families_->duration.Add({{"cluster", cluster_}, {"verb", std::string(verb)}}, LatencyBuckets())
      .Observe(Seconds(latency));
}

void ClientMetrics::ObserveRetry(std::string_view verb, std::string_view reason) {
  if (!families_) return;
  families_->retries
      .Add({{"cluster", cluster_}, {"verb", std::string(verb)}, {"reason", std::string(reason)}})
      .Increment();
}

void ClientMetrics::ObserveRateLimiterWait(std::string_view verb, Clock::Duration wait) {
  if (!families_) return;
  families_->limiter.Add({{"cluster", cluster_}, {"verb", std::string(verb)}}, LatencyBuckets())
      .Observe(Seconds(wait));
}

}  // namespace vk::hostclient
