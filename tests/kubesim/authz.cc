#include "tests/kubesim/authz.h"

#include "tests/kubesim/api_errors.h"

namespace vk::kubesim {
namespace {

bool Field(const std::string& pattern, const std::string& value) {
  return pattern == "*" || pattern == value;
}

bool ResourceMatches(const std::string& pattern, const AuthzAttributes& a) {
  if (pattern == "*") return true;
  if (a.subresource.empty()) return pattern == a.resource;
  return pattern == a.resource + "/" + a.subresource || pattern == a.resource + "/*" ||
         pattern == "*/" + a.subresource;
}

bool PathMatches(const std::string& pattern, const std::string& path) {
  if (!pattern.empty() && pattern.back() == '*') {
    return path.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0;
  }
  return pattern == path;
}

bool IsPublicInfoPath(const std::string& path) {
  return path == "/healthz" || path == "/livez" || path == "/readyz" || path == "/version" ||
         path == "/version/";
}

}  // namespace

void Authorizer::AddRule(AuthzRule rule) {
  std::lock_guard lock(mutex_);
  rules_.push_back(std::move(rule));
}

void Authorizer::ClearRules() {
  std::lock_guard lock(mutex_);
  rules_.clear();
}

void Authorizer::SetDefaultAllow(bool allow) {
  std::lock_guard lock(mutex_);
  default_allow_ = allow;
}

bool Authorizer::Matches(const AuthzRule& rule, const AuthzAttributes& a) {
  if (!Field(rule.user, a.user.name)) return false;
  if (rule.user_group != "*" && !a.user.InGroup(rule.user_group)) return false;
  if (!Field(rule.verb, a.verb)) return false;
  if (!rule.path.empty()) return !a.is_resource_request && PathMatches(rule.path, a.path);
  if (!a.is_resource_request) return false;
  return Field(rule.api_group, a.api_group) && ResourceMatches(rule.resource, a) &&
         Field(rule.ns, a.ns) && Field(rule.name, a.name);
}

AuthzDecision Authorizer::Authorize(const AuthzAttributes& a) const {
  std::lock_guard lock(mutex_);
  for (const auto& rule : rules_) {
    if (!Matches(rule, a)) continue;
    AuthzDecision d;
    d.allowed = rule.effect == AuthzRule::Effect::kAllow;
    d.denied = !d.allowed;
    d.reason = rule.reason;
    return d;
  }
  AuthzDecision d;
  // SubjectAccessReviews may describe users without system:authenticated in their groups; only
  // the anonymous identity is treated as unauthenticated.
  if (a.user.name != kAnonymousUser && !a.user.InGroup(kUnauthenticatedGroup)) {
    d.allowed = default_allow_;
  } else {
    d.allowed = !a.is_resource_request && a.verb == "get" && IsPublicInfoPath(a.path);
  }
  return d;
}

Error ForbiddenErrorFor(const AuthzAttributes& a, const std::string& reason) {
  const std::string suffix = reason.empty() ? "" : ": " + reason;
  if (!a.is_resource_request) {
    Error e(ErrorCode::kForbidden, "forbidden: User \"" + a.user.name + "\" cannot " + a.verb +
                                       " path \"" + a.path + "\"" + suffix);
    e.WithReason("Forbidden").WithHttpStatus(403);
    return e;
  }
  std::string resource = a.resource;
  if (!a.subresource.empty()) resource += "/" + a.subresource;
  std::string detail = "User \"" + a.user.name + "\" cannot " + a.verb + " resource \"" + resource +
                       "\" in API group \"" + a.api_group + "\"";
  detail += a.ns.empty() ? " at the cluster scope" : " in the namespace \"" + a.ns + "\"";
  const std::string qualified = a.api_group.empty() ? a.resource : a.resource + "." + a.api_group;
  return ForbiddenError(qualified, a.name, detail + suffix);
}

}  // namespace vk::kubesim
