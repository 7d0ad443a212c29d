#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "hostclient/base/clock.h"

namespace prometheus {
class Registry;
}

namespace vk::hostclient {

// The REST client's Prometheus metrics for one cluster:
//   rest_client_requests_total{cluster,verb,code}           one per attempt; code is the HTTP
//                                                           status or "<error>" when none came
//   rest_client_request_duration_seconds{cluster,verb}      attempt latency, up to the headers
//                                                           for watches and streams
//   rest_client_retries_total{cluster,verb,reason}          reason: the ErrorCode retried
//   rest_client_rate_limiter_duration_seconds{cluster,verb} time spent waiting for a token
// verb is GET, LIST, WATCH, POST, PUT, PATCH or DELETE (the API server's request verbs).
//
// With a null registry every method does nothing. Several clients (one per cluster) may share a
// registry: the families are shared and told apart by the cluster label. The registry must
// outlive this object. Thread-safe.
class ClientMetrics {
 public:
  ClientMetrics(prometheus::Registry* registry, std::string cluster);
  ~ClientMetrics();
  ClientMetrics(const ClientMetrics&) = delete;
  ClientMetrics& operator=(const ClientMetrics&) = delete;

  // http_status 0 means the attempt produced no response.
  void ObserveRequest(std::string_view verb, int http_status, Clock::Duration latency);
  void ObserveRetry(std::string_view verb, std::string_view reason);
  void ObserveRateLimiterWait(std::string_view verb, Clock::Duration wait);

 private:
  struct Families;
  std::string cluster_;
  std::unique_ptr<Families> families_;
};

}  // namespace vk::hostclient
