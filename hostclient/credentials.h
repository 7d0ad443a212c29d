#pragma once

#include <memory>
#include <string>

#include "hostclient/base/clock.h"
#include "hostclient/base/error.h"
#include "hostclient/cluster_config.h"

namespace vk::hostclient {

// Supplies the Authorization header for each request: a static token, a token file re-read when
// it changes (checked at most once a second), an exec plugin's credential cached until its
// expirationTimestamp, or basic auth. Thread-safe; cheap on the hot path (a cached string).
class Credentials {
 public:
  static Result<std::unique_ptr<Credentials>> Create(const ClusterConfig& config,
                                                     Clock& clock = Clock::Real());
  virtual ~Credentials() = default;

  // The Authorization header value ("Bearer ...", "Basic ..."), or "" when none is configured.
  virtual Result<std::string> AuthorizationHeader() = 0;
  // Called after a 401: drop cached credentials so the next call re-reads or re-executes.
  virtual void Invalidate() = 0;
};

using CredentialsPtr = std::unique_ptr<Credentials>;

}  // namespace vk::hostclient
