#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "hostclient/cluster_config.h"
#include "hostclient/credentials.h"

namespace vk::hostclient {

struct ExecCredentialsOptions {
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  // Wall time, against which the plugin's expirationTimestamp is compared. Tests replace it.
  std::function<std::chrono::system_clock::time_point()> wall_clock = [] {
    return std::chrono::system_clock::now();
  };
};

// Bearer tokens from a client-go credential plugin (client.authentication.k8s.io v1 or v1beta1).
// The plugin runs with KUBERNETES_EXEC_INFO describing the request (never interactive; the
// cluster too when provideClusterInfo); its ExecCredential is cached until its
// expirationTimestamp, or until Invalidate() when it has none.
//
// Only token credentials are supported: a plugin that answers with a client certificate and no
// token is a kConfig error (the transport takes its certificate from ClusterConfig, fixed at
// construction). A certificate returned next to a token is ignored.
//
// Thread-safe. At most one plugin process runs at a time: callers that find the cache empty while
// a run is in progress wait for it and share its outcome, success or failure.
class ExecCredentials : public Credentials {
 public:
  // Checks the config (apiVersion, interactive mode); runs nothing yet.
  static Result<std::unique_ptr<ExecCredentials>> Create(const ExecConfig& exec,
                                                         const ClusterConfig& cluster,
                                                         ExecCredentialsOptions options = {});

  Result<std::string> AuthorizationHeader() override;
  void Invalidate() override;

  // The KUBERNETES_EXEC_INFO document given to the plugin. Exposed for tests.
  const std::string& exec_info() const { return exec_info_; }

 private:
  struct Cached {
    std::string header;
    std::optional<std::chrono::system_clock::time_point> expiry;
  };

  ExecCredentials(ExecConfig exec, std::string exec_info, ExecCredentialsOptions options);

  bool Fresh(const Cached& cached) const;
  Result<Cached> RunPlugin() const;

  const ExecConfig exec_;
  const std::string exec_info_;
  const ExecCredentialsOptions options_;

  std::mutex refresh_mutex_;  // held while the plugin runs; taken before mutex_
  std::mutex mutex_;          // guards the fields below
  std::optional<Cached> cached_;
  uint64_t attempts_ = 0;  // completed plugin runs, so waiters can tell that one finished
  std::optional<Error> last_error_;
};

}  // namespace vk::hostclient
