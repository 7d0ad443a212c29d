#include "tests/kubesim/resource_strategy.h"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>

#include "hostclient/base/base64.h"
#include "tests/kubesim/api_errors.h"
#include "tests/kubesim/label_selector.h"
#include "tests/kubesim/name_validation.h"
#include "tests/kubesim/object_defaults.h"
#include "tests/kubesim/pod_validation.h"

namespace vk::kubesim {
namespace {

namespace json = boost::json;

bool Is(const ResourceInfo& r, std::string_view group, std::string_view resource) {
  return r.group == group && r.resource == resource;
}

constexpr size_t kTotalAnnotationSizeLimit = 256 * 1024;

void ValidateObjectMeta(const Object& o, std::vector<ErrorCause>& errs) {
  if (const Object* labels = obj::ObjectAt(o, {"metadata", "labels"})) {
    for (const auto& [k, v] : *labels) {
      for (const auto& e : IsQualifiedName(k)) {
        errs.push_back(FieldInvalid("metadata.labels", GoQuote(k), e));
      }
      if (!v.is_string()) {
        errs.push_back(FieldInvalid("metadata.labels", GoQuote(k), "label values must be strings"));
        continue;
      }
      for (const auto& e : IsValidLabelValue(v.get_string())) {
        errs.push_back(FieldInvalid("metadata.labels", GoQuote(v.get_string()), e));
      }
    }
  }
  if (const Object* annotations = obj::ObjectAt(o, {"metadata", "annotations"})) {
    size_t total = 0;
    for (const auto& [k, v] : *annotations) {
      std::string lower(k);
      for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      for (const auto& e : IsQualifiedName(lower)) {
        errs.push_back(FieldInvalid("metadata.annotations", GoQuote(k), e));
      }
      total += k.size() + (v.is_string() ? v.get_string().size() : 0);
    }
    if (total > kTotalAnnotationSizeLimit) {
      errs.push_back(FieldTooLong("metadata.annotations", "may not be more than 262144 bytes"));
    }
  }
}

void ValidateDataKeys(const Object& o, std::string_view field, std::vector<ErrorCause>& errs) {
  const Object* data = obj::ObjectAt(o, {field});
  if (data == nullptr) return;
  for (const auto& [k, v] : *data) {
    for (const auto& e : IsConfigMapKey(k)) {
      errs.push_back(FieldInvalid(std::string(field) + "[" + std::string(k) + "]", GoQuote(k), e));
    }
  }
}

bool IsImmutable(const Object& o) {
  const auto* v = o.if_contains("immutable");
  return v != nullptr && v->is_bool() && v->get_bool();
}

bool SameField(const Object& a, const Object& b, std::string_view key) {
  const auto* x = a.if_contains(key);
  const auto* y = b.if_contains(key);
  auto empty = [](const json::value* v) {
    return v == nullptr || v->is_null() || (v->is_object() && v->get_object().empty());
  };
  if (empty(x) || empty(y)) return empty(x) && empty(y);
  return *x == *y;
}

void ValidateImmutableData(const Object& updated, const Object& old,
                           std::initializer_list<std::string_view> fields,
                           std::vector<ErrorCause>& errs) {
  if (!IsImmutable(old)) return;
  for (auto field : fields) {
    if (!SameField(updated, old, field)) {
      errs.push_back(
          FieldForbidden(std::string(field), "field is immutable when `immutable` is set"));
    }
  }
  if (!IsImmutable(updated)) {
    errs.push_back(FieldForbidden("immutable", "field is immutable when `immutable` is set"));
  }
}

void ValidateService(const Object& svc, std::vector<ErrorCause>& errs) {
  const Object* spec = obj::ObjectAt(svc, {"spec"});
  std::string type = spec == nullptr ? "" : std::string(obj::String(*spec, {"type"}));
  static const std::vector<std::string> kTypes = {"ClusterIP", "NodePort", "LoadBalancer",
                                                  "ExternalName"};
  if (!type.empty() && std::find(kTypes.begin(), kTypes.end(), type) == kTypes.end()) {
    errs.push_back(FieldNotSupported("spec.type", GoQuote(type), kTypes));
  }
  bool headless = spec != nullptr && obj::String(*spec, {"clusterIP"}) == "None";
  const auto* ports = spec == nullptr ? nullptr : spec->if_contains("ports");
  bool no_ports = ports == nullptr || !ports->is_array() || ports->get_array().empty();
  if (no_ports && type != "ExternalName" && !headless) errs.push_back(FieldRequired("spec.ports"));
  if (type == "ExternalName" && (spec == nullptr || obj::String(*spec, {"externalName"}).empty())) {
    errs.push_back(FieldRequired("spec.externalName"));
  }
}

void ValidateVolumeClaimLike(const Object& o, std::string_view capacity_path,
                             std::vector<ErrorCause>& errs) {
  const auto* modes = obj::Find(o, {"spec", "accessModes"});
  if (modes == nullptr || !modes->is_array() || modes->get_array().empty()) {
    errs.push_back(FieldRequired("spec.accessModes", "at least 1 access mode is required"));
  }
  const Object* amounts = capacity_path == "capacity"
                              ? obj::ObjectAt(o, {"spec", "capacity"})
                              : obj::ObjectAt(o, {"spec", "resources", "requests"});
  if (amounts == nullptr || amounts->if_contains("storage") == nullptr) {
    errs.push_back(
        FieldRequired(capacity_path == "capacity" ? "spec.capacity" : "spec.resources[storage]"));
  }
}

// Go's %#v of a map[string]string, as kube prints label maps in Invalid causes.
std::string GoStringMap(const Object* labels) {
  if (labels == nullptr) return "map[string]string(nil)";
  std::string out = "map[string]string{";
  bool first = true;
  for (const auto& [k, v] : *labels) {
    out += (first ? "" : ", ") + GoQuote(k) + ":" + GoQuote(v.is_string() ? v.get_string() : "");
    first = false;
  }
  return out + "}";
}

std::string GoLabelSelector(const Object& selector) {
  const auto* expressions = obj::Find(selector, {"matchExpressions"});
  const bool none =
      expressions == nullptr || !expressions->is_array() || expressions->get_array().empty();
  return "v1.LabelSelector{MatchLabels:" + GoStringMap(obj::ObjectAt(selector, {"matchLabels"})) +
         ", MatchExpressions:[]v1.LabelSelectorRequirement" +
         (none ? std::string("(nil)") : "{" + json::serialize(*expressions) + "}") + "}";
}

// apps/v1 ValidateDeploymentSpec / ValidateReplicaSetSpec: replicas, a non-empty selector that
// selects the template's labels, and a pod template that would validate as a pod with
// restartPolicy Always.
void ValidateWorkload(const ResourceInfo& r, const Object& o, std::vector<ErrorCause>& errs) {
  if (const auto* replicas = obj::Find(o, {"spec", "replicas"});
      replicas != nullptr && replicas->is_int64() && replicas->get_int64() < 0) {
    errs.push_back(FieldInvalid("spec.replicas", std::to_string(replicas->get_int64()),
                                "must be greater than or equal to 0"));
  }
  const Object* template_labels = obj::ObjectAt(o, {"spec", "template", "metadata", "labels"});
  if (const Object* selector = obj::ObjectAt(o, {"spec", "selector"}); selector == nullptr) {
    errs.push_back(FieldRequired("spec.selector"));
  } else if (auto text = FormatLabelSelector(*selector); !text) {
    errs.push_back(
        FieldInvalid("spec.selector", GoLabelSelector(*selector), text.error().message()));
  } else if (text->empty()) {
    errs.push_back(FieldInvalid("spec.selector", GoLabelSelector(*selector),
                                "empty selector is invalid for " + r.singular));
  } else if (auto parsed = LabelSelector::Parse(*text); !parsed) {
    errs.push_back(
        FieldInvalid("spec.selector", GoLabelSelector(*selector), parsed.error().message()));
  } else if (!parsed->Matches(template_labels)) {
    errs.push_back(FieldInvalid("spec.template.metadata.labels", GoStringMap(template_labels),
                                "`selector` does not match template `labels`"));
  }
  const Object* pod_template = obj::ObjectAt(o, {"spec", "template"});
  if (pod_template == nullptr) {
    errs.push_back(FieldRequired("spec.template"));
    return;
  }
  Object pod;
  if (const auto* spec = pod_template->if_contains("spec")) pod["spec"] = *spec;
  for (auto& cause : ValidatePodCreate(pod)) {
    cause.field = "spec.template." + cause.field;
    errs.push_back(std::move(cause));
  }
  if (auto policy = obj::String(pod, {"spec", "restartPolicy"});
      !policy.empty() && policy != "Always") {
    errs.push_back(
        FieldNotSupported("spec.template.spec.restartPolicy", GoQuote(policy), {"Always"}));
  }
}

bool IsWorkload(const ResourceInfo& r) {
  return Is(r, "apps", "deployments") || Is(r, "apps", "replicasets");
}

}  // namespace

void PrepareForCreate(const ResourceInfo& r, Object& o) {
  if (!r.has_status || Is(r, "", "nodes")) return;
  o.erase("status");
  if (!r.group.empty()) {
    if (r.has_status) o["status"] = Object();
    return;
  }
  if (r.resource == "pods") {
    Object status;
    status["phase"] = "Pending";
    status["qosClass"] = PodQosClass(o);
    // A pod with scheduling gates carries PodScheduled=False/SchedulingGated from the start.
    const auto* gates = obj::Find(o, {"spec", "schedulingGates"});
    if (gates != nullptr && gates->is_array() && !gates->get_array().empty()) {
      Object condition;
      condition["type"] = "PodScheduled";
      condition["status"] = "False";
      condition["reason"] = "SchedulingGated";
      condition["message"] = "Scheduling is blocked due to non-empty scheduling gates";
      condition["lastProbeTime"] = nullptr;
      condition["lastTransitionTime"] = nullptr;
      status["conditions"] = json::array{std::move(condition)};
    }
    o["status"] = std::move(status);
  } else if (r.resource == "namespaces") {
    obj::EnsureObject(o, {"spec"})["finalizers"] = json::array{"kubernetes"};
    obj::EnsureObject(o, {"status"})["phase"] = "Active";
  } else if (r.resource == "persistentvolumes" || r.resource == "persistentvolumeclaims") {
    obj::EnsureObject(o, {"status"})["phase"] = "Pending";
  } else if (r.resource == "services") {
    obj::EnsureObject(o, {"status", "loadBalancer"});
  } else if (r.has_status) {
    o["status"] = Object();
  }
}

void PrepareForUpdate(const ResourceInfo& r, Object& updated, const Object& old) {
  if (r.has_status) {
    if (const auto* status = old.if_contains("status")) {
      updated["status"] = *status;
    } else {
      updated.erase("status");
    }
  }
  if (Is(r, "", "namespaces")) {
    if (const auto* finalizers = obj::Find(old, {"spec", "finalizers"})) {
      obj::EnsureObject(updated, {"spec"})["finalizers"] = *finalizers;
    }
  } else if (Is(r, "", "services")) {
    const Object* old_spec = obj::ObjectAt(old, {"spec"});
    if (old_spec == nullptr) return;
    auto& spec = obj::EnsureObject(updated, {"spec"});
    for (const char* key :
         {"clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "healthCheckNodePort"}) {
      const auto* mine = spec.if_contains(key);
      bool unset = mine == nullptr || mine->is_null() ||
                   (mine->is_string() && mine->get_string().empty()) ||
                   (mine->is_array() && mine->get_array().empty());
      if (const auto* theirs = old_spec->if_contains(key); unset && theirs != nullptr) {
        spec[key] = *theirs;
      }
    }
    // Node ports stay with the port they were allocated for.
    const auto* old_ports = old_spec->if_contains("ports");
    auto* new_ports = spec.if_contains("ports");
    if (old_ports == nullptr || !old_ports->is_array() || new_ports == nullptr ||
        !new_ports->is_array()) {
      return;
    }
    for (auto& p : new_ports->get_array()) {
      auto* po = p.if_object();
      if (po == nullptr || po->contains("nodePort")) continue;
      for (const auto& q : old_ports->get_array()) {
        const auto* qo = q.if_object();
        if (qo == nullptr || !qo->contains("nodePort")) continue;
        if (obj::Int(*qo, {"port"}) == obj::Int(*po, {"port"}) &&
            obj::String(*qo, {"protocol"}) == obj::String(*po, {"protocol"})) {
          (*po)["nodePort"] = *qo->if_contains("nodePort");
        }
      }
    }
  }
}

Object PrepareEphemeralContainersUpdate(const Object& body, const Object& old) {
  Object updated = old;
  Object& spec = obj::EnsureObject(updated, {"spec"});
  if (const json::value* ephemeral = obj::Find(body, {"spec", "ephemeralContainers"});
      ephemeral != nullptr && !ephemeral->is_null()) {
    spec["ephemeralContainers"] = *ephemeral;
  } else {
    spec.erase("ephemeralContainers");
  }
  return updated;
}

Status NormalizeSecret(Object& secret) {
  auto bad = [](const std::string& why) {
    return tl::unexpected(
        BadRequestError("Secret in version \"v1\" cannot be handled as a Secret: " + why));
  };
  if (const auto* data = secret.if_contains("data"); data != nullptr && !data->is_null()) {
    if (!data->is_object()) return bad("data must be an object");
    for (const auto& [k, v] : data->get_object()) {
      if (v.is_null()) continue;
      if (!v.is_string()) return bad("data values must be base64 strings");
      if (auto decoded = Base64Decode(v.get_string()); !decoded) {
        return bad("illegal base64 data: " + decoded.error().message());
      }
    }
  }
  if (auto* string_data = secret.if_contains("stringData"); string_data != nullptr) {
    if (string_data->is_object()) {
      Object entries = string_data->get_object();
      auto& data = obj::EnsureObject(secret, {"data"});
      for (const auto& [k, v] : entries) {
        if (!v.is_string()) return bad("stringData values must be strings");
        data[k] = Base64Encode(v.get_string());
      }
    } else if (!string_data->is_null()) {
      return bad("stringData must be an object");
    }
    secret.erase("stringData");
  }
  return Ok();
}

std::vector<std::string> ValidateName(const ResourceInfo& r, std::string_view name) {
  if (Is(r, "", "namespaces")) return IsDns1123Label(name);
  if (Is(r, "", "services")) return IsDns1035Label(name);
  return IsDns1123Subdomain(name);
}

std::vector<ErrorCause> ValidateCreate(const ResourceInfo& r, const Object& o) {
  std::vector<ErrorCause> errs;
  ValidateObjectMeta(o, errs);
  if (IsWorkload(r)) ValidateWorkload(r, o, errs);
  if (!r.group.empty()) return errs;
  if (r.resource == "pods") {
    auto pod_errs = ValidatePodCreate(o);
    errs.insert(errs.end(), pod_errs.begin(), pod_errs.end());
  } else if (r.resource == "configmaps") {
    ValidateDataKeys(o, "data", errs);
    ValidateDataKeys(o, "binaryData", errs);
  } else if (r.resource == "secrets") {
    ValidateDataKeys(o, "data", errs);
  } else if (r.resource == "services") {
    ValidateService(o, errs);
  } else if (r.resource == "persistentvolumeclaims") {
    ValidateVolumeClaimLike(o, "resources", errs);
  } else if (r.resource == "persistentvolumes") {
    ValidateVolumeClaimLike(o, "capacity", errs);
  }
  return errs;
}

std::vector<ErrorCause> ValidateUpdate(const ResourceInfo& r, const Object& updated,
                                       const Object& old) {
  std::vector<ErrorCause> errs;
  ValidateObjectMeta(updated, errs);
  if (IsWorkload(r)) {
    ValidateWorkload(r, updated, errs);
    const auto* selector = obj::Find(updated, {"spec", "selector"});
    const auto* old_selector = obj::Find(old, {"spec", "selector"});
    if (selector != nullptr && old_selector != nullptr && *selector != *old_selector &&
        selector->is_object()) {
      errs.push_back(FieldInvalid("spec.selector", GoLabelSelector(selector->get_object()),
                                  "field is immutable"));
    }
  }
  if (!r.group.empty()) return errs;
  if (r.resource == "pods") {
    auto pod_errs = ValidatePodUpdate(updated, old);
    errs.insert(errs.end(), pod_errs.begin(), pod_errs.end());
  } else if (r.resource == "configmaps") {
    ValidateDataKeys(updated, "data", errs);
    ValidateDataKeys(updated, "binaryData", errs);
    ValidateImmutableData(updated, old, {"data", "binaryData"}, errs);
  } else if (r.resource == "secrets") {
    ValidateDataKeys(updated, "data", errs);
    ValidateImmutableData(updated, old, {"data"}, errs);
    if (obj::String(updated, {"type"}) != obj::String(old, {"type"})) {
      errs.push_back(
          FieldInvalid("type", GoQuote(obj::String(updated, {"type"})), "field is immutable"));
    }
  } else if (r.resource == "services") {
    ValidateService(updated, errs);
  }
  return errs;
}

}  // namespace vk::kubesim
