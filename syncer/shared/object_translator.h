#pragma once

#include "hostclient/base/object.h"
#include "syncer/shared/pod_translator.h"

namespace vk::syncer::shared {

// The host copy of a virtual ConfigMap or Secret that pods reference (shared mode). Pure.
// Metadata as HostMetadata() builds it (hashed name, host namespace, ownership marks); data,
// binaryData, stringData, type, immutable and any other top-level field kept. A Secret of type
// kubernetes.io/service-account-token becomes Opaque: on the host that type would hand it to the
// host's token controller, which fills or deletes it for a host service account.
Object TranslateObjectForSync(const Object& virtual_object, const TranslationContext& ctx);

}  // namespace vk::syncer::shared
