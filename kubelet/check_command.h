#pragma once

#include <iosfwd>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hostclient/base/error.h"
#include "kubelet/flags.h"
#include "kubelet/required_permissions.h"

namespace vk::hostclient {
class RestClient;
}

namespace vk::kubelet {

// `vkubelet check`: proves that a kubeconfig gives vkubelet what it needs on one cluster.
struct CheckOptions {
  std::string kubeconfig;  // empty: $KUBECONFIG or ~/.kube/config
  std::string context;     // empty: the current context
  Role role = Role::kVirtual;
  std::string ns;  // host role: the virtual cluster's host namespace; empty: the context's
};

std::vector<FlagSpec> CheckFlagSpecs();  // kubeconfig, context, role, namespace, help
// kConfig on a bad role or unexpected arguments.
Result<CheckOptions> ParseCheckOptions(const ParsedArgs& args);

// Loads the kubeconfig, then runs CheckCluster. Returns the exit code: 0 when everything is in
// place, 1 when a permission is missing or the server cannot be reached, 2 when the kubeconfig
// is invalid.
int RunCheck(const CheckOptions& options, std::ostream& out, std::ostream& err);

// The check itself, against a ready client:
//   1. GET /version: "server version: v1.31.0 (linux/amd64)";
//   2. one SelfSubjectAccessReview per required permission of the role, one row each:
//      "ok       get pods" / "MISSING  delete pods ns";
//   3. a list of pods (limit 1) and a short watch (timeoutSeconds=1, ended at the first event).
// Returns 0 or 1 as RunCheck does.
int CheckCluster(hostclient::RestClient& client, Role role, std::string_view ns, std::ostream& out,
                 std::ostream& err);

}  // namespace vk::kubelet
