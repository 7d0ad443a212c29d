#include "tests/kubesim/workload_controllers.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/json.hpp>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "tests/kubesim/label_selector.h"
#include "tests/kubesim/storage_feed.h"
#include "tests/kubesim/timestamps.h"

namespace vk::kubesim {
namespace {

namespace json = boost::json;
using WallTime = std::chrono::system_clock::time_point;
using SteadyTime = std::chrono::steady_clock::time_point;
using std::chrono::milliseconds;

constexpr char kHashLabel[] = "pod-template-hash";
constexpr char kRevision[] = "deployment.kubernetes.io/revision";
constexpr char kDesiredReplicas[] = "deployment.kubernetes.io/desired-replicas";
constexpr char kMaxReplicas[] = "deployment.kubernetes.io/max-replicas";
constexpr char kLastApplied[] = "kubectl.kubernetes.io/last-applied-configuration";
constexpr char kDeploymentController[] = "deployment-controller";
constexpr char kReplicaSetController[] = "replicaset-controller";

constexpr milliseconds kMinBackoff{100};
constexpr milliseconds kMaxBackoff{10000};

void CanonicalJson(const json::value& v, std::string& out) {
  if (const auto* o = v.if_object()) {
    std::vector<std::pair<std::string_view, const json::value*>> members;
    for (const auto& [key, value] : *o) members.emplace_back(key, &value);
    std::sort(members.begin(), members.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    out += '{';
    for (size_t i = 0; i < members.size(); ++i) {
      if (i > 0) out += ',';
      out += json::serialize(json::string(members[i].first));
      out += ':';
      CanonicalJson(*members[i].second, out);
    }
    out += '}';
  } else if (const auto* a = v.if_array()) {
    out += '[';
    for (size_t i = 0; i < a->size(); ++i) {
      if (i > 0) out += ',';
      CanonicalJson((*a)[i], out);
    }
    out += ']';
  } else {
    out += json::serialize(v);
  }
}

std::pair<std::string, std::string> SplitKey(const std::string& key) {
  const auto slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

// The ownerReference with controller: true, or nullptr.
const json::object* ControllerRef(const Object& o) {
  const auto* refs = obj::Find(o, {"metadata", "ownerReferences"});
  if (refs == nullptr || !refs->is_array()) return nullptr;
  for (const auto& ref : refs->get_array()) {
    const auto* r = ref.if_object();
    if (r == nullptr) continue;
    const auto* controller = r->if_contains("controller");
    if (controller != nullptr && controller->is_bool() && controller->get_bool()) return r;
  }
  return nullptr;
}

bool ControlledBy(const Object& o, std::string_view uid) {
  const json::object* ref = ControllerRef(o);
  return ref != nullptr && obj::String(*ref, {"uid"}) == uid;
}

bool HasOwner(const Object& o, std::string_view uid) {
  const auto* refs = obj::Find(o, {"metadata", "ownerReferences"});
  if (refs == nullptr || !refs->is_array()) return false;
  return std::any_of(refs->get_array().begin(), refs->get_array().end(), [&](const json::value& r) {
    return r.is_object() && obj::String(r.get_object(), {"uid"}) == uid;
  });
}

json::object OwnerRef(const Object& owner, std::string_view api_version, std::string_view kind) {
  return json::object{{"apiVersion", api_version}, {"kind", kind},
                      {"name", obj::Name(owner)},  {"uid", obj::Uid(owner)},
                      {"controller", true},        {"blockOwnerDeletion", true}};
}

bool IsTerminal(const Object& pod) {
  const auto phase = obj::String(pod, {"status", "phase"});
  return phase == "Succeeded" || phase == "Failed";
}

const json::object* FindCondition(const Object& o, std::string_view type) {
  const auto* conditions = obj::Find(o, {"status", "conditions"});
  if (conditions == nullptr || !conditions->is_array()) return nullptr;
  for (const auto& c : conditions->get_array()) {
    if (c.is_object() && obj::String(c.get_object(), {"type"}) == type) return &c.get_object();
  }
  return nullptr;
}

// Since when the pod has been ready; nullopt when it is not.
std::optional<WallTime> ReadySince(const Object& pod) {
  const json::object* ready = FindCondition(pod, "Ready");
  if (ready == nullptr || obj::String(*ready, {"status"}) != "True") return std::nullopt;
  return ParseTime(obj::String(*ready, {"lastTransitionTime"})).value_or(WallTime{});
}

// An intstr (a number, or a percentage of total), as kube's GetScaledValueFromIntOrPercent.
int64_t ScaledValue(const json::value* v, int64_t total, bool round_up) {
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  if (!v->is_string()) return 0;
  std::string_view text = v->get_string();
  if (text.empty() || text.back() != '%') return std::atoll(std::string(text).c_str());
  const int64_t percent = std::atoll(std::string(text.substr(0, text.size() - 1)).c_str());
  const int64_t scaled = total * percent;
  return round_up ? (scaled + 99) / 100 : scaled / 100;
}

int64_t AvailableOf(const Object& rs) { return obj::Int(rs, {"status", "availableReplicas"}); }

int64_t Revision(const Object& rs) {
  return std::atoll(std::string(obj::Annotation(rs, kRevision)).c_str());
}

std::string CreationKey(const Object& o) {
  return std::string(obj::String(o, {"metadata", "creationTimestamp"}));
}

// kube's SetDeploymentCondition: nothing changes when a condition of the type has the same
// status and reason; lastTransitionTime is kept when only the reason changes.
void SetCondition(json::array& conditions, json::object condition) {
  auto same_type = [&](const json::value& c) {
    return c.is_object() &&
           obj::String(c.get_object(), {"type"}) == obj::String(condition, {"type"});
  };
  auto it = std::find_if(conditions.begin(), conditions.end(), same_type);
  if (it != conditions.end()) {
    const json::object& current = it->get_object();
    if (obj::String(current, {"status"}) == obj::String(condition, {"status"})) {
      if (obj::String(current, {"reason"}) == obj::String(condition, {"reason"})) return;
      if (const auto* since = current.if_contains("lastTransitionTime")) {
        condition["lastTransitionTime"] = *since;
      }
    }
    conditions.erase(it);
  }
  conditions.push_back(std::move(condition));
}

// The fields of a status that kube leaves out when zero (omitempty).
void SetNonZero(json::object& status, std::string_view key, int64_t value) {
  if (value != 0) status[key] = value;
}

}  // namespace

std::string PodTemplateHash(const Object& pod_template) {
  std::string text;
  CanonicalJson(json::value(pod_template), text);
  uint32_t hash = 2166136261u;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 16777619u;
  }
  // rand.SafeEncodeString: each decimal digit to a letter or digit that cannot spell words.
  static constexpr std::string_view kAlphanums = "bcdfghjklmnpqrstvwxz2456789";
  std::string out;
  for (char c : std::to_string(hash)) {
    out += kAlphanums[static_cast<unsigned char>(c) % kAlphanums.size()];
  }
  return out;
}

struct WorkloadControllers::Impl {
  enum class Kind { kDeployment, kReplicaSet };
  using Key = std::pair<Kind, std::string>;

