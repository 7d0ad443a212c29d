#pragma once

#include <boost/json/value.hpp>
#include <string_view>

#include "hostclient/base/error.h"

namespace vk::kubesim {

// Converts one YAML document to JSON the way Kubernetes reads manifests (sigs.k8s.io/yaml):
// quoted scalars stay strings; plain scalars resolve to null (null, ~, empty), booleans
// (true/false in any case), integers, floats, or strings otherwise. Map keys are strings.
// kDecode for malformed YAML or more than one document.
Result<boost::json::value> YamlToJson(std::string_view yaml);

}  // namespace vk::kubesim
