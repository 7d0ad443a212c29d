#include "hostclient/base/object.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace vk::obj {

const boost::json::value* Find(const Object& o, std::initializer_list<std::string_view> path) {
  const Object* current = &o;
  const boost::json::value* found = nullptr;
  for (auto key : path) {
    if (current == nullptr) return nullptr;
    found = current->if_contains(key);
    if (found == nullptr) return nullptr;
    current = found->if_object();
  }
  return found;
}

std::string_view String(const Object& o, std::initializer_list<std::string_view> path) {
  const auto* v = Find(o, path);
  if (v == nullptr || !v->is_string()) return {};
  const auto& s = v->get_string();
  return {s.data(), s.size()};
}

int64_t Int(const Object& o, std::initializer_list<std::string_view> path, int64_t fallback) {
  const auto* v = Find(o, path);
  if (v == nullptr) return fallback;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  if (v->is_double()) return static_cast<int64_t>(v->get_double());
  return fallback;
}

const Object* ObjectAt(const Object& o, std::initializer_list<std::string_view> path) {
  const auto* v = Find(o, path);
  return v == nullptr ? nullptr : v->if_object();
}

Object& EnsureObject(Object& o, std::initializer_list<std::string_view> path) {
  Object* current = &o;
  for (auto key : path) {
    auto& slot = (*current)[key];
    if (!slot.is_object()) slot = Object();
    current = &slot.get_object();
  }
  return *current;
}

std::string_view Name(const Object& o) { return String(o, {"metadata", "name"}); }
std::string_view Namespace(const Object& o) { return String(o, {"metadata", "namespace"}); }
std::string_view Uid(const Object& o) { return String(o, {"metadata", "uid"}); }
std::string_view ResourceVersion(const Object& o) {
  return String(o, {"metadata", "resourceVersion"});
}
std::string_view Kind(const Object& o) { return String(o, {"kind"}); }
std::string_view ApiVersion(const Object& o) { return String(o, {"apiVersion"}); }

bool IsBeingDeleted(const Object& o) {
  const auto* v = Find(o, {"metadata", "deletionTimestamp"});
  return v != nullptr && !v->is_null();
}

std::string Key(std::string_view ns, std::string_view name) {
  if (ns.empty()) return std::string(name);
  std::string key;
  key.reserve(ns.size() + name.size() + 1);
  key.append(ns).append("/").append(name);
  return key;
}

std::string Key(const Object& o) { return Key(Namespace(o), Name(o)); }

std::string_view Label(const Object& o, std::string_view key) {
  const auto* labels = ObjectAt(o, {"metadata", "labels"});
  if (labels == nullptr) return {};
  const auto* v = labels->if_contains(key);
  if (v == nullptr || !v->is_string()) return {};
  return {v->get_string().data(), v->get_string().size()};
}

std::string_view Annotation(const Object& o, std::string_view key) {
  const auto* annotations = ObjectAt(o, {"metadata", "annotations"});
  if (annotations == nullptr) return {};
  const auto* v = annotations->if_contains(key);
  if (v == nullptr || !v->is_string()) return {};
  return {v->get_string().data(), v->get_string().size()};
}

Result<Object> Parse(std::string_view text) {
  boost::system::error_code ec;
  auto value = boost::json::parse(text, ec);
  if (ec) return MakeError(ErrorCode::kDecode, "invalid JSON: " + ec.message());
  if (!value.is_object()) return MakeError(ErrorCode::kDecode, "JSON document is not an object");
  return std::move(value.get_object());
}

std::string Serialize(const Object& o) { return boost::json::serialize(o); }

}  // namespace vk::obj
