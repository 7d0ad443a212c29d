#pragma once

#include <string_view>

#include "hostclient/base/error.h"
#include "hostclient/base/object.h"
#include "tests/kubesim/authn.h"
#include "tests/kubesim/authz.h"

namespace vk::kubesim {

// The create-only review resources, answered from the authenticator and the authorizer and never
// stored. Each takes the request body and returns it with status filled (and metadata reduced to
// creationTimestamp: null, as kube-apiserver answers), or kube's validation error.

// authorization.k8s.io SelfSubjectAccessReview: may `requester` do what spec describes?
Result<Object> ReviewSelfSubjectAccess(const Object& body, const UserInfo& requester,
                                       const Authorizer& authorizer);
// authorization.k8s.io SubjectAccessReview: may spec.user/spec.groups do it?
Result<Object> ReviewSubjectAccess(const Object& body, const Authorizer& authorizer);
// authorization.k8s.io LocalSubjectAccessReview: as above, limited to the namespace in the URL.
Result<Object> ReviewLocalSubjectAccess(const Object& body, std::string_view ns,
                                        const Authorizer& authorizer);
// authentication.k8s.io TokenReview: who does spec.token authenticate as, for spec.audiences?
Result<Object> ReviewToken(const Object& body, const Authenticator& authenticator);
// authentication.k8s.io SelfSubjectReview (kubectl auth whoami): the requester's user info.
Result<Object> ReviewSelfSubject(const Object& body, const UserInfo& requester);

// UserInfo as authentication.k8s.io/v1 writes it (username, uid, groups, extra).
Object UserInfoToJson(const UserInfo& user);

}  // namespace vk::kubesim
