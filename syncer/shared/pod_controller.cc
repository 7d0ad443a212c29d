#include "syncer/shared/pod_controller.h"

#include <spdlog/spdlog.h>

#include "hostclient/base/thread_name.h"
#include "hostclient/informer.h"
#include "hostclient/lister_watcher.h"
#include "hostclient/resource.h"
#include "hostclient/rest_client.h"
#include "syncer/shared/host_naming.h"
#include "syncer/shared/object_syncer.h"
#include "syncer/shared/pod_metrics.h"
#include "syncer/shared/pod_update_translator.h"
#include "syncer/shared/token_secrets.h"
#include "syncer/work_queue.h"

namespace vk::syncer::shared {
namespace {

namespace json = boost::json;
using hostclient::resources::Pods;

constexpr std::string_view kReasonDenied = "HostPrivilegeDenied";
constexpr std::string_view kReasonConflict = "HostNameConflict";
constexpr std::string_view kReasonLost = "HostPodLost";
constexpr std::string_view kReasonTranslation = "TranslationFailed";
constexpr std::string_view kReasonEphemeralRejected = "EphemeralContainersRejected";
constexpr int64_t kDefaultGraceSeconds = 30;
constexpr std::string_view kHostNameLabel = "kubernetes.io/hostname";

bool Terminating(const Object& o) { return obj::Find(o, {"metadata", "deletionTimestamp"}); }

std::string_view Phase(const Object& pod) { return obj::String(pod, {"status", "phase"}); }

bool Terminal(const Object& pod) { return Phase(pod) == "Succeeded" || Phase(pod) == "Failed"; }

// The kubelet writes startTime when it first handles a pod; we write it from the twin's status.
// A pod without it never had a twin that ran, so recreating a missing twin restarts nothing.
bool WasStarted(const Object& pod) {
  return !obj::String(pod, {"status", "startTime"}).empty() ||
         !obj::String(pod, {"status", "hostIP"}).empty();
}

std::optional<int64_t> GraceSeconds(const Object& o) {
  const json::value* grace = obj::Find(o, {"metadata", "deletionGracePeriodSeconds"});
  if (grace == nullptr || !grace->is_number()) return std::nullopt;
  return grace->to_number<int64_t>();
}

std::string StateOf(const Object& pod) {
  if (Terminating(pod)) return "terminating";
  std::string_view phase = Phase(pod);
  if (phase == "Running") return "running";
  if (phase == "Succeeded") return "succeeded";
  if (phase == "Failed") return "failed";
  return "pending";
}

std::string SplitNamespace(const std::string& key, std::string* name) {
  const size_t slash = key.find('/');
  *name = key.substr(slash + 1);
  return key.substr(0, slash);
}

std::string ReasonOf(const Error& error) {
  std::string reason = ToString(error.code());
  if (!reason.empty() && reason[0] == 'k') reason.erase(0, 1);
  return reason;
}

}  // namespace

struct PodController::Twin {
  std::optional<Clock::TimePoint> virtual_seen;       // the virtual pod's creation was watched
  std::optional<Clock::TimePoint> host_running_seen;  // the twin turned Running
  bool host_running = false;                          // the host cache last showed it Running
  bool created_unseen = false;  // we created the twin; the host cache has not shown it yet
  bool conflict_reported = false;
  // Ephemeral containers the policy keeps off the host, reported in the virtual pod's status.
  std::vector<DeniedContainer> denied_ephemeral;
};

PodController::PodController(hostclient::RestClient& virtual_client,
                             hostclient::RestClient& host_client, PodControllerOptions options,
                             prometheus::Registry* metrics, Clock& clock)
    : virtual_client_(virtual_client),
      host_client_(host_client),
      options_(std::move(options)),
      clock_(clock),
      metrics_(std::make_unique<PodMetrics>(metrics)) {
  const TranslationContext& ctx = options_.translation;
  WorkQueueOptions queue_options;
  queue_options.name = "pods";
  queue_options.metrics = metrics;
  queue_options.clock = &clock_;
  queue_ = std::make_unique<WorkQueue>(std::move(queue_options));

  hostclient::InformerOptions virtual_options;
  virtual_options.name = "virtual-pods";
  // A resync re-checks every pod now and then, so that a failure nobody retried heals.
  virtual_options.resync_period = std::chrono::minutes(10);
  virtual_options.deliver_old_objects = false;
  const std::string node_selector =
      options_.per_host_node ? "" : "spec.nodeName=" + options_.node_name;
  virtual_pods_ = std::make_unique<hostclient::SharedInformer>(
      std::make_unique<hostclient::RestListerWatcher>(virtual_client_, Pods(), "", "",
                                                      node_selector),
      virtual_options);
  hostclient::InformerOptions host_options;
  host_options.name = "host-pods";
  host_options.deliver_old_objects = false;  // the twin's last phase is kept in Twin
  host_pods_ = std::make_unique<hostclient::SharedInformer>(
      std::make_unique<hostclient::RestListerWatcher>(
          host_client_, Pods(), ctx.host_namespace,
          std::string(kLabelCluster) + "=" + ctx.cluster + "," + std::string(kLabelManagedBy) +
              "=" + std::string(kManagedByValue)),
      host_options);

  objects_ = std::make_unique<ObjectSyncer>(virtual_client_, host_client_, ctx, metrics);
  TokenSecrets::Options token_options;
  token_options.cluster = ctx.cluster;
  token_options.host_namespace = ctx.host_namespace;
  token_options.default_expiration_seconds = options_.default_token_expiration_seconds;
  token_options.fallback_ca_pem = options_.virtual_ca_pem;
  tokens_ = std::make_unique<TokenSecrets>(
      virtual_client_, host_client_, std::move(token_options),
      [this](const std::string& name) { return objects_->HostSecret(name); },
      [this](const std::string& ns, const std::string& name) {
        return objects_->VirtualConfigMap(ns, name);
      });

  virtual_pods_->AddEventHandler(
      {[this](const ObjectPtr& pod, bool initial) { OnVirtualPod(pod, !initial, false); },
       [this](const ObjectPtr& old_pod, const ObjectPtr& pod) {
         if (old_pod != pod) OnVirtualPod(pod, false, false);
       },
       [this](const ObjectPtr& pod) { OnVirtualPod(pod, false, true); }});
  host_pods_->AddEventHandler({[this](const ObjectPtr& pod, bool) { OnHostPod(pod, false); },
                               [this](const ObjectPtr& old_pod, const ObjectPtr& pod) {
                                 if (old_pod != pod) OnHostPod(pod, false);
                               },
                               [this](const ObjectPtr& pod) { OnHostPod(pod, true); }});
}

PodController::~PodController() { Stop(); }

bool PodController::Serves(const Object& virtual_pod) const {
  std::string_view node = obj::String(virtual_pod, {"spec", "nodeName"});
  if (!options_.per_host_node) return node == options_.node_name;
  return !node.empty() && node.starts_with(options_.node_prefix) &&
         node.size() > options_.node_prefix.size();
}

std::string PodController::KeyOfHostObject(const Object& host_object) const {
  std::string_view ns = obj::Annotation(host_object, kAnnotationOriginNamespace);
  std::string_view name = obj::Annotation(host_object, kAnnotationOriginName);
  if (ns.empty() || name.empty()) return {};
  return std::string(ns) + "/" + std::string(name);
}

void PodController::OnVirtualPod(const ObjectPtr& pod, bool created, bool deleted) {
  if (!Serves(*pod)) return;
  const std::string key = obj::Key(*pod);
  objects_->SetPodReferences(key, std::string(obj::Namespace(*pod)),
                             deleted ? PodReferences{} : CollectReferences(*pod));
  if (created) {
    std::lock_guard lock(mutex_);
    twins_[key].virtual_seen = clock_.Now();
  }
  queue_->Add(key);
}

void PodController::OnHostPod(const ObjectPtr& pod, bool deleted) {
  const std::string key = KeyOfHostObject(*pod);
  if (key.empty()) return;
  {
    std::lock_guard lock(mutex_);
    auto it = twins_.find(key);
    if (!deleted && it != twins_.end()) it->second.created_unseen = false;
    const bool running_now = !deleted && Phase(*pod) == "Running";
    if (running_now && (it == twins_.end() || !it->second.host_running)) {
      Twin& twin = twins_[key];
      twin.host_running = true;
      twin.host_running_seen = clock_.Now();
    } else if (!running_now && it != twins_.end()) {
      it->second.host_running = false;
    }
  }
  queue_->Add(key);
}

void PodController::Start() {
  virtual_pods_->Start();
  host_pods_->Start();
  objects_->Start();
  starter_ = std::thread([this] {
    SetCurrentThreadName("pod-starter");
    StartWhenSynced();
  });
}

void PodController::StartWhenSynced() {
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
    if (virtual_pods_->WaitForSync(deadline) && host_pods_->WaitForSync(deadline) &&
        objects_->HasSynced()) {
      break;
    }
  }
  // Every pod's references were reported by the initial list's handlers: copies nobody needs
  // can go. Every twin and token Secret is looked at once, so that orphans are collected.
  objects_->ReferencesKnown();
  host_pods_->store().ForEach([&](const Object& twin) {
    if (auto key = KeyOfHostObject(twin); !key.empty()) queue_->Add(key);
  });
  std::lock_guard lock(mutex_);
  if (stopping_) return;
  synced_ = true;
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    workers_.emplace_back([this] {
      SetCurrentThreadName("pod-worker");
      Worker();
    });
  }
  spdlog::info("pod controller synced: {} virtual pods, {} host pods",
               virtual_pods_->store().Size(), host_pods_->store().Size());
}

