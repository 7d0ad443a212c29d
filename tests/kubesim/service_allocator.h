#pragma once

#include <cstdint>
#include <set>

#include "hostclient/base/error.h"
#include "hostclient/base/object.h"

namespace vk::kubesim {

// Service cluster IPs and node ports, allocated as kube-apiserver allocates them: IPv4 single
// stack from 10.96.0.0/12 (the default service CIDR; requested IPs from anywhere in it, automatic
// ones from its upper band so they do not collide with well-known static IPs such as 10.96.0.10),
// node ports from 30000-32767. Headless ("None") and ExternalName services get no IP. Not
// thread-safe: Storage calls it under its lock. dry_run computes without recording.
class ServiceAllocator {
 public:
  // Fills spec.clusterIP(s), ipFamilies, ipFamilyPolicy and node ports of a new service. kInvalid
  // causes worded as kube's when a requested IP or port is taken or out of range.
  Result<std::vector<ErrorCause>> Allocate(Object& service, bool dry_run);
  // An update: node ports for ports that need them (type NodePort/LoadBalancer), released when
  // no longer used; the cluster IP may not change.
  Result<std::vector<ErrorCause>> Reallocate(Object& updated, const Object& old, bool dry_run);
  void Release(const Object& service);

 private:
  Result<std::vector<ErrorCause>> AllocateImpl(Object& service, bool dry_run);
  Result<std::vector<ErrorCause>> ReallocateImpl(Object& updated, const Object& old, bool dry_run);
  std::vector<ErrorCause> AllocateNodePorts(Object& spec, const Object* old_spec, bool dry_run);

  std::set<uint32_t> ips_;
  std::set<int64_t> node_ports_;
  uint32_t next_ip_offset_ = 0;
  int64_t next_node_port_ = 0;
};

}  // namespace vk::kubesim
