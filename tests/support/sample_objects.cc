#include "tests/support/sample_objects.h"

#include <boost/json/parse.hpp>

namespace vk::testing {

Object SamplePod(const std::string& ns, const std::string& name, const std::string& node_name) {
  auto pod = boost::json::parse(R"({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {
      "labels": {"app": "shop", "tier": "web", "pod-template-hash": "7d9f8c6b5"},
      "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "9100"},
      "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d9f8c6b5",
                           "uid": "8f1c2d3e-4b5a-6789-0abc-def012345678", "controller": true,
                           "blockOwnerDeletion": true}]
    },
    "spec": {
      "containers": [
        {"name": "app", "image": "registry.example.com/shop/web:1.24.3",
         "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
         "env": [{"name": "MODE", "value": "production"},
                 {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                 {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}],
         "resources": {"requests": {"cpu": "250m", "memory": "256Mi"},
                       "limits": {"cpu": "1", "memory": "512Mi"}},
         "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 5},
         "livenessProbe": {"httpGet": {"path": "/live", "port": 8080}, "periodSeconds": 10},
         "volumeMounts": [{"name": "config", "mountPath": "/etc/shop"},
                          {"name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true}]},
        {"name": "metrics", "image": "registry.example.com/exporter:0.9.1",
         "ports": [{"containerPort": 9100}],
         "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}}}
      ],
      "volumes": [{"name": "config", "configMap": {"name": "shop-config"}},
                  {"name": "kube-api-access", "projected": {"sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}}]}}],
      "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
      "serviceAccountName": "default"
    }
  })");
  Object& object = pod.get_object();
  auto& metadata = object["metadata"].get_object();
  metadata["name"] = name;
  metadata["namespace"] = ns;
  if (!node_name.empty()) object["spec"].get_object()["nodeName"] = node_name;
  return std::move(object);
}

Object NamespaceObject(const std::string& name) {
  return Object{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", Object{{"name", name}}}};
}

Object SampleConfigMap(const std::string& ns, const std::string& name, int keys, int value_bytes) {
  Object config_map;
  config_map["apiVersion"] = "v1";
  config_map["kind"] = "ConfigMap";
  auto& metadata = obj::EnsureObject(config_map, {"metadata"});
  metadata["name"] = name;
  metadata["namespace"] = ns;
  auto& data = obj::EnsureObject(config_map, {"data"});
  for (int i = 0; i < keys; ++i) {
    data["key-" + std::to_string(i)] = std::string(static_cast<size_t>(value_bytes), 'x');
  }
  return config_map;
}

}  // namespace vk::testing
