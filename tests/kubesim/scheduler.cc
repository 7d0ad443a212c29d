#include "tests/kubesim/scheduler.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/json.hpp>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "tests/kubesim/pod_fit.h"
#include "tests/kubesim/storage_feed.h"
#include "tests/kubesim/timestamps.h"

namespace vk::kubesim {
namespace {

namespace json = boost::json;
using SteadyTime = std::chrono::steady_clock::time_point;

// The taint kube's node lifecycle controller puts on a node whose Ready condition is not True
// ("" when it is Ready).
std::string_view ReadinessTaint(const Object& node) {
  const auto* conditions = obj::Find(node, {"status", "conditions"});
  if (conditions != nullptr && conditions->is_array()) {
    for (const auto& c : conditions->get_array()) {
      if (!c.is_object() || obj::String(c.get_object(), {"type"}) != "Ready") continue;
      const auto status = obj::String(c.get_object(), {"status"});
      if (status == "True") return "";
      if (status == "Unknown") return "node.kubernetes.io/unreachable";
      break;
    }
  }
  return "node.kubernetes.io/not-ready";
}

// What scheduling reads of a node: its labels, its spec and its readiness. Heartbeats change
// none of these, so they do not make unschedulable pods worth another try.
std::string Fingerprint(const Object& node) {
  std::string out;
  if (const auto* labels = obj::Find(node, {"metadata", "labels"})) out += json::serialize(*labels);
  out += '|';
  if (const auto* spec = obj::Find(node, {"spec"})) out += json::serialize(*spec);
  out += '|';
  out += ReadinessTaint(node);
  out += obj::IsBeingDeleted(node) ? "|deleting" : "";
  return out;
}

}  // namespace

struct Scheduler::Impl {
  // A pod that fit no node, with the spec that was tried: only a different spec or a node change
  // makes another attempt worthwhile.
  struct Unschedulable {
    std::string uid;
    std::string spec;
  };

  struct AtomicStats {
    std::atomic<uint64_t> pods_bound{0};
    std::atomic<uint64_t> scheduling_failures{0};
    std::atomic<uint64_t> bind_errors{0};
  };

  Impl(Storage& s, const ResourceCatalog& c, Options o)
      : storage(s), catalog(c), options(std::move(o)) {
    if (!options.wall_clock) options.wall_clock = [] { return std::chrono::system_clock::now(); };
    pods = catalog.Find("", "v1", "pods");
    nodes = catalog.Find("", "v1", "nodes");
    events = catalog.Find("", "v1", "events");
  }

  void Wake() {
    std::lock_guard lock(mu);
    wake = true;
    cv.notify_one();
  }

  Status Start();
  void Stop();
  void Run();
  void OnNode(const WatchEventRecord& event);
  void OnPod(const WatchEventRecord& event);
  // retry: try even if the pod's spec is the one that found no node last time.
  void MaybeSchedule(const Object& pod, bool retry);
  void FailScheduling(const Object& pod, std::string key, std::string spec, size_t node_count,
                      const std::vector<std::string>& misfits);
  void RetryUnschedulable();
  void Event(const Object& pod, std::string_view type, std::string_view reason,
             std::string message);

  Storage& storage;
  const ResourceCatalog& catalog;
  Options options;
  const ResourceInfo* pods = nullptr;
  const ResourceInfo* nodes = nullptr;
  const ResourceInfo* events = nullptr;
  AtomicStats stats;

  std::mutex mu;  // guards started, stop, wake
  std::condition_variable cv;
  bool started = false;
  bool stop = false;
  bool wake = false;
  std::thread worker;

