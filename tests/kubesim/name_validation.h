#pragma once

#include <string>
#include <string_view>
#include <vector>

// kube's name and label syntax checks (k8s.io/apimachinery/pkg/util/validation). Each returns the
// list of problems, worded as kube words them; empty when the value is valid.
namespace vk::kubesim {

std::vector<std::string> IsDns1123Subdomain(std::string_view value);
std::vector<std::string> IsDns1123Label(std::string_view value);
std::vector<std::string> IsDns1035Label(std::string_view value);
// Label and annotation keys: an optional DNS subdomain prefix and '/', then a name part.
std::vector<std::string> IsQualifiedName(std::string_view value);
std::vector<std::string> IsValidLabelValue(std::string_view value);
// ConfigMap and Secret data keys.
std::vector<std::string> IsConfigMapKey(std::string_view value);

}  // namespace vk::kubesim
