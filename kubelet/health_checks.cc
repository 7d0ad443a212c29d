#include "kubelet/health_checks.h"

namespace vk::kubelet {

Condition::Condition(std::string initial_reason) : reason_(std::move(initial_reason)) {}

void Condition::Set() {
  std::lock_guard lock(mutex_);
  ok_ = true;
  reason_.clear();
}

void Condition::Fail(std::string reason) {
  std::lock_guard lock(mutex_);
  ok_ = false;
  reason_ = std::move(reason);
}

bool Condition::ok() const {
  std::lock_guard lock(mutex_);
  return ok_;
}

Status Condition::Check() const {
  std::lock_guard lock(mutex_);
  if (ok_) return Ok();
  return MakeError(ErrorCode::kUnavailableLocally, reason_);
}

void HealthChecks::Add(std::string name, Check check) {
  std::lock_guard lock(mutex_);
  checks_.emplace_back(std::move(name), std::move(check));
}

void HealthChecks::Add(std::string name, ConditionPtr condition) {
  Add(std::move(name), [condition = std::move(condition)] { return condition->Check(); });
}

std::vector<HealthChecks::Outcome> HealthChecks::Run(std::string_view only) const {
  std::vector<std::pair<std::string, Check>> checks;
  {
    // Copied so that a slow check does not hold the lock against Add.
    std::lock_guard lock(mutex_);
    checks = checks_;
  }
  std::vector<Outcome> outcomes;
  for (const auto& [name, check] : checks) {
    if (!only.empty() && name != only) continue;
    outcomes.push_back({name, check()});
  }
  return outcomes;
}

bool HealthChecks::Has(std::string_view name) const {
  std::lock_guard lock(mutex_);
  for (const auto& entry : checks_) {
    if (entry.first == name) return true;
  }
  return false;
}

}  // namespace vk::kubelet
