#pragma once

#include <string>
#include <string_view>

#include "hostclient/base/object.h"
#include "tests/kubesim/resource_catalog.h"

// The fields a field selector may name for each resource (kube's field label conversion
// functions and GetAttrs), and how each is read from an object.
namespace vk::kubesim {

bool IsSelectableField(const ResourceInfo& r, std::string_view field);
// The value kube compares against: strings as they are, booleans as "true"/"false", absent
// fields as "" (or "false" for booleans). Call only for selectable fields.
std::string SelectableFieldValue(const ResourceInfo& r, const Object& o, std::string_view field);

}  // namespace vk::kubesim
