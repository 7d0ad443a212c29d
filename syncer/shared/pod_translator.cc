#include "syncer/shared/pod_translator.h"

#include <algorithm>
#include <set>

#include "syncer/shared/host_naming.h"

namespace vk::syncer::shared {
namespace {

namespace json = boost::json;

constexpr std::string_view kKubeRootCaConfigMap = "kube-root-ca.crt";

std::string_view View(const json::value* v) {
  if (v == nullptr || !v->is_string()) return {};
  return {v->get_string().data(), v->get_string().size()};
}

std::string_view StringField(const Object& o, std::string_view key) {
  return View(o.if_contains(key));
}

bool BoolField(const Object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_bool() && v->get_bool();
}

Object* ObjectField(Object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v == nullptr ? nullptr : v->if_object();
}

json::array* ArrayField(Object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v == nullptr ? nullptr : v->if_array();
}

const json::array* ArrayField(const Object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v == nullptr ? nullptr : v->if_array();
}

// What a reference slot found by VisitReferences points at.
enum class RefKind { kConfigMap, kSecret, kFieldPath };

// Whether a volume is the projected service-account volume the API server's ServiceAccount
// admission adds (kube-api-access-*): a projected volume with a serviceAccountToken source.
bool IsServiceAccountVolume(const Object& volume) {
  const Object* projected = obj::ObjectAt(volume, {"projected"});
  if (projected == nullptr) return false;
  const json::array* sources = ArrayField(*projected, "sources");
  if (sources == nullptr) return false;
  return std::any_of(sources->begin(), sources->end(), [](const json::value& source) {
    return source.is_object() && source.get_object().contains("serviceAccountToken");
  });
}

template <typename Fn>
void VisitNameSlot(Object* holder, std::string_view key, RefKind kind, Fn& fn) {
  if (holder == nullptr) return;
  auto* slot = holder->if_contains(key);
  if (slot != nullptr && slot->is_string() && !slot->get_string().empty()) fn(kind, *slot);
}

bool IsNamespaceItem(const json::value& item) {
  return item.is_object() &&
         obj::String(item.get_object(), {"fieldRef", "fieldPath"}) == "metadata.namespace";
}

bool IsRootCaSource(const Object& source) {
  return obj::String(source, {"configMap", "name"}) == kKubeRootCaConfigMap;
}

// In the service-account volume the token, the root CA and the namespace come from the token
// Secret (RewriteServiceAccountVolume), so the walker leaves them alone.
template <typename Fn>
void VisitDownwardApiItems(Object* downward_api, bool service_account_volume, Fn& fn) {
  if (downward_api == nullptr) return;
  json::array* items = ArrayField(*downward_api, "items");
  if (items == nullptr) return;
  for (auto& item : *items) {
    if (!item.is_object() || (service_account_volume && IsNamespaceItem(item))) continue;
    VisitNameSlot(ObjectField(item.get_object(), "fieldRef"), "fieldPath", RefKind::kFieldPath, fn);
  }
}

template <typename Fn>
void VisitProjectedSource(Object& source, bool service_account_volume, Fn& fn) {
  if (service_account_volume &&
      (source.contains("serviceAccountToken") || IsRootCaSource(source))) {
    return;
  }
  VisitNameSlot(ObjectField(source, "configMap"), "name", RefKind::kConfigMap, fn);
  VisitNameSlot(ObjectField(source, "secret"), "name", RefKind::kSecret, fn);
  VisitDownwardApiItems(ObjectField(source, "downwardAPI"), service_account_volume, fn);
}

template <typename Fn>
void VisitContainer(Object& container, Fn& fn) {
  if (json::array* env = ArrayField(container, "env")) {
    for (auto& var : *env) {
      if (!var.is_object()) continue;
      Object* value_from = ObjectField(var.get_object(), "valueFrom");
      if (value_from == nullptr) continue;
      VisitNameSlot(ObjectField(*value_from, "configMapKeyRef"), "name", RefKind::kConfigMap, fn);
      VisitNameSlot(ObjectField(*value_from, "secretKeyRef"), "name", RefKind::kSecret, fn);
      VisitNameSlot(ObjectField(*value_from, "fieldRef"), "fieldPath", RefKind::kFieldPath, fn);
    }
  }
  if (json::array* env_from = ArrayField(container, "envFrom")) {
    for (auto& source : *env_from) {
      if (!source.is_object()) continue;
      VisitNameSlot(ObjectField(source.get_object(), "configMapRef"), "name", RefKind::kConfigMap,
                    fn);
      VisitNameSlot(ObjectField(source.get_object(), "secretRef"), "name", RefKind::kSecret, fn);
    }
  }
}

// Calls fn(kind, slot) for every ConfigMap/Secret name and downward-API field path in a pod spec,
// except what the token Secret serves in the service-account volume.
template <typename Fn>
void VisitReferences(Object& spec, Fn& fn) {
  if (json::array* volumes = ArrayField(spec, "volumes")) {
    for (auto& value : *volumes) {
      if (!value.is_object()) continue;
      Object& volume = value.get_object();
      const bool service_account_volume = IsServiceAccountVolume(volume);
      VisitNameSlot(ObjectField(volume, "configMap"), "name", RefKind::kConfigMap, fn);
      VisitNameSlot(ObjectField(volume, "secret"), "secretName", RefKind::kSecret, fn);
      if (Object* csi = ObjectField(volume, "csi")) {
        VisitNameSlot(ObjectField(*csi, "nodePublishSecretRef"), "name", RefKind::kSecret, fn);
      }
      VisitDownwardApiItems(ObjectField(volume, "downwardAPI"), false, fn);
      if (Object* projected = ObjectField(volume, "projected")) {
        if (json::array* sources = ArrayField(*projected, "sources")) {
          for (auto& source : *sources) {
            if (source.is_object()) {
              VisitProjectedSource(source.get_object(), service_account_volume, fn);
            }
          }
        }
      }
    }
  }
  for (auto list : {"initContainers", "containers", "ephemeralContainers"}) {
    if (json::array* containers = ArrayField(spec, list)) {
      for (auto& container : *containers) {
        if (container.is_object()) VisitContainer(container.get_object(), fn);
      }
    }
  }
  if (json::array* pull_secrets = ArrayField(spec, "imagePullSecrets")) {
    for (auto& secret : *pull_secrets) {
      if (secret.is_object()) VisitNameSlot(&secret.get_object(), "name", RefKind::kSecret, fn);
    }
  }
}

std::string AnnotationFieldPath(std::string_view annotation) {
  std::string path = "metadata.annotations['";
  path.append(annotation).append("']");
  return path;
}

// The field path a host pod must read to see the virtual value of `path`, or "" when the host's
// value is the right one (status.podIP, labels and annotations, which are copied as they are).
std::string HostFieldPath(std::string_view path) {
  if (path == "metadata.name") return AnnotationFieldPath(kAnnotationOriginName);
  if (path == "metadata.namespace") return AnnotationFieldPath(kAnnotationOriginNamespace);
  if (path == "metadata.uid") return AnnotationFieldPath(kAnnotationOriginUid);
  if (path == "spec.nodeName") return AnnotationFieldPath(kAnnotationVirtualNodeName);
  if (path == "spec.serviceAccountName") {
    return AnnotationFieldPath(kAnnotationVirtualServiceAccount);
  }
  return {};
}

std::string NormalizeCapability(std::string_view capability) {
  std::string out;
  for (char c : capability) out.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c);
  if (out.rfind("CAP_", 0) == 0) out.erase(0, 4);
  return out;
}

// Collects every host privilege the pod asks for that the policy denies.
class PrivilegeChecker {
 public:
  explicit PrivilegeChecker(const PrivilegePolicy& policy) : policy_(policy) {
    for (const auto& capability : policy.allowed_capabilities) {
      allowed_capabilities_.insert(NormalizeCapability(capability));
    }
  }

