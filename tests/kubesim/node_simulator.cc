#include "tests/kubesim/node_simulator.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/json.hpp>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <future>
#include <mutex>
#include <queue>
#include <random>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "tests/kubesim/pod_fit.h"
#include "tests/kubesim/sim_image.h"
#include "tests/kubesim/timestamps.h"

namespace vk::kubesim {
namespace {

namespace json = boost::json;
using SteadyTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

constexpr char kLeaseNamespace[] = "kube-node-lease";
constexpr int64_t kLeaseDurationSeconds = 40;

enum class State { kWaiting, kRunning, kTerminated };

struct ContainerSim {
  std::string_view spec_list;  // "containers", "initContainers" or "ephemeralContainers"
  std::string name;
  std::string image;
  ImageBehavior behavior;
  State state = State::kWaiting;
  std::string waiting_reason = "ContainerCreating";
  std::string waiting_message;
  std::string container_id;
  WallTime started_at{};
  WallTime finished_at{};
  int exit_code = 0;
  std::string terminated_reason;
  int restart_count = 0;
  bool ever_started = false;
  json::object last_state;  // {} or {"terminated": {...}}
  uint64_t instance = 0;    // exit and restart timers of an older instance do nothing
};

struct ConditionSim {
  std::string type;
  bool status = false;
  WallTime since{};
};

struct PodSim {
  std::string key;
  std::string ns;
  std::string name;
  std::string uid;
  std::string node;
  std::string restart_policy;
  uint64_t id = 0;  // timers match it: a pod recreated under the same name gets a new one
  ObjectPtr latest;
  std::vector<ContainerSim> init;
  std::vector<ContainerSim> containers;
  std::vector<ContainerSim> ephemeral;  // started as they are added, never restarted
  std::string ip;
  WallTime start_time{};
  bool started = false;
  bool init_done = false;
  bool terminating = false;
  bool stopped = false;  // containers stopped for deletion
  bool evicted = false;
  std::string reason;
  std::string message;
  std::vector<ConditionSim> conditions;
};

std::vector<ContainerSim>& ContainersOf(PodSim& st, std::string_view spec_list) {
  if (spec_list == "initContainers") return st.init;
  if (spec_list == "ephemeralContainers") return st.ephemeral;
  return st.containers;
}

std::string MicroTime(WallTime t) {
  std::string whole = FormatTime(t);
  whole.pop_back();
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch() %
                                                                      std::chrono::seconds(1))
                    .count();
  return fmt::format("{}.{:06d}Z", whole, micros);
}

// The image as containerd reports its ID: the fully qualified repository and a digest derived
// from the reference, so that the same image always has the same ID.
std::string ImageId(const std::string& image) {
  std::string repo = image.substr(0, image.find('@'));
  auto slash = repo.rfind('/');
  auto colon = repo.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    repo.resize(colon);
  }
  auto first_slash = repo.find('/');
  std::string host = first_slash == std::string::npos ? "" : repo.substr(0, first_slash);
  if (first_slash == std::string::npos) {
    repo = "docker.io/library/" + repo;
  } else if (host.find('.') == std::string::npos && host.find(':') == std::string::npos &&
             host != "localhost") {
    repo = "docker.io/" + repo;
  }
  std::string digest;
  for (uint64_t salt = 0; salt < 4; ++salt) {
    digest += fmt::format("{:016x}", std::hash<std::string>{}(image + char('a' + salt)));
  }
  return repo + "@sha256:" + digest;
}

std::string NodeIp(int index) {
  return fmt::format("10.0.{}.{}", (index - 1) / 254, (index - 1) % 254 + 1);
}

json::object Condition(std::string_view type, bool status, WallTime since,
                       std::string_view reason = {}, std::string_view message = {}) {
  json::object c;
  c["type"] = type;
  c["status"] = status ? "True" : "False";
  c["lastProbeTime"] = nullptr;
  c["lastTransitionTime"] = FormatTime(since);
  if (!reason.empty()) c["reason"] = reason;
  if (!message.empty()) c["message"] = message;
  return c;
}

}  // namespace

