#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace vk::kubesim {

// Makes matching requests fail: the next `count` requests whose verb matches and whose path
// contains `path_substring` get `status` with a metav1.Status body (and Retry-After when set).
struct FaultRule {
  std::string verb;            // kube verb ("list") or HTTP method ("GET"); "" = any
  std::string path_substring;  // "" = any path
  int count = 1;               // how many requests it applies to; < 0 = until removed
  int status = 500;
  std::optional<int> retry_after_seconds;
  std::string reason;   // metav1.Status reason; "" = the usual one for the status
  std::string message;  // "" = a message in kube's words for the status
};

// Delays matching requests before they are handled (the connection's coroutine waits; no thread
// blocks).
struct LatencyRule {
  std::string verb;
  std::string path_substring;
  std::chrono::milliseconds delay{0};
  int count = -1;  // < 0 = until removed
};

// Fault injection for reliability tests: errors, throttling, latency and dropped watches.
// Thread-safe; rules may be added and removed while the server runs. The server consults
// Evaluate() once per authenticated request and subscribes to DropWatches().
class FaultInjector {
 public:
  struct Decision {
    std::chrono::milliseconds delay{0};
    std::optional<FaultRule> fault;
  };

  int AddFault(FaultRule rule);
  int AddLatency(LatencyRule rule);
  // Removes a fault or latency rule by the id its Add returned.
  void Remove(int id);
  void Clear();

  // Consumes one use of the first matching fault rule and of every matching latency rule.
  Decision Evaluate(std::string_view verb, std::string_view method, std::string_view path);

  // Closes the connection of every active watch now, without the terminating chunk, as an API
  // server crash or a load balancer would.
  void DropWatches();
  using Subscription = uint64_t;
  Subscription SubscribeDropWatches(std::function<void()> callback);
  void Unsubscribe(Subscription id);

  // Requests that got an injected fault so far.
  uint64_t faults_injected() const;

 private:
  static bool Matches(const std::string& verb, const std::string& path_substring,
                      std::string_view req_verb, std::string_view method, std::string_view path);

  mutable std::mutex mutex_;
  int next_id_ = 1;
  std::vector<std::pair<int, FaultRule>> faults_;
  std::vector<std::pair<int, LatencyRule>> latencies_;
  uint64_t faults_injected_ = 0;
  Subscription next_subscription_ = 1;
  std::map<Subscription, std::function<void()>> drop_subscribers_;
};

using FaultInjectorPtr = std::shared_ptr<FaultInjector>;

}  // namespace vk::kubesim