  void Check(const Object& spec) {
    if (BoolField(spec, "hostNetwork") && !policy_.allow_host_network) {
      Deny("spec.hostNetwork", "host network is not allowed (set pods.allow_host_network)");
    }
    if (BoolField(spec, "hostPID") && !policy_.allow_host_pid) {
      Deny("spec.hostPID", "host PID namespace is not allowed (set pods.allow_host_pid)");
    }
    if (BoolField(spec, "hostIPC") && !policy_.allow_host_ipc) {
      Deny("spec.hostIPC", "host IPC namespace is not allowed (set pods.allow_host_ipc)");
    }
    if (const json::array* volumes = ArrayField(spec, "volumes");
        volumes && !policy_.allow_host_path) {
      for (const auto& volume : *volumes) {
        if (!volume.is_object() || !volume.get_object().contains("hostPath")) continue;
        Deny("spec.volumes[" + std::string(StringField(volume.get_object(), "name")) + "].hostPath",
             "hostPath volumes are not allowed (set pods.allow_host_path)");
      }
    }
    // Ephemeral containers are not created with the pod (TranslatePod drops them), so they are
    // judged when they are added, not here.
    for (auto list : {"initContainers", "containers"}) {
      const json::array* containers = ArrayField(spec, list);
      if (containers == nullptr) continue;
      for (const auto& container : *containers) {
        if (container.is_object()) CheckContainer(list, container.get_object());
      }
    }
  }

