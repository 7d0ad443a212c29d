#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "hostclient/base/error.h"

namespace vk::kubesim {

// The opaque `continue` value of a paginated list, in kube-apiserver's own encoding: base64url
// (no padding) of {"v":"meta.k8s.io/v1","rv":<list resourceVersion>,"start":"<next key>"}. The
// start key is the last returned key plus "\0", so the next page begins strictly after it.
// rv -1 means "continue at the newest state" (kube's inconsistent continuation).
struct ContinueToken {
  int64_t resource_version = 0;
  std::string start_key;

  std::string Encode() const;
  // kBadRequest "invalid continue token: ..." as kube answers malformed tokens.
  static Result<ContinueToken> Decode(std::string_view text);
};

}  // namespace vk::kubesim
