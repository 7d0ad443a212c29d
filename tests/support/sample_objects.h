#pragma once

#include <string>

#include "hostclient/base/object.h"

namespace vk::testing {

// A realistic pod (two containers with env, resources, probes and mounts; labels, annotations,
// an owner reference): about 2 KiB of JSON, like the pods of a Deployment. For tests and
// benchmarks that need objects of a representative size.
Object SamplePod(const std::string& ns, const std::string& name, const std::string& node_name = {});

// A Namespace named `name`.
Object NamespaceObject(const std::string& name);

// A ConfigMap with `keys` entries of `value_bytes` each.
Object SampleConfigMap(const std::string& ns, const std::string& name, int keys = 4,
                       int value_bytes = 64);

}  // namespace vk::testing