  void CheckEphemeralContainer(const Object& container) {
    CheckContainer("ephemeralContainers", container);
  }

  bool ok() const { return messages_.empty(); }

  Error ToError() const {
    std::string joined;
    for (const auto& message : messages_) {
      if (!joined.empty()) joined += "; ";
      joined += message;
    }
    Error error(ErrorCode::kForbidden, std::move(joined));
    for (const auto& cause : causes_) error.WithCause(cause);
    return error;
  }

 private:
  void CheckContainer(std::string_view list, const Object& container) {
    const Object* security = obj::ObjectAt(container, {"securityContext"});
    if (security == nullptr) return;
    std::string field = "spec.";
    field.append(list).append("[").append(StringField(container, "name")).append("]");
    field += ".securityContext";
    if (BoolField(*security, "privileged") && !policy_.allow_privileged) {
      Deny(field + ".privileged",
           "privileged containers are not allowed (set pods.allow_privileged)");
    }
    const json::value* added = obj::Find(*security, {"capabilities", "add"});
    if (added == nullptr || !added->is_array() || allowed_capabilities_.count("ALL") != 0) return;
    for (const auto& capability : added->get_array()) {
      const std::string_view name = View(&capability);
      if (allowed_capabilities_.count(NormalizeCapability(name)) != 0) continue;
      std::string subject(name);
      Deny(field + ".capabilities.add[" + subject + "]",
           "capability " + subject + " is not allowed (add it to pods.allowed_capabilities)");
    }
  }

  void Deny(std::string field, std::string reason) {
    messages_.push_back(field + ": " + reason);
    causes_.push_back(ErrorCause{"FieldValueForbidden", std::move(reason), std::move(field)});
  }

