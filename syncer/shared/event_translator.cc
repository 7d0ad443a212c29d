#include "syncer/shared/event_translator.h"

#include <array>

#include "hostclient/base/rfc3339.h"
#include "syncer/shared/host_naming.h"

namespace vk::syncer::shared {
namespace {

namespace json = boost::json;

// Longest object name the API server accepts (a DNS-1123 subdomain).
constexpr std::size_t kMaxNameLength = 253;

// Fields of a copy that its host event may still change after creation.
constexpr std::array<std::string_view, 9> kUpdatableFields = {
    "count",   "firstTimestamp", "lastTimestamp", "eventTime", "series",
    "message", "reason",         "type",          "action"};

// Characters that continue a name: a match next to one is part of a longer name, not the name.
// '.' is not among them, so that a name ending a sentence ("... to node-1.") is still replaced,
// nor '_', which the kubelet puts between a pod's name and namespace.
bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

// How the kubelet names a pod in its messages (format.Pod): "name_namespace(uid)".
std::string KubeletPodName(std::string_view name, std::string_view ns, std::string_view uid) {
  std::string out(name);
  out.append("_").append(ns).append("(").append(uid).append(")");
  return out;
}

// Replaces every whole-word occurrence of `from` in `text` by `to`.
std::string ReplaceWord(std::string_view text, std::string_view from, std::string_view to) {
  if (from.empty() || from == to) return std::string(text);
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t found = text.find(from, pos);
    if (found == std::string_view::npos) break;
    const std::size_t end = found + from.size();
    const bool starts_word = found == 0 || !IsNameChar(text[found - 1]);
    const bool ends_word = end == text.size() || !IsNameChar(text[end]);
    if (starts_word && ends_word) {
      out.append(text.substr(pos, found - pos)).append(to);
      pos = end;
    } else {
      out.append(text.substr(pos, found + 1 - pos));
      pos = found + 1;
    }
  }
  out.append(text.substr(std::min(pos, text.size())));
  return out;
}

std::string RewriteMessage(std::string_view message, const Object& host_event,
                           const Object& virtual_pod, std::string_view virtual_node_name,
                           std::string_view host_node_name) {
  const std::string_view host_ns = obj::String(host_event, {"involvedObject", "namespace"});
  const std::string_view host_name = obj::String(host_event, {"involvedObject", "name"});
  const std::string_view host_uid = obj::String(host_event, {"involvedObject", "uid"});
  std::string out(message);
  if (!host_name.empty()) {
    if (!host_ns.empty() && !host_uid.empty()) {
      out = ReplaceWord(out, KubeletPodName(host_name, host_ns, host_uid),
                        KubeletPodName(obj::Name(virtual_pod), obj::Namespace(virtual_pod),
                                       obj::Uid(virtual_pod)));
    }
    if (!host_ns.empty()) {
      out = ReplaceWord(out, obj::Key(host_ns, host_name), obj::Key(virtual_pod));
    }
    out = ReplaceWord(out, host_name, obj::Name(virtual_pod));
  }
  if (!virtual_node_name.empty()) {
    out = ReplaceWord(out, host_node_name, virtual_node_name);
    out = ReplaceWord(out, obj::String(host_event, {"source", "host"}), virtual_node_name);
  }
  return out;
}

}  // namespace

std::optional<Object> VirtualPodRefOf(const Object& host_pod) {
  const std::string_view ns = obj::Annotation(host_pod, kAnnotationOriginNamespace);
  const std::string_view name = obj::Annotation(host_pod, kAnnotationOriginName);
  const std::string_view kind = obj::Annotation(host_pod, kAnnotationOriginKind);
  if (ns.empty() || name.empty() || (!kind.empty() && kind != "Pod")) return std::nullopt;
  Object metadata{{"namespace", ns}, {"name", name}};
  const std::string_view uid = obj::Annotation(host_pod, kAnnotationOriginUid);
  if (!uid.empty()) metadata["uid"] = uid;
  return Object{{"metadata", std::move(metadata)}};
}

