#include "kubelet/node_controller.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <set>

#include "hostclient/base/thread_name.h"
#include "hostclient/informer.h"
#include "hostclient/lister_watcher.h"
#include "hostclient/rest_client.h"
#include "kubelet/lease_renewer.h"

namespace vk::kubelet {
namespace {

using hostclient::resources::Nodes;

// How often the worker looks again while the host caches are still syncing.
constexpr auto kSyncPollInterval = std::chrono::milliseconds(20);

std::string SelectorText(const std::map<std::string, std::string>& selector) {
  std::string out;
  for (const auto& [key, value] : selector) {
    if (!out.empty()) out += ",";
    out += key + "=" + value;
  }
  return out;
}

// A host node without a Ready condition (a freshly registered one, or a simulator's) counts as
// ready: only an explicit False/Unknown takes the virtual node down.
bool HostNodeReady(const Object& node) {
  const auto* conditions = obj::Find(node, {"status", "conditions"});
  if (conditions == nullptr || !conditions->is_array()) return true;
  for (const auto& value : conditions->get_array()) {
    if (!value.is_object()) continue;
    if (obj::String(value.get_object(), {"type"}) == "Ready") {
      return obj::String(value.get_object(), {"status"}) == "True";
    }
  }
  return true;
}

std::vector<std::string> Keys(const ResourceList& list) {
  std::vector<std::string> keys;
  for (const auto& [name, quantity] : list) keys.push_back(name);
  return keys;
}

}  // namespace

NodeControllerOptions NodeControllerOptionsFromConfig(const Config& config) {
  NodeControllerOptions options;
  options.mode = config.node_mode == "per-host-node" ? NodeControllerOptions::Mode::kPerHostNode
                                                     : NodeControllerOptions::Mode::kSingle;
  options.node_name =
      config.node_name.empty() ? "vkubelet-" + config.cluster_name : config.node_name;
  options.labels = config.node.labels;
  options.taints = config.node.taints;
  options.internal_ip = config.virtual_pod_ip;
  options.kubelet_port = config.kubelet_port;
  options.max_pods = config.node.max_pods;
  options.host_node_selector = config.node.host_node_selector;
  options.host_namespace = config.cluster_namespace;
  return options;
}

struct NodeController::Metrics {
  prometheus::Family<prometheus::Counter>* status_updates = nullptr;
  prometheus::Family<prometheus::Counter>* status_failures = nullptr;
  prometheus::Family<prometheus::Counter>* renewals = nullptr;
  prometheus::Family<prometheus::Counter>* renew_failures = nullptr;
  prometheus::Family<prometheus::Gauge>* capacity = nullptr;
};

struct NodeController::Node {
  Node(hostclient::RestClient& client, LeaseRenewer::Options lease_options)
      : lease(client, std::move(lease_options)) {}

  std::string name;
  std::string host_node;  // kPerHostNode: the host node it stands for
  NodeTemplate node_template;
  LeaseRenewer lease;

  bool registered = false;
  std::string uid;
  ConditionTracker conditions;
  // The last status patch written, with heartbeats left out: a change means "write now".
  std::string last_status;
  std::vector<std::string> reported_resources;
  std::optional<Clock::TimePoint> last_status_write;
  std::optional<Clock::TimePoint> last_renewal;
  Clock::TimePoint retry_registration_at{};
  Clock::TimePoint retry_lease_at{};
  Clock::TimePoint retry_status_at{};