  const PrivilegePolicy& policy_;
  std::set<std::string> allowed_capabilities_;
  std::vector<std::string> messages_;
  std::vector<ErrorCause> causes_;
};

// Rebuilds the service-account volume so that the workload finds the virtual cluster's token, CA
// and namespace at the paths the API server's admission chose, served from one host Secret.
// Sources other than the token, the root CA and the namespace (a user may add some) are kept as
// VisitReferences translated them.
void RewriteServiceAccountVolume(Object& volume, const std::string& token_secret) {
  Object& projected = volume["projected"].get_object();
  json::array& sources = projected["sources"].get_array();
  json::array items;
  json::array kept;
  auto add_item = [&items](std::string_view key, const Object& from) {
    Object item;
    item["key"] = key;
    item["path"] = StringField(from, "path");
    if (const auto* mode = from.if_contains("mode")) item["mode"] = *mode;
    items.push_back(std::move(item));
  };
  for (auto& value : sources) {
    if (!value.is_object()) continue;
    Object& source = value.get_object();
    if (const Object* token = obj::ObjectAt(source, {"serviceAccountToken"})) {
      add_item("token", *token);
      continue;
    }
    if (const Object* config_map = obj::ObjectAt(source, {"configMap"});
        config_map != nullptr && IsRootCaSource(source)) {
      const json::array* ca_items = ArrayField(*config_map, "items");
      if (ca_items == nullptr) {
        Object whole;
        whole["path"] = "ca.crt";
        add_item("ca.crt", whole);
      } else {
        for (const auto& item : *ca_items) {
          if (item.is_object() && StringField(item.get_object(), "key") == "ca.crt") {
            add_item("ca.crt", item.get_object());
          }
        }
      }
      continue;
    }
    if (Object* downward = ObjectField(source, "downwardAPI")) {
      if (json::array* downward_items = ArrayField(*downward, "items")) {
        json::array rest;
        for (auto& item : *downward_items) {
          if (IsNamespaceItem(item)) {
            add_item("namespace", item.get_object());
          } else {
            rest.push_back(std::move(item));
          }
        }
        if (rest.empty()) continue;
        *downward_items = std::move(rest);
      }
    }
    kept.push_back(std::move(source));
  }
  Object secret;
  secret["name"] = token_secret;
  secret["items"] = std::move(items);
  Object secret_source;
  secret_source["secret"] = std::move(secret);
  json::array rebuilt;
  rebuilt.push_back(std::move(secret_source));
  for (auto& source : kept) rebuilt.push_back(std::move(source));
  sources = std::move(rebuilt);
}

std::string JoinHostPort(std::string_view host, int port) {
  std::string out;
  if (host.find(':') != std::string_view::npos) {
    out.append("[").append(host).append("]");
  } else {
    out.append(host);
  }
  return out + ":" + std::to_string(port);
}

// The variables the kubelet derives from the `kubernetes` service, pointed at the virtual API
// server. Explicit container env wins over the kubelet's service env, which is what makes these
// override the host's own values.
std::vector<std::pair<std::string, std::string>> KubernetesServiceEnv(
    const TranslationContext& ctx) {
  const std::string port = std::to_string(ctx.api_server_port);
  const std::string url = "tcp://" + JoinHostPort(ctx.api_server_host, ctx.api_server_port);
  const std::string port_prefix = "KUBERNETES_PORT_" + port + "_TCP";
  return {{"KUBERNETES_SERVICE_HOST", ctx.api_server_host},
          {"KUBERNETES_SERVICE_PORT", port},
          {"KUBERNETES_SERVICE_PORT_HTTPS", port},
          {"KUBERNETES_PORT", url},
          {port_prefix, url},
          {port_prefix + "_PROTO", "tcp"},
          {port_prefix + "_PORT", port},
          {port_prefix + "_ADDR", ctx.api_server_host}};
}

void InjectEnv(Object& container, const std::vector<std::pair<std::string, std::string>>& vars) {
  json::value& env_value = container["env"];
  if (!env_value.is_array()) env_value = json::array();
  json::array& env = env_value.get_array();
  std::set<std::string_view> present;
  for (const auto& var : env) {
    if (var.is_object()) present.insert(StringField(var.get_object(), "name"));
  }
  // Injected first, so that the user's own variables may refer to them with $(VAR).
  json::array merged;
  for (const auto& [name, value] : vars) {
    if (present.count(name) != 0) continue;
    Object var;
    var["name"] = name;
    var["value"] = value;
    merged.push_back(std::move(var));
  }
  for (auto& var : env) merged.push_back(std::move(var));
  env = std::move(merged);
}

void AppendUnique(json::array& into, const json::value& value) {
  if (std::find(into.begin(), into.end(), value) == into.end()) into.push_back(value);
}

// dnsPolicy ClusterFirst as the virtual cluster's kubelet would write resolv.conf, with the
// user's dnsConfig merged the way the kubelet merges it (servers and searches appended, options
// overriding by name).
void RewriteDns(Object& spec, std::string_view virtual_namespace, const TranslationContext& ctx) {
  if (ctx.dns_service_ip.empty()) return;
  std::string_view policy = StringField(spec, "dnsPolicy");
  if (policy.empty()) policy = "ClusterFirst";
  // The kubelet resolves ClusterFirst with hostNetwork like Default.
  const bool cluster_first = policy == "ClusterFirstWithHostNet" ||
                             (policy == "ClusterFirst" && !BoolField(spec, "hostNetwork"));
  if (!cluster_first) return;

  Object user;
  if (const Object* config = obj::ObjectAt(spec, {"dnsConfig"})) user = *config;
  Object config = user;

  json::array nameservers;
  nameservers.push_back(json::string(ctx.dns_service_ip));
  if (const json::array* extra = ArrayField(user, "nameservers")) {
    for (const auto& server : *extra) AppendUnique(nameservers, server);
  }
  // resolv.conf honours at most three servers.
  if (nameservers.size() > 3) nameservers.resize(3);
  config["nameservers"] = std::move(nameservers);

  const std::string& domain = ctx.cluster_domain;
  json::array searches;
  searches.push_back(json::string(std::string(virtual_namespace) + ".svc." + domain));
  searches.push_back(json::string("svc." + domain));
  searches.push_back(json::string(domain));
  if (const json::array* extra = ArrayField(user, "searches")) {
    for (const auto& search : *extra) AppendUnique(searches, search);
  }
  config["searches"] = std::move(searches);

  json::array options;
  Object ndots;
  ndots["name"] = "ndots";
  ndots["value"] = std::to_string(ctx.ndots);
  options.push_back(std::move(ndots));
  if (const json::array* extra = ArrayField(user, "options")) {
    for (const auto& option : *extra) {
      if (!option.is_object()) continue;
      const std::string_view name = StringField(option.get_object(), "name");
      auto same = std::find_if(options.begin(), options.end(), [name](const json::value& o) {
        return StringField(o.get_object(), "name") == name;
      });
      if (same != options.end()) {
        *same = option;
      } else {
        options.push_back(option);
      }
    }
  }
  config["options"] = std::move(options);

  spec["dnsPolicy"] = "None";
  spec["dnsConfig"] = std::move(config);
}

// The kubelet names a pod's host after the pod, cut to a label; the host pod's name is hashed, so
// the virtual name must be written down. Dots cannot appear in spec.hostname.
std::string HostnameFor(std::string_view pod_name) {
  std::string hostname(pod_name.substr(0, kMaxHostNameLength));
  while (!hostname.empty() && (hostname.back() == '-' || hostname.back() == '.')) {
    hostname.pop_back();
  }
  std::replace(hostname.begin(), hostname.end(), '.', '-');
  return hostname;
}

void RewriteScheduling(Object& spec, const TranslationContext& ctx) {
  // The virtual scheduler chose the virtual node by its labels; on the host those constraints name
  // nothing, so the configured host placement takes their place.
  spec.erase("nodeName");
  spec.erase("schedulerName");
  spec.erase("nodeSelector");
  if (!ctx.node_selector.empty()) {
    Object selector;
    for (const auto& [key, value] : ctx.node_selector) selector[key] = value;
    spec["nodeSelector"] = std::move(selector);
  }
  if (Object* affinity = ObjectField(spec, "affinity")) {
    affinity->erase("nodeAffinity");
    if (affinity->empty()) spec.erase("affinity");
  }
  if (!ctx.tolerations.empty()) {
    json::value& value = spec["tolerations"];
    if (!value.is_array()) value = json::array();
    for (const auto& toleration : ctx.tolerations) AppendUnique(value.get_array(), toleration);
  }
  // Host admission derives these from host PriorityClass and RuntimeClass objects and rejects
  // values that disagree with its own.
  spec.erase("priority");
  spec.erase("preemptionPolicy");
  spec.erase("overhead");
  spec.erase("priorityClassName");
  if (!ctx.priority_class_name.empty()) spec["priorityClassName"] = ctx.priority_class_name;
}

}  // namespace