std::string VirtualEventName(const Object& host_event, const Object& virtual_pod) {
  std::string_view identity = obj::Uid(host_event);
  std::string key;
  if (identity.empty()) {
    key = obj::Key(host_event);
    identity = key;
  }
  const std::string hash = Sha256Hex(identity).substr(0, kEventHashHexChars);
  std::string name(obj::Name(virtual_pod).substr(0, kMaxNameLength - 1 - hash.size()));
  name.push_back('.');
  name.append(hash);
  return name;
}

Object TranslateEventBack(const Object& host_event, const Object& virtual_pod_ref,
                          std::string_view virtual_node_name, std::string_view host_node_name) {
  Object out;
  out["apiVersion"] = "v1";
  out["kind"] = "Event";

  Object metadata{{"name", VirtualEventName(host_event, virtual_pod_ref)},
                  {"namespace", obj::Namespace(virtual_pod_ref)},
                  {"labels", Object{{kLabelCopiedFrom, kCopiedFromHost}}},
                  {"annotations", Object{{kAnnotationHostEventUid, obj::Uid(host_event)}}}};
  out["metadata"] = std::move(metadata);

  Object involved{{"apiVersion", "v1"},
                  {"kind", "Pod"},
                  {"namespace", obj::Namespace(virtual_pod_ref)},
                  {"name", obj::Name(virtual_pod_ref)}};
  if (const std::string_view uid = obj::Uid(virtual_pod_ref); !uid.empty()) involved["uid"] = uid;
  if (const std::string_view path = obj::String(host_event, {"involvedObject", "fieldPath"});
      !path.empty()) {
    involved["fieldPath"] = path;
  }
  out["involvedObject"] = std::move(involved);

  // Everything else crosses as it is, so that fields of a newer API survive; what names host
  // objects or host nodes is rebuilt below or left behind.
  for (const auto& field : host_event) {
    const std::string_view key = field.key();
    if (key == "apiVersion" || key == "kind" || key == "metadata" || key == "involvedObject" ||
        key == "source" || key == "reportingInstance" || key == "related") {
      continue;
    }
    out[key] = field.value();
  }

  if (const auto* message = host_event.if_contains("message"); message && message->is_string()) {
    out["message"] = RewriteMessage(message->get_string(), host_event, virtual_pod_ref,
                                    virtual_node_name, host_node_name);
  }
  if (const Object* source = obj::ObjectAt(host_event, {"source"})) {
    Object copy;
    if (const std::string_view component = obj::String(*source, {"component"});
        !component.empty()) {
      copy["component"] = component;
    }
    if (!obj::String(*source, {"host"}).empty()) copy["host"] = virtual_node_name;
    out["source"] = std::move(copy);
  }
  if (const auto* instance = host_event.if_contains("reportingInstance")) {
    const bool set = instance->is_string() && !instance->get_string().empty();
    out["reportingInstance"] = set ? json::value(virtual_node_name) : json::value("");
  }
  return out;
}

Object EventCopyUpdate(const Object& event) {
  Object update;
  for (auto field : kUpdatableFields) {
    const auto* value = event.if_contains(field);
    update[field] = value != nullptr ? *value : json::value(nullptr);
  }
  return update;
}

std::optional<std::chrono::system_clock::time_point> EventLastSeen(const Object& event) {
  // The first of these that parses: the newest time an event of either API generation records.
  for (const std::string_view text :
       {obj::String(event, {"lastTimestamp"}), obj::String(event, {"series", "lastObservedTime"}),
        obj::String(event, {"eventTime"}), obj::String(event, {"firstTimestamp"}),
        obj::String(event, {"metadata", "creationTimestamp"})}) {
    if (text.empty()) continue;
    if (auto time = ParseRfc3339(text)) return time;
  }
  return std::nullopt;
}

}  // namespace vk::syncer::shared