  struct Timer {
    SteadyTime at;
    uint64_t seq;
    Key key;
    bool operator>(const Timer& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };

  // What a reconcile asks for: a retry with backoff after a failed write, or another look later
  // (a pod that becomes available after minReadySeconds).
  struct Outcome {
    bool failed = false;
    std::optional<milliseconds> after;
  };
  static Outcome Failed() {
    Outcome o;
    o.failed = true;
    return o;
  }

  struct AtomicStats {
    std::atomic<uint64_t> reconciles{0};
    std::atomic<uint64_t> pods_created{0};
    std::atomic<uint64_t> pods_deleted{0};
    std::atomic<uint64_t> replica_sets_created{0};
    std::atomic<uint64_t> replica_sets_scaled{0};
    std::atomic<uint64_t> garbage_collected{0};
    std::atomic<uint64_t> write_errors{0};
  };

  Impl(Storage& s, const ResourceCatalog& c, Options o)
      : storage(s), catalog(c), options(std::move(o)) {
    if (!options.wall_clock) options.wall_clock = [] { return std::chrono::system_clock::now(); };
    deployments = catalog.Find("apps", "v1", "deployments");
    replica_sets = catalog.Find("apps", "v1", "replicasets");
    pods = catalog.Find("", "v1", "pods");
    events = catalog.Find("", "v1", "events");
  }

  WallTime Now() const { return options.wall_clock(); }

  void Wake() {
    std::lock_guard lock(mu);
    wake = true;
    cv.notify_one();
  }

  Status Start();
  void Stop();
  void Run();
  void DrainFeeds();
  void RunDueTimers();
  void ReconcileDirty();
  // Marks key dirty after delay, unless it is already due by then.
  void After(const Key& key, milliseconds delay) {
    const SteadyTime at = std::chrono::steady_clock::now() + delay;
    auto [it, added] = timer_due.try_emplace(key, at);
    if (!added) {
      if (it->second <= at) return;
      it->second = at;
    }
    timers.push(Timer{at, ++timer_seq, key});
  }

  // ---- events in ----
  void OnDeployment(const WatchEventRecord& event);
  void OnReplicaSet(const WatchEventRecord& event);
  void OnPod(const WatchEventRecord& event);

  // ---- garbage collection ----
  bool OwnersGone(const Object& dependent) const;
  void Collect(const ResourceInfo& r, const Object& dependent);
  // Dependents in ns of a deleted owner, by the owner's uid.
  std::vector<ObjectPtr> DependentsOf(const ResourceInfo& r, std::string_view ns,
                                      std::string_view uid) const;

  // ---- replica sets ----
  Outcome SyncReplicaSet(const std::string& key);
  // The status of rs with its active pods (created: of them, those this sync created; failure:
  // why a creation failed). Asks for another look when a ready pod becomes available later.
  json::object ReplicaSetStatus(const Object& rs, const std::vector<ObjectPtr>& active,
                                int64_t created, const std::string& failure,
                                Outcome& outcome) const;
  bool CreatePod(const Object& rs, std::string& failure);
  bool DeletePod(const Object& rs, const Object& pod);

  // ---- deployments ----

  // One sync of a deployment: its replica sets and what each is to be scaled to.
  struct Rollout {
    ObjectPtr deployment;
    std::string hash;             // of the current pod template
    ObjectPtr new_rs;             // the replica set of the current template; null until created
    bool created_new = false;     // by this sync
    std::vector<ObjectPtr> olds;  // the other replica sets it controls, oldest first
    int64_t max_old_revision = 0;
    int64_t replicas = 1;
    bool rolling = true;  // RollingUpdate, or Recreate
    int64_t max_surge = 0;
    int64_t max_unavailable = 0;
    std::map<const Object*, int64_t> target;  // spec.replicas each is scaled to by this sync

    int64_t SpecOf(const ObjectPtr& rs) const {
      auto it = target.find(rs.get());
      return it != target.end() ? it->second : obj::Int(*rs, {"spec", "replicas"}, 1);
    }
    std::vector<ObjectPtr> All() const {
      std::vector<ObjectPtr> all = olds;
      if (new_rs) all.push_back(new_rs);
      return all;
    }
    int64_t TotalSpec() const {
      int64_t total = 0;
      for (const auto& rs : All()) total += SpecOf(rs);
      return total;
    }
    // The pods that may exist: a replica set scaled down keeps its pods until its controller has
    // deleted them, which its status.replicas tells. Bounding this sum (kube bounds the specs
    // only) keeps the pods within maxSurge at every moment.
    int64_t TotalPods() const {
      int64_t total = 0;
      for (const auto& rs : All()) {
        total += std::max(SpecOf(rs), obj::Int(*rs, {"status", "replicas"}));
      }
      return total;
    }
  };

  Outcome SyncDeployment(const std::string& key);
  // nullopt when there is nothing to do (gone, being deleted) or listing failed (failed set).
  std::optional<Rollout> LoadRollout(const std::string& ns, const std::string& name, bool& failed);
  void PlanRecreate(Rollout& r, Outcome& outcome);
  void PlanRolling(Rollout& r, Outcome& outcome);
  // Writes the targets and revisions; false when a write failed.
  bool ApplyRollout(Rollout& r);
  json::object DeploymentStatus(const Rollout& r) const;
  ObjectPtr CreateReplicaSet(const Rollout& r, int64_t replicas, bool& failed);
  bool ScaleReplicaSet(const Rollout& r, const Object& rs, int64_t replicas, int64_t revision);
  void CleanupHistory(const Object& d, const std::vector<ObjectPtr>& olds);
  // Whether pods of the old replica sets are still there and not terminal.
  bool OldPodsRunning(std::string_view ns, const std::vector<ObjectPtr>& olds) const;

  bool WriteStatus(const ResourceInfo& r, const Object& current, json::object status);
  void Event(const Object& involved, std::string_view kind, std::string_view component,
             std::string_view type, std::string_view reason, std::string message);

  Storage& storage;
  const ResourceCatalog& catalog;
  Options options;
  const ResourceInfo* deployments = nullptr;
  const ResourceInfo* replica_sets = nullptr;
  const ResourceInfo* pods = nullptr;
  const ResourceInfo* events = nullptr;
  AtomicStats stats;

