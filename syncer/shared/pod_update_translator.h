#pragma once

#include <optional>
#include <string>

#include "hostclient/base/error.h"
#include "hostclient/base/object.h"
#include "syncer/shared/pod_translator.h"

namespace vk::syncer::shared {

// A strategic-merge patch (application/strategic-merge-patch+json) that brings a running host twin
// in line with what TranslatePod builds from the virtual pod now, limited to what the API lets
// change on a running pod:
//  - container and init container images (list entries merged by name);
//  - labels (the twin's labels are ours: extra keys are removed);
//  - annotations (added or changed; removed only when they were copied from the virtual pod,
//    per kAnnotationSyncedAnnotations, so annotations host components add are left alone);
//  - activeDeadlineSeconds (set or lowered; the API refuses raising or removing it);
//  - tolerations (missing ones added; the list is sent whole, keeping the twin's own entries).
// nullopt when nothing differs. Errors are TranslatePod's (e.g. a privilege the policy now denies).
// Pure and thread-safe.
Result<std::optional<std::string>> ComputeHostPodPatch(const Object& virtual_pod,
                                                       const Object& host_pod,
                                                       const TranslationContext& ctx);

}  // namespace vk::syncer::shared
