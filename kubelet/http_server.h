#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hostclient/base/error.h"
#include "kubelet/health_checks.h"

namespace prometheus {
class Collectable;
}

namespace vk::kubelet {

// The daemon's plain-HTTP endpoint for probes and scrapes:
//   /livez, /healthz   liveness checks; /readyz  readiness checks. "200 ok" when every check
//                      passes, else 500 listing the failed ones. "?verbose" lists every check the
//                      way kube-apiserver does ("[+]name ok", "[-]name failed: reason");
//                      "?exclude=name" skips a check; "/readyz/<name>" runs one check.
//   /metrics           Prometheus text format 0.0.4 of every collectable given.
// Anything else is 404; methods other than GET and HEAD are 405.
//
// One I/O thread serves every connection with Asio coroutines (keep-alive supported, idle
// connections time out). Health checks and collectors run on that thread, so they must be quick.
// The checks and collectables are borrowed and must outlive the server. Stop() is thread-safe
// (not from a check or collector) and idempotent; the destructor stops.
class HttpServer {
 public:
  struct Options {
    std::string host = "0.0.0.0";             // IP literal to bind; "" = 0.0.0.0
    uint16_t port = 0;                        // 0: any free port (see port())
    const HealthChecks* liveness = nullptr;   // null: always live
    const HealthChecks* readiness = nullptr;  // null: always ready
    std::vector<const prometheus::Collectable*> metrics;
    std::chrono::milliseconds idle_timeout{std::chrono::seconds(30)};
    // How long Stop() lets requests in progress finish before closing their connections.
    std::chrono::milliseconds shutdown_grace{std::chrono::seconds(2)};
  };

  // Binds and starts serving. kUnavailableLocally when the address cannot be bound.
  static Result<std::unique_ptr<HttpServer>> Start(Options options);
  ~HttpServer();

  uint16_t port() const;
  // Stops accepting, closes idle connections, lets responses in progress finish (up to
  // shutdown_grace) and joins the I/O thread.
  void Stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vk::kubelet
