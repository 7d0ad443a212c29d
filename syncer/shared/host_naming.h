#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "hostclient/base/error.h"
#include "hostclient/base/object.h"

namespace vk::syncer::shared {

// Names and ownership marks of the host twins of virtual objects (shared mode, DESIGN.md §4).
//
// Every host object of one virtual cluster lives in that cluster's host namespace, so its name
// must encode the full virtual key: HostName(cluster, namespace, name) is a readable prefix
// "<name>-x-<namespace>-x-<cluster>", cut so that the whole stays a DNS-1123 label (≤ 63 chars),
// followed by "-" and the first kHashHexChars hex digits of SHA-256("cluster/namespace/name").
//
// Collision odds: the suffix carries 48 bits. For n objects whose readable prefixes are cut to the
// same text, the chance of any two sharing a name is about n² / 2^49: 1.8e-5 for 100 000 objects
// and 1.8e-3 for a million (k3k's 24-bit suffix reaches 1/2 at about 4 800 objects). A collision
// is still never harmful: CheckOwnership refuses to touch a host object of another origin.
//
// All functions are pure and thread-safe.

inline constexpr std::size_t kMaxHostNameLength = 63;
inline constexpr std::size_t kHashHexChars = 12;

// Ownership labels: what host informers select on and what garbage collection trusts.
inline constexpr std::string_view kLabelCluster = "vkubelet.io/cluster";
inline constexpr std::string_view kLabelManagedBy = "vkubelet.io/managed-by";
inline constexpr std::string_view kManagedByValue = "vkubelet";

// Origin annotations: the full virtual identity, which the hashed name cannot give back.
inline constexpr std::string_view kAnnotationOriginNamespace = "vkubelet.io/origin-namespace";
inline constexpr std::string_view kAnnotationOriginName = "vkubelet.io/origin-name";
inline constexpr std::string_view kAnnotationOriginUid = "vkubelet.io/origin-uid";
inline constexpr std::string_view kAnnotationOriginKind = "vkubelet.io/origin-kind";

// Host name of the virtual object `name` in virtual namespace `ns` of virtual cluster `cluster`.
// Deterministic; always a valid DNS-1123 label; distinct keys give distinct names up to the hash
// odds above.
std::string HostName(std::string_view cluster, std::string_view ns, std::string_view name);

// Same scheme for the synced copies of ConfigMaps and Secrets referenced by pods. Kept as named
// functions so that call sites say which kind of reference they translate.
inline std::string HostConfigMapName(std::string_view cluster, std::string_view ns,
                                     std::string_view name) {
  return HostName(cluster, ns, name);
}
inline std::string HostSecretName(std::string_view cluster, std::string_view ns,
                                  std::string_view name) {
  return HostName(cluster, ns, name);
}

// Whether `s` is a DNS-1123 label: 1-63 chars of [a-z0-9-], starting and ending alphanumeric.
bool IsDnsLabel(std::string_view s);

// Lowercase hex SHA-256 of `data` (64 chars).
std::string Sha256Hex(std::string_view data);

// The metadata of a host twin of `virtual_object`: name = HostName(...), namespace =
// host_namespace, the virtual labels and annotations plus the ownership labels and origin
// annotations (which win over virtual keys of the same name), and every other metadata field the
// host may accept kept as is. Dropped: uid, resourceVersion, creationTimestamp, deletion*,
// generation, selfLink, managedFields, ownerReferences (they would dangle on the host),
// generateName and finalizers (no host controller would ever clear ours).
Object HostMetadata(const Object& virtual_object, std::string_view cluster,
                    std::string_view host_namespace);

// Whether `host_object` carries the ownership marks of virtual object ns/name of `cluster`. The
// origin UID is not compared: a virtual object recreated under the same name keeps its host twin's
// identity, and replacing a stale twin is the reconciler's decision.
bool OriginMatches(const Object& host_object, std::string_view cluster, std::string_view ns,
                   std::string_view name);

// OriginMatches as a Status: kConflict (never overwrite) naming the host object, its recorded
// origin (or that it is not managed by vkubelet) and the origin that wanted the name.
Status CheckOwnership(const Object& host_object, std::string_view cluster, std::string_view ns,
                      std::string_view name);

}  // namespace vk::syncer::shared
