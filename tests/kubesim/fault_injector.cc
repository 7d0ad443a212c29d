#include "tests/kubesim/fault_injector.h"

#include <algorithm>

namespace vk::kubesim {

int FaultInjector::AddFault(FaultRule rule) {
  std::lock_guard lock(mutex_);
  int id = next_id_++;
  faults_.emplace_back(id, std::move(rule));
  return id;
}

int FaultInjector::AddLatency(LatencyRule rule) {
  std::lock_guard lock(mutex_);
  int id = next_id_++;
  latencies_.emplace_back(id, std::move(rule));
  return id;
}

void FaultInjector::Remove(int id) {
  std::lock_guard lock(mutex_);
  std::erase_if(faults_, [id](const auto& f) { return f.first == id; });
  std::erase_if(latencies_, [id](const auto& l) { return l.first == id; });
}

void FaultInjector::Clear() {
  std::lock_guard lock(mutex_);
  faults_.clear();
  latencies_.clear();
}

bool FaultInjector::Matches(const std::string& verb, const std::string& path_substring,
                            std::string_view req_verb, std::string_view method,
                            std::string_view path) {
  if (!verb.empty() && verb != req_verb && verb != method) return false;
  return path_substring.empty() || path.find(path_substring) != std::string_view::npos;
}

FaultInjector::Decision FaultInjector::Evaluate(std::string_view verb, std::string_view method,
                                                std::string_view path) {
  Decision d;
  std::lock_guard lock(mutex_);
  for (auto it = latencies_.begin(); it != latencies_.end();) {
    LatencyRule& rule = it->second;
    if (!Matches(rule.verb, rule.path_substring, verb, method, path)) {
      ++it;
      continue;
    }
    d.delay += rule.delay;
    if (rule.count > 0 && --rule.count == 0) {
      it = latencies_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    FaultRule& rule = it->second;
    if (!Matches(rule.verb, rule.path_substring, verb, method, path)) continue;
    d.fault = rule;
    ++faults_injected_;
    if (rule.count > 0 && --rule.count == 0) faults_.erase(it);
    break;
  }
  return d;
}

void FaultInjector::DropWatches() {
  std::vector<std::function<void()>> callbacks;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, cb] : drop_subscribers_) callbacks.push_back(cb);
  }
  for (const auto& cb : callbacks) cb();
}

FaultInjector::Subscription FaultInjector::SubscribeDropWatches(std::function<void()> callback) {
  std::lock_guard lock(mutex_);
  Subscription id = next_subscription_++;
  drop_subscribers_[id] = std::move(callback);
  return id;
}

void FaultInjector::Unsubscribe(Subscription id) {
  std::lock_guard lock(mutex_);
  drop_subscribers_.erase(id);
}

uint64_t FaultInjector::faults_injected() const {
  std::lock_guard lock(mutex_);
  return faults_injected_;
}

}  // namespace vk::kubesim