std::string TranslationContext::HostObjectName(std::string_view ns, std::string_view name) const {
  if (host_object_name) return host_object_name(ns, name);
  return HostName(cluster, ns, name);
}

namespace {

// TranslatePod without dropping spec.ephemeralContainers: those are translated like the other
// containers, for TranslateEphemeralContainers. Their privileges are not judged here.
Result<Object> BuildHostPod(const Object& virtual_pod, const TranslationContext& ctx) {
  const std::string_view kind = obj::Kind(virtual_pod);
  if (!kind.empty() && kind != "Pod") {
    return MakeError(ErrorCode::kInvalid, "translate pod: object is a " + std::string(kind));
  }
  const std::string_view ns = obj::Namespace(virtual_pod);
  const std::string_view name = obj::Name(virtual_pod);
  const Object* virtual_spec = obj::ObjectAt(virtual_pod, {"spec"});
  if (name.empty() || ns.empty() || virtual_spec == nullptr) {
    return MakeError(ErrorCode::kInvalid, "translate pod " + obj::Key(virtual_pod) +
                                              ": needs a name, namespace and spec");
  }

  PrivilegeChecker checker(ctx.privileges);
  checker.Check(*virtual_spec);
  if (!checker.ok()) return tl::unexpected(checker.ToError());

  Object host = virtual_pod;
  host.erase("status");
  host["metadata"] = HostMetadata(virtual_pod, ctx.cluster, ctx.host_namespace);
  Object& annotations = host["metadata"].get_object()["annotations"].get_object();
  std::string node_name(obj::String(*virtual_spec, {"nodeName"}));
  if (node_name.empty()) node_name = ctx.virtual_node_name;
  annotations[kAnnotationVirtualNodeName] = node_name;
  std::string_view service_account = StringField(*virtual_spec, "serviceAccountName");
  if (service_account.empty()) service_account = StringField(*virtual_spec, "serviceAccount");
  if (!service_account.empty()) annotations[kAnnotationVirtualServiceAccount] = service_account;
  std::string synced_keys;
  if (const Object* virtual_annotations = obj::ObjectAt(virtual_pod, {"metadata", "annotations"})) {
    std::vector<std::string_view> keys;
    for (const auto& entry : *virtual_annotations) {
      keys.emplace_back(entry.key().data(), entry.key().size());
    }
    std::sort(keys.begin(), keys.end());
    for (auto key : keys) {
      if (!synced_keys.empty()) synced_keys += ",";
      synced_keys.append(key);
    }
  }
  annotations[kAnnotationSyncedAnnotations] = synced_keys;

  Object& spec = host["spec"].get_object();
  auto rewrite = [&](RefKind ref_kind, json::value& slot) {
    const std::string_view current = View(&slot);
    if (ref_kind == RefKind::kFieldPath) {
      std::string path = HostFieldPath(current);
      if (!path.empty()) slot = path;
      return;
    }
    slot = ctx.HostObjectName(ns, current);
  };

  VisitReferences(spec, rewrite);
  if (json::array* volumes = ArrayField(spec, "volumes")) {
    for (auto& volume : *volumes) {
      if (!volume.is_object() || !IsServiceAccountVolume(volume.get_object())) continue;
      if (ctx.service_account_token_secret.empty()) {
        return MakeError(ErrorCode::kInvalid,
                         "translate pod " + obj::Key(virtual_pod) + ": spec.volumes[" +
                             std::string(StringField(volume.get_object(), "name")) +
                             "] mounts a service-account token but no host token Secret is given");
      }
      RewriteServiceAccountVolume(volume.get_object(), ctx.service_account_token_secret);
    }
  }

  // The host's service account must not reach the workload; the virtual one arrives through the
  // token Secret above.
  spec.erase("serviceAccountName");
  spec.erase("serviceAccount");
  spec["automountServiceAccountToken"] = false;
  spec["enableServiceLinks"] = false;
  // Nobody sets the gates' conditions on the host; TranslateStatusBack applies them instead.
  spec.erase("readinessGates");

  RewriteScheduling(spec, ctx);
  RewriteDns(spec, ns, ctx);

  if (StringField(spec, "hostname").empty()) spec["hostname"] = HostnameFor(name);

  if (!ctx.host_aliases.empty()) {
    json::value& aliases = spec["hostAliases"];
    if (!aliases.is_array()) aliases = json::array();
    for (const auto& alias : ctx.host_aliases) {
      Object entry;
      entry["ip"] = alias.ip;
      json::array hostnames;
      for (const auto& hostname : alias.hostnames) hostnames.push_back(json::string(hostname));
      entry["hostnames"] = std::move(hostnames);
      AppendUnique(aliases.get_array(), entry);
    }
  }

  if (!ctx.api_server_host.empty()) {
    const auto vars = KubernetesServiceEnv(ctx);
    for (auto list : {"initContainers", "containers", "ephemeralContainers"}) {
      json::array* containers = ArrayField(spec, list);
      if (containers == nullptr) continue;
      for (auto& container : *containers) {
        if (container.is_object()) InjectEnv(container.get_object(), vars);
      }
    }
  }
  return host;
}

}  // namespace

