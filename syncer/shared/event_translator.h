#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "hostclient/base/object.h"

namespace vk::syncer::shared {

// Events host → virtual (shared mode, DESIGN.md §4): what the host's kubelet and scheduler say
// about a host twin pod ("Pulling image", "Back-off restarting failed container"...) is copied to
// the virtual cluster as an event about the virtual pod, so that `kubectl describe pod` there
// tells the user what happened. All functions are pure and thread-safe.

// Marks of a virtual copy: the host event it was copied from (its uid), and a label that lets the
// copier list every copy it wrote after a restart (events cannot be selected by annotation).
inline constexpr std::string_view kAnnotationHostEventUid = "vkubelet.io/host-event-uid";
inline constexpr std::string_view kLabelCopiedFrom = "vkubelet.io/copied-from";
inline constexpr std::string_view kCopiedFromHost = "host";

// Hex digits of SHA-256 in the name of a virtual copy.
inline constexpr std::size_t kEventHashHexChars = 16;

// The virtual pod a host twin pod stands for, read from its origin annotations:
// {"metadata":{"namespace","name","uid"}}. nullopt when the pod has no origin namespace or name,
// or its origin kind is set and is not Pod: such a pod is not ours to report on.
std::optional<Object> VirtualPodRefOf(const Object& host_pod);

// "<virtual pod name>.<first 16 hex of SHA-256(host event uid)>" (of "namespace/name" when the
// host event has no uid). Deterministic, so a restart finds the copy it wrote before; the pod
// name part is cut so that the whole stays within 253 characters.
std::string VirtualEventName(const Object& host_event, const Object& virtual_pod);

// The virtual copy of `host_event`, an event about a host twin pod:
//  - metadata: name VirtualEventName, the virtual pod's namespace, label kLabelCopiedFrom=host and
//    annotation kAnnotationHostEventUid only (host uid, resourceVersion, managedFields, owners,
//    labels and annotations stay on the host);
//  - involvedObject: the virtual pod (v1 Pod, namespace, name, uid), fieldPath kept;
//  - reason, type, count, firstTimestamp, lastTimestamp, eventTime, series, action,
//    source.component, reportingComponent and fields this version does not know: kept;
//  - source.host and reportingInstance (host node names, or a scheduler instance named after a
//    host node): virtual_node_name where the host event had one; `related` (a host object):
//    dropped;
//  - message: the host pod's "namespace/name" becomes the virtual pod's, its bare name becomes the
//    virtual name, and host_node_name and source.host become virtual_node_name, each replaced only
//    as a whole word so that "node-1" never rewrites part of "node-10".
// virtual_pod_ref needs only metadata.namespace/name/uid (VirtualPodRefOf gives that).
Object TranslateEventBack(const Object& host_event, const Object& virtual_pod_ref,
                          std::string_view virtual_node_name, std::string_view host_node_name = {});

// The fields of a copy that follow its host event once created (count, timestamps, message,
// series, reason, type, action), with null for those absent: both the body of the merge patch that
// brings a copy up to date and, serialised, the fingerprint that says whether it needs one.
Object EventCopyUpdate(const Object& event);

// When the event was last seen: lastTimestamp, else series.lastObservedTime, else eventTime,
// else firstTimestamp, else metadata.creationTimestamp; nullopt when none parses.
std::optional<std::chrono::system_clock::time_point> EventLastSeen(const Object& event);

}  // namespace vk::syncer::shared
