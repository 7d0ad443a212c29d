#include "syncer/shared/object_translator.h"

#include "syncer/shared/host_naming.h"

namespace vk::syncer::shared {

Object TranslateObjectForSync(const Object& virtual_object, const TranslationContext& ctx) {
  Object host = virtual_object;
  host.erase("status");
  host["metadata"] = HostMetadata(virtual_object, ctx.cluster, ctx.host_namespace);
  if (obj::Kind(virtual_object) == "Secret" &&
      obj::String(virtual_object, {"type"}) == "kubernetes.io/service-account-token") {
    host["type"] = "Opaque";
  }
  return host;
}

}  // namespace vk::syncer::shared
