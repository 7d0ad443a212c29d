#include "syncer/shared/object_syncer.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include "hostclient/base/thread_name.h"
#include "hostclient/informer.h"
#include "hostclient/lister_watcher.h"
#include "hostclient/resource.h"
#include "hostclient/rest_client.h"
#include "syncer/shared/host_naming.h"
#include "syncer/shared/object_translator.h"
#include "syncer/work_queue.h"

namespace vk::syncer::shared {
namespace {

// Token Secrets (origin kind Pod) share the host Secrets' cache, one per pod. Their readers (the
// pod controller's TokenSecrets) look at marks only, and the token and CA are most of their size.
ObjectPtr WithoutTokenData(ObjectPtr secret) {
  if (obj::Annotation(*secret, kAnnotationOriginKind) != "Pod" || !secret->contains("data")) {
    return secret;
  }
  Object kept;
  kept.reserve(secret->size());
  for (const auto& [key, value] : *secret) {
    if (key != "data") kept.emplace(key, value);
  }
  return std::make_shared<const Object>(std::move(kept));
}

// Fields of a copy that follow the virtual object; metadata is compared separately.
constexpr const char* kContentFields[] = {"data", "binaryData", "stringData", "type", "immutable"};

bool SameField(const Object& a, const Object& b, std::string_view key) {
  const auto* x = a.if_contains(key);
  const auto* y = b.if_contains(key);
  if (x == nullptr || y == nullptr) return x == y;
  return *x == *y;
}

bool CopyIsCurrent(const Object& desired, const Object& current) {
  for (const char* field : kContentFields) {
    if (!SameField(desired, current, field)) return false;
  }
  const Object* want = obj::ObjectAt(desired, {"metadata"});
  const Object* have = obj::ObjectAt(current, {"metadata"});
  if (want == nullptr || have == nullptr) return false;
  return SameField(*want, *have, "labels") && SameField(*want, *have, "annotations");
}

std::string HostCopySelector(std::string_view cluster) {
  return std::string(kLabelCluster) + "=" + std::string(cluster) + "," +
         std::string(kLabelManagedBy) + "=" + std::string(kManagedByValue);
}

}  // namespace

struct ObjectSyncer::Metrics {
  prometheus::Family<prometheus::Counter>* syncs = nullptr;
  prometheus::Family<prometheus::Counter>* errors = nullptr;
};

// One kind's informers and reference counts.
struct ObjectSyncer::KindState {
  std::string kind;  // "ConfigMap" / "Secret"
  hostclient::GroupVersionResource resource;
  std::unique_ptr<hostclient::SharedInformer> virtual_informer;
  std::unique_ptr<hostclient::SharedInformer> host_informer;
  std::map<std::string, int> references;  // virtual ns/name -> pods referencing it (mutex_)
};

ObjectSyncer::ObjectSyncer(hostclient::RestClient& virtual_client,
                           hostclient::RestClient& host_client, const TranslationContext& ctx,
                           prometheus::Registry* metrics)
    : virtual_client_(virtual_client),
      host_client_(host_client),
      ctx_(ctx),
      metrics_(std::make_unique<Metrics>()) {
  WorkQueueOptions queue_options;
  queue_options.name = "object-syncer";
  queue_options.metrics = metrics;
  queue_ = std::make_unique<WorkQueue>(std::move(queue_options));
  if (metrics != nullptr) {
    metrics_->syncs = &prometheus::BuildCounter()
                           .Name("vkubelet_object_syncs_total")
                           .Help("Host copies of ConfigMaps and Secrets written, by operation.")
                           .Register(*metrics);
    metrics_->errors = &prometheus::BuildCounter()
                            .Name("vkubelet_object_sync_errors_total")
                            .Help("Failed writes of host copies of ConfigMaps and Secrets.")
                            .Register(*metrics);
  }

  auto make_state = [&](Kind kind) {
    auto state = std::make_unique<KindState>();
    const bool config_map = kind == Kind::kConfigMap;
    state->kind = config_map ? "ConfigMap" : "Secret";
    state->resource =
        config_map ? hostclient::resources::ConfigMaps() : hostclient::resources::Secrets();
    hostclient::InformerOptions virtual_options;
    virtual_options.name = std::string("virtual-") + (config_map ? "configmaps" : "secrets");
    virtual_options.deliver_old_objects = false;
    state->virtual_informer = std::make_unique<hostclient::SharedInformer>(
        std::make_unique<hostclient::RestListerWatcher>(virtual_client_, state->resource),
        virtual_options);
    hostclient::InformerOptions host_options;
    host_options.name = std::string("host-") + (config_map ? "configmaps" : "secrets");
    host_options.deliver_old_objects = false;
    if (!config_map) host_options.reflector.transform = WithoutTokenData;
    state->host_informer = std::make_unique<hostclient::SharedInformer>(
        std::make_unique<hostclient::RestListerWatcher>(
            host_client_, state->resource, ctx_.host_namespace, HostCopySelector(ctx_.cluster)),
        host_options);

    // A virtual object changed: its copy follows, if anyone references it.
    auto on_virtual = [this, kind](const ObjectPtr& object) {
      const std::string ns(obj::Namespace(*object));
      const std::string name(obj::Name(*object));
      {
        std::lock_guard lock(mutex_);
        const auto& refs = StateOf(kind).references;
        auto it = refs.find(ns + "/" + name);
        if (it == refs.end() || it->second <= 0) return;
      }
      queue_->Add(QueueKey(kind, ns, name));
    };
    state->virtual_informer->AddEventHandler(
        {[on_virtual](const ObjectPtr& o, bool) { on_virtual(o); },
         [on_virtual](const ObjectPtr& old_object, const ObjectPtr& o) {
           if (old_object != o) on_virtual(o);
         },
         on_virtual});
    // A host copy changed or vanished: check it (someone may have edited or deleted it). Token
    // Secrets (origin kind Pod) belong to the pod controller.
    auto on_host = [this, kind](const ObjectPtr& object) {
      const std::string origin_kind(obj::Annotation(*object, kAnnotationOriginKind));
      if (origin_kind != (kind == Kind::kConfigMap ? "ConfigMap" : "Secret")) return;
      queue_->Add(QueueKey(kind, std::string(obj::Annotation(*object, kAnnotationOriginNamespace)),
                           std::string(obj::Annotation(*object, kAnnotationOriginName))));
    };
    state->host_informer->AddEventHandler(
        {[on_host](const ObjectPtr& o, bool) { on_host(o); },
         [on_host](const ObjectPtr& old_object, const ObjectPtr& o) {
           if (old_object != o) on_host(o);
         },
         on_host});
    return state;
  };
  config_maps_ = make_state(Kind::kConfigMap);
  secrets_ = make_state(Kind::kSecret);
}

ObjectSyncer::~ObjectSyncer() { Stop(); }

ObjectSyncer::KindState& ObjectSyncer::StateOf(Kind kind) {
  return kind == Kind::kConfigMap ? *config_maps_ : *secrets_;
}
const ObjectSyncer::KindState& ObjectSyncer::StateOf(Kind kind) const {
  return kind == Kind::kConfigMap ? *config_maps_ : *secrets_;
}

std::string ObjectSyncer::QueueKey(Kind kind, const std::string& ns, const std::string& name) {
  return std::string(kind == Kind::kConfigMap ? "c/" : "s/") + ns + "/" + name;
}

void ObjectSyncer::Start() {
  for (KindState* state : {config_maps_.get(), secrets_.get()}) {
    state->virtual_informer->Start();
    state->host_informer->Start();
  }
  if (!worker_.joinable())
    worker_ = std::thread([this] {
      SetCurrentThreadName("object-syncer");
      Worker();
    });
}

bool ObjectSyncer::HasSynced() const {
  for (const KindState* state : {config_maps_.get(), secrets_.get()}) {
    if (!state->virtual_informer->HasSynced() || !state->host_informer->HasSynced()) return false;
  }
  return true;
}

void ObjectSyncer::ReferencesKnown() {
  if (references_known_.exchange(true)) return;
  // Look at every copy once: those nobody references any more are collected.
  for (Kind kind : {Kind::kConfigMap, Kind::kSecret}) {
    StateOf(kind).host_informer->store().ForEach([&](const Object& copy) {
      if (obj::Annotation(copy, kAnnotationOriginKind) != StateOf(kind).kind) return;
      queue_->Add(QueueKey(kind, std::string(obj::Annotation(copy, kAnnotationOriginNamespace)),
                           std::string(obj::Annotation(copy, kAnnotationOriginName))));
    });
  }
}

void ObjectSyncer::RequestStop() { queue_->ShutDown(); }

void ObjectSyncer::Stop() {
  queue_->ShutDown();
  if (worker_.joinable()) worker_.join();
  for (KindState* state : {config_maps_.get(), secrets_.get()}) {
    state->virtual_informer->Stop();
    state->host_informer->Stop();
  }
}

void ObjectSyncer::AdjustReference(Kind kind, const std::string& ns, const std::string& name,
                                   int delta) {
  auto& refs = StateOf(kind).references;
  const std::string key = ns + "/" + name;
  int& count = refs[key];
  const bool was_referenced = count > 0;
  count += delta;
  if (count <= 0) refs.erase(key);
  // Only the last reference going away needs work here: new references are synced by
  // EnsureSynced before their pod's twin is created.
  if (was_referenced && delta < 0 && !refs.contains(key)) queue_->Add(QueueKey(kind, ns, name));
}

void ObjectSyncer::SetPodReferences(const std::string& pod_key, const std::string& ns,
                                    PodReferences refs) {
  std::lock_guard lock(mutex_);
  auto apply = [&](const std::string& pod_ns, const PodReferences& r, int delta) {
    for (const auto& name : r.config_maps) AdjustReference(Kind::kConfigMap, pod_ns, name, delta);
    for (const auto& name : r.secrets) AdjustReference(Kind::kSecret, pod_ns, name, delta);
  };
  // Add before removing, so that a reference kept across an update never drops to zero.
  const bool empty = refs.config_maps.empty() && refs.secrets.empty();
  auto it = pods_.find(pod_key);
  if (!empty) apply(ns, refs, +1);
  if (it != pods_.end()) {
    apply(it->second.first, it->second.second, -1);
    pods_.erase(it);
  }
  if (!empty) pods_.emplace(pod_key, std::make_pair(ns, std::move(refs)));
}

Status ObjectSyncer::EnsureSynced(const std::string& ns, const PodReferences& refs) {
  for (const auto& name : refs.config_maps) {
    if (auto status = Sync(Kind::kConfigMap, ns, name, false); !status) return status;
  }
  for (const auto& name : refs.secrets) {
    if (auto status = Sync(Kind::kSecret, ns, name, false); !status) return status;
  }
  return Ok();
}

ObjectPtr ObjectSyncer::VirtualConfigMap(const std::string& ns, const std::string& name) const {
  return config_maps_->virtual_informer->store().Get(ns + "/" + name);
}

ObjectPtr ObjectSyncer::HostSecret(const std::string& name) const {
  return secrets_->host_informer->store().Get(ctx_.host_namespace + "/" + name);
}

Status ObjectSyncer::Sync(Kind kind, const std::string& ns, const std::string& name, bool collect) {
  KindState& state = StateOf(kind);
  bool referenced = false;
  {
    std::lock_guard lock(mutex_);
    auto it = state.references.find(ns + "/" + name);
    referenced = it != state.references.end() && it->second > 0;
  }
  const std::string host_name = HostName(ctx_.cluster, ns, name);
  ObjectPtr current = state.host_informer->store().Get(ctx_.host_namespace + "/" + host_name);
  ObjectPtr source = state.virtual_informer->store().Get(ns + "/" + name);
  if (source == nullptr && !collect) {
    // A pod is about to start: an object created just before it may not have reached our cache
    // yet (each informer has its own watch), so ask the API server before going without it.
    auto fetched = virtual_client_.Get(state.resource, ns, name);
    if (!fetched && !fetched.error().IsNotFound()) {
      if (metrics_->errors)
        metrics_->errors->Add({{"kind", state.kind}, {"reason", "get"}}).Increment();
      return tl::unexpected(fetched.error());
    }
    if (fetched) source = std::make_shared<const Object>(std::move(*fetched));
  }

  if (source != nullptr && (referenced || !collect)) {
    Object virtual_object = *source;
    virtual_object["kind"] = state.kind;
    virtual_object["apiVersion"] = "v1";
    return WriteCopy(state, TranslateObjectForSync(virtual_object, ctx_), current);
  }
  // Not wanted (or gone): collect the copy, once every pod's references are known.
  if (!collect || current == nullptr || !references_known_) return Ok();
  if (!OriginMatches(*current, ctx_.cluster, ns, name)) return Ok();
  hostclient::DeleteOptions options;
  options.precondition_uid = std::string(obj::Uid(*current));
  auto deleted = host_client_.Delete(state.resource, ctx_.host_namespace, host_name, options);
  if (!deleted && deleted.error().code() != ErrorCode::kNotFound &&
      deleted.error().code() != ErrorCode::kConflict) {
    if (metrics_->errors)
      metrics_->errors->Add({{"kind", state.kind}, {"reason", "delete"}}).Increment();
    return tl::unexpected(deleted.error());
  }
  if (deleted && metrics_->syncs) {
    metrics_->syncs->Add({{"kind", state.kind}, {"op", "delete"}}).Increment();
  }
  spdlog::debug("deleted host copy {} of {} {}/{}", host_name, state.kind, ns, name);
  return Ok();
}

Status ObjectSyncer::WriteCopy(KindState& state, const Object& desired, const ObjectPtr& cached) {
  const std::string name(obj::Name(desired));
  auto count = [&](const char* op) {
    if (metrics_->syncs) metrics_->syncs->Add({{"kind", state.kind}, {"op", op}}).Increment();
  };
  auto fail = [&](const Error& error, const char* reason) -> Status {
    if (metrics_->errors)
      metrics_->errors->Add({{"kind", state.kind}, {"reason", reason}}).Increment();
    Error copy = error;
    copy.Context("sync host copy " + name);
    return tl::unexpected(std::move(copy));
  };
  Object current;
  if (cached != nullptr) {
    current = *cached;
  } else {
    auto created = host_client_.Create(state.resource, ctx_.host_namespace, desired);
    if (created) {
      count("create");
      return Ok();
    }
    if (created.error().code() != ErrorCode::kAlreadyExists) return fail(created.error(), "create");
    // Our cache is behind: read what is there.
    auto fetched = host_client_.Get(state.resource, ctx_.host_namespace, name);
    if (!fetched) return fail(fetched.error(), "get");
    current = std::move(*fetched);
  }
  const std::string origin_ns(obj::Annotation(desired, kAnnotationOriginNamespace));
  const std::string origin_name(obj::Annotation(desired, kAnnotationOriginName));
  if (auto owned = CheckOwnership(current, ctx_.cluster, origin_ns, origin_name); !owned) {
    return fail(owned.error(), "conflict");
  }
  if (CopyIsCurrent(desired, current)) return Ok();
  if (obj::Find(current, {"immutable"}) != nullptr && current.at("immutable") == true) {
    // An immutable copy cannot change: replace it.
    hostclient::DeleteOptions options;
    options.precondition_uid = std::string(obj::Uid(current));
    auto deleted = host_client_.Delete(state.resource, ctx_.host_namespace, name, options);
    if (!deleted && deleted.error().code() != ErrorCode::kNotFound) {
      return fail(deleted.error(), "delete");
    }
    auto created = host_client_.Create(state.resource, ctx_.host_namespace, desired);
    if (!created) return fail(created.error(), "create");
    count("create");
    return Ok();
  }
  Object update = desired;
  update["metadata"].as_object()["resourceVersion"] = obj::ResourceVersion(current);
  auto updated = host_client_.Update(state.resource, ctx_.host_namespace, update);
  if (!updated) return fail(updated.error(), "update");
  count("update");
  return Ok();
}

void ObjectSyncer::Worker() {
  while (auto key = queue_->Get()) {
    const Kind kind = (*key)[0] == 'c' ? Kind::kConfigMap : Kind::kSecret;
    const std::string rest = key->substr(2);
    const size_t slash = rest.find('/');
    Status status = Sync(kind, rest.substr(0, slash), rest.substr(slash + 1), true);
    if (status) {
      queue_->Forget(*key);
    } else if (status.error().code() != ErrorCode::kCancelled) {
      spdlog::warn("{}", status.error().ToString());
      queue_->AddRateLimited(*key);
    }
    queue_->Done(*key);
  }
}

}  // namespace vk::syncer::shared
