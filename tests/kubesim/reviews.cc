#include "tests/kubesim/reviews.h"

#include <boost/json.hpp>

#include "tests/kubesim/api_errors.h"

namespace vk::kubesim {
namespace {

namespace json = boost::json;

std::vector<std::string> StringList(const json::value* v) {
  std::vector<std::string> out;
  if (v == nullptr || !v->is_array()) return out;
  for (const auto& item : v->get_array()) {
    if (item.is_string()) out.emplace_back(item.get_string());
  }
  return out;
}

// The review as kube answers it: the request with kind/apiVersion, metadata reduced to
// creationTimestamp: null, spec kept, status replaced.
Object Answer(const Object& body, std::string_view api_version, std::string_view kind,
              Object status) {
  Object out{{"kind", kind}, {"apiVersion", api_version}};
  json::object metadata{{"creationTimestamp", nullptr}};
  if (const Object* md = obj::ObjectAt(body, {"metadata"})) {
    for (const auto& [k, v] : *md) {
      if (k != "creationTimestamp") metadata[k] = v;
    }
  }
  out["metadata"] = std::move(metadata);
  if (const Object* spec = obj::ObjectAt(body, {"spec"})) {
    out["spec"] = *spec;
  } else {
    out["spec"] = json::object{};
  }
  out["status"] = std::move(status);
  return out;
}

// spec.resourceAttributes / spec.nonResourceAttributes into attributes; kube's validation.
Result<AuthzAttributes> AttributesFromSpec(const Object& body, std::string_view qualified_kind) {
  const Object* spec = obj::ObjectAt(body, {"spec"});
  const Object* resource = spec ? obj::ObjectAt(*spec, {"resourceAttributes"}) : nullptr;
  const Object* non_resource = spec ? obj::ObjectAt(*spec, {"nonResourceAttributes"}) : nullptr;
  if (resource && non_resource) {
    return tl::unexpected(
        InvalidError(qualified_kind, "",
                     {FieldInvalid("spec.nonResourceAttributes", "\"{}\"",
                                   "cannot be specified in combination with resourceAttributes")}));
  }
  if (!resource && !non_resource) {
    return tl::unexpected(InvalidError(
        qualified_kind, "",
        {FieldInvalid("spec.resourceAttributes", "\"null\"",
                      "exactly one of nonResourceAttributes or resourceAttributes must be "
                      "specified")}));
  }
  AuthzAttributes a;
  if (resource) {
    a.is_resource_request = true;
    a.verb = std::string(obj::String(*resource, {"verb"}));
    a.api_group = std::string(obj::String(*resource, {"group"}));
    a.resource = std::string(obj::String(*resource, {"resource"}));
    a.subresource = std::string(obj::String(*resource, {"subresource"}));
    a.ns = std::string(obj::String(*resource, {"namespace"}));
    a.name = std::string(obj::String(*resource, {"name"}));
  } else {
    a.is_resource_request = false;
    a.verb = std::string(obj::String(*non_resource, {"verb"}));
    a.path = std::string(obj::String(*non_resource, {"path"}));
  }
  return a;
}

Object AccessStatus(const AuthzDecision& d) {
  Object status{{"allowed", d.allowed}};
  if (d.denied) status["denied"] = true;
  if (!d.reason.empty()) status["reason"] = d.reason;
  return status;
}

}  // namespace

Object UserInfoToJson(const UserInfo& user) {
  Object out{{"username", user.name}};
  if (!user.uid.empty()) out["uid"] = user.uid;
  json::array groups;
  for (const auto& g : user.groups) groups.emplace_back(g);
  out["groups"] = std::move(groups);
  if (!user.extra.empty()) {
    json::object extra;
    for (const auto& [k, values] : user.extra) {
      json::array list;
      for (const auto& v : values) list.emplace_back(v);
      extra[k] = std::move(list);
    }
    out["extra"] = std::move(extra);
  }
  return out;
}

Result<Object> ReviewSelfSubjectAccess(const Object& body, const UserInfo& requester,
                                       const Authorizer& authorizer) {
  auto attributes = AttributesFromSpec(body, "SelfSubjectAccessReview.authorization.k8s.io");
  if (!attributes) return tl::unexpected(attributes.error());
  attributes->user = requester;
  return Answer(body, "authorization.k8s.io/v1", "SelfSubjectAccessReview",
                AccessStatus(authorizer.Authorize(*attributes)));
}

namespace {

Result<Object> ReviewSubject(const Object& body, std::string_view kind,
                             std::optional<std::string_view> ns, const Authorizer& authorizer) {
  const std::string qualified = std::string(kind) + ".authorization.k8s.io";
  auto attributes = AttributesFromSpec(body, qualified);
  if (!attributes) return tl::unexpected(attributes.error());
  UserInfo user;
  user.name = std::string(obj::String(body, {"spec", "user"}));
  user.uid = std::string(obj::String(body, {"spec", "uid"}));
  user.groups = StringList(obj::Find(body, {"spec", "groups"}));
  if (const Object* extra = obj::ObjectAt(body, {"spec", "extra"})) {
    for (const auto& [k, v] : *extra) user.extra[std::string(k)] = StringList(&v);
  }
  if (user.name.empty() && user.groups.empty()) {
    return tl::unexpected(InvalidError(
        qualified, "",
        {FieldInvalid("spec.user", "\"\"", "at least one of user or group must be specified")}));
  }
  if (ns && attributes->is_resource_request && attributes->ns != *ns) {
    return tl::unexpected(
        InvalidError(qualified, "",
                     {FieldInvalid("spec.resourceAttributes.namespace", GoQuote(attributes->ns),
                                   "must match metadata.namespace")}));
  }
  attributes->user = std::move(user);
  Object answer = Answer(body, "authorization.k8s.io/v1", kind,
                         AccessStatus(authorizer.Authorize(*attributes)));
  if (ns) answer["metadata"].as_object()["namespace"] = *ns;
  return answer;
}

}  // namespace

Result<Object> ReviewSubjectAccess(const Object& body, const Authorizer& authorizer) {
  return ReviewSubject(body, "SubjectAccessReview", std::nullopt, authorizer);
}

Result<Object> ReviewLocalSubjectAccess(const Object& body, std::string_view ns,
                                        const Authorizer& authorizer) {
  return ReviewSubject(body, "LocalSubjectAccessReview", ns, authorizer);
}

Result<Object> ReviewToken(const Object& body, const Authenticator& authenticator) {
  std::string token(obj::String(body, {"spec", "token"}));
  if (token.empty()) {
    return tl::unexpected(BadRequestError("token is required for TokenReview in authentication"));
  }
  std::vector<std::string> audiences = StringList(obj::Find(body, {"spec", "audiences"}));
  Object status;
  if (auto result = authenticator.AuthenticateToken(token, audiences)) {
    status["authenticated"] = true;
    status["user"] = UserInfoToJson(result->user);
    json::array matched;
    for (const auto& a : result->audiences) matched.emplace_back(a);
    status["audiences"] = std::move(matched);
  } else {
    status["user"] = json::object{};
    status["error"] = "token is not valid for the requested audiences, unknown or expired";
  }
  return Answer(body, "authentication.k8s.io/v1", "TokenReview", std::move(status));
}

Result<Object> ReviewSelfSubject(const Object& body, const UserInfo& requester) {
  Object out = Answer(body, "authentication.k8s.io/v1", "SelfSubjectReview",
                      Object{{"userInfo", UserInfoToJson(requester)}});
  out.erase("spec");
  return out;
}

}  // namespace vk::kubesim
