#include "tests/kubesim/pod_admission.h"

#include <boost/json/array.hpp>
#include <string>

#include "tests/kubesim/api_errors.h"

namespace vk::kubesim {
namespace {

namespace json = boost::json;

constexpr char kTokenMountPath[] = "/var/run/secrets/kubernetes.io/serviceaccount";
constexpr char kMirrorAnnotation[] = "kubernetes.io/config.mirror";

std::optional<bool> BoolAt(const Object& o, std::initializer_list<std::string_view> path) {
  const auto* v = obj::Find(o, path);
  if (v == nullptr || !v->is_bool()) return std::nullopt;
  return v->get_bool();
}

json::array& ArrayIn(Object& o, std::string_view key) {
  auto& slot = o[key];
  if (!slot.is_array()) slot = json::array();
  return slot.get_array();
}

Object TokenVolume(const std::string& name) {
  Object token;
  token["expirationSeconds"] = 3607;
  token["path"] = "token";
  Object ca_item;
  ca_item["key"] = "ca.crt";
  ca_item["path"] = "ca.crt";
  Object ca;
  ca["items"] = json::array{ca_item};
  ca["name"] = "kube-root-ca.crt";
  Object field_ref;
  field_ref["apiVersion"] = "v1";
  field_ref["fieldPath"] = "metadata.namespace";
  Object ns_item;
  ns_item["fieldRef"] = std::move(field_ref);
  ns_item["path"] = "namespace";
  Object downward;
  downward["items"] = json::array{ns_item};
  json::array sources;
  sources.push_back(Object{{"serviceAccountToken", std::move(token)}});
  sources.push_back(Object{{"configMap", std::move(ca)}});
  sources.push_back(Object{{"downwardAPI", std::move(downward)}});
  Object projected;
  projected["defaultMode"] = 420;
  projected["sources"] = std::move(sources);
  Object volume;
  volume["name"] = name;
  volume["projected"] = std::move(projected);
  return volume;
}

bool MountsTokenPath(const Object& container) {
  const auto* mounts = container.if_contains("volumeMounts");
  if (mounts == nullptr || !mounts->is_array()) return false;
  for (const auto& m : mounts->get_array()) {
    if (m.is_object() && obj::String(m.get_object(), {"mountPath"}) == kTokenMountPath) return true;
  }
  return false;
}

Status AdmitServiceAccount(Object& pod, std::string_view ns, const PodAdmissionContext& ctx) {
  auto& spec = obj::EnsureObject(pod, {"spec"});
  std::string sa_name(obj::String(spec, {"serviceAccountName"}));
  if (sa_name.empty()) sa_name = "default";
  spec["serviceAccountName"] = sa_name;
  spec["serviceAccount"] = sa_name;
  if (!ctx.service_account_admission || !obj::Annotation(pod, kMirrorAnnotation).empty()) {
    return Ok();
  }
  const Object* sa = ctx.service_account ? ctx.service_account(ns, sa_name) : nullptr;
  if (sa == nullptr) {
    return tl::unexpected(ForbiddenError("pods", obj::Name(pod),
                                         "error looking up service account " + std::string(ns) +
                                             "/" + sa_name + ": serviceaccount " +
                                             GoQuote(sa_name) + " not found"));
  }
  bool automount = BoolAt(spec, {"automountServiceAccountToken"})
                       .value_or(BoolAt(*sa, {"automountServiceAccountToken"}).value_or(true));
  if (!automount) return Ok();

  bool needs_mount = false;
  for (const char* list : {"containers", "initContainers"}) {
    const auto* items = spec.if_contains(list);
    if (items == nullptr || !items->is_array()) continue;
    for (const auto& c : items->get_array()) {
      if (c.is_object() && !MountsTokenPath(c.get_object())) needs_mount = true;
    }
  }
  if (!needs_mount) return Ok();

  auto& volumes = ArrayIn(spec, "volumes");
  std::string volume_name;
  for (int attempt = 0; attempt < 16 && volume_name.empty(); ++attempt) {
    std::string candidate = "kube-api-access-" + ctx.ids->NameSuffix();
    bool taken = false;
    for (const auto& v : volumes) {
      if (v.is_object() && obj::String(v.get_object(), {"name"}) == candidate) taken = true;
    }
    if (!taken) volume_name = candidate;
  }
  volumes.push_back(TokenVolume(volume_name));
  for (const char* list : {"containers", "initContainers"}) {
    auto* items = spec.if_contains(list);
    if (items == nullptr || !items->is_array()) continue;
    for (auto& c : items->get_array()) {
      auto* co = c.if_object();
      if (co == nullptr || MountsTokenPath(*co)) continue;
      Object mount;
      mount["mountPath"] = kTokenMountPath;
      mount["name"] = volume_name;
      mount["readOnly"] = true;
      ArrayIn(*co, "volumeMounts").push_back(std::move(mount));
    }
  }
  return Ok();
}

Status AdmitPriority(Object& pod, const PodAdmissionContext& ctx) {
  auto& spec = obj::EnsureObject(pod, {"spec"});
  std::string class_name(obj::String(spec, {"priorityClassName"}));
  int64_t priority = 0;
  std::string preemption = "PreemptLowerPriority";
  const Object* pc = nullptr;
  if (!class_name.empty()) {
    pc = ctx.priority_class ? ctx.priority_class(class_name) : nullptr;
    if (pc == nullptr) {
      return tl::unexpected(ForbiddenError(
          "pods", obj::Name(pod), "no PriorityClass with name " + class_name + " was found"));
    }
  } else if (ctx.default_priority_class) {
    pc = ctx.default_priority_class();
    if (pc != nullptr) spec["priorityClassName"] = obj::Name(*pc);
  }
  if (pc != nullptr) {
    priority = obj::Int(*pc, {"value"});
    if (auto p = obj::String(*pc, {"preemptionPolicy"}); !p.empty()) preemption = std::string(p);
  }
  if (const auto* given = spec.if_contains("priority"); given != nullptr && !given->is_null()) {
    if (obj::Int(spec, {"priority"}) != priority) {
      return tl::unexpected(ForbiddenError(
          "pods", obj::Name(pod),
          "the integer value of priority (" + std::to_string(obj::Int(spec, {"priority"})) +
              ") must not be provided in pod spec; priority admission controller computed " +
              std::to_string(priority) + " from the given PriorityClass name"));
    }
  }
  spec["priority"] = priority;
  if (obj::String(spec, {"preemptionPolicy"}).empty()) spec["preemptionPolicy"] = preemption;
  return Ok();
}

void AdmitDefaultTolerations(Object& pod) {
  auto& spec = obj::EnsureObject(pod, {"spec"});
  auto& tolerations = ArrayIn(spec, "tolerations");
  auto tolerates = [&](std::string_view key) {
    for (const auto& t : tolerations) {
      const auto* o = t.if_object();
      if (o == nullptr) continue;
      auto k = obj::String(*o, {"key"});
      auto effect = obj::String(*o, {"effect"});
      bool key_ok = k == key || (k.empty() && obj::String(*o, {"operator"}) == "Exists");
      if (key_ok && (effect.empty() || effect == "NoExecute")) return true;
    }
    return false;
  };
  for (const char* key : {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"}) {
    if (tolerates(key)) continue;
    Object t;
    t["key"] = key;
    t["operator"] = "Exists";
    t["effect"] = "NoExecute";
    t["tolerationSeconds"] = 300;
    tolerations.push_back(std::move(t));
  }
}

}  // namespace

Status AdmitPodCreate(Object& pod, std::string_view ns, const PodAdmissionContext& ctx) {
  if (auto s = AdmitServiceAccount(pod, ns, ctx); !s) return s;
  if (auto s = AdmitPriority(pod, ctx); !s) return s;
  AdmitDefaultTolerations(pod);
  return Ok();
}

}  // namespace vk::kubesim
