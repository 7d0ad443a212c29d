#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hostclient/base/error.h"
#include "hostclient/base/object.h"
#include "tests/kubesim/resource_catalog.h"

namespace vk::kubesim {

// Query of a list or watch, already parsed from the URL.
struct ListQuery {
  std::string ns;              // "" = all namespaces (or cluster-scoped)
  std::string label_selector;  // Kubernetes label selector syntax (=, ==, !=, in, notin, exists, !)
  std::string field_selector;  // metadata.name, metadata.namespace, spec.nodeName, status.phase...
  int64_t limit = 0;
  std::string continue_token;
  std::string resource_version;        // "" | "0" | "<n>"
  std::string resource_version_match;  // "" | "NotOlderThan" | "Exact"
  bool allow_bookmarks = false;        // watch only
  // Watch only (watch-list): synthetic ADDED events, then a BOOKMARK annotated
  // "k8s.io/initial-events-end": "true". Needs resource_version_match NotOlderThan and
  // allow_bookmarks, as kube requires.
  bool send_initial_events = false;
};

struct DeleteRequest {
  std::optional<int64_t> grace_period_seconds;
  std::string precondition_uid;
  std::string precondition_resource_version;
  std::string propagation_policy;
  bool dry_run = false;
};

enum class PatchKind { kJsonPatch, kMergePatch, kStrategicMerge, kApply };

struct WatchEventRecord {
  std::string type;  // "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"
  ObjectPtr object;
};

// A live watch. Storage pushes matching events in resourceVersion order; the consumer (the HTTP
// server's coroutine) drains them. Thread-safe. The notify callback is invoked (from the writer's
// thread, without locks held) whenever events become available or the watcher is closed, so that
// an async consumer can schedule a drain; it must be cheap and non-blocking.
class Watcher {
 public:
  virtual ~Watcher() = default;
  // Moves all pending events into out. Returns false once the watcher is closed and drained.
  virtual bool Drain(std::vector<WatchEventRecord>& out) = 0;
  // Once SetNotify(nullptr) returns, the previous callback is neither running nor called again:
  // a consumer detaches this way before it is destroyed.
  virtual void SetNotify(std::function<void()> notify) = 0;
  // Emits a BOOKMARK with the current resourceVersion if bookmarks were requested.
  virtual void RequestBookmark() = 0;
  virtual void Close() = 0;
};

using WatcherPtr = std::shared_ptr<Watcher>;

// A list page as shared immutable objects, for callers that serialise without copying. Items keep
// their kind and apiVersion (List() strips them, as kube's typed lists do).
struct ListResult {
  std::vector<ObjectPtr> items;
  uint64_t resource_version = 0;
  std::string continue_token;
  std::optional<int64_t> remaining_item_count;
};

// What a delete did: the object as it is after the call, and whether it is gone (kube answers 200
// then, 202 Accepted while graceful deletion or finalizers keep it).
struct DeleteResult {
  Object object;
  bool deleted = false;
};

// Where Storage mutates and the node simulator/tests observe: all objects of all resources, one
// global resourceVersion counter (as etcd's revision), a bounded event history for watches
// (older resourceVersions answer 410 Gone), kube-apiserver's semantics for CRUD, optimistic
// concurrency, selectors, pagination, graceful deletion, finalizers, status subresources and
// the four patch types. Errors are vk::Error with the code kube-apiserver would answer
// (kNotFound, kAlreadyExists, kConflict, kGone, kInvalid with causes, kBadRequest...).
// Thread-safe; every call is atomic with respect to the others.
class Storage {
 public:
  struct Options {
    size_t watch_history = 10000;  // events kept for watches from an older resourceVersion
    // Namespaces present at start.
    std::vector<std::string> initial_namespaces = {"default", "kube-system", "kube-public",
                                                   "kube-node-lease"};
    // kube-apiserver's built-in controllers and admission that tests would otherwise miss: every
    // namespace gets ServiceAccount "default" and ConfigMap "kube-root-ca.crt" (holding
    // root_ca_pem); PriorityClasses system-node-critical and system-cluster-critical exist; pod
    // creation checks the ServiceAccount and mounts its token volume (pod_admission.h).
    bool builtin_controllers = true;
    std::string root_ca_pem;
    // Wall clock for creationTimestamp and deletionTimestamp; system_clock when empty.
    std::function<std::chrono::system_clock::time_point()> wall_clock;
    // Seed for UIDs and generated names; 0 = random.
    uint64_t seed = 0;
  };