  std::mutex mu;  // guards started, stop, wake
  std::condition_variable cv;
  bool started = false;
  bool stop = false;
  bool wake = false;
  std::thread worker;

  // Owned by the worker thread (and by Start before it runs).
  std::vector<std::unique_ptr<StorageFeed>> feeds;  // deployments, replicasets, pods
  std::optional<SteadyTime> reopen_at;              // a feed could not be reopened
  std::set<std::string> dirty_deployments;
  std::set<std::string> dirty_replica_sets;
  std::map<Key, int> failures;  // consecutive failed reconciles, for backoff
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers;
  std::map<Key, SteadyTime> timer_due;  // the earliest timer of each key in timers
  uint64_t timer_seq = 0;
  uint64_t event_seq = 0;
};

// ---------------------------------------------------------------- lifecycle

Status WorkloadControllers::Impl::Start() {
  if (!deployments || !replica_sets || !pods || !events) {
    return MakeError(ErrorCode::kConfig,
                     "workload controllers: the catalog lacks deployments, replicasets, pods or "
                     "events");
  }
  {
    std::lock_guard lock(mu);
    if (started) {
      return MakeError(ErrorCode::kUnavailableLocally, "workload controllers started twice");
    }
    started = true;
  }
  for (const ResourceInfo* r : {deployments, replica_sets, pods}) {
    feeds.push_back(std::make_unique<StorageFeed>(storage, *r, [this] { Wake(); }));
    if (auto s = feeds.back()->Open(); !s) return s;
  }
  worker = std::thread([this] { Run(); });
  return Ok();
}

void WorkloadControllers::Impl::Stop() {
  {
    std::lock_guard lock(mu);
    if (!started || stop) return;
    stop = true;
    cv.notify_one();
  }
  if (worker.joinable()) worker.join();
  for (auto& feed : feeds) feed->Close();
}

void WorkloadControllers::Impl::Run() {
  for (;;) {
    {
      std::unique_lock lock(mu);
      auto ready = [this] { return stop || wake; };
      std::optional<SteadyTime> next;
      if (!timers.empty()) next = timers.top().at;
      if (reopen_at && (!next || *reopen_at < *next)) next = reopen_at;
      if (next) {
        cv.wait_until(lock, *next, ready);
      } else {
        cv.wait(lock, ready);
      }
      if (stop) return;
      wake = false;
    }
    DrainFeeds();
    RunDueTimers();
    ReconcileDirty();
  }
}

void WorkloadControllers::Impl::DrainFeeds() {
  const auto now = std::chrono::steady_clock::now();
  if (reopen_at && *reopen_at <= now) {
    reopen_at.reset();
    for (auto& feed : feeds) {
      if (!feed->watching() && !feed->Open()) reopen_at = now + std::chrono::seconds(1);
    }
  }
  const std::array<void (Impl::*)(const WatchEventRecord&), 3> handlers = {
      &Impl::OnDeployment, &Impl::OnReplicaSet, &Impl::OnPod};
  for (size_t i = 0; i < feeds.size(); ++i) {
    if (!feeds[i]->Drain([&](const WatchEventRecord& e) { (this->*handlers[i])(e); })) {
      reopen_at = now + std::chrono::seconds(1);
    }
  }
}

void WorkloadControllers::Impl::RunDueTimers() {
  const auto now = std::chrono::steady_clock::now();
  while (!timers.empty() && timers.top().at <= now) {
    const Key key = timers.top().key;
    if (auto it = timer_due.find(key); it != timer_due.end() && it->second <= now) {
      timer_due.erase(it);
    }
    timers.pop();
    (key.first == Kind::kDeployment ? dirty_deployments : dirty_replica_sets).insert(key.second);
  }
}

void WorkloadControllers::Impl::ReconcileDirty() {
  auto run = [this](Kind kind, std::set<std::string>& dirty) {
    std::set<std::string> keys;
    keys.swap(dirty);
    for (const auto& key : keys) {
      ++stats.reconciles;
      const Outcome outcome = kind == Kind::kDeployment ? SyncDeployment(key) : SyncReplicaSet(key);
      const Key k{kind, key};
      if (outcome.failed) {
        const int n = ++failures[k];
        const auto delay = std::min(kMaxBackoff, kMinBackoff * (1 << std::min(n - 1, 7)));
        After(k, delay);
        continue;
      }
      failures.erase(k);
      if (outcome.after) After(k, *outcome.after);
    }
  };
  run(Kind::kDeployment, dirty_deployments);
  run(Kind::kReplicaSet, dirty_replica_sets);
}

// ---------------------------------------------------------------- events in

void WorkloadControllers::Impl::OnDeployment(const WatchEventRecord& event) {
  const Object& d = *event.object;
  dirty_deployments.insert(obj::Key(obj::Namespace(d), obj::Name(d)));
  if (event.type != "DELETED") return;
  // Background propagation: its replica sets see that their owner is gone.
  for (const auto& rs : DependentsOf(*replica_sets, obj::Namespace(d), obj::Uid(d))) {
    dirty_replica_sets.insert(obj::Key(obj::Namespace(*rs), obj::Name(*rs)));
  }
}

void WorkloadControllers::Impl::OnReplicaSet(const WatchEventRecord& event) {
  const Object& rs = *event.object;
  const std::string ns(obj::Namespace(rs));
  dirty_replica_sets.insert(obj::Key(ns, obj::Name(rs)));
  if (const json::object* ref = ControllerRef(rs);
      ref != nullptr && obj::String(*ref, {"kind"}) == "Deployment") {
    dirty_deployments.insert(obj::Key(ns, obj::String(*ref, {"name"})));
  }
  if (event.type != "DELETED") return;
  for (const auto& pod : DependentsOf(*pods, ns, obj::Uid(rs))) {
    if (OwnersGone(*pod)) Collect(*pods, *pod);
  }
}

void WorkloadControllers::Impl::OnPod(const WatchEventRecord& event) {
  const Object& pod = *event.object;
  const json::object* ref = ControllerRef(pod);
  if (ref != nullptr && obj::String(*ref, {"kind"}) == "ReplicaSet") {
    dirty_replica_sets.insert(obj::Key(obj::Namespace(pod), obj::String(*ref, {"name"})));
    // A Recreate rollout waits for the old pods to be gone.
    if (event.type == "DELETED") {
      auto rs = storage.GetShared(*replica_sets, obj::Namespace(pod), obj::String(*ref, {"name"}));
      const json::object* owner = rs ? ControllerRef(**rs) : nullptr;
      if (owner != nullptr && obj::String(*owner, {"kind"}) == "Deployment") {
        dirty_deployments.insert(obj::Key(obj::Namespace(pod), obj::String(*owner, {"name"})));
      }
    }
  }
  if (event.type != "DELETED" && !obj::IsBeingDeleted(pod) && OwnersGone(pod)) {
    Collect(*pods, pod);
  }
}

// ---------------------------------------------------------------- garbage collection

bool WorkloadControllers::Impl::OwnersGone(const Object& dependent) const {
  const auto* refs = obj::Find(dependent, {"metadata", "ownerReferences"});
  if (refs == nullptr || !refs->is_array() || refs->get_array().empty()) return false;
  for (const auto& value : refs->get_array()) {
    if (!value.is_object()) return false;
    const json::object& ref = value.get_object();
    const std::string_view api_version = obj::String(ref, {"apiVersion"});
    const auto slash = api_version.find('/');
    const std::string_view group =
        slash == std::string_view::npos ? std::string_view() : api_version.substr(0, slash);
    const ResourceInfo* r = catalog.FindByKind(group, obj::String(ref, {"kind"}));
    // An owner of a kind kubesim does not serve is not ours to judge.
    if (r == nullptr) return false;
    auto owner = storage.GetShared(*r, r->namespaced ? obj::Namespace(dependent) : "",
                                   obj::String(ref, {"name"}));
    if (owner && obj::Uid(**owner) == obj::String(ref, {"uid"})) return false;
    if (!owner && owner.error().code() != ErrorCode::kNotFound) return false;
  }
  return true;
}

void WorkloadControllers::Impl::Collect(const ResourceInfo& r, const Object& dependent) {
  DeleteRequest request;
  request.precondition_uid = std::string(obj::Uid(dependent));
  request.propagation_policy = "Background";
  auto deleted = storage.Delete(r, obj::Namespace(dependent), obj::Name(dependent), request);
  if (deleted) {
    ++stats.garbage_collected;
    spdlog::debug("kubesim garbage collector: deleted {} {}", r.resource, obj::Key(dependent));
  } else if (deleted.error().code() != ErrorCode::kNotFound &&
             deleted.error().code() != ErrorCode::kConflict) {
    ++stats.write_errors;
    spdlog::warn("kubesim garbage collector: cannot delete {} {}: {}", r.resource,
                 obj::Key(dependent), deleted.error().ToString());
  }
}

std::vector<ObjectPtr> WorkloadControllers::Impl::DependentsOf(const ResourceInfo& r,
                                                               std::string_view ns,
                                                               std::string_view uid) const {
  std::vector<ObjectPtr> out;
  ListQuery query;
  query.ns = std::string(ns);
  auto list = storage.ListObjects(r, query);
  if (!list) return out;
  for (auto& item : list->items) {
    if (HasOwner(*item, uid)) out.push_back(std::move(item));
  }
  return out;
}

// ---------------------------------------------------------------- replica sets

WorkloadControllers::Impl::Outcome WorkloadControllers::Impl::SyncReplicaSet(
    const std::string& key) {
  const auto [ns, name] = SplitKey(key);
  auto got = storage.GetShared(*replica_sets, ns, name);
  if (!got) return {};  // gone: OnReplicaSet collects its pods
  const ObjectPtr rs_ptr = *got;
  const Object& rs = *rs_ptr;
  if (obj::IsBeingDeleted(rs)) return {};
  if (OwnersGone(rs)) {
    Collect(*replica_sets, rs);
    return {};
  }
  const Object* selector_object = obj::ObjectAt(rs, {"spec", "selector"});
  auto selector = selector_object ? FormatLabelSelector(*selector_object) : Result<std::string>("");
  if (!selector || selector->empty()) return {};  // validation keeps these out
  ListQuery query;
  query.ns = ns;
  query.label_selector = *selector;
  auto list = storage.ListObjects(*pods, query);
  if (!list) {
    spdlog::warn("kubesim replicaset controller: listing pods of {}: {}", key,
                 list.error().ToString());
    return Failed();
  }
  const std::string uid(obj::Uid(rs));
  Outcome outcome;
  std::vector<ObjectPtr> active;
  for (auto& pod : list->items) {
    // Pods it does not control are left alone (no adoption).
    if (!ControlledBy(*pod, uid) || obj::IsBeingDeleted(*pod)) continue;
    if (IsTerminal(*pod)) {
      // Replaced: the failed or completed pod goes, a new one takes its place.
      if (!DeletePod(rs, *pod)) outcome.failed = true;
      continue;
    }
    active.push_back(std::move(pod));
  }

  const int64_t wanted = obj::Int(rs, {"spec", "replicas"}, 1);
  std::string failure;
  int64_t created = 0;
  if (static_cast<int64_t>(active.size()) < wanted) {
    for (int64_t i = static_cast<int64_t>(active.size()); i < wanted; ++i) {
      if (!CreatePod(rs, failure)) {
        outcome.failed = true;
        break;
      }
      ++created;
    }
  } else if (static_cast<int64_t>(active.size()) > wanted) {
    // kube's deletion order, simplified: unscheduled, pending, not ready, then the newest.
    auto rank = [](const Object& p) {
      const auto phase = obj::String(p, {"status", "phase"});
      const int phase_rank = phase == "Pending" ? 0 : phase == "Running" ? 2 : 1;
      return std::make_tuple(obj::String(p, {"spec", "nodeName"}).empty() ? 0 : 1, phase_rank,
                             ReadySince(p) ? 1 : 0);
    };
    std::sort(active.begin(), active.end(), [&](const ObjectPtr& a, const ObjectPtr& b) {
      const auto ra = rank(*a);
      const auto rb = rank(*b);
      if (ra != rb) return ra < rb;
      if (CreationKey(*a) != CreationKey(*b)) return CreationKey(*a) > CreationKey(*b);
      return obj::Name(*a) > obj::Name(*b);
    });
    const size_t extra = active.size() - static_cast<size_t>(wanted);
    std::vector<ObjectPtr> kept;
    for (size_t i = 0; i < active.size(); ++i) {
      if (i < extra) {
        if (DeletePod(rs, *active[i])) continue;
        outcome.failed = true;
      }
      kept.push_back(active[i]);
    }
    active = std::move(kept);
  }
  if (!WriteStatus(*replica_sets, rs, ReplicaSetStatus(rs, active, created, failure, outcome))) {
    outcome.failed = true;
  }
  return outcome;
}

json::object WorkloadControllers::Impl::ReplicaSetStatus(const Object& rs,
                                                         const std::vector<ObjectPtr>& active,
                                                         int64_t created,
                                                         const std::string& failure,
                                                         Outcome& outcome) const {
  // From the pods as they are now; the ones just created are neither ready nor available yet.
  const Object* template_labels = obj::ObjectAt(rs, {"spec", "template", "metadata", "labels"});
  const int64_t min_ready = obj::Int(rs, {"spec", "minReadySeconds"});
  const WallTime now = Now();
  int64_t fully_labeled = created;
  int64_t ready = 0;
  int64_t available = 0;
  for (const auto& pod : active) {
    bool labeled = true;
    if (template_labels != nullptr) {
      for (const auto& [k, v] : *template_labels) {
        if (!v.is_string() || obj::Label(*pod, k) != std::string_view(v.get_string())) {
          labeled = false;
        }
      }
    }
    if (labeled) ++fully_labeled;
    const auto since = ReadySince(*pod);
    if (!since) continue;
    ++ready;
    const WallTime available_at = *since + std::chrono::seconds(min_ready);
    if (min_ready == 0 || available_at <= now) {
      ++available;
    } else {
      // Look again when it becomes available.
      const auto wait =
          std::chrono::duration_cast<milliseconds>(available_at - now) + milliseconds(1);
      if (!outcome.after || wait < *outcome.after) outcome.after = wait;
    }
  }
  json::object status;
  status["replicas"] = static_cast<int64_t>(active.size()) + created;
  SetNonZero(status, "fullyLabeledReplicas", fully_labeled);
  SetNonZero(status, "readyReplicas", ready);
  SetNonZero(status, "availableReplicas", available);
  SetNonZero(status, "observedGeneration", obj::Int(rs, {"metadata", "generation"}));
  json::array conditions;
  if (const auto* current = obj::Find(rs, {"status", "conditions"});
      current != nullptr && current->is_array()) {
    conditions = current->get_array();
  }
  conditions.erase(std::remove_if(conditions.begin(), conditions.end(),
                                  [](const json::value& c) {
                                    return c.is_object() && obj::String(c.get_object(), {"type"}) ==
                                                                "ReplicaFailure";
                                  }),
                   conditions.end());
  if (!failure.empty()) {
    std::string since = FormatTime(now);
    if (const json::object* old = FindCondition(rs, "ReplicaFailure")) {
      if (auto t = obj::String(*old, {"lastTransitionTime"}); !t.empty()) since = std::string(t);
    }
    conditions.push_back(json::object{{"type", "ReplicaFailure"},
                                      {"status", "True"},
                                      {"lastTransitionTime", since},
                                      {"reason", "FailedCreate"},
                                      {"message", failure}});
  }
  if (!conditions.empty()) status["conditions"] = std::move(conditions);
  return status;
}

bool WorkloadControllers::Impl::CreatePod(const Object& rs, std::string& failure) {
  json::object metadata;
  metadata["generateName"] = std::string(obj::Name(rs)) + "-";
  metadata["namespace"] = obj::Namespace(rs);
  if (const auto* labels = obj::Find(rs, {"spec", "template", "metadata", "labels"})) {
    metadata["labels"] = *labels;
  }
  if (const auto* annotations = obj::Find(rs, {"spec", "template", "metadata", "annotations"})) {
    metadata["annotations"] = *annotations;
  }
  metadata["ownerReferences"] = json::array{OwnerRef(rs, "apps/v1", "ReplicaSet")};
  Object pod{{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", std::move(metadata)}};
  if (const auto* spec = obj::Find(rs, {"spec", "template", "spec"})) pod["spec"] = *spec;
  auto created = storage.Create(*pods, obj::Namespace(rs), std::move(pod), false);
  if (!created) {
    ++stats.write_errors;
    failure = created.error().message();
    spdlog::warn("kubesim replicaset controller: creating a pod of {}: {}", obj::Key(rs),
                 created.error().ToString());
    Event(rs, "ReplicaSet", kReplicaSetController, "Warning", "FailedCreate",
          "Error creating: " + failure);
    return false;
  }
  ++stats.pods_created;
  Event(rs, "ReplicaSet", kReplicaSetController, "Normal", "SuccessfulCreate",
        fmt::format("Created pod: {}", obj::Name(*created)));
  return true;
}

bool WorkloadControllers::Impl::DeletePod(const Object& rs, const Object& pod) {
  DeleteRequest request;
  request.precondition_uid = std::string(obj::Uid(pod));
  auto deleted = storage.Delete(*pods, obj::Namespace(pod), obj::Name(pod), request);
  if (!deleted) {
    const ErrorCode code = deleted.error().code();
    if (code == ErrorCode::kNotFound || code == ErrorCode::kConflict) return true;  // gone
    ++stats.write_errors;
    spdlog::warn("kubesim replicaset controller: deleting {}: {}", obj::Key(pod),
                 deleted.error().ToString());
    Event(rs, "ReplicaSet", kReplicaSetController, "Warning", "FailedDelete",
          fmt::format("Error deleting: {}", deleted.error().message()));
    return false;
  }
  ++stats.pods_deleted;
  Event(rs, "ReplicaSet", kReplicaSetController, "Normal", "SuccessfulDelete",
        fmt::format("Deleted pod: {}", obj::Name(pod)));
  return true;
}

// ---------------------------------------------------------------- deployments

WorkloadControllers::Impl::Outcome WorkloadControllers::Impl::SyncDeployment(
    const std::string& key) {
  const auto [ns, name] = SplitKey(key);
  Outcome outcome;
  std::optional<Rollout> rollout = LoadRollout(ns, name, outcome.failed);
  if (!rollout) return outcome;
  Rollout& r = *rollout;
  const auto* paused = obj::Find(*r.deployment, {"spec", "paused"});
  if (paused == nullptr || !paused->is_bool() || !paused->get_bool()) {
    if (r.rolling) {
      PlanRolling(r, outcome);
    } else {
      PlanRecreate(r, outcome);
    }
  }
  if (!ApplyRollout(r)) return Failed();
  const bool complete = r.new_rs && !r.created_new &&
                        obj::Int(*r.new_rs, {"status", "replicas"}) == r.replicas &&
                        obj::Int(*r.new_rs, {"status", "availableReplicas"}) == r.replicas;
  if (!WriteStatus(*deployments, *r.deployment, DeploymentStatus(r))) outcome.failed = true;
  if (complete && !outcome.failed) CleanupHistory(*r.deployment, r.olds);
  return outcome;
}

std::optional<WorkloadControllers::Impl::Rollout> WorkloadControllers::Impl::LoadRollout(
    const std::string& ns, const std::string& name, bool& failed) {
  auto got = storage.GetShared(*deployments, ns, name);
  if (!got) return std::nullopt;  // gone: OnDeployment collects its replica sets
  Rollout r;
  r.deployment = *got;
  const Object& d = *r.deployment;
  const Object* pod_template = obj::ObjectAt(d, {"spec", "template"});
  if (obj::IsBeingDeleted(d) || pod_template == nullptr) return std::nullopt;
  r.hash = PodTemplateHash(*pod_template);

  ListQuery query;
  query.ns = ns;
  auto list = storage.ListObjects(*replica_sets, query);
  if (!list) {
    failed = true;
    return std::nullopt;
  }
  const std::string_view uid = obj::Uid(d);
  for (auto& rs : list->items) {
    if (!ControlledBy(*rs, uid) || obj::IsBeingDeleted(*rs)) continue;
    if (!r.new_rs && obj::Label(*rs, kHashLabel) == r.hash) {
      r.new_rs = std::move(rs);
    } else {
      r.olds.push_back(std::move(rs));
    }
  }
  std::sort(r.olds.begin(), r.olds.end(), [](const ObjectPtr& a, const ObjectPtr& b) {
    if (CreationKey(*a) != CreationKey(*b)) return CreationKey(*a) < CreationKey(*b);
    return obj::Name(*a) < obj::Name(*b);
  });
  for (const auto& rs : r.olds) r.max_old_revision = std::max(r.max_old_revision, Revision(*rs));

  r.replicas = obj::Int(d, {"spec", "replicas"}, 1);
  r.rolling = obj::String(d, {"spec", "strategy", "type"}) != "Recreate";
  if (r.rolling) {
    r.max_surge = ScaledValue(obj::Find(d, {"spec", "strategy", "rollingUpdate", "maxSurge"}),
                              r.replicas, true);
    r.max_unavailable = ScaledValue(
        obj::Find(d, {"spec", "strategy", "rollingUpdate", "maxUnavailable"}), r.replicas, false);
    if (r.max_surge == 0 && r.max_unavailable == 0) r.max_unavailable = 1;  // ResolveFenceposts
    r.max_unavailable = std::min(r.max_unavailable, r.replicas);
  }
  return r;
}

void WorkloadControllers::Impl::PlanRecreate(Rollout& r, Outcome& outcome) {
  // kube's rolloutRecreate: old replica sets to 0, then, once none of their pods runs any more
  // (terminating ones included), the new one up.
  bool scaled_down = false;
  for (const auto& rs : r.olds) {
    if (r.SpecOf(rs) != 0) {
      r.target[rs.get()] = 0;
      scaled_down = true;
    }
  }
  if (scaled_down || OldPodsRunning(obj::Namespace(*r.deployment), r.olds)) return;
  if (r.new_rs) {
    r.target[r.new_rs.get()] = r.replicas;
    return;
  }
  r.new_rs = CreateReplicaSet(r, r.replicas, outcome.failed);
  r.created_new = r.new_rs != nullptr;
}

void WorkloadControllers::Impl::PlanRolling(Rollout& r, Outcome& outcome) {
  if (!r.new_rs) {
    // The new replica set starts within the surge while old pods still run.
    int64_t start = r.replicas;
    if (r.TotalPods() > 0) {
      start = std::clamp(r.replicas + r.max_surge - r.TotalPods(), int64_t{0}, r.replicas);
    }
    r.new_rs = CreateReplicaSet(r, start, outcome.failed);
    r.created_new = r.new_rs != nullptr;
    return;
  }
  // kube's rolloutRolling: scale the new replica set up within maxSurge; once it is as large as
  // it may be, scale old ones down within maxUnavailable (unhealthy pods first).
  const int64_t current = r.SpecOf(r.new_rs);
  int64_t scaled = current;
  if (current > r.replicas) {
    scaled = r.replicas;
  } else if (current < r.replicas) {
    const int64_t room = r.replicas + r.max_surge - r.TotalPods();
    if (room > 0) scaled = current + std::min(room, r.replicas - current);
  }
  if (scaled != current) {
    r.target[r.new_rs.get()] = scaled;
    return;
  }
  const int64_t min_available = r.replicas - r.max_unavailable;
  const int64_t new_unavailable = r.SpecOf(r.new_rs) - AvailableOf(*r.new_rs);
  const int64_t max_scaled_down = r.TotalSpec() - min_available - new_unavailable;
  if (max_scaled_down <= 0) return;
  int64_t cleaned = 0;
  for (const auto& rs : r.olds) {
    if (cleaned >= max_scaled_down) break;
    const int64_t spec = r.SpecOf(rs);
    const int64_t unhealthy = spec - std::min(spec, AvailableOf(*rs));
    if (unhealthy == 0) continue;
    const int64_t n = std::min(max_scaled_down - cleaned, unhealthy);
    r.target[rs.get()] = spec - n;
    cleaned += n;
  }
  int64_t down = AvailableOf(*r.new_rs) - min_available;
  for (const auto& rs : r.olds) down += AvailableOf(*rs);
  for (const auto& rs : r.olds) {
    if (down <= 0) break;
    const int64_t spec = r.SpecOf(rs);
    if (spec == 0) continue;
    const int64_t n = std::min(spec, down);
    r.target[rs.get()] = spec - n;
    down -= n;
  }
}

bool WorkloadControllers::Impl::ApplyRollout(Rollout& r) {
  // The new replica set takes the newest revision: a rollback to an old template revives its
  // replica set as the newest revision, as in kube.
  int64_t revision = r.new_rs ? Revision(*r.new_rs) : 0;
  if (r.new_rs && revision <= r.max_old_revision) revision = r.max_old_revision + 1;
  bool ok = true;
  for (const auto& rs : r.All()) {
    const int64_t rs_revision = rs == r.new_rs ? revision : Revision(*rs);
    if (r.SpecOf(rs) == obj::Int(*rs, {"spec", "replicas"}, 1) && rs_revision == Revision(*rs)) {
      continue;
    }
    if (!ScaleReplicaSet(r, *rs, r.SpecOf(rs), rs_revision)) ok = false;
  }
  // The deployment carries its current revision, as kube's deployment controller writes it.
  const Object& d = *r.deployment;
  if (r.new_rs && obj::Annotation(d, kRevision) != std::to_string(revision)) {
    const std::string patch = json::serialize(json::object{
        {"metadata",
         json::object{{"annotations", json::object{{kRevision, std::to_string(revision)}}}}}});
    auto patched =
        storage.Patch(*deployments, obj::Namespace(d), obj::Name(d), PatchKind::kMergePatch, patch,
                      "", kDeploymentController, false, false);
    if (!patched) {
      ++stats.write_errors;
      return false;
    }
    r.deployment = std::make_shared<const Object>(std::move(*patched));
  }
  return ok;
}

json::object WorkloadControllers::Impl::DeploymentStatus(const Rollout& r) const {
  // From the replica sets as listed: their own controller reports their pods.
  int64_t replicas = 0;
  int64_t ready = 0;
  int64_t available = 0;
  int64_t spec_total = 0;
  for (const auto& rs : r.All()) {
    replicas += obj::Int(*rs, {"status", "replicas"});
    ready += obj::Int(*rs, {"status", "readyReplicas"});
    available += AvailableOf(*rs);
    spec_total += r.SpecOf(rs);
  }
  const int64_t updated =
      r.new_rs && !r.created_new ? obj::Int(*r.new_rs, {"status", "replicas"}) : 0;
  const Object& d = *r.deployment;
  json::object status;
  SetNonZero(status, "observedGeneration", obj::Int(d, {"metadata", "generation"}));
  SetNonZero(status, "replicas", replicas);
  SetNonZero(status, "updatedReplicas", updated);
  SetNonZero(status, "readyReplicas", ready);
  SetNonZero(status, "availableReplicas", available);
  SetNonZero(status, "unavailableReplicas", std::max<int64_t>(0, spec_total - available));
  if (const auto* collisions = obj::Find(d, {"status", "collisionCount"})) {
    status["collisionCount"] = *collisions;
  }

  json::array conditions;
  if (const auto* existing = obj::Find(d, {"status", "conditions"});
      existing != nullptr && existing->is_array()) {
    conditions = existing->get_array();
  }
  const std::string now = FormatTime(Now());
  auto condition = [&](std::string_view type, bool ok, std::string_view reason,
                       std::string message) {
    return json::object{{"type", type},          {"status", ok ? "True" : "False"},
                        {"lastUpdateTime", now}, {"lastTransitionTime", now},
                        {"reason", reason},      {"message", std::move(message)}};
  };
  if (available >= r.replicas - r.max_unavailable) {
    SetCondition(conditions, condition("Available", true, "MinimumReplicasAvailable",
                                       "Deployment has minimum availability."));
  } else {
    SetCondition(conditions, condition("Available", false, "MinimumReplicasUnavailable",
                                       "Deployment does not have minimum availability."));
  }
  // kube's syncRolloutStatus, without the progress deadline.
  const std::string rs_name = r.new_rs ? std::string(obj::Name(*r.new_rs)) : "";
  const bool complete = r.new_rs != nullptr && updated == r.replicas && replicas == r.replicas &&
                        available == r.replicas;
  auto before = [&](std::string_view field) { return obj::Int(d, {"status", field}); };
  const bool progressing = updated > before("updatedReplicas") || replicas < before("replicas") ||
                           ready > before("readyReplicas") ||
                           available > before("availableReplicas");
  if (r.created_new) {
    SetCondition(conditions, condition("Progressing", true, "NewReplicaSetCreated",
                                       fmt::format("Created new replica set \"{}\"", rs_name)));
  } else if (complete) {
    SetCondition(conditions,
                 condition("Progressing", true, "NewReplicaSetAvailable",
                           fmt::format("ReplicaSet \"{}\" has successfully progressed.", rs_name)));
  } else if (progressing && r.new_rs) {
    // Progress refreshes lastUpdateTime even when the reason stays (kube's special case).
    json::object c = condition("Progressing", true, "ReplicaSetUpdated",
                               fmt::format("ReplicaSet \"{}\" is progressing.", rs_name));
    auto it = std::find_if(conditions.begin(), conditions.end(), [](const json::value& v) {
      return v.is_object() && obj::String(v.get_object(), {"type"}) == "Progressing";
    });
    if (it != conditions.end()) {
      if (obj::String(it->get_object(), {"status"}) == "True") {
        if (const auto* since = it->get_object().if_contains("lastTransitionTime")) {
          c["lastTransitionTime"] = *since;
        }
      }
      conditions.erase(it);
    }
    conditions.push_back(std::move(c));
  }
  if (!conditions.empty()) status["conditions"] = std::move(conditions);
  return status;
}

ObjectPtr WorkloadControllers::Impl::CreateReplicaSet(const Rollout& r, int64_t replicas,
                                                      bool& failed) {
  const Object& d = *r.deployment;
  const std::string& hash = r.hash;
  const int64_t revision = r.max_old_revision + 1;
  const int64_t max_surge = r.max_surge;
  const std::string name = std::string(obj::Name(d)) + "-" + hash;
  json::object pod_template = obj::ObjectAt(d, {"spec", "template"})
                                  ? *obj::ObjectAt(d, {"spec", "template"})
                                  : json::object();
  obj::EnsureObject(pod_template, {"metadata", "labels"})[kHashLabel] = hash;
  json::object selector = obj::ObjectAt(d, {"spec", "selector"})
                              ? *obj::ObjectAt(d, {"spec", "selector"})
                              : json::object();
  obj::EnsureObject(selector, {"matchLabels"})[kHashLabel] = hash;

  json::object labels;
  if (const Object* l = obj::ObjectAt(pod_template, {"metadata", "labels"})) labels = *l;
  // The deployment's annotations, less those that describe the deployment itself.
  json::object annotations;
  if (const Object* a = obj::ObjectAt(d, {"metadata", "annotations"})) {
    for (const auto& [k, v] : *a) {
      if (k != kLastApplied && k != kRevision && k != kDesiredReplicas && k != kMaxReplicas &&
          k != "deployment.kubernetes.io/revision-history") {
        annotations[k] = v;
      }
    }
  }
  const int64_t desired = obj::Int(d, {"spec", "replicas"}, 1);
  annotations[kRevision] = std::to_string(revision);
  annotations[kDesiredReplicas] = std::to_string(desired);
  annotations[kMaxReplicas] = std::to_string(desired + max_surge);

  json::object spec{{"replicas", replicas},
                    {"selector", std::move(selector)},
                    {"template", std::move(pod_template)}};
  if (const auto* min_ready = obj::Find(d, {"spec", "minReadySeconds"})) {
    spec["minReadySeconds"] = *min_ready;
  }
  Object rs{{"apiVersion", "apps/v1"},
            {"kind", "ReplicaSet"},
            {"metadata",
             json::object{{"name", name},
                          {"namespace", obj::Namespace(d)},
                          {"labels", std::move(labels)},
                          {"annotations", std::move(annotations)},
                          {"ownerReferences", json::array{OwnerRef(d, "apps/v1", "Deployment")}}}},
            {"spec", std::move(spec)}};
  auto created = storage.Create(*replica_sets, obj::Namespace(d), std::move(rs), false);
  if (!created) {
    ++stats.write_errors;
    failed = true;
    // An old replica set of a deleted deployment of the same name goes with the garbage
    // collector; its deletion brings this deployment back here.
    spdlog::warn("kubesim deployment controller: creating {}/{}: {}", obj::Namespace(d), name,
                 created.error().ToString());
    return nullptr;
  }
  ++stats.replica_sets_created;
  Event(d, "Deployment", kDeploymentController, "Normal", "ScalingReplicaSet",
        fmt::format("Scaled up replica set {} from 0 to {}", name, replicas));
  return std::make_shared<const Object>(std::move(*created));
}

bool WorkloadControllers::Impl::ScaleReplicaSet(const Rollout& r, const Object& rs,
                                                int64_t replicas, int64_t revision) {
  const Object& d = *r.deployment;
  const int64_t max_surge = r.max_surge;
  const int64_t before = obj::Int(rs, {"spec", "replicas"}, 1);
  Object updated = rs;
  obj::EnsureObject(updated, {"spec"})["replicas"] = replicas;
  auto& annotations = obj::EnsureObject(updated, {"metadata", "annotations"});
  const int64_t desired = obj::Int(d, {"spec", "replicas"}, 1);
  annotations[kRevision] = std::to_string(revision);
  annotations[kDesiredReplicas] = std::to_string(desired);
  annotations[kMaxReplicas] = std::to_string(desired + max_surge);
  auto written = storage.Update(*replica_sets, obj::Namespace(rs), obj::Name(rs),
                                std::move(updated), "", false);
  if (!written) {
    ++stats.write_errors;
    spdlog::debug("kubesim deployment controller: scaling {}: {}", obj::Key(rs),
                  written.error().ToString());
    return false;
  }
  if (before != replicas) {
    ++stats.replica_sets_scaled;
    Event(d, "Deployment", kDeploymentController, "Normal", "ScalingReplicaSet",
          fmt::format("Scaled {} replica set {} from {} to {}", replicas > before ? "up" : "down",
                      obj::Name(rs), before, replicas));
  }
  return true;
}

bool WorkloadControllers::Impl::OldPodsRunning(std::string_view ns,
                                               const std::vector<ObjectPtr>& olds) const {
  if (olds.empty()) return false;
  std::set<std::string_view> uids;
  for (const auto& rs : olds) uids.insert(obj::Uid(*rs));
  ListQuery query;
  query.ns = ns;
  auto list = storage.ListObjects(*pods, query);
  if (!list) return true;
  return std::any_of(list->items.begin(), list->items.end(), [&](const ObjectPtr& pod) {
    const json::object* ref = ControllerRef(*pod);
    return ref != nullptr && uids.contains(obj::String(*ref, {"uid"})) && !IsTerminal(*pod);
  });
}

void WorkloadControllers::Impl::CleanupHistory(const Object& d,
                                               const std::vector<ObjectPtr>& olds) {
  const int64_t limit = obj::Int(d, {"spec", "revisionHistoryLimit"}, 10);
  std::vector<ObjectPtr> idle;
  for (const auto& rs : olds) {
    if (obj::Int(*rs, {"spec", "replicas"}, 1) == 0 && obj::Int(*rs, {"status", "replicas"}) == 0) {
      idle.push_back(rs);
    }
  }
  if (static_cast<int64_t>(idle.size()) <= limit) return;
  std::sort(idle.begin(), idle.end(),
            [](const ObjectPtr& a, const ObjectPtr& b) { return Revision(*a) < Revision(*b); });
  const size_t excess = idle.size() - static_cast<size_t>(std::max<int64_t>(limit, 0));
  for (size_t i = 0; i < excess; ++i) {
    DeleteRequest request;
    request.precondition_uid = std::string(obj::Uid(*idle[i]));
    auto deleted =
        storage.Delete(*replica_sets, obj::Namespace(*idle[i]), obj::Name(*idle[i]), request);
    if (!deleted && deleted.error().code() != ErrorCode::kNotFound) ++stats.write_errors;
  }
}

bool WorkloadControllers::Impl::WriteStatus(const ResourceInfo& r, const Object& current,
                                            json::object status) {
  const auto* old = current.if_contains("status");
  if (old != nullptr && old->is_object() && old->get_object() == status) return true;
  Object updated = current;
  updated["status"] = std::move(status);
  auto written = storage.Update(r, obj::Namespace(current), obj::Name(current), std::move(updated),
                                "status", false);
  if (written) return true;
  // A conflict means someone wrote after this sync read the object: the event of that write
  // brings the key back. Gone means there is nothing left to report on.
  const ErrorCode code = written.error().code();
  if (code == ErrorCode::kConflict || code == ErrorCode::kNotFound) return true;
  ++stats.write_errors;
  spdlog::warn("kubesim workload controllers: status of {} {}: {}", r.resource, obj::Key(current),
               written.error().ToString());
  return false;
}

void WorkloadControllers::Impl::Event(const Object& involved, std::string_view kind,
                                      std::string_view component, std::string_view type,
                                      std::string_view reason, std::string message) {
  if (!options.emit_events) return;
  const WallTime now = Now();
  const std::string ts = FormatTime(now);
  const auto nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  Object event;
  event["apiVersion"] = "v1";
  event["kind"] = "Event";
  event["metadata"] = {{"name", fmt::format("{}.{:x}", obj::Name(involved),
                                            static_cast<uint64_t>(nanos) + ++event_seq)},
                       {"namespace", obj::Namespace(involved)}};
  event["involvedObject"] = {{"kind", kind},
                             {"namespace", obj::Namespace(involved)},
                             {"name", obj::Name(involved)},
                             {"uid", obj::Uid(involved)},
                             {"apiVersion", "apps/v1"},
                             {"resourceVersion", obj::ResourceVersion(involved)}};
  event["reason"] = reason;
  event["message"] = std::move(message);
  event["source"] = {{"component", component}};
  event["reportingComponent"] = component;
  event["reportingInstance"] = "";
  event["firstTimestamp"] = ts;
  event["lastTimestamp"] = ts;
  event["count"] = 1;
  event["type"] = type;
  event["eventTime"] = nullptr;
  auto r = storage.Create(*events, obj::Namespace(involved), std::move(event), false);
  if (!r) spdlog::debug("kubesim workload controllers: event: {}", r.error().ToString());
}

// ---------------------------------------------------------------- public

WorkloadControllers::WorkloadControllers(Storage& storage, const ResourceCatalog& catalog,
                                         Options options)
    : impl_(std::make_unique<Impl>(storage, catalog, std::move(options))) {}

WorkloadControllers::~WorkloadControllers() { impl_->Stop(); }

Status WorkloadControllers::Start() { return impl_->Start(); }
void WorkloadControllers::Stop() { impl_->Stop(); }

WorkloadControllers::Stats WorkloadControllers::stats() const {
  const auto& s = impl_->stats;
  return Stats{s.reconciles.load(),          s.pods_created.load(),
               s.pods_deleted.load(),        s.replica_sets_created.load(),
               s.replica_sets_scaled.load(), s.garbage_collected.load(),
               s.write_errors.load()};
}

}  // namespace vk::kubesim