  prometheus::Counter* status_updates = nullptr;
  prometheus::Counter* status_failures = nullptr;
  prometheus::Counter* renewals = nullptr;
  prometheus::Counter* renew_failures = nullptr;
  std::map<std::string, prometheus::Gauge*> capacity_gauges;
};

NodeController::NodeController(hostclient::RestClient& virtual_client,
                               hostclient::RestClient& host_client, NodeControllerOptions options,
                               prometheus::Registry* metrics, Clock& clock)
    : virtual_client_(virtual_client),
      host_client_(host_client),
      options_(std::move(options)),
      clock_(clock),
      extra_resources_(options_.extra_resources) {
  if (metrics != nullptr) {
    metrics_ = std::make_unique<Metrics>();
    metrics_->status_updates = &prometheus::BuildCounter()
                                    .Name("vkubelet_node_status_updates_total")
                                    .Help("Node status patches written to the virtual cluster.")
                                    .Register(*metrics);
    metrics_->status_failures = &prometheus::BuildCounter()
                                     .Name("vkubelet_node_status_update_failures_total")
                                     .Help("Node registrations or status patches that failed.")
                                     .Register(*metrics);
    metrics_->renewals = &prometheus::BuildCounter()
                              .Name("vkubelet_node_lease_renewals_total")
                              .Help("Node lease renewals in kube-node-lease.")
                              .Register(*metrics);
    metrics_->renew_failures = &prometheus::BuildCounter()
                                    .Name("vkubelet_node_lease_renew_failures_total")
                                    .Help("Node lease renewals that failed.")
                                    .Register(*metrics);
    metrics_->capacity = &prometheus::BuildGauge()
                              .Name("vkubelet_node_capacity")
                              .Help("Capacity of a virtual node, in units (cpu in cores).")
                              .Register(*metrics);
  }

  hostclient::InformerOptions node_options;
  node_options.name = "node-controller-host-nodes";
  host_nodes_ = std::make_unique<hostclient::SharedInformer>(
      std::make_unique<hostclient::RestListerWatcher>(host_client_, Nodes(), "",
                                                      SelectorText(options_.host_node_selector)),
      node_options);
  hostclient::EventHandler wake{[this](const ObjectPtr&, bool) { Wake(); },
                                [this](const ObjectPtr&, const ObjectPtr&) { Wake(); },
                                [this](const ObjectPtr&) { Wake(); }};
  host_nodes_->AddEventHandler(wake);
  if (!options_.host_namespace.empty()) {
    hostclient::InformerOptions quota_options;
    quota_options.name = "node-controller-host-quotas";
    quotas_ = std::make_unique<hostclient::SharedInformer>(
        std::make_unique<hostclient::RestListerWatcher>(
            host_client_, hostclient::resources::ResourceQuotas(), options_.host_namespace),
        quota_options);
    quotas_->AddEventHandler(wake);
  }
}

NodeController::~NodeController() { Stop(); }

Status NodeController::Start() {
  if (options_.mode == NodeControllerOptions::Mode::kSingle && options_.node_name.empty()) {
    return MakeError(ErrorCode::kConfig, "node controller: no node name");
  }
  std::lock_guard lock(mutex_);
  if (worker_.joinable() || stopping_) {
    return MakeError(ErrorCode::kUnavailableLocally, "node controller: already started");
  }
  host_nodes_->Start();
  if (quotas_) quotas_->Start();
  worker_ = std::thread([this] {
    SetCurrentThreadName("node-controller");
    Loop();
  });
  return Ok();
}

void NodeController::RequestStop() {
  std::lock_guard lock(mutex_);
  stopping_ = true;
  wake_.notify_all();
}

void NodeController::Stop() {
  RequestStop();
  if (worker_.joinable()) worker_.join();
  host_nodes_->Stop();
  if (quotas_) quotas_->Stop();
}

void NodeController::Wake() {
  std::lock_guard lock(mutex_);
  dirty_ = true;
  wake_.notify_all();
}

void NodeController::SetExtraResources(ResourceList extra) {
  std::lock_guard lock(mutex_);
  extra_resources_ = std::move(extra);
  dirty_ = true;
  wake_.notify_all();
}

bool NodeController::Ready() const { return Check().has_value(); }

Status NodeController::Check() const {
  std::lock_guard lock(mutex_);
  if (!not_ready_reason_.empty())
    return MakeError(ErrorCode::kUnavailableLocally, not_ready_reason_);
  const auto now = clock_.Now();
  const auto lease_duration = std::chrono::seconds(options_.lease_duration_seconds);
  for (const auto& [name, renewed] : renewals_) {
    if (!renewed) {
      return MakeError(ErrorCode::kUnavailableLocally, "node " + name + ": lease not renewed yet");
    }
    if (now - *renewed > lease_duration) {
      return MakeError(ErrorCode::kUnavailableLocally,
                       "node " + name + ": lease not renewed for more than " +
                           std::to_string(options_.lease_duration_seconds) + "s");
    }
  }
  return Ok();
}

std::vector<std::string> NodeController::NodeNames() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> names;
  for (const auto& [name, renewed] : renewals_) names.push_back(name);
  return names;
}

