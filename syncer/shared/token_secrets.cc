#include "syncer/shared/token_secrets.h"

#include "hostclient/base/base64.h"
#include "hostclient/base/rfc3339.h"
#include "hostclient/resource.h"
#include "hostclient/rest_client.h"
#include "syncer/shared/host_naming.h"

namespace vk::syncer::shared {
namespace {

namespace json = boost::json;

constexpr std::string_view kAnnotationTokenPodUid = "vkubelet.io/token-pod-uid";
constexpr std::string_view kAnnotationTokenRenewAt = "vkubelet.io/token-renew-at";
constexpr std::string_view kAnnotationTokenSpec = "vkubelet.io/token-spec";
constexpr std::string_view kRootCaConfigMap = "kube-root-ca.crt";

std::string SpecText(const TokenRequestSpec& spec) {
  return spec.service_account + "|" + spec.audience + "|" + std::to_string(spec.expiration_seconds);
}

}  // namespace

std::optional<TokenRequestSpec> TokenRequestOf(const Object& pod, int64_t default_expiration) {
  const json::value* volumes = obj::Find(pod, {"spec", "volumes"});
  if (volumes == nullptr || !volumes->is_array()) return std::nullopt;
  for (const auto& volume : volumes->get_array()) {
    if (!volume.is_object()) continue;
    const json::value* sources = obj::Find(volume.get_object(), {"projected", "sources"});
    if (sources == nullptr || !sources->is_array()) continue;
    for (const auto& source : sources->get_array()) {
      if (!source.is_object()) continue;
      const Object* token = obj::ObjectAt(source.get_object(), {"serviceAccountToken"});
      if (token == nullptr) continue;
      TokenRequestSpec spec;
      spec.service_account = std::string(obj::String(pod, {"spec", "serviceAccountName"}));
      if (spec.service_account.empty()) {
        spec.service_account = std::string(obj::String(pod, {"spec", "serviceAccount"}));
      }
      if (spec.service_account.empty()) spec.service_account = "default";
      spec.audience = std::string(obj::String(*token, {"audience"}));
      spec.expiration_seconds = obj::Int(*token, {"expirationSeconds"}, default_expiration);
      return spec;
    }
  }
  return std::nullopt;
}

std::string HostTokenSecretName(std::string_view cluster, std::string_view ns,
                                std::string_view pod_name) {
  // The "token" suffix on the name part keeps the readable prefix telling; the hash input
  // "<cluster>/<ns>/<pod>/token" cannot equal that of an object (names have no '/').
  return HostName(cluster, ns, std::string(pod_name) + "/token");
}

TokenSecrets::TokenSecrets(hostclient::RestClient& virtual_client,
                           hostclient::RestClient& host_client, Options options,
                           SecretLookup host_secret, ConfigMapLookup virtual_config_map)
    : virtual_client_(virtual_client),
      host_client_(host_client),
      options_(std::move(options)),
      host_secret_(std::move(host_secret)),
      virtual_config_map_(std::move(virtual_config_map)) {}

std::chrono::system_clock::time_point TokenSecrets::Now() const {
  return options_.wall_clock ? options_.wall_clock() : std::chrono::system_clock::now();
}

Result<std::optional<TokenSecrets::Ensured>> TokenSecrets::Ensure(const Object& virtual_pod) {
  auto spec = TokenRequestOf(virtual_pod, options_.default_expiration_seconds);
  if (!spec) return std::optional<Ensured>();
  const std::string ns(obj::Namespace(virtual_pod));
  const std::string secret_name = HostTokenSecretName(options_.cluster, ns, obj::Name(virtual_pod));
  ObjectPtr current = host_secret_(secret_name);
  const std::string spec_text = SpecText(*spec);
  const auto fresh = [&](std::string_view pod_uid, std::string_view text,
                         std::chrono::system_clock::time_point renew_at) {
    return pod_uid == obj::Uid(virtual_pod) && text == spec_text && renew_at > Now();
  };
  {
    std::lock_guard lock(mutex_);
    auto it = issued_.find(secret_name);
    if (it != issued_.end()) {
      const bool cache_caught_up =
          current != nullptr &&
          obj::Annotation(*current, kAnnotationTokenRenewAt) == FormatRfc3339(it->second.renew_at);
      if (cache_caught_up) {
        issued_.erase(it);
      } else if (fresh(it->second.pod_uid, it->second.spec, it->second.renew_at)) {
        return std::optional<Ensured>(Ensured{secret_name, it->second.renew_at});
      }
    }
  }
  if (current != nullptr) {
    auto renew_at = ParseRfc3339(obj::Annotation(*current, kAnnotationTokenRenewAt));
    if (renew_at && fresh(obj::Annotation(*current, kAnnotationTokenPodUid),
                          obj::Annotation(*current, kAnnotationTokenSpec), *renew_at)) {
      return std::optional<Ensured>(Ensured{secret_name, *renew_at});
    }
  }
  auto issued = Issue(virtual_pod, *spec, secret_name, current);
  if (!issued) return tl::unexpected(issued.error());
  return std::optional<Ensured>(std::move(*issued));
}

Result<TokenSecrets::Ensured> TokenSecrets::Issue(const Object& virtual_pod,
                                                  const TokenRequestSpec& spec,
                                                  const std::string& secret_name,
                                                  const ObjectPtr& current) {
  const std::string ns(obj::Namespace(virtual_pod));
  Object request;
  request["apiVersion"] = "authentication.k8s.io/v1";
  request["kind"] = "TokenRequest";
  Object request_spec;
  if (!spec.audience.empty()) request_spec["audiences"] = json::array{json::value(spec.audience)};
  request_spec["expirationSeconds"] = spec.expiration_seconds;
  request_spec["boundObjectRef"] = Object{{"apiVersion", "v1"},
                                          {"kind", "Pod"},
                                          {"name", obj::Name(virtual_pod)},
                                          {"uid", obj::Uid(virtual_pod)}};
  request["spec"] = std::move(request_spec);
  const auto requested_at = Now();
  auto response = virtual_client_.CreateSubresource(hostclient::resources::ServiceAccounts(), ns,
                                                    spec.service_account, "token", request);
  if (!response) {
    Error error = response.error();
    error.Context("request a token for service account " + ns + "/" + spec.service_account);
    return tl::unexpected(std::move(error));
  }
  const std::string token(obj::String(*response, {"status", "token"}));
  auto expires = ParseRfc3339(obj::String(*response, {"status", "expirationTimestamp"}));
  const auto expires_at =
      expires ? *expires : requested_at + std::chrono::seconds(spec.expiration_seconds);
  // Renew after 80% of the lifetime, as the kubelet does.
  const auto renew_at = requested_at + (expires_at - requested_at) * 8 / 10;

  std::string ca = options_.fallback_ca_pem;
  if (ObjectPtr root_ca = virtual_config_map_(ns, std::string(kRootCaConfigMap))) {
    std::string_view from_cluster = obj::String(*root_ca, {"data", "ca.crt"});
    if (!from_cluster.empty()) ca = std::string(from_cluster);
  }

  Object secret;
  secret["apiVersion"] = "v1";
  secret["kind"] = "Secret";
  // Only our marks: the pod's own labels and annotations belong on its twin, not here. The
  // origin is the pod, so that its deletion (or a restart finding it gone) collects the Secret.
  Object labels{{kLabelCluster, options_.cluster}, {kLabelManagedBy, kManagedByValue}};
  Object annotations{{kAnnotationOriginNamespace, ns},
                     {kAnnotationOriginName, obj::Name(virtual_pod)},
                     {kAnnotationOriginUid, obj::Uid(virtual_pod)},
                     {kAnnotationOriginKind, "Pod"},
                     {kAnnotationTokenPodUid, obj::Uid(virtual_pod)},
                     {kAnnotationTokenRenewAt, FormatRfc3339(renew_at)},
                     {kAnnotationTokenSpec, SpecText(spec)}};
  Object clean_metadata{{"name", secret_name},
                        {"namespace", options_.host_namespace},
                        {"labels", std::move(labels)},
                        {"annotations", std::move(annotations)}};
  secret["metadata"] = std::move(clean_metadata);
  secret["type"] = "Opaque";
  secret["data"] = Object{{"token", Base64Encode(token)},
                          {"ca.crt", Base64Encode(ca)},
                          {"namespace", Base64Encode(ns)}};

  if (current == nullptr) {
    auto created =
        host_client_.Create(hostclient::resources::Secrets(), options_.host_namespace, secret);
    if (created) return Remember(secret_name, virtual_pod, spec, renew_at);
    if (created.error().code() != ErrorCode::kAlreadyExists) return tl::unexpected(created.error());
    auto fetched =
        host_client_.Get(hostclient::resources::Secrets(), options_.host_namespace, secret_name);
    if (!fetched) return tl::unexpected(fetched.error());
    return Issue(virtual_pod, spec, secret_name, std::make_shared<const Object>(*fetched));
  }
  if (auto owned = CheckOwnership(*current, options_.cluster, ns, obj::Name(virtual_pod)); !owned) {
    return tl::unexpected(owned.error());
  }
  secret["metadata"].as_object()["resourceVersion"] = obj::ResourceVersion(*current);
  auto updated =
      host_client_.Update(hostclient::resources::Secrets(), options_.host_namespace, secret);
  if (!updated) return tl::unexpected(updated.error());
  return Remember(secret_name, virtual_pod, spec, renew_at);
}

TokenSecrets::Ensured TokenSecrets::Remember(const std::string& secret_name,
                                             const Object& virtual_pod,
                                             const TokenRequestSpec& spec,
                                             std::chrono::system_clock::time_point renew_at) {
  std::lock_guard lock(mutex_);
  issued_[secret_name] = Issued{std::string(obj::Uid(virtual_pod)), SpecText(spec), renew_at};
  return Ensured{secret_name, renew_at};
}

Status TokenSecrets::Remove(const std::string& ns, const std::string& name) {
  const std::string secret_name = HostTokenSecretName(options_.cluster, ns, name);
  bool written_here = false;
  {
    std::lock_guard lock(mutex_);
    written_here = issued_.erase(secret_name) > 0;
  }
  ObjectPtr current = host_secret_(secret_name);
  if (current == nullptr && !written_here) return Ok();
  if (current != nullptr && !OriginMatches(*current, options_.cluster, ns, name)) return Ok();
  hostclient::DeleteOptions options;
  // A Secret this process wrote may not be cached yet; its name is ours either way.
  if (current != nullptr) options.precondition_uid = std::string(obj::Uid(*current));
  auto deleted = host_client_.Delete(hostclient::resources::Secrets(), options_.host_namespace,
                                     secret_name, options);
  if (!deleted && deleted.error().code() != ErrorCode::kNotFound &&
      deleted.error().code() != ErrorCode::kConflict) {
    return tl::unexpected(deleted.error());
  }
  return Ok();
}

}  // namespace vk::syncer::shared
