#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "hostclient/base/object.h"
#include "tests/kubesim/resource_catalog.h"

namespace vk::kubesim {

// A minimal OpenAPI v3 description of the served resources: /openapi/v3 (the index of group
// versions, each with a serverRelativeURL carrying a content hash) and /openapi/v3/<gv path>
// (paths with their operations, x-kubernetes-group-version-kind and query parameters, no
// schemas). It is what kubectl needs to learn that the server validates fields itself
// (fieldValidation), so that `kubectl create`/`apply` work without a schema download; kubectl
// then falls back to its built-in types for client-side apply. Immutable after construction.
class OpenApi {
 public:
  explicit OpenApi(const ResourceCatalog& catalog);

  Object Index() const;
  // gv_path: "api/v1" or "apis/<group>/<version>". nullopt when not served.
  std::optional<Object> GroupVersion(std::string_view gv_path) const;

 private:
  struct Entry {
    std::string path;  // "api/v1"
    Object document;
    std::string hash;
  };
  std::vector<Entry> entries_;
};

}  // namespace vk::kubesim
