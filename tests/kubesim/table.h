#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "hostclient/base/object.h"
#include "tests/kubesim/resource_catalog.h"

namespace vk::kubesim {

struct TableOptions {
  std::string group_version = "meta.k8s.io/v1";  // or meta.k8s.io/v1beta1
  std::string include_object = "Metadata";       // "None", "Metadata" or "Object"
  bool no_headers = false;                       // leave columnDefinitions out
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
};

// Renders objects as a meta.k8s.io Table, as kube-apiserver's printers do for `kubectl get`:
// pods (Name, Ready, Status, Restarts, Age, IP, Node, Nominated Node, Readiness Gates), nodes,
// namespaces, configmaps, secrets, services, serviceaccounts, deployments, replicasets and leases
// with kube's columns;
// other resources with Name and Age. list_metadata (resourceVersion, continue) is copied to the
// table's metadata. Each row carries the object as PartialObjectMetadata, whole, or not at all.
Object ToTable(const ResourceInfo& resource, const std::vector<const Object*>& objects,
               const Object& list_metadata, const TableOptions& options);

// The object reduced to its metadata (meta.k8s.io PartialObjectMetadata).
Object ToPartialObjectMetadata(const Object& object, std::string_view group_version);

// kube's duration.HumanDuration: "45s", "5m3s", "2h10m", "3d4h", "2y30d"...
std::string HumanDuration(std::chrono::seconds d);

}  // namespace vk::kubesim