  static std::unique_ptr<Storage> Create(const ResourceCatalog& catalog, Options options);
  static std::unique_ptr<Storage> Create(const ResourceCatalog& catalog);
  virtual ~Storage() = default;

  // subresource is "", "status" or, for pods, "ephemeralcontainers" (writes to "status" change
  // only .status, writes to "ephemeralcontainers" only spec.ephemeralContainers; writes to the main
  // resource of a type with a status subresource ignore .status, as kube-apiserver does).
  virtual Result<Object> Create(const ResourceInfo& r, std::string_view ns, Object body,
                                bool dry_run) = 0;
  virtual Result<Object> Get(const ResourceInfo& r, std::string_view ns,
                             std::string_view name) const = 0;
  // Get without the copy: the stored immutable object.
  virtual Result<ObjectPtr> GetShared(const ResourceInfo& r, std::string_view ns,
                                      std::string_view name) const = 0;
  // Returns a list document: {"kind":"<Kind>List","apiVersion":..,"metadata":{"resourceVersion",
  // "continue"?,"remainingItemCount"?},"items":[...]}.
  virtual Result<Object> List(const ResourceInfo& r, const ListQuery& query) const = 0;
  virtual Result<ListResult> ListObjects(const ResourceInfo& r, const ListQuery& query) const = 0;
  virtual Result<Object> Update(const ResourceInfo& r, std::string_view ns, std::string_view name,
                                Object body, std::string_view subresource, bool dry_run) = 0;
  virtual Result<Object> Patch(const ResourceInfo& r, std::string_view ns, std::string_view name,
                               PatchKind kind, std::string_view patch, std::string_view subresource,
                               std::string_view field_manager, bool force, bool dry_run) = 0;
  // Returns the object as it is after the call: with deletionTimestamp set (graceful deletion of a
  // pod bound to a node, or finalizers pending), or as it was when removed.
  virtual Result<Object> Delete(const ResourceInfo& r, std::string_view ns, std::string_view name,
                                const DeleteRequest& request) = 0;
  // Delete, also telling whether the object is gone.
  virtual Result<DeleteResult> DeleteWithResult(const ResourceInfo& r, std::string_view ns,
                                                std::string_view name,
                                                const DeleteRequest& request) = 0;
  virtual Result<Object> DeleteCollection(const ResourceInfo& r, const ListQuery& query,
                                          const DeleteRequest& request) = 0;
  // Starts a watch after query.resource_version ("" or "0": synthetic ADDED events for the current
  // state first, then live events). kGone when the version is older than the history window.
  virtual Result<WatcherPtr> Watch(const ResourceInfo& r, const ListQuery& query) = 0;
  // pods/binding: sets spec.nodeName and the PodScheduled=True condition. kConflict (on
  // "pods/binding", as kube words it) when the pod is already bound, being deleted or gated.
  virtual Result<Object> BindPod(std::string_view ns, std::string_view name,
                                 std::string_view node_name, bool dry_run) = 0;
  Result<Object> BindPod(std::string_view ns, std::string_view name, std::string_view node_name) {
    return BindPod(ns, name, node_name, false);
  }
  virtual uint64_t CurrentResourceVersion() const = 0;
  // Closes every watcher (as an API server restart would).
  virtual void CloseAllWatchers() = 0;
};

// Mints the metav1.Status document for an error (kind Status, status Failure, code, reason,
// message, details.causes/retryAfterSeconds), and maps ErrorCode to the HTTP status code.
// details.name/kind/group are recovered from kube's message shapes (`pods "x" not found`,
// `Operation cannot be fulfilled on pods "x": ...`, `Pod "x" is invalid: ...`), which every error
// Storage returns follows (api_errors.h). Implemented in api_errors.cc.
Object StatusFromError(const Error& error);
int HttpStatusFor(const Error& error);

}  // namespace vk::kubesim
