#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "hostclient/base/error.h"

namespace vk::kubelet {

// A condition that one component sets and health endpoints read: "caches-synced",
// "virtual-api-reachable"... It starts failed with a reason. Thread-safe; Check never blocks
// for long (one mutex).
class Condition {
 public:
  explicit Condition(std::string initial_reason);

  void Set();
  void Fail(std::string reason);
  bool ok() const;
  // Ok() or a kUnavailableLocally error carrying the reason.
  Status Check() const;

 private:
  mutable std::mutex mutex_;
  bool ok_ = false;
  std::string reason_;
};

using ConditionPtr = std::shared_ptr<Condition>;

// A named set of checks behind one endpoint (/livez or /readyz), run in registration order on
// each request. Checks must be quick and must not block on the network: they read state that
// components keep up to date. Thread-safe: checks may be added while requests are served.
class HealthChecks {
 public:
  using Check = std::function<Status()>;

  struct Outcome {
    std::string name;
    Status status;
  };

  void Add(std::string name, Check check);
  // Registers a check that reports the condition.
  void Add(std::string name, ConditionPtr condition);

  // Runs every check, or only the one named (empty: all). An unknown name gives no outcomes.
  std::vector<Outcome> Run(std::string_view only = {}) const;
  bool Has(std::string_view name) const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, Check>> checks_;
};

}  // namespace vk::kubelet