Result<Object> TranslatePod(const Object& virtual_pod, const TranslationContext& ctx) {
  auto host = BuildHostPod(virtual_pod, ctx);
  if (!host) return host;
  // Forbidden on create; added later through the ephemeralcontainers subresource.
  (*host)["spec"].get_object().erase("ephemeralContainers");
  return host;
}

Result<EphemeralContainers> TranslateEphemeralContainers(const Object& virtual_pod,
                                                         const TranslationContext& ctx) {
  EphemeralContainers out;
  const json::value* listed = obj::Find(virtual_pod, {"spec", "ephemeralContainers"});
  if (listed == nullptr || !listed->is_array() || listed->get_array().empty()) return out;
  auto host = BuildHostPod(virtual_pod, ctx);
  if (!host) return tl::unexpected(host.error());
  const json::value* translated = obj::Find(*host, {"spec", "ephemeralContainers"});
  if (translated == nullptr || !translated->is_array()) return out;
  for (const auto& container : translated->get_array()) {
    if (!container.is_object()) continue;
    PrivilegeChecker checker(ctx.privileges);
    checker.CheckEphemeralContainer(container.get_object());
    if (checker.ok()) {
      out.allowed.push_back(container);
    } else {
      out.denied.push_back(DeniedContainer{
          std::string(StringField(container.get_object(), "name")),
          std::string(StringField(container.get_object(), "image")), checker.ToError().message()});
    }
  }
  return out;
}

PodReferences CollectReferences(const Object& virtual_pod) {
  std::set<std::string> config_maps;
  std::set<std::string> secrets;
  const Object* spec = obj::ObjectAt(virtual_pod, {"spec"});
  if (spec == nullptr) return {};
  // The walker is shared with TranslatePod, which needs mutable slots; a copy keeps both in step.
  Object copy = *spec;
  auto collect = [&](RefKind kind, json::value& slot) {
    if (kind == RefKind::kConfigMap) config_maps.emplace(View(&slot));
    if (kind == RefKind::kSecret) secrets.emplace(View(&slot));
  };
  VisitReferences(copy, collect);
  return PodReferences{{config_maps.begin(), config_maps.end()}, {secrets.begin(), secrets.end()}};
}

}  // namespace vk::syncer::shared
