#include "tests/kubesim/object_defaults.h"

#include <boost/json/array.hpp>

namespace vk::kubesim {
namespace {

namespace json = boost::json;

void SetIfMissing(Object& o, std::string_view key, json::value v) {
  if (!o.contains(key)) o[key] = std::move(v);
}

void SetIfEmptyString(Object& o, std::string_view key, std::string_view v) {
  const auto* cur = o.if_contains(key);
  if (cur == nullptr || cur->is_null() || (cur->is_string() && cur->get_string().empty())) {
    o[key] = v;
  }
}

template <typename F>
void ForEachObjectIn(Object& o, std::string_view key, F&& f) {
  auto* list = o.if_contains(key);
  if (list == nullptr || !list->is_array()) return;
  for (auto& item : list->get_array()) {
    if (auto* io = item.if_object()) f(*io);
  }
}

void DefaultFieldRef(Object& holder) {
  if (auto* ref = holder.if_contains("fieldRef"); ref != nullptr && ref->is_object()) {
    SetIfEmptyString(ref->get_object(), "apiVersion", "v1");
  }
}

void DefaultProbe(Object& container, std::string_view key) {
  auto* probe = container.if_contains(key);
  if (probe == nullptr || !probe->is_object()) return;
  auto& p = probe->get_object();
  SetIfMissing(p, "timeoutSeconds", 1);
  SetIfMissing(p, "periodSeconds", 10);
  SetIfMissing(p, "successThreshold", 1);
  SetIfMissing(p, "failureThreshold", 3);
  if (auto* http = p.if_contains("httpGet"); http != nullptr && http->is_object()) {
    SetIfEmptyString(http->get_object(), "scheme", "HTTP");
  }
}

void DefaultContainer(Object& c, bool host_network) {
  SetIfEmptyString(c, "terminationMessagePath", "/dev/termination-log");
  SetIfEmptyString(c, "terminationMessagePolicy", "File");
  if (const auto* image = c.if_contains("image"); image != nullptr && image->is_string()) {
    SetIfEmptyString(c, "imagePullPolicy", DefaultImagePullPolicy(image->get_string()));
  }
  SetIfMissing(c, "resources", Object());
  // A limit without a request requests the limit (SetDefaults_Pod).
  if (auto* res = c.if_contains("resources"); res != nullptr && res->is_object()) {
    if (const auto* limits = res->get_object().if_contains("limits");
        limits != nullptr && limits->is_object() && !limits->get_object().empty()) {
      Object copy = limits->get_object();  // inserting "requests" may move "limits"
      auto& requests = obj::EnsureObject(res->get_object(), {"requests"});
      for (const auto& [name, quantity] : copy) SetIfMissing(requests, name, quantity);
    }
  }
  ForEachObjectIn(c, "ports", [&](Object& port) {
    SetIfEmptyString(port, "protocol", "TCP");
    if (host_network && !port.contains("hostPort")) {
      if (const auto* cp = port.if_contains("containerPort")) {
        json::value copy = *cp;
        port["hostPort"] = std::move(copy);
      }
    }
  });
  ForEachObjectIn(c, "env", [](Object& env) {
    if (auto* from = env.if_contains("valueFrom"); from != nullptr && from->is_object()) {
      DefaultFieldRef(from->get_object());
    }
  });
  DefaultProbe(c, "livenessProbe");
  DefaultProbe(c, "readinessProbe");
  DefaultProbe(c, "startupProbe");
}

void DefaultDownwardItems(Object& source) {
  ForEachObjectIn(source, "items", [](Object& item) { DefaultFieldRef(item); });
}

void DefaultVolume(Object& v) {
  for (const char* kind : {"secret", "configMap", "downwardAPI", "projected"}) {
    auto* src = v.if_contains(kind);
    if (src == nullptr || !src->is_object()) continue;
    auto& s = src->get_object();
    SetIfMissing(s, "defaultMode", 420);
    if (std::string_view(kind) == "downwardAPI") DefaultDownwardItems(s);
    if (std::string_view(kind) == "projected") {
      ForEachObjectIn(s, "sources", [](Object& projection) {
        if (auto* token = projection.if_contains("serviceAccountToken");
            token != nullptr && token->is_object()) {
          SetIfMissing(token->get_object(), "expirationSeconds", 3600);
        }
        if (auto* dapi = projection.if_contains("downwardAPI");
            dapi != nullptr && dapi->is_object()) {
          DefaultDownwardItems(dapi->get_object());
        }
      });
    }
  }
  if (auto* host_path = v.if_contains("hostPath"); host_path != nullptr && host_path->is_object()) {
    SetIfMissing(host_path->get_object(), "type", "");
  }
}

void DefaultPod(Object& pod) {
  auto& spec = obj::EnsureObject(pod, {"spec"});
  SetIfEmptyString(spec, "restartPolicy", "Always");
  SetIfMissing(spec, "terminationGracePeriodSeconds", 30);
  SetIfEmptyString(spec, "dnsPolicy", "ClusterFirst");
  SetIfMissing(spec, "securityContext", Object());
  SetIfEmptyString(spec, "schedulerName", "default-scheduler");
  SetIfMissing(spec, "enableServiceLinks", true);
  // v1's deprecated serviceAccount mirrors serviceAccountName (conversion does this in kube).
  if (obj::String(spec, {"serviceAccountName"}).empty() &&
      !obj::String(spec, {"serviceAccount"}).empty()) {
    std::string name(obj::String(spec, {"serviceAccount"}));
    spec["serviceAccountName"] = name;
  }
  if (std::string name(obj::String(spec, {"serviceAccountName"})); !name.empty()) {
    spec["serviceAccount"] = name;
  }
  const auto* host_network = spec.if_contains("hostNetwork");
  bool host = host_network != nullptr && host_network->is_bool() && host_network->get_bool();
  for (const char* list : {"containers", "initContainers", "ephemeralContainers"}) {
    ForEachObjectIn(spec, list, [&](Object& c) { DefaultContainer(c, host); });
  }
  ForEachObjectIn(spec, "volumes", DefaultVolume);
}

// SetDefaults_PodSpec and the container/volume defaults of a workload's pod template.
void DefaultPodTemplate(Object& workload) {
  auto* template_value = obj::Find(workload, {"spec", "template"});
  if (template_value == nullptr || !template_value->is_object()) return;
  auto& pod_template = workload["spec"].get_object()["template"].get_object();
  Object pod;
  if (auto* spec = pod_template.if_contains("spec"); spec != nullptr && spec->is_object()) {
    pod["spec"] = std::move(*spec);
  }
  DefaultPod(pod);
  pod_template["spec"] = std::move(pod["spec"]);
}

// apps/v1 SetDefaults_Deployment and SetDefaults_ReplicaSet.
void DefaultWorkload(std::string_view resource, Object& workload) {
  auto& spec = obj::EnsureObject(workload, {"spec"});
  SetIfMissing(spec, "replicas", 1);
  if (resource == "deployments") {
    auto& strategy = obj::EnsureObject(spec, {"strategy"});
    SetIfEmptyString(strategy, "type", "RollingUpdate");
    if (obj::String(strategy, {"type"}) == "RollingUpdate") {
      auto& rolling = obj::EnsureObject(strategy, {"rollingUpdate"});
      SetIfMissing(rolling, "maxUnavailable", "25%");
      SetIfMissing(rolling, "maxSurge", "25%");
    }
    SetIfMissing(spec, "revisionHistoryLimit", 10);
    SetIfMissing(spec, "progressDeadlineSeconds", 600);
  }
  DefaultPodTemplate(workload);
}

void DefaultService(Object& svc) {
  auto& spec = obj::EnsureObject(svc, {"spec"});
  SetIfEmptyString(spec, "type", "ClusterIP");
  std::string type(obj::String(spec, {"type"}));
  if (type != "ExternalName") {
    SetIfEmptyString(spec, "sessionAffinity", "None");
    SetIfEmptyString(spec, "internalTrafficPolicy", "Cluster");
  }
  if (type == "NodePort" || type == "LoadBalancer") {
    SetIfEmptyString(spec, "externalTrafficPolicy", "Cluster");
  }
  ForEachObjectIn(spec, "ports", [](Object& port) {
    SetIfEmptyString(port, "protocol", "TCP");
    const auto* target = port.if_contains("targetPort");
    bool unset = target == nullptr || target->is_null() ||
                 (target->is_string() && target->get_string().empty()) ||
                 (target->is_int64() && target->get_int64() == 0);
    if (unset) {
      if (const auto* p = port.if_contains("port")) {
        json::value copy = *p;
        port["targetPort"] = std::move(copy);
      }
    }
  });
}

void DefaultNetworkPolicy(Object& np) {
  auto& spec = obj::EnsureObject(np, {"spec"});
  const auto* types = spec.if_contains("policyTypes");
  if (types == nullptr || !types->is_array() || types->get_array().empty()) {
    json::array policy_types{"Ingress"};
    const auto* egress = spec.if_contains("egress");
    if (egress != nullptr && egress->is_array() && !egress->get_array().empty()) {
      policy_types.push_back("Egress");
    }
    spec["policyTypes"] = std::move(policy_types);
  }
  for (const char* direction : {"ingress", "egress"}) {
    ForEachObjectIn(spec, direction, [](Object& rule) {
      ForEachObjectIn(rule, "ports",
                      [](Object& port) { SetIfEmptyString(port, "protocol", "TCP"); });
    });
  }
}

}  // namespace

std::string DefaultImagePullPolicy(std::string_view image) {
  if (image.find('@') != std::string_view::npos) return "IfNotPresent";
  auto slash = image.rfind('/');
  auto last = slash == std::string_view::npos ? image : image.substr(slash + 1);
  auto colon = last.rfind(':');
  if (colon == std::string_view::npos) return "Always";
  return last.substr(colon + 1) == "latest" ? "Always" : "IfNotPresent";
}

std::string PodQosClass(const Object& pod) {
  bool any = false;
  bool guaranteed = true;
  auto check = [&](const Object& c) {
    const Object* requests = obj::ObjectAt(c, {"resources", "requests"});
    const Object* limits = obj::ObjectAt(c, {"resources", "limits"});
    auto relevant = [](const Object* m, std::string_view key) {
      return m != nullptr && m->if_contains(key) != nullptr;
    };
    for (std::string_view res : {"cpu", "memory"}) {
      bool has_request = relevant(requests, res);
      bool has_limit = relevant(limits, res);
      if (has_request || has_limit) any = true;
      if (!has_limit) {
        guaranteed = false;
      } else if (has_request && !(*requests->if_contains(res) == *limits->if_contains(res))) {
        guaranteed = false;
      }
    }
  };
  const Object* spec = obj::ObjectAt(pod, {"spec"});
  if (spec != nullptr) {
    for (const char* list : {"containers", "initContainers"}) {
      const auto* items = spec->if_contains(list);
      if (items == nullptr || !items->is_array()) continue;
      for (const auto& c : items->get_array()) {
        if (c.is_object()) check(c.get_object());
      }
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

void ApplySchemeDefaults(const ResourceInfo& r, Object& o) {
  if (!r.group.empty()) {
    if (r.group == "networking.k8s.io" && r.resource == "networkpolicies") DefaultNetworkPolicy(o);
    if (r.group == "scheduling.k8s.io" && r.resource == "priorityclasses") {
      SetIfEmptyString(o, "preemptionPolicy", "PreemptLowerPriority");
    }
    if (r.group == "apps" && (r.resource == "deployments" || r.resource == "replicasets")) {
      DefaultWorkload(r.resource, o);
    }
    if (r.group == "discovery.k8s.io" && r.resource == "endpointslices") {
      ForEachObjectIn(o, "ports", [](Object& port) { SetIfEmptyString(port, "protocol", "TCP"); });
    }
    return;
  }
  if (r.resource == "pods") {
    DefaultPod(o);
  } else if (r.resource == "services") {
    DefaultService(o);
  } else if (r.resource == "namespaces") {
    auto name = std::string(obj::Name(o));
    if (!name.empty()) {
      obj::EnsureObject(o, {"metadata", "labels"})["kubernetes.io/metadata.name"] = name;
    }
  } else if (r.resource == "secrets") {
    SetIfEmptyString(o, "type", "Opaque");
  } else if (r.resource == "persistentvolumes") {
    auto& spec = obj::EnsureObject(o, {"spec"});
    SetIfEmptyString(spec, "persistentVolumeReclaimPolicy", "Retain");
    SetIfEmptyString(spec, "volumeMode", "Filesystem");
  } else if (r.resource == "persistentvolumeclaims") {
    SetIfEmptyString(obj::EnsureObject(o, {"spec"}), "volumeMode", "Filesystem");
  } else if (r.resource == "endpoints") {
    ForEachObjectIn(o, "subsets", [](Object& subset) {
      ForEachObjectIn(subset, "ports",
                      [](Object& port) { SetIfEmptyString(port, "protocol", "TCP"); });
    });
  }
}

}  // namespace vk::kubesim
