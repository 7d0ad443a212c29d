#include "tests/kubesim/selectable_fields.h"

#include <array>
#include <utility>

namespace vk::kubesim {
namespace {

enum class Kind { kString, kBool };

struct FieldSpec {
  std::string_view label;
  std::array<std::string_view, 3> path;  // empty components are unused
  Kind kind = Kind::kString;
};

constexpr FieldSpec kPodFields[] = {
    {"spec.nodeName", {"spec", "nodeName"}},
    {"spec.restartPolicy", {"spec", "restartPolicy"}},
    {"spec.schedulerName", {"spec", "schedulerName"}},
    {"spec.serviceAccountName", {"spec", "serviceAccountName"}},
    {"spec.hostNetwork", {"spec", "hostNetwork"}, Kind::kBool},
    {"status.phase", {"status", "phase"}},
    {"status.podIP", {"status", "podIP"}},
    {"status.nominatedNodeName", {"status", "nominatedNodeName"}},
};

constexpr FieldSpec kCoreEventFields[] = {
    {"involvedObject.kind", {"involvedObject", "kind"}},
    {"involvedObject.namespace", {"involvedObject", "namespace"}},
    {"involvedObject.name", {"involvedObject", "name"}},
    {"involvedObject.uid", {"involvedObject", "uid"}},
    {"involvedObject.apiVersion", {"involvedObject", "apiVersion"}},
    {"involvedObject.resourceVersion", {"involvedObject", "resourceVersion"}},
    {"involvedObject.fieldPath", {"involvedObject", "fieldPath"}},
    {"reason", {"reason"}},
    {"reportingComponent", {"reportingComponent"}},
    {"source", {"source", "component"}},
    {"type", {"type"}},
};

// events.k8s.io/v1 Events answer both their own names and the core names kube converts.
constexpr FieldSpec kNewEventFields[] = {
    {"regarding.kind", {"regarding", "kind"}},
    {"regarding.namespace", {"regarding", "namespace"}},
    {"regarding.name", {"regarding", "name"}},
    {"regarding.uid", {"regarding", "uid"}},
    {"regarding.apiVersion", {"regarding", "apiVersion"}},
    {"regarding.resourceVersion", {"regarding", "resourceVersion"}},
    {"regarding.fieldPath", {"regarding", "fieldPath"}},
    {"involvedObject.kind", {"regarding", "kind"}},
    {"involvedObject.namespace", {"regarding", "namespace"}},
    {"involvedObject.name", {"regarding", "name"}},
    {"involvedObject.uid", {"regarding", "uid"}},
    {"involvedObject.apiVersion", {"regarding", "apiVersion"}},
    {"involvedObject.resourceVersion", {"regarding", "resourceVersion"}},
    {"involvedObject.fieldPath", {"regarding", "fieldPath"}},
    {"reason", {"reason"}},
    {"reportingController", {"reportingController"}},
    {"reportingComponent", {"reportingController"}},
    {"source", {"deprecatedSource", "component"}},
    {"type", {"type"}},
};

constexpr FieldSpec kSecretFields[] = {{"type", {"type"}}};
constexpr FieldSpec kNodeFields[] = {
    {"spec.unschedulable", {"spec", "unschedulable"}, Kind::kBool}};
constexpr FieldSpec kNamespaceFields[] = {{"status.phase", {"status", "phase"}}};

template <size_t N>
std::pair<const FieldSpec*, size_t> Span(const FieldSpec (&a)[N]) {
  return {a, N};
}

std::pair<const FieldSpec*, size_t> SpecsFor(const ResourceInfo& r) {
  if (r.group.empty()) {
    if (r.resource == "pods") return Span(kPodFields);
    if (r.resource == "events") return Span(kCoreEventFields);
    if (r.resource == "secrets") return Span(kSecretFields);
    if (r.resource == "nodes") return Span(kNodeFields);
    if (r.resource == "namespaces") return Span(kNamespaceFields);
  } else if (r.group == "events.k8s.io" && r.resource == "events") {
    return Span(kNewEventFields);
  }
  return {nullptr, 0};
}

const FieldSpec* FindSpec(const ResourceInfo& r, std::string_view field) {
  auto [specs, n] = SpecsFor(r);
  for (size_t i = 0; i < n; ++i) {
    if (specs[i].label == field) return &specs[i];
  }
  return nullptr;
}

const boost::json::value* Lookup(const Object& o, const std::array<std::string_view, 3>& path) {
  const Object* current = &o;
  const boost::json::value* found = nullptr;
  for (auto key : path) {
    if (key.empty()) break;
    if (current == nullptr) return nullptr;
    found = current->if_contains(key);
    if (found == nullptr) return nullptr;
    current = found->if_object();
  }
  return found;
}

}  // namespace

bool IsSelectableField(const ResourceInfo& r, std::string_view field) {
  if (field == "metadata.name") return true;
  if (field == "metadata.namespace") return r.namespaced;
  return FindSpec(r, field) != nullptr;
}

std::string SelectableFieldValue(const ResourceInfo& r, const Object& o, std::string_view field) {
  if (field == "metadata.name") return std::string(obj::Name(o));
  if (field == "metadata.namespace") return std::string(obj::Namespace(o));
  const FieldSpec* spec = FindSpec(r, field);
  if (spec == nullptr) return {};
  const boost::json::value* v = Lookup(o, spec->path);
  if (spec->kind == Kind::kBool) {
    return v != nullptr && v->is_bool() && v->get_bool() ? "true" : "false";
  }
  if (v == nullptr || !v->is_string()) return {};
  return std::string(v->get_string());
}

}  // namespace vk::kubesim
