#pragma once

#include <functional>
#include <string_view>

#include "hostclient/base/error.h"
#include "hostclient/base/object.h"
#include "tests/kubesim/identity.h"

namespace vk::kubesim {

// What pod admission needs to see of the rest of the store. The lookups return nullptr when the
// object does not exist; they are called under Storage's lock and must not call back into it.
struct PodAdmissionContext {
  std::function<const Object*(std::string_view ns, std::string_view name)> service_account;
  std::function<const Object*(std::string_view name)> priority_class;
  // The PriorityClass with globalDefault: true, if any.
  std::function<const Object*()> default_priority_class;
  // ServiceAccount admission proper: the account must exist and its token is mounted.
  bool service_account_admission = true;
  IdGenerator* ids = nullptr;
};

// The mutating admission kube-apiserver runs on pod create, after defaulting:
//   - ServiceAccount: serviceAccountName defaults to "default"; with service_account_admission,
//     a missing account is Forbidden (`error looking up service account ns/x: serviceaccount "x"
//     not found`) and, unless automountServiceAccountToken is false on the pod or the account,
//     the projected kube-api-access-xxxxx volume (token, kube-root-ca.crt, namespace) is added
//     and mounted read-only at /var/run/secrets/kubernetes.io/serviceaccount in every container
//     and init container that does not mount that path already. Mirror pods are left alone.
//   - Priority: spec.priority from spec.priorityClassName (or the global default class), Forbidden
//     when the class does not exist or the pod names another value; preemptionPolicy defaulted.
//   - DefaultTolerationSeconds: NoExecute tolerations for node.kubernetes.io/not-ready and
//     node.kubernetes.io/unreachable (300 s) unless the pod tolerates them already.
Status AdmitPodCreate(Object& pod, std::string_view ns, const PodAdmissionContext& ctx);

}  // namespace vk::kubesim
