#pragma once

#include <chrono>
#include <string_view>

#include "hostclient/base/clock.h"
#include "hostclient/base/error.h"
#include "hostclient/base/object.h"
#include "tests/kubesim/authn.h"
#include "tests/kubesim/storage.h"

namespace vk::kubesim {

// The action subresources, with kube-apiserver's validation and answers. Each works on Storage
// and returns what the HTTP layer sends with 201 Created.

// POST pods/<name>/binding with a v1 Binding: sets spec.nodeName (once) through Storage::BindPod.
// Answers a Success Status.
Result<Object> BindPodSubresource(Storage& storage, const ResourceCatalog& catalog,
                                  std::string_view ns, std::string_view name, const Object& binding,
                                  bool dry_run);

// POST pods/<name>/eviction with a policy/v1 Eviction: deletes the pod with the eviction's
// deleteOptions (kubesim has no PodDisruptionBudgets, so every eviction is allowed). Answers a
// Success Status.
Result<Object> EvictPodSubresource(Storage& storage, const ResourceCatalog& catalog,
                                   std::string_view ns, std::string_view name,
                                   const Object& eviction, bool dry_run);

// POST serviceaccounts/<name>/token with an authentication.k8s.io/v1 TokenRequest: mints a token
// for the service account (expirationSeconds defaults to 3600, at least 600; audiences default to
// the API server's), optionally bound to a Pod or Secret. Answers the TokenRequest with
// status.token and status.expirationTimestamp.
Result<Object> RequestTokenSubresource(Storage& storage, const ResourceCatalog& catalog,
                                       Authenticator& authenticator, std::string_view ns,
                                       std::string_view name, const Object& request, bool dry_run);

// Whether a service-account binding still holds: the service account (and the bound object)
// exist with the recorded UIDs. The authenticator's BindingValidator.
bool ServiceAccountBindingValid(const Storage& storage, const ResourceCatalog& catalog,
                                const ServiceAccountBinding& binding);

// GET deployments|replicasets/<name>/scale: the autoscaling/v1 Scale (spec.replicas,
// status.replicas, status.selector in label selector syntax).
Result<Object> GetScaleSubresource(const Storage& storage, const ResourceInfo& r,
                                   std::string_view ns, std::string_view name);

// PUT .../scale with an autoscaling/v1 Scale: sets the workload's spec.replicas (422 when
// negative). The Scale's metadata.uid and metadata.resourceVersion, when set, are preconditions
// on the workload (409 Conflict). Answers the new Scale.
Result<Object> UpdateScaleSubresource(Storage& storage, const ResourceInfo& r, std::string_view ns,
                                      std::string_view name, const Object& scale, bool dry_run);

// PATCH .../scale: the patch applied to the current Scale, then UpdateScaleSubresource; retried
// on conflicts unless the patch names a resourceVersion itself (kube's patch retry).
Result<Object> PatchScaleSubresource(Storage& storage, const ResourceInfo& r, std::string_view ns,
                                     std::string_view name, PatchKind kind, std::string_view patch,
                                     bool dry_run);

// metav1.Status{Status: Success} with the given code, as kube answers bindings and evictions.
Object SuccessStatus(int code);

}  // namespace vk::kubesim
