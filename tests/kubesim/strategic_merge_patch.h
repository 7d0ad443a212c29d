#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "hostclient/base/error.h"
#include "hostclient/base/object.h"

namespace vk::kubesim {

// How a list field merges under a strategic merge patch: kube declares this per Go struct field
// (patchStrategy/patchMergeKey tags). Without the Go types, kubesim keys it on the field's path of
// object keys from the root (list elements add nothing to the path), covering the built-in types
// it serves: containers, initContainers and ephemeralContainers by name; volumes, env,
// imagePullSecrets, schedulingGates, resourceClaims by name; container ports by containerPort and
// service spec.ports by port; volumeMounts by mountPath; volumeDevices by devicePath; conditions by
// type; node status.addresses by type; ownerReferences by uid; hostAliases, podIPs, hostIPs by
// ip; topologySpreadConstraints by topologyKey; metadata.finalizers as a set. Every other list is
// replaced.
struct ListStrategy {
  enum class Kind { kReplace, kMergeByKey, kMergePrimitives };
  Kind kind = Kind::kReplace;
  std::string merge_key;
};
ListStrategy ListStrategyFor(const std::vector<std::string>& path);

// Applies a strategic merge patch (application/strategic-merge-patch+json) to original: maps merge
// recursively, null deletes a key, lists follow ListStrategyFor. Directives: `$patch: replace`
// (map or list element), `$patch: delete` (map, or list element by merge key), `$patch: merge`,
// `$retainKeys`, `$deleteFromPrimitiveList/<field>`; `$setElementOrder/<field>` is accepted and
// ignored (merged lists keep the original order, new elements appended). kBadRequest when the
// patch is not a JSON object or a directive is malformed.
Result<Object> ApplyStrategicMergePatch(const Object& original, std::string_view patch);
Result<Object> StrategicMergeObjects(const Object& original, const Object& patch);

}  // namespace vk::kubesim
