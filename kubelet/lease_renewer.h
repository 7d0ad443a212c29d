#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "hostclient/base/error.h"
#include "hostclient/base/object.h"
#include "kubelet/node_status.h"

namespace vk::hostclient {
class RestClient;
}

namespace vk::kubelet {

inline constexpr char kNodeLeaseNamespace[] = "kube-node-lease";

// The coordination.k8s.io/v1 Lease a kubelet keeps for its node: name and holderIdentity are the
// node's name, leaseDurationSeconds says how long the node controller waits before it marks the
// node unreachable, renewTime is the heartbeat, and an ownerReference to the Node lets the
// garbage collector remove the lease with the node.
Object BuildLease(std::string_view node_name, std::string_view node_uid,
                  int32_t lease_duration_seconds, WallTime renew_time);

// Renews one node's Lease, as the kubelet's lease controller does: read it, create it when
// missing, otherwise write holder, duration, renewTime and owner with the read resourceVersion as
// the precondition; on a conflict (someone else wrote it) or a create race, read again and retry,
// up to max_attempts. Synchronous; borrows the client. Not thread-safe: one caller at a time.
class LeaseRenewer {
 public:
  struct Options {
    std::string node_name;
    int32_t lease_duration_seconds = 40;
    int max_attempts = 3;
  };

  LeaseRenewer(
      hostclient::RestClient& client, Options options,
      std::function<WallTime()> wall_clock = [] { return std::chrono::system_clock::now(); });

  // node_uid: the Node's UID, for the ownerReference ("" leaves the owner out).
  Status Renew(std::string_view node_uid);
  // Deletes the lease (the node is gone); a missing lease is success.
  Status Delete();

 private:
  hostclient::RestClient& client_;
  const Options options_;
  const std::function<WallTime()> wall_clock_;
};

}  // namespace vk::kubelet
