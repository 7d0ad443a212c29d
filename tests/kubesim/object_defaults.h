#pragma once

#include <string>
#include <string_view>

#include "hostclient/base/object.h"
#include "tests/kubesim/resource_catalog.h"

namespace vk::kubesim {

// kube's defaulting functions (SetDefaults_* of the v1 API types) for the types kubesim serves.
// kube-apiserver runs them on every body it decodes, so Storage applies them to the bodies of
// create, update, patch and apply alike: pod spec fields (restartPolicy Always,
// terminationGracePeriodSeconds 30, dnsPolicy ClusterFirst, securityContext {}, schedulerName
// default-scheduler, enableServiceLinks true), container fields (terminationMessagePath and
// Policy, imagePullPolicy from the image tag, resources {}, port protocol TCP, probe timings,
// fieldRef apiVersion), volume defaultMode 420, service type/sessionAffinity/ports, namespace
// name label, secret type Opaque, PV/PVC volumeMode and reclaim policy, network policy types,
// priority class preemption policy, deployment replicas/strategy/revisionHistoryLimit/
// progressDeadlineSeconds and replica set replicas (with the pod defaults on their templates).
// Pure; no I/O.
void ApplySchemeDefaults(const ResourceInfo& r, Object& obj);

// Always for an image without a tag or tagged "latest", IfNotPresent otherwise (digests included).
std::string DefaultImagePullPolicy(std::string_view image);

// Guaranteed, Burstable or BestEffort, as kube computes status.qosClass from container resources.
std::string PodQosClass(const Object& pod);

}  // namespace vk::kubesim
