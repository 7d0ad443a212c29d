#pragma once

#include <string>
#include <string_view>

#include "hostclient/base/error.h"

namespace vk {

// Base64 (RFC 4648) for the places Kubernetes uses it: kubeconfig *-data fields, Secret data,
// basic auth, JWT segments. Pure functions, thread-safe.

// Standard alphabet with '=' padding.
std::string Base64Encode(std::string_view data);
// URL-safe alphabet ('-', '_') without padding, as in JWTs.
std::string Base64UrlEncode(std::string_view data);

// Decodes the standard alphabet. Padding is optional; line breaks (CR, LF) are skipped, as Go's
// decoder does for PEM-ish data pasted into YAML. Anything else that is not in the alphabet, or a
// length that cannot be base64, is kDecode naming the offset of the offending character.
Result<std::string> Base64Decode(std::string_view text);
// The same for the URL-safe alphabet.
Result<std::string> Base64UrlDecode(std::string_view text);

}  // namespace vk