void NodeController::Loop() {
  Clock::TimePoint next_wake = clock_.Now();
  while (true) {
    {
      std::unique_lock lock(mutex_);
      const auto wait = next_wake - clock_.Now();
      if (wait > Clock::Duration::zero()) {
        wake_.wait_for(lock, wait, [this] { return stopping_ || dirty_; });
      }
      if (stopping_) return;
      dirty_ = false;
    }
    if (!host_nodes_->HasSynced() || (quotas_ && !quotas_->HasSynced())) {
      next_wake = clock_.Now() + kSyncPollInterval;
      continue;
    }
    const auto now = clock_.Now();
    ReconcileNodeSet();
    next_wake = now + options_.status_update_interval;
    for (auto& [name, node] : nodes_) next_wake = std::min(next_wake, SyncNode(*node, now));
    if (!pending_deletions_.empty()) next_wake = std::min(next_wake, now + options_.retry_interval);
    PublishReadiness();
  }
}

std::unique_ptr<NodeController::Node> NodeController::MakeNode(const std::string& name,
                                                               const std::string& host_node) {
  LeaseRenewer::Options lease_options;
  lease_options.node_name = name;
  lease_options.lease_duration_seconds = options_.lease_duration_seconds;
  auto node = std::make_unique<Node>(virtual_client_, std::move(lease_options));
  node->name = name;
  node->host_node = host_node;
  auto labels = options_.labels;
  if (!host_node.empty()) labels[kHostNodeLabel] = host_node;
  node->node_template = NodeTemplate{name,
                                     NodeLabels(name, options_.system.architecture, labels),
                                     options_.taints,
                                     options_.internal_ip,
                                     options_.kubelet_port,
                                     MakeNodeInfo(name, options_.system)};
  if (metrics_) {
    const prometheus::Labels labels_of_node{{"node", name}};
    node->status_updates = &metrics_->status_updates->Add(labels_of_node);
    node->status_failures = &metrics_->status_failures->Add(labels_of_node);
    node->renewals = &metrics_->renewals->Add(labels_of_node);
    node->renew_failures = &metrics_->renew_failures->Add(labels_of_node);
  }
  return node;
}

void NodeController::ReconcileNodeSet() {
  if (options_.mode == NodeControllerOptions::Mode::kSingle) {
    if (nodes_.empty()) nodes_[options_.node_name] = MakeNode(options_.node_name, "");
    return;
  }
  std::map<std::string, std::string> wanted;  // virtual node -> host node
  for (const auto& host : host_nodes_->store().List()) {
    if (obj::IsBeingDeleted(*host)) continue;
    wanted[options_.node_prefix + std::string(obj::Name(*host))] = std::string(obj::Name(*host));
  }
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    if (wanted.contains(it->first)) {
      ++it;
      continue;
    }
    Node& node = *it->second;
    spdlog::info("host node {} is gone: removing virtual node {}", node.host_node, node.name);
    pending_deletions_[node.name] = node.uid;
    if (metrics_) {
      metrics_->status_updates->Remove(node.status_updates);
      metrics_->status_failures->Remove(node.status_failures);
      metrics_->renewals->Remove(node.renewals);
      metrics_->renew_failures->Remove(node.renew_failures);
      for (auto& [resource, gauge] : node.capacity_gauges) metrics_->capacity->Remove(gauge);
    }
    it = nodes_.erase(it);
  }
  for (const auto& [name, host] : wanted) {
    pending_deletions_.erase(name);
    if (!nodes_.contains(name)) {
      spdlog::info("host node {} selected: serving virtual node {}", host, name);
      nodes_[name] = MakeNode(name, host);
    }
  }
  for (auto it = pending_deletions_.begin(); it != pending_deletions_.end();) {
    hostclient::DeleteOptions delete_options;
    delete_options.precondition_uid = it->second;
    auto deleted = virtual_client_.Delete(Nodes(), "", it->first, delete_options);
    // A conflict means the node was replaced by someone else's since: not ours to delete.
    if (!deleted && !deleted.error().IsNotFound() && !deleted.error().IsConflict()) {
      spdlog::warn("deleting virtual node {}: {}", it->first, deleted.error().ToString());
      ++it;
      continue;
    }
    LeaseRenewer::Options lease_options;
    lease_options.node_name = it->first;
    if (auto lease = LeaseRenewer(virtual_client_, lease_options).Delete(); !lease) {
      spdlog::warn("deleting lease of virtual node {}: {}", it->first, lease.error().ToString());
    }
    it = pending_deletions_.erase(it);
  }
}

