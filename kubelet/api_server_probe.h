#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "hostclient/base/error.h"
#include "kubelet/component.h"
#include "kubelet/health_checks.h"

namespace prometheus {
class Counter;
class Registry;
}  // namespace prometheus

namespace vk::hostclient {
class RestClient;
}

namespace vk::kubelet {

// What GET /version says.
struct ServerVersion {
  std::string git_version;  // "v1.31.0+k3s1"
  std::string platform;     // "linux/amd64"
};

// Parses a /version document (version.Info); kDecode when gitVersion is missing.
Result<ServerVersion> ParseServerVersion(std::string_view json);

// Waits at startup until an API server answers GET /version: retries with exponential backoff
// and jitter, logs the version once it answers, then sets the `reachable` condition and ends.
// Each failed attempt sets the condition's reason, logs a warning and counts
// vkubelet_api_server_probe_failures_total{cluster}. The client is borrowed and must outlive the
// probe; one background thread while probing.
class ApiServerProbe : public Component {
 public:
  struct Options {
    std::chrono::milliseconds initial_backoff{std::chrono::milliseconds(500)};
    std::chrono::milliseconds max_backoff{std::chrono::seconds(30)};
  };

  // metrics may be null.
  ApiServerProbe(hostclient::RestClient& client, ConditionPtr reachable,
                 prometheus::Registry* metrics, Options options);
  ApiServerProbe(hostclient::RestClient& client, ConditionPtr reachable,
                 prometheus::Registry* metrics);
  ~ApiServerProbe() override;

  std::string name() const override;
  Status Start() override;
  void RequestStop() override;
  void Stop() override;

  // The server's version once it has answered.
  std::optional<ServerVersion> version() const;

 private:
  void Loop();

  hostclient::RestClient& client_;
  ConditionPtr reachable_;
  prometheus::Counter* failures_ = nullptr;
  Options options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::optional<ServerVersion> version_;
  std::thread thread_;
};

}  // namespace vk::kubelet
