#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "hostclient/base/error.h"

namespace vk {

// A Kubernetes object is kept as the JSON document the API server sent, so that fields this
// version of vkubelet does not know survive every read-modify-write. These helpers read and write
// the few fields we use. Cached objects are shared and immutable: ObjectPtr.
using Object = boost::json::object;
using ObjectPtr = std::shared_ptr<const Object>;

namespace obj {

// Field lookup along a path of object keys; nullptr when any step is missing or not an object.
const boost::json::value* Find(const Object& o, std::initializer_list<std::string_view> path);
// The string at path, or "" when absent or not a string.
std::string_view String(const Object& o, std::initializer_list<std::string_view> path);
// The integer at path, or fallback when absent or not a number.
int64_t Int(const Object& o, std::initializer_list<std::string_view> path, int64_t fallback = 0);
// The object at path, or nullptr.
const Object* ObjectAt(const Object& o, std::initializer_list<std::string_view> path);
// The object at path, created (with intermediate objects) when missing.
Object& EnsureObject(Object& o, std::initializer_list<std::string_view> path);

std::string_view Name(const Object& o);
std::string_view Namespace(const Object& o);
std::string_view Uid(const Object& o);
std::string_view ResourceVersion(const Object& o);
std::string_view Kind(const Object& o);
std::string_view ApiVersion(const Object& o);
bool IsBeingDeleted(const Object& o);  // metadata.deletionTimestamp is set
// "namespace/name", or "name" for cluster-scoped objects: the work-queue and store key.
std::string Key(const Object& o);
std::string Key(std::string_view ns, std::string_view name);
// Value of a label or annotation, "" when absent.
std::string_view Label(const Object& o, std::string_view key);
std::string_view Annotation(const Object& o, std::string_view key);

// Parses a JSON text that must be an object; kDecode otherwise.
Result<Object> Parse(std::string_view text);
std::string Serialize(const Object& o);

}  // namespace obj
}  // namespace vk
