#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "hostclient/base/error.h"
#include "kubelet/component.h"
#include "kubelet/config.h"
#include "kubelet/health_checks.h"

namespace prometheus {
class Registry;
}

namespace vk::hostclient {
class RestClient;
}

namespace vk::kubelet {

// The composition root: turns a validated Config into the running daemon.
//
// Create() loads both clusters' client configs (host: the kubeconfig file, or in-cluster when
// none is given; virtual: the kubeconfig file), creates one RestClient per cluster with its
// QPS/burst and the shared metrics registry, and starts the HTTP endpoint (health, readiness,
// metrics), so that /livez answers while the rest starts. It registers one component per cluster
// that waits for its API server's /version (readiness checks "virtual-api-reachable" and
// "host-api-reachable"). Later components (node controller, pod syncer) plug in with
// AddComponent before Run.
//
// Run() starts the components in order, then waits for SIGTERM/SIGINT or RequestStop() and
// shuts down: readiness fails ("shutdown"), components are asked to stop (reverse order), the
// clients are cancelled, components are joined, the HTTP endpoint stops. A second signal, or a
// shutdown that overruns its deadline, ends the process at once with _Exit(1).
//
// Threading: Create, AddComponent and Run from one thread; RequestStop from any thread.
class Daemon {
 public:
  struct Options {
    std::chrono::milliseconds shutdown_timeout{std::chrono::seconds(15)};
  };

  // kConfig when a kubeconfig is missing or invalid; kUnavailableLocally when the HTTP address
  // cannot be bound.
  static Result<std::unique_ptr<Daemon>> Create(const Config& config, Options options);
  static Result<std::unique_ptr<Daemon>> Create(const Config& config);
  ~Daemon();

  const Config& config() const;
  hostclient::RestClient& host_client();
  hostclient::RestClient& virtual_client();
  prometheus::Registry& metrics();
  HealthChecks& readiness();
  HealthChecks& liveness();
  uint16_t http_port() const;

  // Before Run only.
  void AddComponent(ComponentPtr component);

  // Blocks until shut down; returns the process exit code: 0 after a clean shutdown, 1 when a
  // component failed to start. At most once per Daemon.
  int Run();
  // Starts the shutdown as a signal would. Thread-safe; before Run it makes Run return at once.
  void RequestStop();

 private:
  struct Impl;
  explicit Daemon(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vk::kubelet