ResourceList NodeController::CapacityFor(const Node& node) const {
  CapacityInputs inputs;
  if (node.host_node.empty()) {
    inputs.host_nodes = host_nodes_->store().List();
  } else if (auto host = host_nodes_->store().Get(node.host_node)) {
    inputs.host_nodes.push_back(std::move(host));
  }
  if (quotas_) inputs.quotas = quotas_->store().List();
  {
    std::lock_guard lock(mutex_);
    inputs.extra = extra_resources_;
  }
  inputs.max_pods = options_.max_pods;
  return ComputeCapacity(inputs);
}

Status NodeController::Register(Node& node) {
  auto existing = virtual_client_.Get(Nodes(), "", node.name);
  if (existing) {
    if (obj::IsBeingDeleted(*existing)) {
      return MakeError(ErrorCode::kConflict, "node " + node.name + " is being deleted");
    }
    const std::string patch = BuildMetadataPatch(node.node_template, *existing);
    if (!patch.empty()) {
      auto patched = virtual_client_.Patch(Nodes(), "", node.name,
                                           hostclient::PatchType::kStrategicMerge, patch);
      if (!patched) return tl::unexpected(patched.error());
    }
    node.uid = std::string(obj::Uid(*existing));
    node.conditions = ConditionTracker();
    node.conditions.Seed(*existing);
    node.reported_resources =
        Keys(ParseResourceList(obj::ObjectAt(*existing, {"status", "capacity"})));
    spdlog::info("virtual node {} already registered (uid {}): keeping it", node.name, node.uid);
  } else if (existing.error().IsNotFound()) {
    const auto capacity = CapacityFor(node);
    const auto wall_now = std::chrono::system_clock::now();
    node.conditions = ConditionTracker();
    node.conditions.Update(true, "", "", wall_now);
    auto created = virtual_client_.Create(
        Nodes(), "",
        BuildNode(node.node_template, capacity, node.conditions.conditions(), wall_now));
    if (!created) return tl::unexpected(created.error());
    node.uid = std::string(obj::Uid(*created));
    node.reported_resources = Keys(capacity);
    spdlog::info("registered virtual node {} (uid {})", node.name, node.uid);
  } else {
    return tl::unexpected(existing.error());
  }
  node.registered = true;
  // Write the full status once after (re)registration, whatever was stored.
  node.last_status.clear();
  return Ok();
}

Status NodeController::PatchStatus(Node& node, const ResourceList& capacity) {
  const auto patch =
      BuildStatusPatch(node.node_template, capacity, node.reported_resources,
                       node.conditions.conditions(), std::chrono::system_clock::now());
  auto patched =
      virtual_client_.Patch(Nodes(), "", node.name, hostclient::PatchType::kStrategicMerge,
                            obj::Serialize(patch), {}, "status");
  if (!patched) return tl::unexpected(patched.error());
  node.reported_resources = Keys(capacity);
  return Ok();
}

