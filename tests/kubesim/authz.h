#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "hostclient/base/error.h"
#include "tests/kubesim/authn.h"

namespace vk::kubesim {

// What a request wants to do (authorization.k8s.io ResourceAttributes / NonResourceAttributes).
struct AuthzAttributes {
  UserInfo user;
  std::string verb;
  bool is_resource_request = true;
  std::string api_group;
  std::string resource;
  std::string subresource;
  std::string ns;
  std::string name;
  std::string path;  // non-resource requests
};

// One rule. Each string field is "*" (any) or an exact value; `resource` may also be
// "<resource>/<subresource>" or "<resource>/*". `user_group` matches a user holding that group.
// Non-resource rules set `path` (exact, or a prefix ending in "*") and leave the resource
// fields alone; resource rules never match non-resource requests and vice versa.
struct AuthzRule {
  enum class Effect { kAllow, kDeny };
  Effect effect = Effect::kDeny;
  std::string user = "*";
  std::string user_group = "*";
  std::string verb = "*";
  std::string api_group = "*";
  std::string resource = "*";
  std::string ns = "*";
  std::string name = "*";
  std::string path;  // non-empty: a non-resource rule
  std::string reason;
};

struct AuthzDecision {
  bool allowed = false;
  bool denied = false;  // an explicit deny rule matched (SubjectAccessReview status.denied)
  std::string reason;
};

// A small ordered rule list standing in for RBAC: the first matching rule decides; without a
// match every user but the anonymous one is allowed everything (configurable), while anonymous
// users may only read the public health and version endpoints (as kube's
// system:public-info-viewer).
// Used both to enforce requests (403 Forbidden) and to answer access reviews.
// Thread-safe: rules may change while requests are served.
class Authorizer {
 public:
  explicit Authorizer(bool default_allow = true) : default_allow_(default_allow) {}

  void AddRule(AuthzRule rule);
  void ClearRules();
  void SetDefaultAllow(bool allow);

  AuthzDecision Authorize(const AuthzAttributes& attributes) const;

 private:
  static bool Matches(const AuthzRule& rule, const AuthzAttributes& a);

  mutable std::mutex mutex_;
  bool default_allow_;
  std::vector<AuthzRule> rules_;
};

// kube-apiserver's 403: `pods "x" is forbidden: User "u" cannot get resource "pods" in API group
// "" in the namespace "y"` (plus ": <reason>" when the decision gave one), or `forbidden: User
// "u" cannot get path "/x"` for non-resource requests.
Error ForbiddenErrorFor(const AuthzAttributes& attributes, const std::string& reason);

}  // namespace vk::kubesim
