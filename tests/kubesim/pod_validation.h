#pragma once

#include <vector>

#include "hostclient/base/error.h"
#include "hostclient/base/object.h"

// The parts of kube's pod validation (pkg/apis/core/validation) that clients run into: what a pod
// must have on create, and which spec fields an update may change.
namespace vk::kubesim {

// Containers present, named (DNS labels, unique across containers and initContainers), with an
// image; no ephemeral containers (they are added through their subresource); volume names unique;
// restartPolicy and dnsPolicy among the supported values.
std::vector<ErrorCause> ValidatePodCreate(const Object& pod);

// An update may change only spec.containers[*].image, spec.initContainers[*].image,
// spec.activeDeadlineSeconds (set, or lowered), spec.tolerations (additions; existing ones may
// change only tolerationSeconds), spec.terminationGracePeriodSeconds (from negative to 1) and
// spec.schedulingGates (removals). Anything else is kube's
// `spec: Forbidden: pod updates may not change fields other than ...` with a list of the
// changed fields. spec.nodeName is set through the binding subresource only.
std::vector<ErrorCause> ValidatePodUpdate(const Object& updated, const Object& old);

// A write to the pods/ephemeralcontainers subresource (`updated` is the old pod with the new
// spec.ephemeralContainers): existing ephemeral containers may be neither removed nor changed; new
// ones need a unique DNS-label name and an image, may not set ports, probes, lifecycle, resources,
// resizePolicy or restartPolicy, and a targetContainerName must name one of the pod's containers.
std::vector<ErrorCause> ValidateEphemeralContainersUpdate(const Object& updated, const Object& old);

}  // namespace vk::kubesim