  // Owned by the worker thread (and by Start before it runs).
  std::unique_ptr<StorageFeed> node_feed;
  std::unique_ptr<StorageFeed> pod_feed;
  std::optional<SteadyTime> reopen_at;            // a feed could not be reopened
  std::map<std::string, ObjectPtr> node_objects;  // by name: the round-robin order
  std::unordered_map<std::string, std::string> fingerprints;
  std::unordered_map<std::string, Unschedulable> unschedulable;
  bool nodes_changed = false;
  std::string last_node;  // the node chosen last; the next search starts after it
  uint64_t event_seq = 0;
};

Status Scheduler::Impl::Start() {
  if (!pods || !nodes || !events) {
    return MakeError(ErrorCode::kConfig, "scheduler: the catalog lacks pods, nodes or events");
  }
  {
    std::lock_guard lock(mu);
    if (started) return MakeError(ErrorCode::kUnavailableLocally, "scheduler started twice");
    started = true;
  }
  node_feed = std::make_unique<StorageFeed>(storage, *nodes, [this] { Wake(); });
  pod_feed = std::make_unique<StorageFeed>(storage, *pods, [this] { Wake(); });
  if (auto s = node_feed->Open(); !s) return s;
  if (auto s = pod_feed->Open(); !s) return s;
  worker = std::thread([this] { Run(); });
  return Ok();
}

void Scheduler::Impl::Stop() {
  {
    std::lock_guard lock(mu);
    if (!started || stop) return;
    stop = true;
    cv.notify_one();
  }
  if (worker.joinable()) worker.join();
  if (node_feed) node_feed->Close();
  if (pod_feed) pod_feed->Close();
}

void Scheduler::Impl::Run() {
  for (;;) {
    {
      std::unique_lock lock(mu);
      auto ready = [this] { return stop || wake; };
      if (reopen_at) {
        cv.wait_until(lock, *reopen_at, ready);
      } else {
        cv.wait(lock, ready);
      }
      if (stop) return;
      wake = false;
    }
    const auto now = std::chrono::steady_clock::now();
    if (reopen_at && *reopen_at <= now) {
      reopen_at.reset();
      for (StorageFeed* feed : {node_feed.get(), pod_feed.get()}) {
        if (!feed->watching() && !feed->Open()) reopen_at = now + std::chrono::seconds(1);
      }
    }
    // Nodes first: pods are placed against the nodes as they are by now.
    if (!node_feed->Drain([this](const WatchEventRecord& e) { OnNode(e); })) {
      reopen_at = now + std::chrono::seconds(1);
    }
    if (!pod_feed->Drain([this](const WatchEventRecord& e) { OnPod(e); })) {
      reopen_at = now + std::chrono::seconds(1);
    }
    if (nodes_changed) {
      nodes_changed = false;
      if (!unschedulable.empty()) RetryUnschedulable();
    }
  }
}

void Scheduler::Impl::OnNode(const WatchEventRecord& event) {
  std::string name(obj::Name(*event.object));
  if (event.type == "DELETED") {
    node_objects.erase(name);
    fingerprints.erase(name);
    return;
  }
  node_objects[name] = event.object;
  std::string fingerprint = Fingerprint(*event.object);
  auto& known = fingerprints[name];
  if (known != fingerprint) {
    known = std::move(fingerprint);
    nodes_changed = true;
  }
}

void Scheduler::Impl::OnPod(const WatchEventRecord& event) {
  const Object& pod = *event.object;
  std::string key = obj::Key(obj::Namespace(pod), obj::Name(pod));
  if (event.type == "DELETED") {
    unschedulable.erase(key);
    return;
  }
  if (!obj::String(pod, {"spec", "nodeName"}).empty()) {
    unschedulable.erase(key);
    return;
  }
  MaybeSchedule(pod, false);
}

void Scheduler::Impl::RetryUnschedulable() {
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

void Scheduler::Impl::MaybeSchedule(const Object& pod, bool retry) {
  std::string key = obj::Key(obj::Namespace(pod), obj::Name(pod));
  const auto scheduler = obj::String(pod, {"spec", "schedulerName"});
  const auto* gates = obj::Find(pod, {"spec", "schedulingGates"});
  const auto phase = obj::String(pod, {"status", "phase"});
  if (obj::IsBeingDeleted(pod) || (!scheduler.empty() && scheduler != options.scheduler_name) ||
      (gates != nullptr && gates->is_array() && !gates->get_array().empty()) ||
      phase == "Succeeded" || phase == "Failed") {
    unschedulable.erase(key);
    return;
  }
  const auto* spec_value = obj::Find(pod, {"spec"});
  std::string spec = spec_value != nullptr ? json::serialize(*spec_value) : "";
  if (!retry) {
    // Our own PodScheduled=False write comes back as an update: nothing new to try then.
    auto it = unschedulable.find(key);
    if (it != unschedulable.end() && it->second.uid == obj::Uid(pod) && it->second.spec == spec) {
      return;
    }
  }
  // Round-robin: the first node that fits, in name order, starting after the last one chosen.
  std::vector<const std::pair<const std::string, ObjectPtr>*> order;
  for (auto it = node_objects.upper_bound(last_node); it != node_objects.end(); ++it) {
    order.push_back(&*it);
  }
  for (auto it = node_objects.begin(); it != node_objects.upper_bound(last_node); ++it) {
    order.push_back(&*it);
  }
  std::vector<std::string> misfits;
  const std::string* chosen = nullptr;
  size_t considered = 0;
  for (const auto* entry : order) {
    const Object& node = *entry->second;
    if (obj::IsBeingDeleted(node)) continue;
    ++considered;
    std::string misfit;
    if (const std::string_view taint = ReadinessTaint(node); !taint.empty()) {
      Object tainted = node;
      auto& node_spec = obj::EnsureObject(tainted, {"spec"});
      auto* taints = node_spec.if_contains("taints");
      if (taints == nullptr || !taints->is_array()) {
        node_spec["taints"] = json::array();
        taints = node_spec.if_contains("taints");
      }
      taints->get_array().push_back(json::object{{"key", taint}, {"effect", "NoSchedule"}});
      misfit = NodeMisfit(pod, tainted);
    } else {
      misfit = NodeMisfit(pod, node);
    }
    if (misfit.empty()) {
      chosen = &entry->first;
      break;
    }
    misfits.push_back(std::move(misfit));
  }
  if (chosen == nullptr) {
    FailScheduling(pod, std::move(key), std::move(spec), considered, misfits);
    return;
  }
  unschedulable.erase(key);
  auto bound = storage.BindPod(obj::Namespace(pod), obj::Name(pod), *chosen);
  if (!bound) {
    // Bound, gated or deleted in between: its own event says what to do next.
    ++stats.bind_errors;
    spdlog::debug("kubesim scheduler: binding {}: {}", key, bound.error().ToString());
    return;
  }
  last_node = *chosen;
  ++stats.pods_bound;
  Event(pod, "Normal", "Scheduled", fmt::format("Successfully assigned {} to {}", key, *chosen));
}

void Scheduler::Impl::FailScheduling(const Object& pod, std::string key, std::string spec,
                                     size_t node_count, const std::vector<std::string>& misfits) {
  ++stats.scheduling_failures;
  unschedulable[std::move(key)] = Unschedulable{std::string(obj::Uid(pod)), std::move(spec)};
  const std::string message = UnschedulableMessage(node_count, misfits);
  Event(pod, "Warning", "FailedScheduling", message);
  const auto patch = UnschedulableConditionPatch(pod, message, FormatTime(options.wall_clock()));
  if (!patch) return;
  auto r = storage.Patch(*pods, obj::Namespace(pod), obj::Name(pod), PatchKind::kStrategicMerge,
                         *patch, "status", options.scheduler_name, false, false);
  if (!r) spdlog::debug("kubesim scheduler: status of {}: {}", obj::Key(pod), r.error().ToString());
}

void Scheduler::Impl::Event(const Object& pod, std::string_view type, std::string_view reason,
                            std::string message) {
  if (!options.emit_events) return;
  const auto now = options.wall_clock();
  const std::string ts = FormatTime(now);
  const auto nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  Object event;
  event["apiVersion"] = "v1";
  event["kind"] = "Event";
  event["metadata"] = {
      {"name", fmt::format("{}.{:x}", obj::Name(pod), static_cast<uint64_t>(nanos) + ++event_seq)},
      {"namespace", obj::Namespace(pod)}};
  event["involvedObject"] = {
      {"kind", "Pod"},          {"namespace", obj::Namespace(pod)},
      {"name", obj::Name(pod)}, {"uid", obj::Uid(pod)},
      {"apiVersion", "v1"},     {"resourceVersion", obj::ResourceVersion(pod)}};
  event["reason"] = reason;
  event["message"] = std::move(message);
  event["source"] = {{"component", options.scheduler_name}};
  event["reportingComponent"] = options.scheduler_name;
  event["reportingInstance"] = "";
  event["firstTimestamp"] = ts;
  event["lastTimestamp"] = ts;
  event["count"] = 1;
  event["type"] = type;
  event["eventTime"] = nullptr;
  auto r = storage.Create(*events, obj::Namespace(pod), std::move(event), false);
  if (!r) spdlog::debug("kubesim scheduler: event for {}: {}", obj::Key(pod), r.error().ToString());
}

Scheduler::Scheduler(Storage& storage, const ResourceCatalog& catalog, Options options)
    : impl_(std::make_unique<Impl>(storage, catalog, std::move(options))) {}

Scheduler::~Scheduler() { impl_->Stop(); }

Status Scheduler::Start() { return impl_->Start(); }
void Scheduler::Stop() { impl_->Stop(); }

Scheduler::Stats Scheduler::stats() const {
  return Stats{impl_->stats.pods_bound.load(), impl_->stats.scheduling_failures.load(),
               impl_->stats.bind_errors.load()};
}

}  // namespace vk::kubesim
