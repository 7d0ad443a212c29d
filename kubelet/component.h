#pragma once

#include <memory>
#include <string>

#include "hostclient/base/error.h"

namespace vk::kubelet {

// A long-running part of the daemon: an API-server probe, the node controller, the pod syncer...
// The daemon starts components in the order they were added and stops them in reverse order, in
// two phases around the cancellation of the API clients:
//   RequestStop() on every component  →  clients cancelled  →  Stop() on every component.
// All three calls come from the daemon's shutdown thread, never concurrently with each other.
class Component {
 public:
  virtual ~Component() = default;

  // For logs: "virtual-api-probe", "node-controller"...
  virtual std::string name() const = 0;
  // Starts background work and returns without waiting for it to become ready (readiness is
  // reported through the daemon's HealthChecks). An error aborts the daemon's startup.
  virtual Status Start() = 0;
  // Stop taking new work. Must not block. Client calls in flight are cancelled right after.
  virtual void RequestStop() {}
  // Wait until background work has finished; client calls now fail with kCancelled, so this
  // returns promptly. Called even when Start failed or was never called; idempotent.
  virtual void Stop() = 0;
};

using ComponentPtr = std::unique_ptr<Component>;

}  // namespace vk::kubelet
