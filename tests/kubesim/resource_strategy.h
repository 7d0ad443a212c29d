#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "hostclient/base/error.h"
#include "hostclient/base/object.h"
#include "tests/kubesim/resource_catalog.h"

// Per-type behaviour of kube's registry strategies (PrepareForCreate, PrepareForUpdate, Validate,
// ValidateUpdate) for the types kubesim serves. Pure functions over JSON objects; Storage calls
// them after scheme defaulting and before it stores anything.
namespace vk::kubesim {

// Fields users may not set on create: the status of every type with a status subresource except
// nodes (kubelets register nodes with their status) is reset; pods get phase Pending and their
// qosClass, namespaces phase Active and spec.finalizers ["kubernetes"], PVs and PVCs phase Pending.
void PrepareForCreate(const ResourceInfo& r, Object& obj);

// Writes to the main resource keep the stored status; namespaces keep spec.finalizers; services
// keep their allocated clusterIP(s) and node ports when the body leaves them out (kube's
// patchAllocatedValues).
void PrepareForUpdate(const ResourceInfo& r, Object& updated, const Object& old);

// A write to pods/ephemeralcontainers (kube's ephemeralContainersStrategy): the stored pod with
// only spec.ephemeralContainers taken from `body`; metadata, the rest of the spec and the status
// stay as they are.
Object PrepareEphemeralContainersUpdate(const Object& body, const Object& old);
// Secret decoding: stringData merged over data (base64-encoded) and dropped; data values must be
// base64 (kBadRequest `Secret in version "v1" cannot be handled as a Secret: ...` otherwise).
Status NormalizeSecret(Object& secret);

// The object-name rule: DNS-1123 label for namespaces, DNS-1035 label for services, DNS-1123
// subdomain for everything else.
std::vector<std::string> ValidateName(const ResourceInfo& r, std::string_view name);

// Labels, annotations and type-specific checks (deployments and replica sets: replicas >= 0, a
// non-empty selector matching the template's labels, a valid pod template with restartPolicy
// Always); causes as kube words them.
std::vector<ErrorCause> ValidateCreate(const ResourceInfo& r, const Object& obj);
// The same plus update rules: pod spec immutability, immutable ConfigMaps and Secrets, Secret
// type, workload selectors.
std::vector<ErrorCause> ValidateUpdate(const ResourceInfo& r, const Object& updated,
                                       const Object& old);

}  // namespace vk::kubesim