Clock::TimePoint NodeController::SyncNode(Node& node, Clock::TimePoint now) {
  if (!node.registered) {
    if (now < node.retry_registration_at) return node.retry_registration_at;
    if (auto registered = Register(node); !registered) {
      spdlog::warn("registering virtual node {}: {}", node.name, registered.error().ToString());
      if (node.status_failures) node.status_failures->Increment();
      node.retry_registration_at = now + options_.retry_interval;
      return node.retry_registration_at;
    }
  }

  auto lease_due = [&] {
    auto due = node.last_renewal ? *node.last_renewal + options_.lease_renew_interval : now;
    return std::max(due, node.retry_lease_at);
  };
  if (now >= lease_due()) {
    if (auto renewed = node.lease.Renew(node.uid); renewed) {
      node.last_renewal = now;
      if (node.renewals) node.renewals->Increment();
    } else {
      spdlog::warn("renewing lease of virtual node {}: {}", node.name, renewed.error().ToString());
      if (node.renew_failures) node.renew_failures->Increment();
      node.retry_lease_at = now + options_.retry_interval;
    }
  }

  const auto capacity = CapacityFor(node);
  bool ready = true;
  std::string reason, message;
  if (node.host_node.empty()) {
    const auto hosts = host_nodes_->store().List();
    ready = std::any_of(hosts.begin(), hosts.end(),
                        [](const ObjectPtr& host) { return HostNodeReady(*host); });
    if (!ready) {
      reason = "NoHostNodes";
      message = "no ready host node matches the selector \"" +
                SelectorText(options_.host_node_selector) + "\"";
    }
  } else {
    auto host = host_nodes_->store().Get(node.host_node);
    ready = host != nullptr && HostNodeReady(*host);
    if (!ready) {
      reason = "HostNodeNotReady";
      message = "host node " + node.host_node + " is not ready";
    }
  }
  node.conditions.Update(ready, reason, message, std::chrono::system_clock::now());
  const std::string content =
      obj::Serialize(BuildStatusPatch(node.node_template, capacity, node.reported_resources,
                                      node.conditions.conditions(), WallTime{}));
  auto status_due = [&] {
    auto due = content != node.last_status || !node.last_status_write
                   ? now
                   : *node.last_status_write + options_.status_update_interval;
    return std::max(due, node.retry_status_at);
  };
  if (now >= status_due()) {
    if (auto patched = PatchStatus(node, capacity); patched) {
      node.last_status = content;
      node.last_status_write = now;
      if (node.status_updates) node.status_updates->Increment();
      if (metrics_) {
        for (const auto& [resource, quantity] : capacity) {
          auto& gauge = node.capacity_gauges[resource];
          if (gauge == nullptr) {
            gauge = &metrics_->capacity->Add({{"node", node.name}, {"resource", resource}});
          }
          gauge->Set(static_cast<double>(quantity.milli()) / 1000.0);
        }
        for (auto it = node.capacity_gauges.begin(); it != node.capacity_gauges.end();) {
          if (capacity.contains(it->first)) {
            ++it;
            continue;
          }
          metrics_->capacity->Remove(it->second);
          it = node.capacity_gauges.erase(it);
        }
      }
    } else {
      if (node.status_failures) node.status_failures->Increment();
      if (patched.error().IsNotFound()) {
        spdlog::warn("virtual node {} was deleted: registering it again", node.name);
        node.registered = false;
        node.last_renewal.reset();
        return now;
      }
      spdlog::warn("patching status of virtual node {}: {}", node.name, patched.error().ToString());
      node.retry_status_at = now + options_.retry_interval;
    }
  }
  return std::min(lease_due(), status_due());
}

void NodeController::PublishReadiness() {
  std::lock_guard lock(mutex_);
  not_ready_reason_.clear();
  renewals_.clear();
  for (const auto& [name, node] : nodes_) {
    if (!node->registered && not_ready_reason_.empty()) {
      not_ready_reason_ = "node " + name + " is not registered";
    }
    renewals_[name] = node->last_renewal;
  }
}

}  // namespace vk::kubelet
