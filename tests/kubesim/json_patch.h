#pragma once

#include <boost/json/value.hpp>
#include <string_view>

#include "hostclient/base/error.h"

namespace vk::kubesim {

// RFC 6902 JSON Patch (add, remove, replace, move, copy, test) over RFC 6901 JSON pointers
// (`~0` for '~', `~1` for '/', `-` for the end of an array), applied as kube-apiserver applies
// application/json-patch+json:
//   - a patch that is not a JSON array of operation objects: kBadRequest;
//   - an operation that does not apply (missing path, failed test...): kInvalid (HTTP 422) with
//     kube's message "the server rejected our request due to an error in our request" and the
//     precise reason as the one cause.
// Operations apply in order to a copy; the input is untouched on error.
Result<boost::json::value> ApplyJsonPatch(const boost::json::value& document,
                                          std::string_view patch);

}  // namespace vk::kubesim