void PodController::RequestStop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  queue_->ShutDown();
  objects_->RequestStop();
}

void PodController::Stop() {
  RequestStop();
  if (starter_.joinable()) starter_.join();
  for (auto& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
  objects_->Stop();
  virtual_pods_->Stop();
  host_pods_->Stop();
}

bool PodController::Synced() const {
  std::lock_guard lock(mutex_);
  return synced_;
}

Status PodController::Check() const {
  if (Synced()) return Ok();
  return MakeError(ErrorCode::kUnavailableLocally, "pod caches are not synced yet");
}

ObjectPtr PodController::CachedTwin(const std::string& host_name) const {
  return host_pods_->store().Get(options_.translation.host_namespace + "/" + host_name);
}

void PodController::Worker() {
  while (auto key = queue_->Get()) {
    Status status = Reconcile(*key);
    if (status) {
      queue_->Forget(*key);
    } else if (status.error().code() != ErrorCode::kCancelled) {
      metrics_->CountError(ReasonOf(status.error()));
      // Conflicts are the cache being behind: the informer brings the news; retry quietly.
      if (status.error().code() == ErrorCode::kConflict) {
        spdlog::debug("pod {}: {}", *key, status.error().ToString());
      } else {
        spdlog::warn("pod {}: {}", *key, status.error().ToString());
      }
      queue_->AddRateLimited(*key);
    }
    queue_->Done(*key);
  }
}

void PodController::Forget(const std::string& key) {
  {
    std::lock_guard lock(mutex_);
    twins_.erase(key);
  }
  metrics_->SetState(key, "");
}

void PodController::Event(const Object& involved, std::string_view type, std::string_view reason,
                          std::string message) {
  if (!options_.events) return;
  // Objects of a list carry no kind; the event's reference needs it.
  Object reference = involved;
  reference["apiVersion"] = "v1";
  reference["kind"] = "Pod";
  options_.events(reference, type, reason, std::move(message));
}

Result<ObjectPtr> PodController::FindTwin(const std::string& key, const std::string& host_name) {
  ObjectPtr twin = host_pods_->store().Get(options_.translation.host_namespace + "/" + host_name);
  if (twin != nullptr) return twin;
  bool created_unseen = false;
  {
    std::lock_guard lock(mutex_);
    auto it = twins_.find(key);
    created_unseen = it != twins_.end() && it->second.created_unseen;
  }
  if (!created_unseen) return ObjectPtr();
  auto fetched = host_client_.Get(Pods(), options_.translation.host_namespace, host_name);
  if (fetched) return std::make_shared<const Object>(std::move(*fetched));
  if (fetched.error().code() == ErrorCode::kNotFound) return ObjectPtr();
  return tl::unexpected(fetched.error());
}

Status PodController::Reconcile(const std::string& key) {
  std::string name;
  const std::string ns = SplitNamespace(key, &name);
  const std::string host_name = HostName(options_.translation.cluster, ns, name);
  ObjectPtr virtual_pod = virtual_pods_->store().Get(key);
  if (virtual_pod != nullptr && !Serves(*virtual_pod)) return Ok();
  auto found = FindTwin(key, host_name);
  if (!found) return tl::unexpected(found.error());
  ObjectPtr twin = *found;

  if (twin != nullptr && !OriginMatches(*twin, options_.translation.cluster, ns, name)) {
    bool report = false;
    {
      std::lock_guard lock(mutex_);
      report = !std::exchange(twins_[key].conflict_reported, true);
    }
    if (virtual_pod != nullptr && report) {
      Status owned = CheckOwnership(*twin, options_.translation.cluster, ns, name);
      metrics_->CountError("host_name_conflict");
      Event(*virtual_pod, "Warning", kReasonConflict, owned.error().message());
    }
    return Ok();
  }
  if (virtual_pod == nullptr) return CollectOrphan(key, twin);
  metrics_->SetState(key, StateOf(*virtual_pod));

  // A twin of an earlier pod of the same name: it goes first.
  if (twin != nullptr && obj::Annotation(*twin, kAnnotationOriginUid) != obj::Uid(*virtual_pod)) {
    if (!Terminating(*twin)) return DeleteHostPod(*twin, std::nullopt);
    return Ok();
  }
  if (Terminating(*virtual_pod)) return SyncDeletion(*virtual_pod, twin, key);
  if (twin == nullptr) {
    if (Terminal(*virtual_pod)) return Ok();  // finished pods are never started again
    if (WasStarted(*virtual_pod)) return HandleLostTwin(*virtual_pod, key);
    return CreateTwin(*virtual_pod, key);
  }
  if (Terminating(*twin)) {
    if (auto status = MirrorHostDeletion(*virtual_pod, *twin); !status) return status;
    return SyncStatus(*virtual_pod, *twin, key);
  }
  return SyncRunning(*virtual_pod, *twin, key);
}

TranslationContext PodController::ContextFor(const Object& virtual_pod) const {
  TranslationContext ctx = options_.translation;
  ctx.virtual_node_name = std::string(obj::String(virtual_pod, {"spec", "nodeName"}));
  if (options_.per_host_node) {
    ctx.node_selector[std::string(kHostNameLabel)] =
        ctx.virtual_node_name.substr(options_.node_prefix.size());
  }
  return ctx;
}

Status PodController::CreateTwin(const Object& virtual_pod, const std::string& key) {
  const std::string ns(obj::Namespace(virtual_pod));
  TranslationContext ctx = ContextFor(virtual_pod);
  // Translate first: a pod that is denied needs no copies and no token.
  ctx.service_account_token_secret = HostTokenSecretName(ctx.cluster, ns, obj::Name(virtual_pod));
  auto translated = TranslatePod(virtual_pod, ctx);
  if (!translated) {
    if (translated.error().code() == ErrorCode::kForbidden) {
      return MarkDenied(virtual_pod, translated.error());
    }
    metrics_->CountError("translation");
    Event(virtual_pod, "Warning", kReasonTranslation, translated.error().message());
    return Ok();  // the same pod would fail the same way: wait for it to change
  }
  if (auto status = objects_->EnsureSynced(ns, CollectReferences(virtual_pod)); !status) {
    return status;
  }
  auto token = tokens_->Ensure(virtual_pod);
  if (!token) return tl::unexpected(token.error());
  if (*token) ScheduleTokenRenewal(key, (*token)->renew_at);

  auto created = host_client_.Create(Pods(), ctx.host_namespace, *translated);
  if (!created) {
    if (created.error().code() != ErrorCode::kAlreadyExists) return tl::unexpected(created.error());
    // Created by an earlier attempt (or run) that we have not seen yet: look at it next time.
    std::lock_guard lock(mutex_);
    twins_[key].created_unseen = true;
    queue_->Add(key);
    return Ok();
  }
  metrics_->CountHostWrite("create");
  std::optional<Clock::TimePoint> seen;
  {
    std::lock_guard lock(mutex_);
    Twin& twin = twins_[key];
    twin.created_unseen = true;
    seen = std::exchange(twin.virtual_seen, std::nullopt);
  }
  if (seen) metrics_->ObserveLatency(PodMetrics::kCreateStage, clock_.Now() - *seen);
  spdlog::debug("pod {}: created host pod {}", key, obj::Name(*created));
  return SyncStatus(virtual_pod, *created, key);
}

Status PodController::SyncRunning(const Object& virtual_pod, const Object& host_pod,
                                  const std::string& key) {
  TranslationContext ctx = ContextFor(virtual_pod);
  ctx.service_account_token_secret =
      HostTokenSecretName(ctx.cluster, obj::Namespace(virtual_pod), obj::Name(virtual_pod));
  if (!Terminal(host_pod)) {
    auto token = tokens_->Ensure(virtual_pod);
    if (!token) return tl::unexpected(token.error());
    if (*token) ScheduleTokenRenewal(key, (*token)->renew_at);
  }
  auto patch = ComputeHostPodPatch(virtual_pod, host_pod, ctx);
  if (!patch) {
    metrics_->CountError("translation");
    Event(virtual_pod, "Warning", kReasonTranslation, patch.error().message());
  } else if (*patch) {
    auto patched = host_client_.Patch(Pods(), ctx.host_namespace, obj::Name(host_pod),
                                      hostclient::PatchType::kStrategicMerge, **patch);
    if (!patched) return tl::unexpected(patched.error());
    metrics_->CountHostWrite("patch");
  }
  if (!Terminal(host_pod)) {
    if (auto status = SyncEphemeralContainers(virtual_pod, host_pod, ctx, key); !status) {
      return status;
    }
  }
  return SyncStatus(virtual_pod, host_pod, key);
}

Status PodController::SyncEphemeralContainers(const Object& virtual_pod, const Object& host_pod,
                                              const TranslationContext& ctx,
                                              const std::string& key) {
  auto ephemeral = TranslateEphemeralContainers(virtual_pod, ctx);
  if (!ephemeral) return Ok();  // ComputeHostPodPatch reported the same translation error
  // The API never removes an ephemeral container: a pod without any never had one denied.
  if (ephemeral->allowed.empty() && ephemeral->denied.empty()) return Ok();
  std::vector<DeniedContainer> newly_denied;
  {
    std::lock_guard lock(mutex_);
    std::vector<DeniedContainer>& known = twins_[key].denied_ephemeral;
    for (const auto& denied : ephemeral->denied) {
      const bool reported = std::ranges::any_of(
          known, [&](const DeniedContainer& d) { return d.name == denied.name; });
      if (!reported) newly_denied.push_back(denied);
    }
    known = ephemeral->denied;
  }
  for (const auto& denied : newly_denied) {
    metrics_->CountError("privilege_denied");
    Event(virtual_pod, "Warning", kReasonDenied,
          "ephemeral container " + denied.name + " not started: " + denied.message);
  }

  // The API never removes or changes an ephemeral container: only new names need adding.
  json::array missing;
  const json::value* present = obj::Find(host_pod, {"spec", "ephemeralContainers"});
  for (const auto& container : ephemeral->allowed) {
    const std::string_view name = obj::String(container.get_object(), {"name"});
    const bool on_host = present != nullptr && present->is_array() &&
                         std::ranges::any_of(present->get_array(), [&](const json::value& c) {
                           return c.is_object() && obj::String(c.get_object(), {"name"}) == name;
                         });
    if (!on_host) missing.push_back(container);
  }
  if (missing.empty()) return Ok();
  Object patch;
  obj::EnsureObject(patch, {"spec"})["ephemeralContainers"] = std::move(missing);
  auto patched = host_client_.Patch(Pods(), ctx.host_namespace, obj::Name(host_pod),
                                    hostclient::PatchType::kStrategicMerge, obj::Serialize(patch),
                                    {}, "ephemeralcontainers");
  if (!patched) {
    if (patched.error().code() == ErrorCode::kInvalid ||
        patched.error().code() == ErrorCode::kForbidden) {
      // The same containers would be refused again: say so where the user looks, then wait for
      // the pod to change.
      metrics_->CountError("ephemeral_rejected");
      Event(virtual_pod, "Warning", kReasonEphemeralRejected,
            "the host refused the ephemeral containers: " + patched.error().message());
      return Ok();
    }
    return tl::unexpected(patched.error());
  }
  metrics_->CountHostWrite("ephemeral_containers");
  return Ok();
}

Status PodController::SyncStatus(const Object& virtual_pod, const Object& host_pod,
                                 const std::string& key) {
  Object status = TranslateStatusBack(host_pod, virtual_pod, options_.status);
  {
    std::lock_guard lock(mutex_);
    if (auto it = twins_.find(key); it != twins_.end()) {
      ReportDeniedEphemeralContainers(status, it->second.denied_ephemeral);
    }
  }
  const Object* current = obj::ObjectAt(virtual_pod, {"status"});
  if (current != nullptr && StatusEqual(status, *current)) return Ok();
  const bool becomes_running = Phase(host_pod) == "Running" && Phase(virtual_pod) != "Running";
  const Clock::TimePoint started = clock_.Now();
  if (auto written = WriteVirtualStatus(virtual_pod, std::move(status)); !written) return written;
  if (becomes_running) {
    std::optional<Clock::TimePoint> seen;
    {
      std::lock_guard lock(mutex_);
      auto it = twins_.find(key);
      if (it != twins_.end()) seen = std::exchange(it->second.host_running_seen, std::nullopt);
    }
    // The cache can show the twin Running before our handler for that change has run: then the
    // change was seen no later than this reconcile read it.
    metrics_->ObserveLatency(PodMetrics::kRunningStage, clock_.Now() - seen.value_or(started));
  }
  return Ok();
}

Status PodController::WriteVirtualStatus(const Object& virtual_pod, Object status) {
  Object updated = virtual_pod;
  updated["status"] = std::move(status);
  auto written = virtual_client_.UpdateStatus(Pods(), obj::Namespace(virtual_pod), updated);
  if (!written) {
    // A pod deleted meanwhile needs no status; its deletion is on its way to us.
    if (written.error().code() == ErrorCode::kNotFound) return Ok();
    return tl::unexpected(written.error());
  }
  metrics_->SetState(obj::Key(virtual_pod), StateOf(*written));
  return Ok();
}

Status PodController::SyncDeletion(const Object& virtual_pod, const ObjectPtr& twin,
                                   const std::string& key) {
  const int64_t grace = GraceSeconds(virtual_pod).value_or(kDefaultGraceSeconds);
  if (twin != nullptr) {
    // Pass the user's grace period on; a shorter second deletion shortens the host's too.
    const std::optional<int64_t> host_grace = GraceSeconds(*twin);
    if (!Terminating(*twin) || !host_grace || *host_grace > grace) {
      if (auto status = DeleteHostPod(*twin, grace); !status) return status;
    }
    // Containers stopping on the host: their statuses flow back until the twin is gone.
    return SyncStatus(virtual_pod, *twin, key);
  }
  // The twin is gone: the pod has stopped everywhere, so it may go (as the kubelet does).
  if (auto status = tokens_->Remove(std::string(obj::Namespace(virtual_pod)),
                                    std::string(obj::Name(virtual_pod)));
      !status) {
    return status;
  }
  if (auto status = DeleteVirtualPod(virtual_pod, 0); !status) return status;
  Forget(key);
  return Ok();
}

Status PodController::MirrorHostDeletion(const Object& virtual_pod, const Object& host_pod) {
  // The host deleted or evicted the twin: on a real node that deletion would have been the
  // pod's own, so the virtual pod goes the same way, with the time the host left it.
  const int64_t grace = GraceSeconds(host_pod).value_or(kDefaultGraceSeconds);
  Event(virtual_pod, "Warning", "HostPodDeleted",
        "the host cluster is deleting this pod's host twin " + options_.translation.host_namespace +
            "/" + std::string(obj::Name(host_pod)) +
            " (eviction or deletion on the host); deleting the pod with grace period " +
            std::to_string(grace) + "s");
  return DeleteVirtualPod(virtual_pod, grace);
}

Status PodController::HandleLostTwin(const Object& virtual_pod, const std::string& key) {
  const std::string host_name =
      HostName(options_.translation.cluster, obj::Namespace(virtual_pod), obj::Name(virtual_pod));
  // The cache says the twin is gone; make sure before failing a pod that ran.
  auto fetched = host_client_.Get(Pods(), options_.translation.host_namespace, host_name);
  if (fetched) return Ok();  // the informer will deliver it
  if (fetched.error().code() != ErrorCode::kNotFound) return tl::unexpected(fetched.error());
  Object status = virtual_pod.contains("status") && virtual_pod.at("status").is_object()
                      ? virtual_pod.at("status").get_object()
                      : Object{};
  status["phase"] = "Failed";
  status["reason"] = kReasonLost;
  const std::string message = "the pod's host twin " + options_.translation.host_namespace + "/" +
                              host_name + " was deleted by the host cluster";
  status["message"] = message;
  // Containers that were running are gone with the twin; the kubelet reports such containers
  // as terminated with ContainerStatusUnknown.
  for (const char* list : {"initContainerStatuses", "containerStatuses"}) {
    json::value* statuses = status.if_contains(list);
    if (statuses == nullptr || !statuses->is_array()) continue;
    for (auto& entry : statuses->get_array()) {
      if (!entry.is_object()) continue;
      Object& container = entry.get_object();
      const Object* state = obj::ObjectAt(container, {"state"});
      if (state != nullptr && state->contains("terminated")) continue;
      container["ready"] = false;
      container["state"] = Object{
          {"terminated",
           Object{{"exitCode", 137}, {"reason", "ContainerStatusUnknown"}, {"message", message}}}};
    }
  }
  metrics_->CountError("host_pod_lost");
  Event(virtual_pod, "Warning", kReasonLost, message);
  if (Phase(virtual_pod) != "Failed") {
    if (auto written = WriteVirtualStatus(virtual_pod, std::move(status)); !written) {
      return written;
    }
  }
  if (auto status = DeleteVirtualPod(virtual_pod, 0); !status) return status;
  Forget(key);
  return Ok();
}

Status PodController::CollectOrphan(const std::string& key, const ObjectPtr& twin) {
  std::string name;
  const std::string ns = SplitNamespace(key, &name);
  if (twin != nullptr && !Terminating(*twin)) {
    // Our cache may miss a pod that exists (it is filtered by node): ask before deleting.
    auto fetched = virtual_client_.Get(Pods(), ns, name);
    if (fetched && obj::Uid(*fetched) == obj::Annotation(*twin, kAnnotationOriginUid)) {
      if (Serves(*fetched)) return Ok();  // the informer will deliver it
    } else if (!fetched && fetched.error().code() != ErrorCode::kNotFound) {
      return tl::unexpected(fetched.error());
    }
    spdlog::info("pod {}: deleting host pod {}, whose virtual pod is gone", key, obj::Name(*twin));
    if (auto status = DeleteHostPod(*twin, std::nullopt); !status) return status;
  }
  if (twin == nullptr) {
    if (auto status = tokens_->Remove(ns, name); !status) return status;
    Forget(key);
  }
  return Ok();
}

Status PodController::MarkDenied(const Object& virtual_pod, const Error& denial) {
  const std::string message = "vkubelet refused to run this pod on the host: " + denial.message();
  if (Phase(virtual_pod) == "Failed" &&
      obj::String(virtual_pod, {"status", "reason"}) == kReasonDenied) {
    return Ok();
  }
  metrics_->CountError("privilege_denied");
  Event(virtual_pod, "Warning", kReasonDenied, message);
  Object status = virtual_pod.contains("status") && virtual_pod.at("status").is_object()
                      ? virtual_pod.at("status").get_object()
                      : Object{};
  status["phase"] = "Failed";
  status["reason"] = kReasonDenied;
  status["message"] = message;
  return WriteVirtualStatus(virtual_pod, std::move(status));
}

Status PodController::DeleteVirtualPod(const Object& virtual_pod, int64_t grace_seconds) {
  hostclient::DeleteOptions options;
  options.grace_period_seconds = grace_seconds;
  options.precondition_uid = std::string(obj::Uid(virtual_pod));
  auto deleted =
      virtual_client_.Delete(Pods(), obj::Namespace(virtual_pod), obj::Name(virtual_pod), options);
  if (!deleted && deleted.error().code() != ErrorCode::kNotFound) {
    return tl::unexpected(deleted.error());
  }
  return Ok();
}

Status PodController::DeleteHostPod(const Object& host_pod, std::optional<int64_t> grace_seconds) {
  hostclient::DeleteOptions options;
  options.grace_period_seconds = grace_seconds;
  options.precondition_uid = std::string(obj::Uid(host_pod));
  auto deleted = host_client_.Delete(Pods(), options_.translation.host_namespace,
                                     obj::Name(host_pod), options);
  if (!deleted && deleted.error().code() != ErrorCode::kNotFound) {
    return tl::unexpected(deleted.error());
  }
  if (deleted) metrics_->CountHostWrite("delete");
  return Ok();
}

void PodController::ScheduleTokenRenewal(const std::string& key,
                                         std::chrono::system_clock::time_point at) {
  const auto delay = at - std::chrono::system_clock::now();
  queue_->AddAfter(key,
                   std::max<Clock::Duration>(std::chrono::duration_cast<Clock::Duration>(delay),
                                             Clock::Duration(0)));
}

}  // namespace vk::syncer::shared
