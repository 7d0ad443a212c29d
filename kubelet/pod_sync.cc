#include "kubelet/pod_sync.h"

namespace vk::kubelet {

syncer::shared::PodControllerOptions PodControllerOptionsFromConfig(const Config& config,
                                                                    std::string virtual_ca_pem) {
  syncer::shared::PodControllerOptions options;
  syncer::shared::TranslationContext& ctx = options.translation;
  ctx.cluster = config.cluster_name;
  ctx.host_namespace = config.cluster_namespace;
  ctx.dns_service_ip = config.pods.dns_service_ip;
  ctx.cluster_domain = config.pods.cluster_domain;
  ctx.api_server_host = config.pods.api_server_host;
  ctx.api_server_port = config.pods.api_server_port;
  ctx.node_selector = config.node.host_node_selector;
  ctx.priority_class_name = config.pods.host_priority_class;
  ctx.privileges.allow_host_network = config.pods.allow_host_network;
  ctx.privileges.allow_host_pid = config.pods.allow_host_pid;
  ctx.privileges.allow_host_ipc = config.pods.allow_host_ipc;
  ctx.privileges.allow_host_path = config.pods.allow_host_path;
  ctx.privileges.allow_privileged = config.pods.allow_privileged;
  ctx.privileges.allowed_capabilities = config.pods.allowed_capabilities;

  options.node_name =
      config.node_name.empty() ? "vkubelet-" + config.cluster_name : config.node_name;
  // Per-host-node mode names each virtual node after its host node (NodeController).
  options.per_host_node = config.node_mode == "per-host-node";
  options.node_prefix = "";
  options.workers = config.workers;
  options.default_token_expiration_seconds = config.pods.token_expiration_seconds;
  options.virtual_ca_pem = std::move(virtual_ca_pem);
  return options;
}

}  // namespace vk::kubelet