struct NodeSimulator::Impl {
  struct Timer {
    SteadyTime at;
    uint64_t seq;
    std::function<void()> fn;
    bool operator>(const Timer& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  // A task posted from another thread; run(false) when the simulator stopped before it ran.
  using Task = std::function<void(bool run)>;

  // A Storage watch of one resource and where it got to, to resume from there.
  struct Feed {
    const ResourceInfo* resource = nullptr;
    WatcherPtr watcher;
    std::string last_rv;
  };

  // A pod that fit no node, with the spec that was tried: only a different spec or a node change
  // makes another attempt worthwhile.
  struct Unschedulable {
    std::string uid;
    std::string spec;
  };

  struct AtomicStats {
    std::atomic<uint64_t> pods_bound{0};
    std::atomic<uint64_t> scheduling_failures{0};
    std::atomic<uint64_t> pods_started{0};
    std::atomic<uint64_t> pods_deleted{0};
    std::atomic<uint64_t> status_writes{0};
    std::atomic<uint64_t> write_errors{0};
  };

  Impl(Storage& s, const ResourceCatalog& c, Options o)
      : storage(s), catalog(c), options(std::move(o)), rng(std::random_device{}()) {
    if (!options.wall_clock) options.wall_clock = [] { return std::chrono::system_clock::now(); };
    logs = options.logs ? options.logs : std::make_shared<SimLogs>(options.wall_clock);
    pods = catalog.Find("", "v1", "pods");
    nodes = catalog.Find("", "v1", "nodes");
    events = catalog.Find("", "v1", "events");
    leases = catalog.Find("coordination.k8s.io", "v1", "leases");
    for (int i = 1; i <= options.nodes; ++i) {
      node_names.push_back(options.node_prefix + std::to_string(i));
      node_ips[node_names.back()] = NodeIp(i);
    }
  }

  WallTime Now() const { return options.wall_clock(); }

  // ---- lifecycle ----

  Status Start();
  void Stop();
  void Run();
  void Post(Task task) {
    {
      std::lock_guard lock(mu);
      if (started && !stop) {
        tasks.push_back(std::move(task));
        cv.notify_one();
        return;
      }
    }
    task(false);
  }
  void AddTimer(std::chrono::milliseconds delay, std::function<void()> fn) {
    timers.push(Timer{std::chrono::steady_clock::now() + delay, ++timer_seq, std::move(fn)});
  }
  // Runs fn on the pod if it is still the same pod when the timer fires.
  void AddPodTimer(const PodSim& st, std::chrono::milliseconds delay,
                   std::function<void(PodSim&)> fn) {
    AddTimer(delay, [this, key = st.key, id = st.id, fn = std::move(fn)] {
      auto it = pod_map.find(key);
      if (it != pod_map.end() && it->second->id == id) fn(*it->second);
    });
  }
  Status Watch(Feed& feed, const std::string& resource_version);
  void Drain(Feed& feed, std::vector<WatchEventRecord>& batch,
             void (Impl::*handle)(const WatchEventRecord&));

  // ---- nodes ----

  Status RegisterNode(const std::string& name);
  json::object NodeStatus(const std::string& name) const;
  void RenewLeases();
  void NodeHeartbeat();
  void ScheduleLeaseRenewal();
  void ScheduleNodeHeartbeat();

  // ---- pods ----

  void Handle(const WatchEventRecord& event);
  void HandleNode(const WatchEventRecord& event);
  // retry: try even if the pod's spec is the one that found no node last time.
  void MaybeSchedule(const Object& pod, bool retry);
  void FailScheduling(const Object& pod, std::string key, std::string spec,
                      const std::vector<std::string>& misfits);
  void RetryUnschedulable();
  void Track(const ObjectPtr& pod);
  void Forget(const std::string& key);
  void StartPod(PodSim& st);
  void StartContainer(PodSim& st, ContainerSim& c, bool init, bool restart);
  void StartEphemeralContainers(PodSim& st);
  void PullFailed(PodSim& st, ContainerSim& c);
  void Exit(PodSim& st, std::string_view spec_list, size_t index, uint64_t instance);
  void Restart(PodSim& st, size_t index, uint64_t instance);
  void BeginDeletion(PodSim& st);
  void StopContainers(PodSim& st);
  Status EvictPod(const std::string& key, std::string_view resource);
  void Terminate(PodSim& st, ContainerSim& c, int code, std::string_view reason);
  std::string Phase(const PodSim& st) const;
  json::object BuildStatus(PodSim& st);
  json::object ContainerStatus(const PodSim& st, const ContainerSim& c) const;
  void SetCondition(PodSim& st, std::string_view type, bool status);
  bool WriteStatus(PodSim& st);
  void Event(const PodSim& st, const ContainerSim* c, std::string_view type,
             std::string_view reason, std::string message, std::string_view component = "kubelet");
  std::string AllocateIp();
  void ReleaseIp(const std::string& ip);
  std::string RandomHex(size_t bytes);

  Storage& storage;
  const ResourceCatalog& catalog;
  Options options;
  std::shared_ptr<SimLogs> logs;
  const ResourceInfo* pods = nullptr;
  const ResourceInfo* nodes = nullptr;
  const ResourceInfo* events = nullptr;
  const ResourceInfo* leases = nullptr;
  std::vector<std::string> node_names;
  std::unordered_map<std::string, std::string> node_ips;
  std::unordered_map<std::string, std::string> node_uids;
  WallTime registered_at{};
  AtomicStats stats;

  std::mutex mu;  // guards stop, started, wake, tasks
  std::condition_variable cv;
  bool started = false;
  bool stop = false;
  bool wake = false;
  std::deque<Task> tasks;
  std::thread worker;

  // Owned by the worker thread (and by Start before it runs).
  Feed pod_feed;
  Feed node_feed;  // only when scheduling
  // Our nodes as last seen, for scheduling (filled by node_feed).
  std::unordered_map<std::string, ObjectPtr> node_objects;
  std::unordered_map<std::string, Unschedulable> unschedulable;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers;
  uint64_t timer_seq = 0;
  std::unordered_map<std::string, std::unique_ptr<PodSim>> pod_map;
  uint64_t next_pod_id = 0;
  size_t next_node = 0;
  uint32_t next_ip = 0;
  std::vector<uint32_t> free_ips;
  std::mt19937_64 rng;
  uint64_t event_seq = 0;
};

// ---------------------------------------------------------------- lifecycle

Status NodeSimulator::Impl::Start() {
  if (options.nodes < 1) return MakeError(ErrorCode::kConfig, "node simulator needs nodes >= 1");
  if (options.deletion_grace_fraction < 0 || options.deletion_grace_fraction > 1) {
    return MakeError(ErrorCode::kConfig, "deletion_grace_fraction must be within [0, 1]");
  }
  if (!pods || !nodes || !events || !leases) {
    return MakeError(ErrorCode::kConfig, "the catalog lacks pods, nodes, events or leases");
  }
  {
    std::lock_guard lock(mu);
    if (started) return MakeError(ErrorCode::kUnavailableLocally, "node simulator started twice");
    started = true;
  }
  registered_at = Now();
  for (const auto& name : node_names) {
    if (auto s = RegisterNode(name); !s) return s;
  }
  pod_feed.resource = pods;
  node_feed.resource = nodes;
  if (options.schedule) {
    if (auto s = Watch(node_feed, ""); !s) return s;
  }
  if (auto s = Watch(pod_feed, ""); !s) return s;
  if (options.lease_interval.count() > 0) ScheduleLeaseRenewal();
  if (options.node_status_interval.count() > 0) ScheduleNodeHeartbeat();
  worker = std::thread([this] { Run(); });
  return Ok();
}

Status NodeSimulator::Impl::Watch(Feed& feed, const std::string& resource_version) {
  if (feed.watcher) {
    feed.watcher->SetNotify(nullptr);
    feed.watcher->Close();
  }
  ListQuery query;
  query.resource_version = resource_version;
  auto w = storage.Watch(*feed.resource, query);
  if (!w && w.error().code() == ErrorCode::kGone) {
    // Missed events: start over from the current state (synthetic ADDED events).
    query.resource_version.clear();
    w = storage.Watch(*feed.resource, query);
  }
  if (!w) return tl::unexpected(w.error());
  feed.watcher = *w;
  feed.watcher->SetNotify([this] {
    std::lock_guard lock(mu);
    wake = true;
    cv.notify_one();
  });
  return Ok();
}

void NodeSimulator::Impl::Stop() {
  {
    std::lock_guard lock(mu);
    if (!started || stop) return;
    stop = true;
    cv.notify_one();
  }
  if (worker.joinable()) worker.join();
  for (Feed* feed : {&node_feed, &pod_feed}) {
    if (feed->watcher) {
      feed->watcher->SetNotify(nullptr);
      feed->watcher->Close();
    }
  }
  std::deque<Task> left;
  {
    std::lock_guard lock(mu);
    left.swap(tasks);
  }
  for (auto& task : left) task(false);
  logs->CloseFollowers();
}

void NodeSimulator::Impl::Run() {
  std::vector<WatchEventRecord> batch;
  std::deque<Task> todo;
  for (;;) {
    {
      std::unique_lock lock(mu);
      auto ready = [this] { return stop || wake || !tasks.empty(); };
      if (timers.empty()) {
        cv.wait(lock, ready);
      } else {
        cv.wait_until(lock, timers.top().at, ready);
      }
      if (stop) return;
      wake = false;
      todo.swap(tasks);
    }
    // Nodes first: a pod is scheduled against the nodes as they are by now.
    if (node_feed.watcher) Drain(node_feed, batch, &Impl::HandleNode);
    Drain(pod_feed, batch, &Impl::Handle);
    for (auto& task : todo) task(true);
    todo.clear();
    const auto now = std::chrono::steady_clock::now();
    while (!timers.empty() && timers.top().at <= now) {
      auto fn = std::move(const_cast<Timer&>(timers.top()).fn);
      timers.pop();
      fn();
    }
  }
}

void NodeSimulator::Impl::Drain(Feed& feed, std::vector<WatchEventRecord>& batch,
                                void (Impl::*handle)(const WatchEventRecord&)) {
  batch.clear();
  const bool open = feed.watcher->Drain(batch);
  for (const auto& event : batch) {
    if (!event.object) continue;
    if (auto rv = obj::ResourceVersion(*event.object); !rv.empty()) feed.last_rv = std::string(rv);
    (this->*handle)(event);
  }
  if (open) return;
  // Storage closed the watch (CloseAllWatchers): resume where we were.
  if (auto s = Watch(feed, feed.last_rv); !s) {
    spdlog::warn("node simulator: cannot watch {}: {}", feed.resource->resource,
                 s.error().ToString());
    AddTimer(std::chrono::seconds(1), [this, &feed] {
      if (auto again = Watch(feed, feed.last_rv); !again) {
        spdlog::warn("node simulator: watch failed");
      }
    });
  }
}

// ---------------------------------------------------------------- nodes

json::object NodeSimulator::Impl::NodeStatus(const std::string& name) const {
  const WallTime now = Now();
  json::object resources;
  resources["cpu"] = options.cpu;
  resources["memory"] = options.memory;
  resources["pods"] = options.max_pods;
  resources["ephemeral-storage"] = options.ephemeral_storage;
  resources["hugepages-1Gi"] = "0";
  resources["hugepages-2Mi"] = "0";
  json::array conditions;
  auto condition = [&](const char* type, const char* status, const char* reason,
                       const char* message) {
    json::object c;
    c["type"] = type;
    c["status"] = status;
    c["lastHeartbeatTime"] = FormatTime(now);
    c["lastTransitionTime"] = FormatTime(registered_at);
    c["reason"] = reason;
    c["message"] = message;
    conditions.push_back(std::move(c));
  };
  condition("MemoryPressure", "False", "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available");
  condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure");
  condition("PIDPressure", "False", "KubeletHasSufficientPID",
            "kubelet has sufficient PID available");
  condition("Ready", "True", "KubeletReady", "kubelet is posting ready status");
  json::object status;
  status["capacity"] = resources;
  status["allocatable"] = resources;
  status["conditions"] = std::move(conditions);
  status["addresses"] =
      json::array{json::object{{"type", "InternalIP"}, {"address", node_ips.at(name)}},
                  json::object{{"type", "Hostname"}, {"address", name}}};
  status["daemonEndpoints"] = {{"kubeletEndpoint", {{"Port", 10250}}}};
  const std::string id = fmt::format("{:032x}", std::hash<std::string>{}(name));
  status["nodeInfo"] = {{"machineID", id},
                        {"systemUUID", id},
                        {"bootID", id},
                        {"kernelVersion", "6.1.0-kubesim"},
                        {"osImage", "kubesim simulated node"},
                        {"containerRuntimeVersion", "containerd://1.7.0"},
                        {"kubeletVersion", options.kubelet_version},
                        {"kubeProxyVersion", options.kubelet_version},
                        {"operatingSystem", "linux"},
                        {"architecture", "amd64"}};
  return status;
}

Status NodeSimulator::Impl::RegisterNode(const std::string& name) {
  Object node;
  node["apiVersion"] = "v1";
  node["kind"] = "Node";
  node["metadata"] = {{"name", name},
                      {"labels",
                       {{"kubernetes.io/hostname", name},
                        {"kubernetes.io/os", "linux"},
                        {"kubernetes.io/arch", "amd64"},
                        {"beta.kubernetes.io/os", "linux"},
                        {"beta.kubernetes.io/arch", "amd64"},
                        {"node.kubernetes.io/instance-type", "kubesim"}}},
                      {"annotations",
                       {{"node.alpha.kubernetes.io/ttl", "0"},
                        {"volumes.kubernetes.io/controller-managed-attach-detach", "true"}}}};
  node["spec"] = {{"providerID", "kubesim://" + name}};
  auto created = storage.Create(*nodes, "", node, false);
  if (!created && created.error().code() != ErrorCode::kAlreadyExists) {
    return tl::unexpected(created.error());
  }
  // Create ignores .status (a status subresource), so the kubelet's first status update follows.
  node["status"] = NodeStatus(name);
  auto updated = storage.Update(*nodes, "", name, node, "status", false);
  if (!updated) return tl::unexpected(updated.error());
  node_uids[name] = std::string(obj::Uid(*updated));

  Object lease;
  lease["apiVersion"] = "coordination.k8s.io/v1";
  lease["kind"] = "Lease";
  lease["metadata"] = {
      {"name", name},
      {"namespace", kLeaseNamespace},
      {"ownerReferences",
       json::array{json::object{
           {"apiVersion", "v1"}, {"kind", "Node"}, {"name", name}, {"uid", node_uids[name]}}}}};
  lease["spec"] = {{"holderIdentity", name},
                   {"leaseDurationSeconds", kLeaseDurationSeconds},
                   {"renewTime", MicroTime(Now())}};
  auto made = storage.Create(*leases, kLeaseNamespace, lease, false);
  if (!made && made.error().code() != ErrorCode::kAlreadyExists) {
    return tl::unexpected(made.error());
  }
  if (!made) RenewLeases();
  return Ok();
}

void NodeSimulator::Impl::RenewLeases() {
  const std::string patch =
      json::serialize(json::object{{"spec", {{"renewTime", MicroTime(Now())}}}});
  for (const auto& name : node_names) {
    auto r = storage.Patch(*leases, kLeaseNamespace, name, PatchKind::kMergePatch, patch, "",
                           "kubelet", false, false);
    if (!r) spdlog::debug("node simulator: lease {}: {}", name, r.error().ToString());
  }
}

void NodeSimulator::Impl::NodeHeartbeat() {
  for (const auto& name : node_names) {
    json::object status = NodeStatus(name);
    const std::string patch =
        json::serialize(json::object{{"status", {{"conditions", status["conditions"]}}}});
    auto r = storage.Patch(*nodes, "", name, PatchKind::kMergePatch, patch, "status", "kubelet",
                           false, false);
    if (!r) spdlog::debug("node simulator: node {}: {}", name, r.error().ToString());
  }
}

void NodeSimulator::Impl::ScheduleLeaseRenewal() {
  AddTimer(options.lease_interval, [this] {
    RenewLeases();
    ScheduleLeaseRenewal();
  });
}

void NodeSimulator::Impl::ScheduleNodeHeartbeat() {
  AddTimer(options.node_status_interval, [this] {
    NodeHeartbeat();
    ScheduleNodeHeartbeat();
  });
}

// ---------------------------------------------------------------- pods: events in

void NodeSimulator::Impl::Handle(const WatchEventRecord& event) {
  if (event.type == "BOOKMARK" || event.type == "ERROR") return;
  const Object& pod = *event.object;
  std::string key = obj::Key(obj::Namespace(pod), obj::Name(pod));
  if (event.type == "DELETED") {
    auto it = pod_map.find(key);
    if (it != pod_map.end() && it->second->uid == obj::Uid(pod)) Forget(key);
    unschedulable.erase(key);
    return;
  }
  std::string_view node = obj::String(pod, {"spec", "nodeName"});
  if (node.empty()) {
    MaybeSchedule(pod, false);
    return;
  }
  unschedulable.erase(key);
  if (!node_ips.contains(std::string(node))) return;
  Track(event.object);
}

void NodeSimulator::Impl::HandleNode(const WatchEventRecord& event) {
  if (event.type == "BOOKMARK" || event.type == "ERROR") return;
  std::string name(obj::Name(*event.object));
  if (!node_ips.contains(name)) return;
  if (event.type == "DELETED") {
    node_objects.erase(name);
    return;
  }
  // Heartbeats change only the status: what scheduling reads is the labels and the spec.
  auto same = [](const json::value* a, const json::value* b) {
    return a == nullptr || b == nullptr ? a == b : *a == *b;
  };
  ObjectPtr& known = node_objects[name];
  const bool changed = !known ||
                       !same(obj::Find(*known, {"metadata", "labels"}),
                             obj::Find(*event.object, {"metadata", "labels"})) ||
                       !same(obj::Find(*known, {"spec"}), obj::Find(*event.object, {"spec"}));
  known = event.object;
  if (changed && !unschedulable.empty()) RetryUnschedulable();
}

void NodeSimulator::Impl::RetryUnschedulable() {
  std::vector<std::pair<std::string, std::string>> waiting;  // key, uid
  for (const auto& [key, entry] : unschedulable) waiting.emplace_back(key, entry.uid);
  for (const auto& [key, uid] : waiting) {
    const auto slash = key.find('/');
    auto pod = storage.GetShared(*pods, key.substr(0, slash), key.substr(slash + 1));
    if (!pod || obj::Uid(**pod) != uid || !obj::String(**pod, {"spec", "nodeName"}).empty()) {
      unschedulable.erase(key);  // gone, replaced or bound by someone else
      continue;
    }
    MaybeSchedule(**pod, true);
  }
}

void NodeSimulator::Impl::MaybeSchedule(const Object& pod, bool retry) {
  if (!options.schedule) return;
  std::string key = obj::Key(obj::Namespace(pod), obj::Name(pod));
  auto scheduler = obj::String(pod, {"spec", "schedulerName"});
  const auto* gates = obj::Find(pod, {"spec", "schedulingGates"});
  auto phase = obj::String(pod, {"status", "phase"});
  if (obj::IsBeingDeleted(pod) || (!scheduler.empty() && scheduler != "default-scheduler") ||
      (gates && gates->is_array() && !gates->as_array().empty()) || phase == "Succeeded" ||
      phase == "Failed") {
    unschedulable.erase(key);
    return;
  }
  const auto* spec_value = obj::Find(pod, {"spec"});
  std::string spec = spec_value ? json::serialize(*spec_value) : "";
  if (!retry) {
    // Our own PodScheduled=False write comes back as an update: nothing new to try then.
    auto it = unschedulable.find(key);
    if (it != unschedulable.end() && it->second.uid == obj::Uid(pod) && it->second.spec == spec) {
      return;
    }
  }
  // Round-robin: the first node that fits, starting after the last one chosen.
  std::vector<std::string> misfits;
  const std::string* node = nullptr;
  for (size_t i = 0; i < node_names.size() && node == nullptr; ++i) {
    const size_t index = (next_node + i) % node_names.size();
    auto known = node_objects.find(node_names[index]);
    if (known == node_objects.end()) continue;  // deleted
    std::string misfit = NodeMisfit(pod, *known->second);
    if (misfit.empty()) {
      node = &node_names[index];
      next_node = index + 1;
    } else {
      misfits.push_back(std::move(misfit));
    }
  }
  if (node == nullptr) {
    FailScheduling(pod, std::move(key), std::move(spec), misfits);
    return;
  }
  unschedulable.erase(key);
  auto bound = storage.BindPod(obj::Namespace(pod), obj::Name(pod), *node);
  if (!bound) {
    spdlog::debug("node simulator: binding {}: {}", key, bound.error().ToString());
    return;
  }
  ++stats.pods_bound;
  if (options.emit_events) {
    PodSim st;
    st.ns = std::string(obj::Namespace(pod));
    st.name = std::string(obj::Name(pod));
    st.uid = std::string(obj::Uid(pod));
    st.node = *node;
    Event(st, nullptr, "Normal", "Scheduled",
          fmt::format("Successfully assigned {}/{} to {}", st.ns, st.name, *node),
          "default-scheduler");
  }
}

void NodeSimulator::Impl::FailScheduling(const Object& pod, std::string key, std::string spec,
                                         const std::vector<std::string>& misfits) {
  ++stats.scheduling_failures;
  unschedulable[std::move(key)] = Unschedulable{std::string(obj::Uid(pod)), std::move(spec)};
  const std::string message = UnschedulableMessage(node_objects.size(), misfits);
  if (options.emit_events) {
    PodSim st;
    st.ns = std::string(obj::Namespace(pod));
    st.name = std::string(obj::Name(pod));
    st.uid = std::string(obj::Uid(pod));
    Event(st, nullptr, "Warning", "FailedScheduling", message, "default-scheduler");
  }
  const auto patch = UnschedulableConditionPatch(pod, message, FormatTime(Now()));
  if (!patch) return;
  auto r = storage.Patch(*pods, obj::Namespace(pod), obj::Name(pod), PatchKind::kStrategicMerge,
                         *patch, "status", "default-scheduler", false, false);
  if (!r) spdlog::debug("node simulator: status of {}: {}", obj::Key(pod), r.error().ToString());
}

void NodeSimulator::Impl::Track(const ObjectPtr& object) {
  const Object& pod = *object;
  std::string key = obj::Key(obj::Namespace(pod), obj::Name(pod));
  auto it = pod_map.find(key);
  if (it != pod_map.end() && it->second->uid != obj::Uid(pod)) {
    Forget(key);
    it = pod_map.end();
  }
  if (it != pod_map.end()) {
    PodSim& st = *it->second;
    st.latest = object;
    if (obj::IsBeingDeleted(pod) && !st.terminating) {
      BeginDeletion(st);
    } else {
      StartEphemeralContainers(st);
    }
    return;
  }
  auto st = std::make_unique<PodSim>();
  st->key = key;
  st->ns = std::string(obj::Namespace(pod));
  st->name = std::string(obj::Name(pod));
  st->uid = std::string(obj::Uid(pod));
  st->node = std::string(obj::String(pod, {"spec", "nodeName"}));
  st->restart_policy = std::string(obj::String(pod, {"spec", "restartPolicy"}));
  if (st->restart_policy.empty()) st->restart_policy = "Always";
  st->id = ++next_pod_id;
  st->latest = object;
  std::vector<std::string> init_names;
  std::vector<std::string> names;
  auto read = [](const Object& pod, const char* field, std::vector<ContainerSim>& out,
                 std::vector<std::string>& out_names) {
    const auto* list = obj::Find(pod, {"spec", field});
    if (!list || !list->is_array()) return;
    for (const auto& v : list->as_array()) {
      if (!v.is_object()) continue;
      ContainerSim c;
      c.spec_list = field;
      c.name = std::string(obj::String(v.as_object(), {"name"}));
      c.image = std::string(obj::String(v.as_object(), {"image"}));
      c.behavior = ParseImageBehavior(c.image);
      out_names.push_back(c.name);
      out.push_back(std::move(c));
    }
  };
  read(pod, "initContainers", st->init, init_names);
  read(pod, "containers", st->containers, names);
  for (auto& c : st->containers)
    c.waiting_reason = st->init.empty() ? "ContainerCreating" : "PodInitializing";
  logs->RegisterPod(st->ns, st->name, st->uid, std::move(init_names), std::move(names));
  PodSim& ref = *st;
  pod_map[key] = std::move(st);
  auto phase = obj::String(pod, {"status", "phase"});
  if (phase == "Succeeded" || phase == "Failed") {
    // Finished before this simulator saw it (a restart): a kubelet leaves such pods alone.
    ref.started = ref.stopped = true;
    return;
  }
  if (obj::IsBeingDeleted(pod)) {
    BeginDeletion(ref);
    return;
  }
  AddPodTimer(ref, options.start_delay, [this](PodSim& p) { StartPod(p); });
}

void NodeSimulator::Impl::Forget(const std::string& key) {
  auto it = pod_map.find(key);
  if (it == pod_map.end()) return;
  ReleaseIp(it->second->ip);
  logs->RemovePod(it->second->ns, it->second->name);
  pod_map.erase(it);
}

// ---------------------------------------------------------------- pods: lifecycle

void NodeSimulator::Impl::StartPod(PodSim& st) {
  if (st.started || st.terminating || st.evicted) return;
  st.started = true;
  st.start_time = Now();
  st.ip = AllocateIp();
  if (st.ip.empty()) {
    st.reason = "";
    st.message = "kubesim: the pod IP pool 10.244.0.0/14 is exhausted";
  }
  st.init_done = true;
  for (auto& c : st.init) {
    if (c.behavior.fail_pull) {
      PullFailed(st, c);
      st.init_done = false;
      break;
    }
    // Init containers run to completion at once: they have no time to take in a simulation.
    StartContainer(st, c, true, false);
    Terminate(st, c, 0, "Completed");
  }
  if (st.init_done) {
    for (auto& c : st.containers) {
      if (c.behavior.fail_pull) {
        PullFailed(st, c);
      } else {
        StartContainer(st, c, false, false);
      }
    }
  }
  if (WriteStatus(st)) ++stats.pods_started;
  StartEphemeralContainers(st);
}

void NodeSimulator::Impl::StartEphemeralContainers(PodSim& st) {
  if (!st.started || st.terminating || st.stopped || st.evicted) return;
  const auto* list = obj::Find(*st.latest, {"spec", "ephemeralContainers"});
  if (list == nullptr || !list->is_array()) return;
  const size_t known = st.ephemeral.size();
  for (const auto& v : list->as_array()) {
    if (!v.is_object()) continue;
    std::string name(obj::String(v.as_object(), {"name"}));
    if (std::any_of(st.ephemeral.begin(), st.ephemeral.end(),
                    [&](const ContainerSim& c) { return c.name == name; })) {
      continue;
    }
    ContainerSim c;
    c.spec_list = "ephemeralContainers";
    c.name = std::move(name);
    c.image = std::string(obj::String(v.as_object(), {"image"}));
    c.behavior = ParseImageBehavior(c.image);
    logs->AddEphemeralContainer(st.ns, st.name, c.name);
    st.ephemeral.push_back(std::move(c));
  }
  if (st.ephemeral.size() == known) return;
  // Indexes, not references: starting one may schedule timers that look the container up again.
  for (size_t i = known; i < st.ephemeral.size(); ++i) {
    ContainerSim& c = st.ephemeral[i];
    if (c.behavior.fail_pull) {
      PullFailed(st, c);
    } else {
      StartContainer(st, c, false, false);
    }
  }
  WriteStatus(st);
}

void NodeSimulator::Impl::StartContainer(PodSim& st, ContainerSim& c, bool init, bool restart) {
  if (restart) ++c.restart_count;
  c.state = State::kRunning;
  c.ever_started = true;
  c.started_at = Now();
  c.container_id = "containerd://" + RandomHex(32);
  c.waiting_reason.clear();
  c.waiting_message.clear();
  ++c.instance;
  logs->StartContainer(st.ns, st.name, c.name);
  logs->Append(st.ns, st.name, c.name,
               restart ? fmt::format("{} {} started (restart {})", st.name, c.name, c.restart_count)
                       : fmt::format("{} {} started", st.name, c.name));
  if (options.emit_events) {
    Event(st, &c, "Normal", "Pulled",
          fmt::format("Container image \"{}\" already present on machine", c.image));
    Event(st, &c, "Normal", "Created", fmt::format("Created container {}", c.name));
    Event(st, &c, "Normal", "Started", fmt::format("Started container {}", c.name));
  }
  if (!init && c.behavior.exit_after) {
    const std::string_view list = c.spec_list;
    const size_t index = static_cast<size_t>(&c - ContainersOf(st, list).data());
    AddPodTimer(st, *c.behavior.exit_after, [this, list, index, instance = c.instance](PodSim& p) {
      Exit(p, list, index, instance);
    });
  }
}

void NodeSimulator::Impl::PullFailed(PodSim& st, ContainerSim& c) {
  c.state = State::kWaiting;
  c.waiting_reason = "ErrImagePull";
  c.waiting_message = fmt::format(
      "failed to pull and unpack image \"{}\": not found (kubesim fail-pull image)", c.image);
  if (options.emit_events) {
    Event(st, &c, "Normal", "Pulling", fmt::format("Pulling image \"{}\"", c.image));
    Event(st, &c, "Warning", "Failed",
          fmt::format("Failed to pull image \"{}\": {}", c.image, c.waiting_message));
    Event(st, &c, "Warning", "Failed", "Error: ErrImagePull");
  }
  const std::string_view spec_list = c.spec_list;
  const size_t index = static_cast<size_t>(&c - ContainersOf(st, spec_list).data());
  AddPodTimer(st, options.pull_backoff, [this, spec_list, index](PodSim& p) {
    auto& list = ContainersOf(p, spec_list);
    if (index >= list.size() || p.terminating || p.evicted) return;
    ContainerSim& c = list[index];
    if (c.state != State::kWaiting || c.waiting_reason != "ErrImagePull") return;
    c.waiting_reason = "ImagePullBackOff";
    c.waiting_message = fmt::format("Back-off pulling image \"{}\"", c.image);
    if (options.emit_events) {
      Event(p, &c, "Normal", "BackOff", c.waiting_message);
      Event(p, &c, "Warning", "Failed", "Error: ImagePullBackOff");
    }
    WriteStatus(p);
  });
}

void NodeSimulator::Impl::Terminate(PodSim& st, ContainerSim& c, int code,
                                    std::string_view reason) {
  c.state = State::kTerminated;
  c.exit_code = code;
  c.terminated_reason = std::string(reason);
  c.finished_at = Now();
  logs->Append(st.ns, st.name, c.name,
               fmt::format("{} {} exited with code {}", st.name, c.name, code));
  logs->EndContainer(st.ns, st.name, c.name);
}

void NodeSimulator::Impl::Exit(PodSim& st, std::string_view spec_list, size_t index,
                               uint64_t instance) {
  std::vector<ContainerSim>& list = ContainersOf(st, spec_list);
  if (index >= list.size() || st.terminating || st.evicted) return;
  ContainerSim& c = list[index];
  if (c.state != State::kRunning || c.instance != instance) return;
  const int code = c.behavior.exit_code;
  Terminate(st, c, code, code == 0 ? "Completed" : "Error");
  // Ephemeral containers are never restarted, whatever the pod's restartPolicy.
  const bool restart = &list == &st.containers && (st.restart_policy == "Always" ||
                                                   (st.restart_policy == "OnFailure" && code != 0));
  if (restart) {
    c.last_state =
        json::object{{"terminated", ContainerStatus(st, c).at("state").at("terminated")}};
    if (options.restart_delay.count() == 0) {
      StartContainer(st, c, false, true);
    } else {
      c.state = State::kWaiting;
      c.waiting_reason = "CrashLoopBackOff";
      c.waiting_message =
          fmt::format("back-off {}ms restarting failed container={} pod={}_{}({})",
                      options.restart_delay.count(), c.name, st.name, st.ns, st.uid);
      if (options.emit_events) {
        Event(st, &c, "Warning", "BackOff",
              fmt::format("Back-off restarting failed container {} in pod {}_{}({})", c.name,
                          st.name, st.ns, st.uid));
      }
      AddPodTimer(st, options.restart_delay,
                  [this, index, instance = c.instance](PodSim& p) { Restart(p, index, instance); });
    }
  }
  WriteStatus(st);
}

void NodeSimulator::Impl::Restart(PodSim& st, size_t index, uint64_t instance) {
  if (index >= st.containers.size() || st.terminating || st.evicted) return;
  ContainerSim& c = st.containers[index];
  if (c.state != State::kWaiting || c.instance != instance) return;
  StartContainer(st, c, false, true);
  WriteStatus(st);
}

void NodeSimulator::Impl::BeginDeletion(PodSim& st) {
  st.terminating = true;
  if (!st.started || st.stopped) {
    // Nothing runs (not started yet, or finished): the kubelet confirms the deletion at once.
    st.stopped = true;
    StopContainers(st);
    return;
  }
  const int64_t grace =
      std::max<int64_t>(0, obj::Int(*st.latest, {"metadata", "deletionGracePeriodSeconds"}, 0));
  bool stubborn = false;
  for (const auto& c : st.containers) {
    if (c.state == State::kRunning && c.behavior.ignore_sigterm) stubborn = true;
  }
  const auto grace_ms = std::chrono::milliseconds(grace * 1000);
  const auto delay =
      stubborn ? grace_ms
               : std::chrono::milliseconds(static_cast<int64_t>(
                     static_cast<double>(grace_ms.count()) * options.deletion_grace_fraction));
  if (options.emit_events) {
    for (const auto* list : {&st.containers, &st.ephemeral}) {
      for (const auto& c : *list) {
        if (c.state == State::kRunning) {
          Event(st, &c, "Normal", "Killing", fmt::format("Stopping container {}", c.name));
        }
      }
    }
  }
  AddPodTimer(st, delay, [this](PodSim& p) { StopContainers(p); });
}

void NodeSimulator::Impl::StopContainers(PodSim& st) {
  if (!st.stopped) {
    st.stopped = true;
    for (auto* list : {&st.containers, &st.ephemeral}) {
      for (auto& c : *list) {
        if (c.state != State::kRunning) continue;
        if (c.behavior.ignore_sigterm) {
          logs->Append(st.ns, st.name, c.name,
                       fmt::format("{} {} ignored SIGTERM, killed", st.name, c.name));
          Terminate(st, c, 137, "Error");
        } else {
          logs->Append(st.ns, st.name, c.name,
                       fmt::format("{} {} received SIGTERM", st.name, c.name));
          Terminate(st, c, 0, "Completed");
        }
      }
    }
    WriteStatus(st);
  }
  DeleteRequest request;
  request.grace_period_seconds = 0;
  request.precondition_uid = st.uid;
  auto r = storage.Delete(*pods, st.ns, st.name, request);
  if (r) {
    ++stats.pods_deleted;
  } else {
    spdlog::debug("node simulator: deleting {}: {}", st.key, r.error().ToString());
  }
}

Status NodeSimulator::Impl::EvictPod(const std::string& key, std::string_view resource) {
  auto it = pod_map.find(key);
  if (it == pod_map.end()) {
    return MakeError(ErrorCode::kNotFound, "pod " + key + " is not running on a simulated node");
  }
  PodSim& st = *it->second;
  if (st.evicted) return Ok();
  st.evicted = true;
  st.reason = "Evicted";
  st.message = fmt::format("The node was low on resource: {}. ", resource);
  for (auto* list : {&st.containers, &st.ephemeral}) {
    for (auto& c : *list) {
      if (c.state == State::kRunning) Terminate(st, c, 137, "Error");
    }
  }
  if (options.emit_events) Event(st, nullptr, "Warning", "Evicted", st.message);
  if (!WriteStatus(st)) {
    return MakeError(ErrorCode::kInternal, "node simulator could not write " + key + "'s status");
  }
  return Ok();
}

// ---------------------------------------------------------------- pods: status out

std::string NodeSimulator::Impl::Phase(const PodSim& st) const {
  if (st.evicted) return "Failed";
  if (st.terminating && st.stopped) {
    for (const auto& c : st.containers) {
      if (c.state != State::kTerminated || c.exit_code != 0) return "Failed";
    }
    return "Succeeded";
  }
  if (!st.init_done) return "Pending";
  bool all_terminated = true;
  bool all_zero = true;
  bool pending = false;
  for (const auto& c : st.containers) {
    if (c.state != State::kTerminated) {
      all_terminated = false;
      if (c.state == State::kWaiting && !c.ever_started) pending = true;
    } else if (c.exit_code != 0) {
      all_zero = false;
    }
  }
  if (all_terminated && !st.containers.empty()) return all_zero ? "Succeeded" : "Failed";
  return pending ? "Pending" : "Running";
}

json::object NodeSimulator::Impl::ContainerStatus(const PodSim& st, const ContainerSim& c) const {
  (void)st;
  json::object s;
  s["name"] = c.name;
  s["image"] = c.image;
  s["imageID"] = c.ever_started ? ImageId(c.image) : "";
  if (!c.container_id.empty()) s["containerID"] = c.container_id;
  const bool running = c.state == State::kRunning;
  // Ephemeral containers have no probes and never count towards readiness: the kubelet reports
  // them not ready.
  s["ready"] = running && c.spec_list != "ephemeralContainers";
  s["started"] = running;
  s["restartCount"] = c.restart_count;
  json::object state;
  switch (c.state) {
    case State::kRunning:
      state["running"] = {{"startedAt", FormatTime(c.started_at)}};
      break;
    case State::kTerminated:
      state["terminated"] = {{"exitCode", c.exit_code},
                             {"reason", c.terminated_reason},
                             {"startedAt", FormatTime(c.started_at)},
                             {"finishedAt", FormatTime(c.finished_at)},
                             {"containerID", c.container_id}};
      break;
    case State::kWaiting: {
      json::object waiting{{"reason", c.waiting_reason}};
      if (!c.waiting_message.empty()) waiting["message"] = c.waiting_message;
      state["waiting"] = std::move(waiting);
      break;
    }
  }
  s["state"] = std::move(state);
  s["lastState"] = c.last_state;
  return s;
}

void NodeSimulator::Impl::SetCondition(PodSim& st, std::string_view type, bool status) {
  for (auto& c : st.conditions) {
    if (c.type == type) {
      if (c.status != status) c.since = Now();
      c.status = status;
      return;
    }
  }
  st.conditions.push_back(ConditionSim{std::string(type), status, Now()});
}

json::object NodeSimulator::Impl::BuildStatus(PodSim& st) {
  json::object status;
  if (const auto* old = obj::ObjectAt(*st.latest, {"status"})) status = *old;
  const std::string phase = Phase(st);
  status["phase"] = phase;
  if (st.reason.empty()) {
    status.erase("reason");
  } else {
    status["reason"] = st.reason;
  }
  if (st.message.empty()) {
    status.erase("message");
  } else {
    status["message"] = st.message;
  }
  const std::string& host_ip = node_ips.at(st.node);
  status["hostIP"] = host_ip;
  status["hostIPs"] = json::array{json::object{{"ip", host_ip}}};
  if (!st.ip.empty()) {
    status["podIP"] = st.ip;
    status["podIPs"] = json::array{json::object{{"ip", st.ip}}};
  }
  status["startTime"] = FormatTime(st.start_time);

  std::vector<std::string> unready;
  for (const auto& c : st.containers) {
    if (c.state != State::kRunning) unready.push_back(c.name);
  }
  const bool ready = unready.empty() && phase == "Running";
  SetCondition(st, "PodReadyToStartContainers", !st.ip.empty() && !st.stopped && !st.evicted);
  SetCondition(st, "Initialized", st.init_done);
  SetCondition(st, "Ready", ready);
  SetCondition(st, "ContainersReady", ready);
  SetCondition(st, "PodScheduled", true);
  if (st.evicted) SetCondition(st, "DisruptionTarget", true);
  std::string unready_message;
  for (const auto& n : unready) unready_message += (unready_message.empty() ? "" : " ") + n;
  unready_message = "containers with unready status: [" + unready_message + "]";
  json::array conditions;
  for (const auto& c : st.conditions) {
    std::string_view reason;
    std::string_view message;
    if (!c.status && (c.type == "Ready" || c.type == "ContainersReady")) {
      reason = st.stopped || phase == "Succeeded" || phase == "Failed" ? "PodCompleted"
                                                                       : "ContainersNotReady";
      if (reason == "ContainersNotReady") message = unready_message;
    } else if (!c.status && c.type == "Initialized") {
      reason = "ContainersNotInitialized";
    } else if (c.type == "DisruptionTarget") {
      reason = "TerminationByKubelet";
      message = st.message;
    }
    conditions.push_back(Condition(c.type, c.status, c.since, reason, message));
  }
  status["conditions"] = std::move(conditions);

  json::array statuses;
  for (const auto& c : st.containers) statuses.push_back(ContainerStatus(st, c));
  status["containerStatuses"] = std::move(statuses);
  if (!st.init.empty()) {
    json::array init;
    for (const auto& c : st.init) init.push_back(ContainerStatus(st, c));
    status["initContainerStatuses"] = std::move(init);
  }
  if (!st.ephemeral.empty()) {
    json::array ephemeral;
    for (const auto& c : st.ephemeral) ephemeral.push_back(ContainerStatus(st, c));
    status["ephemeralContainerStatuses"] = std::move(ephemeral);
  }
  return status;
}

bool NodeSimulator::Impl::WriteStatus(PodSim& st) {
  Object body = *st.latest;
  body["status"] = BuildStatus(st);
  // Unconditional: the status subresource takes only .status, which this simulator owns.
  if (auto* meta = body.if_contains("metadata"); meta && meta->is_object()) {
    meta->as_object().erase("resourceVersion");
  }
  ++stats.status_writes;
  auto r = storage.Update(*pods, st.ns, st.name, std::move(body), "status", false);
  if (!r) {
    ++stats.write_errors;
    spdlog::debug("node simulator: status of {}: {}", st.key, r.error().ToString());
    return false;
  }
  st.latest = std::make_shared<const Object>(std::move(*r));
  return true;
}

void NodeSimulator::Impl::Event(const PodSim& st, const ContainerSim* c, std::string_view type,
                                std::string_view reason, std::string message,
                                std::string_view component) {
  const WallTime now = Now();
  const std::string ts = FormatTime(now);
  json::object involved{{"kind", "Pod"},
                        {"namespace", st.ns},
                        {"name", st.name},
                        {"uid", st.uid},
                        {"apiVersion", "v1"}};
  if (c != nullptr) {
    involved["fieldPath"] = fmt::format("spec.{}{{{}}}", c->spec_list, c->name);
  }
  const auto nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  Object event;
  event["apiVersion"] = "v1";
  event["kind"] = "Event";
  event["metadata"] = {
      {"name", fmt::format("{}.{:x}", st.name, static_cast<uint64_t>(nanos) + ++event_seq)},
      {"namespace", st.ns}};
  event["involvedObject"] = std::move(involved);
  event["reason"] = reason;
  event["message"] = std::move(message);
  if (component == "kubelet") {
    event["source"] = {{"component", component}, {"host", st.node}};
    event["reportingInstance"] = st.node;
  } else {
    event["source"] = {{"component", component}};
    event["reportingInstance"] = "";
  }
  event["reportingComponent"] = component;
  event["firstTimestamp"] = ts;
  event["lastTimestamp"] = ts;
  event["count"] = 1;
  event["type"] = type;
  event["eventTime"] = nullptr;
  auto r = storage.Create(*events, st.ns, std::move(event), false);
  if (!r) spdlog::debug("node simulator: event for {}: {}", st.name, r.error().ToString());
}

// ---------------------------------------------------------------- helpers

std::string NodeSimulator::Impl::AllocateIp() {
  // 10.244.0.0/14 in /24s of 254 hosts: room for 260,096 pods at once.
  constexpr uint32_t kPool = 254u * 256u * 4u;
  uint32_t k;
  if (!free_ips.empty()) {
    k = free_ips.back();
    free_ips.pop_back();
  } else if (next_ip < kPool) {
    k = next_ip++;
  } else {
    return "";
  }
  return fmt::format("10.{}.{}.{}", 244 + k / (254 * 256), (k / 254) % 256, k % 254 + 1);
}

void NodeSimulator::Impl::ReleaseIp(const std::string& ip) {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (ip.empty() || std::sscanf(ip.c_str(), "%u.%u.%u.%u", &a, &b, &c, &d) != 4) return;
  free_ips.push_back((b - 244) * 254 * 256 + c * 254 + (d - 1));
}

std::string NodeSimulator::Impl::RandomHex(size_t bytes) {
  std::string out;
  while (out.size() < bytes * 2) out += fmt::format("{:016x}", rng());
  out.resize(bytes * 2);
  return out;
}

// ---------------------------------------------------------------- NodeSimulator

NodeSimulator::NodeSimulator(Storage& storage, const ResourceCatalog& catalog, Options options)
    : impl_(std::make_unique<Impl>(storage, catalog, std::move(options))) {}

NodeSimulator::~NodeSimulator() { Stop(); }

Status NodeSimulator::Start() { return impl_->Start(); }
void NodeSimulator::Stop() { impl_->Stop(); }

Status NodeSimulator::Evict(std::string_view ns, std::string_view name, std::string_view resource) {
  auto done = std::make_shared<std::promise<Status>>();
  auto result = done->get_future();
  impl_->Post([impl = impl_.get(), done, key = obj::Key(ns, name),
               resource = std::string(resource)](bool run) {
    if (!run) {
      done->set_value(MakeError(ErrorCode::kUnavailableLocally, "node simulator is stopped"));
      return;
    }
    done->set_value(impl->EvictPod(key, resource));
  });
  return result.get();
}

const std::vector<std::string>& NodeSimulator::node_names() const { return impl_->node_names; }
SimLogs& NodeSimulator::logs() { return *impl_->logs; }

NodeSimulator::Stats NodeSimulator::stats() const {
  Stats s;
  s.pods_bound = impl_->stats.pods_bound;
  s.scheduling_failures = impl_->stats.scheduling_failures;
  s.pods_started = impl_->stats.pods_started;
  s.pods_deleted = impl_->stats.pods_deleted;
  s.status_writes = impl_->stats.status_writes;
  s.write_errors = impl_->stats.write_errors;
  return s;
}

}  // namespace vk::kubesim
