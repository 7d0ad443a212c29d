#pragma once

#include <boost/json/value.hpp>
#include <string_view>

#include "hostclient/base/error.h"
#include "hostclient/base/object.h"

namespace vk::kubesim {

// RFC 7386 JSON merge patch: objects merge key by key, null removes a key, anything else (arrays
// included) replaces. MergePatchValue is the pure algorithm; ApplyMergePatch parses a patch
// body as kube-apiserver does for application/merge-patch+json (kBadRequest "Invalid JSON Patch"
// when it is not a JSON object).
boost::json::value MergePatchValue(const boost::json::value& target,
                                   const boost::json::value& patch);
Result<Object> ApplyMergePatch(const Object& target, std::string_view patch);

}  // namespace vk::kubesim
