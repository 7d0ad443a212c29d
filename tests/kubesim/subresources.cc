#include "tests/kubesim/subresources.h"

#include <boost/json.hpp>

#include "tests/kubesim/api_errors.h"
#include "tests/kubesim/json_patch.h"
#include "tests/kubesim/label_selector.h"
#include "tests/kubesim/merge_patch.h"
#include "tests/kubesim/router.h"
#include "tests/kubesim/strategic_merge_patch.h"
#include "tests/kubesim/timestamps.h"

namespace vk::kubesim {
namespace {

namespace json = boost::json;

constexpr int64_t kDefaultTokenSeconds = 3600;
constexpr int64_t kMinTokenSeconds = 600;
constexpr int64_t kMaxTokenSeconds = int64_t{1} << 32;

const ResourceInfo* Core(const ResourceCatalog& catalog, std::string_view resource) {
  return catalog.Find("", "v1", resource);
}

Error MissingResource(std::string_view resource) {
  return InternalError("resource " + std::string(resource) + " is not served");
}

// Enforces metadata.uid / metadata.resourceVersion preconditions carried by an action object.
Status CheckPreconditions(const Object& current, const Object& action, std::string_view resource) {
  std::string_view uid = obj::String(action, {"metadata", "uid"});
  if (!uid.empty() && uid != obj::Uid(current)) {
    return tl::unexpected(
        ConflictError(resource, obj::Name(current),
                      "Precondition failed: UID in precondition: " + std::string(uid) +
                          ", UID in object meta: " + std::string(obj::Uid(current))));
  }
  std::string_view rv = obj::String(action, {"metadata", "resourceVersion"});
  if (!rv.empty() && rv != obj::ResourceVersion(current)) {
    return tl::unexpected(ConflictError(
        resource, obj::Name(current),
        "Precondition failed: ResourceVersion in precondition: " + std::string(rv) +
            ", ResourceVersion in object meta: " + std::string(obj::ResourceVersion(current))));
  }
  return Ok();
}

// autoscaling/v1 Scale of a deployment or replica set, as kube's scaleFromDeployment builds it.
Object ScaleOf(const Object& workload) {
  Object metadata;
  for (const char* key : {"name", "namespace", "uid", "resourceVersion", "creationTimestamp"}) {
    if (const auto* v = obj::Find(workload, {"metadata", key})) metadata[key] = *v;
  }
  std::string selector;
  if (const Object* s = obj::ObjectAt(workload, {"spec", "selector"})) {
    selector = FormatLabelSelector(*s).value_or("");
  }
  return Object{{"kind", "Scale"},
                {"apiVersion", "autoscaling/v1"},
                {"metadata", std::move(metadata)},
                {"spec", json::object{{"replicas", obj::Int(workload, {"spec", "replicas"})}}},
                {"status", json::object{{"replicas", obj::Int(workload, {"status", "replicas"})},
                                        {"selector", selector}}}};
}

}  // namespace

Result<Object> GetScaleSubresource(const Storage& storage, const ResourceInfo& r,
                                   std::string_view ns, std::string_view name) {
  auto workload = storage.GetShared(r, ns, name);
  if (!workload) return tl::unexpected(workload.error());
  return ScaleOf(**workload);
}

Result<Object> UpdateScaleSubresource(Storage& storage, const ResourceInfo& r, std::string_view ns,
                                      std::string_view name, const Object& scale, bool dry_run) {
  const auto* replicas = obj::Find(scale, {"spec", "replicas"});
  const int64_t wanted = obj::Int(scale, {"spec", "replicas"});
  if (replicas != nullptr && !replicas->is_number()) {
    return tl::unexpected(
        BadRequestError("Scale in version \"v1\" cannot be handled as a Scale: "
                        "spec.replicas must be an integer"));
  }
  if (wanted < 0) {
    return tl::unexpected(InvalidError("Scale.autoscaling", name,
                                       {FieldInvalid("spec.replicas", std::to_string(wanted),
                                                     "must be greater than or equal to 0")}));
  }
  auto current = storage.GetShared(r, ns, name);
  if (!current) return tl::unexpected(current.error());
  if (auto s = CheckPreconditions(**current, scale, r.QualifiedResource()); !s) {
    return tl::unexpected(s.error());
  }
  Object updated = **current;
  obj::EnsureObject(updated, {"spec"})["replicas"] = wanted;
  // The version read above: a write in between is a conflict, not a lost update.
  auto written = storage.Update(r, ns, name, std::move(updated), "", dry_run);
  if (!written) return tl::unexpected(written.error());
  return ScaleOf(*written);
}

Result<Object> PatchScaleSubresource(Storage& storage, const ResourceInfo& r, std::string_view ns,
                                     std::string_view name, PatchKind kind, std::string_view patch,
                                     bool dry_run) {
  constexpr int kAttempts = 5;
  for (int attempt = 1;; ++attempt) {
    auto current = GetScaleSubresource(storage, r, ns, name);
    if (!current) return current;
    Result<Object> patched = Object();
    if (kind == PatchKind::kJsonPatch) {
      auto value = ApplyJsonPatch(json::value(*current), patch);
      if (!value) return tl::unexpected(value.error());
      if (!value->is_object())
        return tl::unexpected(BadRequestError("patched Scale is not an object"));
      patched = std::move(value->get_object());
    } else if (kind == PatchKind::kMergePatch) {
      patched = ApplyMergePatch(*current, patch);
    } else {
      patched = ApplyStrategicMergePatch(*current, patch);
    }
    if (!patched) return patched;
    const bool pinned = obj::ResourceVersion(*patched) != obj::ResourceVersion(*current);
    auto answer = UpdateScaleSubresource(storage, r, ns, name, *patched, dry_run);
    if (answer || pinned || answer.error().code() != ErrorCode::kConflict || attempt == kAttempts) {
      return answer;
    }
  }
}

Object SuccessStatus(int code) {
  return Object{{"kind", "Status"},
                {"apiVersion", "v1"},
                {"metadata", json::object{}},
                {"status", "Success"},
                {"code", code}};
}

Result<Object> BindPodSubresource(Storage& storage, const ResourceCatalog& catalog,
                                  std::string_view ns, std::string_view name, const Object& binding,
                                  bool dry_run) {
  const ResourceInfo* pods = Core(catalog, "pods");
  if (pods == nullptr) return tl::unexpected(MissingResource("pods"));
  if (std::string_view body_name = obj::Name(binding); !body_name.empty() && body_name != name) {
    return tl::unexpected(BadRequestError("name in URL does not match name in Binding object"));
  }
  std::string_view target_kind = obj::String(binding, {"target", "kind"});
  if (!target_kind.empty() && target_kind != "Node") {
    return tl::unexpected(InvalidError(
        "Binding", name,
        {FieldNotSupported("target.kind", GoQuote(target_kind), {"Node", "<empty>"})}));
  }
  std::string node(obj::String(binding, {"target", "name"}));
  if (node.empty()) {
    return tl::unexpected(InvalidError("Binding", name, {FieldRequired("target.name")}));
  }
  auto pod = storage.GetShared(*pods, ns, name);
  if (!pod) return tl::unexpected(pod.error());
  if (auto s = CheckPreconditions(**pod, binding, "pods"); !s) return tl::unexpected(s.error());
  auto bound = storage.BindPod(ns, name, node, dry_run);
  if (!bound) return tl::unexpected(bound.error());
  return SuccessStatus(201);
}

Result<Object> EvictPodSubresource(Storage& storage, const ResourceCatalog& catalog,
                                   std::string_view ns, std::string_view name,
                                   const Object& eviction, bool dry_run) {
  const ResourceInfo* pods = Core(catalog, "pods");
  if (pods == nullptr) return tl::unexpected(MissingResource("pods"));
  if (std::string_view body_name = obj::Name(eviction); !body_name.empty() && body_name != name) {
    return tl::unexpected(BadRequestError("name in URL does not match name in Eviction object"));
  }
  DeleteRequest request;
  request.dry_run = dry_run;
  if (const Object* options = obj::ObjectAt(eviction, {"deleteOptions"})) {
    auto parsed = DeleteRequestFromOptions(*options, request);
    if (!parsed) return tl::unexpected(parsed.error());
    request = std::move(*parsed);
  }
  auto deleted = storage.Delete(*pods, ns, name, request);
  if (!deleted) return tl::unexpected(deleted.error());
  return SuccessStatus(201);
}

Result<Object> RequestTokenSubresource(Storage& storage, const ResourceCatalog& catalog,
                                       Authenticator& authenticator, std::string_view ns,
                                       std::string_view name, const Object& request, bool dry_run) {
  const ResourceInfo* accounts = Core(catalog, "serviceaccounts");
  if (accounts == nullptr) return tl::unexpected(MissingResource("serviceaccounts"));
  const std::string qualified_kind = "TokenRequest.authentication.k8s.io";

  int64_t seconds = kDefaultTokenSeconds;
  if (const json::value* v = obj::Find(request, {"spec", "expirationSeconds"});
      v != nullptr && !v->is_null()) {
    if (!v->is_int64() && !v->is_uint64()) {
      return tl::unexpected(BadRequestError("spec.expirationSeconds must be an integer"));
    }
    seconds = v->is_int64() ? v->get_int64() : static_cast<int64_t>(v->get_uint64());
  }
  if (seconds < kMinTokenSeconds) {
    return tl::unexpected(
        InvalidError(qualified_kind, name,
                     {FieldInvalid("spec.expirationSeconds", std::to_string(seconds),
                                   "may not specify a duration less than 10 minutes")}));
  }
  if (seconds > kMaxTokenSeconds) {
    return tl::unexpected(
        InvalidError(qualified_kind, name,
                     {FieldInvalid("spec.expirationSeconds", std::to_string(seconds),
                                   "may not specify a duration larger than 2^32 seconds")}));
  }

  auto account = storage.GetShared(*accounts, ns, name);
  if (!account) return tl::unexpected(account.error());

  ServiceAccountBinding binding;
  binding.ns = std::string(ns);
  binding.name = std::string(name);
  binding.uid = std::string(obj::Uid(**account));

  json::value bound_ref = nullptr;
  if (const Object* ref = obj::ObjectAt(request, {"spec", "boundObjectRef"})) {
    std::string kind(obj::String(*ref, {"kind"}));
    std::string api_version(obj::String(*ref, {"apiVersion"}));
    std::string ref_name(obj::String(*ref, {"name"}));
    std::string ref_uid(obj::String(*ref, {"uid"}));
    const ResourceInfo* target = nullptr;
    if ((api_version.empty() || api_version == "v1") &&
        (kind == "Pod" || kind == "Secret" || kind == "Node")) {
      target = Core(catalog, kind == "Pod" ? "pods" : kind == "Secret" ? "secrets" : "nodes");
    }
    if (target == nullptr) {
      return tl::unexpected(BadRequestError(
          "cannot bind token for serviceaccount " + GoQuote(name) + " to object of type " +
          (api_version.empty() ? "v1" : api_version) + ", Kind=" + kind));
    }
    auto object =
        storage.GetShared(*target, target->namespaced ? ns : std::string_view(), ref_name);
    if (!object) return tl::unexpected(object.error());
    if (!ref_uid.empty() && ref_uid != obj::Uid(**object)) {
      return tl::unexpected(ConflictError(
          kind, ref_name,
          "the UID in the bound object reference (" + ref_uid +
              ") does not match the UID in record. The object might have been deleted and then "
              "recreated"));
    }
    binding.bound_kind = kind;
    binding.bound_name = ref_name;
    binding.bound_uid = std::string(obj::Uid(**object));
    json::object out_ref = *ref;
    out_ref["uid"] = binding.bound_uid;
    if (api_version.empty()) out_ref["apiVersion"] = "v1";
    bound_ref = std::move(out_ref);
  }

  std::vector<std::string> audiences;
  if (const json::value* a = obj::Find(request, {"spec", "audiences"}); a && a->is_array()) {
    for (const auto& item : a->get_array()) {
      if (item.is_string()) audiences.emplace_back(item.get_string());
    }
  }
  if (audiences.empty()) audiences.emplace_back(kApiServerAudience);

  std::string token;
  if (!dry_run) {
    token =
        authenticator.IssueServiceAccountToken(binding, std::chrono::seconds(seconds), audiences);
  }
  json::array audience_json;
  for (const auto& a : audiences) audience_json.emplace_back(a);
  Object spec{{"audiences", std::move(audience_json)},
              {"expirationSeconds", seconds},
              {"boundObjectRef", std::move(bound_ref)}};
  const auto expires = std::chrono::system_clock::now() + std::chrono::seconds(seconds);
  return Object{
      {"kind", "TokenRequest"},
      {"apiVersion", "authentication.k8s.io/v1"},
      {"metadata", json::object{{"name", name}, {"namespace", ns}, {"creationTimestamp", nullptr}}},
      {"spec", std::move(spec)},
      {"status", json::object{{"token", token}, {"expirationTimestamp", FormatTime(expires)}}}};
}

bool ServiceAccountBindingValid(const Storage& storage, const ResourceCatalog& catalog,
                                const ServiceAccountBinding& b) {
  const ResourceInfo* accounts = Core(catalog, "serviceaccounts");
  if (accounts == nullptr) return false;
  auto account = storage.GetShared(*accounts, b.ns, b.name);
  if (!account || obj::Uid(**account) != b.uid) return false;
  if (b.bound_kind.empty()) return true;
  const ResourceInfo* target = Core(catalog, b.bound_kind == "Pod"      ? "pods"
                                             : b.bound_kind == "Secret" ? "secrets"
                                                                        : "nodes");
  if (target == nullptr) return false;
  auto object = storage.GetShared(*target, target->namespaced ? b.ns : std::string(), b.bound_name);
  if (!object || obj::Uid(**object) != b.bound_uid) return false;
  // As kube: a token bound to an object being deleted lives until its deletionTimestamp (the end
  // of a pod's grace period), so that terminating pods can still call the API.
  auto deletion = ParseTime(obj::String(**object, {"metadata", "deletionTimestamp"}));
  return !deletion || *deletion > std::chrono::system_clock::now();
}

}  // namespace vk::kubesim
