#include "tests/kubesim/storage.h"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <charconv>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <shared_mutex>

#include "tests/kubesim/api_errors.h"
#include "tests/kubesim/continue_token.h"
#include "tests/kubesim/identity.h"
#include "tests/kubesim/json_patch.h"
#include "tests/kubesim/merge_patch.h"
#include "tests/kubesim/object_defaults.h"
#include "tests/kubesim/pod_admission.h"
#include "tests/kubesim/pod_validation.h"
#include "tests/kubesim/resource_strategy.h"
#include "tests/kubesim/service_allocator.h"
#include "tests/kubesim/strategic_merge_patch.h"
#include "tests/kubesim/timestamps.h"
#include "tests/kubesim/watcher_impl.h"

namespace vk::kubesim {
namespace {

namespace json = boost::json;
using WallClock = std::chrono::system_clock;

constexpr char kListOptions[] = "ListOptions.meta.k8s.io";
constexpr char kInitialEventsEnd[] = "k8s.io/initial-events-end";
constexpr size_t kGenerateNameAttempts = 8;
constexpr size_t kMaxGeneratedPrefix = 58;  // 63 minus the 5 random characters

enum class EventType { kAdded, kModified, kDeleted };

constexpr std::string_view kEphemeralContainers = "ephemeralcontainers";

// The subresources Storage writes itself ("" is the main resource); the others are served by
// their own handlers on top of Storage.
bool WritableSubresource(const ResourceInfo& r, std::string_view subresource) {
  if (subresource.empty()) return true;
  if (subresource == "status") return r.has_status;
  return subresource == kEphemeralContainers && r.group.empty() && r.resource == "pods";
}

// One committed write of a resource, kept for watches from an older resourceVersion and for
// lists at an older resourceVersion (continue tokens, resourceVersionMatch=Exact).
struct HistoryEvent {
  uint64_t rv;
  EventType type;
  std::string key;
  ObjectPtr object;  // the new state; for deletions the last state stamped with the deletion rv
  ObjectPtr prev;    // the state before; null for creations
  // prev stamped with rv: what a watcher gets when the object leaves its selector. Made on first
  // need, under the exclusive lock.
  mutable ObjectPtr prev_at_rv;
};

struct ResourceState {
  explicit ResourceState(ResourceInfo i) : info(std::move(i)) {}
  ResourceInfo info;
  // Keyed "namespace/name" (or "name"): etcd's key order, which lists follow.
  std::map<std::string, ObjectPtr, std::less<>> objects;
  std::deque<HistoryEvent> history;
  uint64_t compacted_rv = 0;  // every event after it is in history
  std::vector<std::shared_ptr<WatcherImpl>> watchers;
};

// Watchers that received events during a write; notified once the lock is released.
using Notifications = std::vector<std::shared_ptr<WatcherImpl>>;

std::string StateKey(const ResourceInfo& r) { return r.group + "/" + r.resource; }

std::string ObjectKey(const ResourceInfo& r, std::string_view ns, std::string_view name) {
  if (!r.namespaced) return std::string(name);
  std::string key;
  key.reserve(ns.size() + name.size() + 1);
  key.append(ns).append("/").append(name);
  return key;
}

std::string KeyPrefix(const ResourceInfo& r, std::string_view ns) {
  return r.namespaced && !ns.empty() ? std::string(ns) + "/" : std::string();
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

void SetResourceVersion(Object& o, uint64_t rv) {
  obj::EnsureObject(o, {"metadata"})["resourceVersion"] = std::to_string(rv);
}

ObjectPtr WithResourceVersion(const Object& o, uint64_t rv) {
  Object copy = o;
  SetResourceVersion(copy, rv);
  return std::make_shared<const Object>(std::move(copy));
}

std::optional<uint64_t> ParseResourceVersion(std::string_view s) {
  uint64_t v;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

Error InvalidResourceVersion(std::string_view rv) {
  return BadRequestError("invalid resource version " + GoQuote(rv));
}

std::optional<int64_t> OptionalInt(const Object& o, std::initializer_list<std::string_view> path) {
  const auto* v = obj::Find(o, path);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  if (v->is_double()) return static_cast<int64_t>(v->get_double());
  return std::nullopt;
}

bool HasFinalizers(const Object& o) {
  const auto* f = obj::Find(o, {"metadata", "finalizers"});
  return f != nullptr && f->is_array() && !f->get_array().empty();
}

// Everything but metadata and status: what metadata.generation counts.
bool SpecChanged(const Object& a, const Object& b) {
  auto skip = [](std::string_view k) {
    return k == "metadata" || k == "status" || k == "apiVersion" || k == "kind";
  };
  size_t na = 0;
  for (const auto& [k, v] : a) {
    if (skip(k)) continue;
    ++na;
    const auto* other = b.if_contains(k);
    if (other == nullptr || *other != v) return true;
  }
  size_t nb = 0;
  for (const auto& [k, v] : b) {
    if (!skip(k)) ++nb;
  }
  return na != nb;
}

Object BookmarkObject(const ResourceInfo& r, uint64_t rv, bool initial_events_end) {
  Object meta;
  meta["resourceVersion"] = std::to_string(rv);
  if (initial_events_end) meta["annotations"] = Object{{kInitialEventsEnd, "true"}};
  Object o;
  o["kind"] = r.kind;
  o["apiVersion"] = r.ApiVersion();
  o["metadata"] = std::move(meta);
  return o;
}

WatchEventRecord BookmarkEvent(const ResourceInfo& r, uint64_t rv, bool initial_events_end) {
  return {"BOOKMARK", std::make_shared<const Object>(BookmarkObject(r, rv, initial_events_end))};
}

// What a watcher with this filter sees of an event: objects entering its selection are ADDED,
// objects leaving it DELETED (their previous content at the event's resourceVersion), as kube's
// watch cache does.
std::optional<WatchEventRecord> Translate(const HistoryEvent& e, const ObjectFilter& f) {
  bool now = e.type != EventType::kDeleted && f.Matches(*e.object);
  bool before = e.prev != nullptr && f.Matches(*e.prev);
  if (now) return WatchEventRecord{before ? "MODIFIED" : "ADDED", e.object};
  if (!before) return std::nullopt;
  if (e.type == EventType::kDeleted) return WatchEventRecord{"DELETED", e.object};
  if (!e.prev_at_rv) e.prev_at_rv = WithResourceVersion(*e.prev, e.rv);
  return WatchEventRecord{"DELETED", e.prev_at_rv};
}

Status ValidateDeleteRequest(const DeleteRequest& req) {
  const auto& p = req.propagation_policy;
  if (p.empty() || p == "Orphan" || p == "Background" || p == "Foreground") return Ok();
  return tl::unexpected(InvalidError("DeleteOptions.meta.k8s.io", "",
                                     {FieldNotSupported("propagationPolicy", GoQuote(p),
                                                        {"Foreground", "Background", "Orphan"})}));
}

// kube's metav1 validation of list options (ValidateListOptions).
Status ValidateListQuery(const ListQuery& q) {
  std::vector<ErrorCause> errs;
  const auto& match = q.resource_version_match;
  if (!match.empty()) {
    if (q.resource_version.empty()) {
      errs.push_back(FieldForbidden("resourceVersionMatch",
                                    "resourceVersionMatch is forbidden unless resourceVersion is "
                                    "provided"));
    }
    if (!q.continue_token.empty()) {
      errs.push_back(FieldForbidden("resourceVersionMatch",
                                    "resourceVersionMatch is forbidden when continue is provided"));
    }
    if (match == "Exact") {
      if (q.resource_version == "0") {
        errs.push_back(FieldForbidden(
            "resourceVersionMatch",
            "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""));
      }
    } else if (match != "NotOlderThan") {
      errs.push_back(
          FieldNotSupported("resourceVersionMatch", GoQuote(match), {"Exact", "NotOlderThan", ""}));
    }
  }
  if (q.send_initial_events) {
    errs.push_back(FieldForbidden("sendInitialEvents", "sendInitialEvents is forbidden for list"));
  }
  if (errs.empty()) return Ok();
  return tl::unexpected(InvalidError(kListOptions, "", std::move(errs)));
}

// kube's validation of watch options (validateWatchOptions): resourceVersionMatch belongs to
// watch-list requests only.
Status ValidateWatchQuery(const ListQuery& q) {
  std::vector<ErrorCause> errs;
  const auto& match = q.resource_version_match;
  if (q.send_initial_events) {
    if (match != "NotOlderThan") {
      errs.push_back(FieldForbidden(
          "resourceVersionMatch",
          "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"));
    }
    if (!q.allow_bookmarks) {
      errs.push_back(FieldForbidden(
          "allowWatchBookmarks",
          "allowWatchBookmarks must be set to true when sendInitialEvents is provided"));
    }
  }
  if (!match.empty()) {
    if (!q.send_initial_events) {
      errs.push_back(FieldForbidden(
          "resourceVersionMatch",
          "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"));
    }
    if (match != "NotOlderThan") {
      errs.push_back(FieldNotSupported("resourceVersionMatch", GoQuote(match), {"NotOlderThan"}));
    }
    if (!q.continue_token.empty()) {
      errs.push_back(FieldForbidden("resourceVersionMatch",
                                    "resourceVersionMatch is forbidden when continue is provided"));
    }
  }
  if (errs.empty()) return Ok();
  return tl::unexpected(InvalidError(kListOptions, "", std::move(errs)));
}

Result<ObjectFilter> MakeFilter(const ResourceInfo& r, const ListQuery& q) {
  auto labels = LabelSelector::Parse(q.label_selector);
  if (!labels) return tl::unexpected(labels.error());
  auto fields = FieldSelector::Parse(q.field_selector, r);
  if (!fields) return tl::unexpected(fields.error());
  return ObjectFilter{r, r.namespaced ? q.ns : std::string(), std::move(*labels),
                      std::move(*fields)};
}

// kube checks apiVersion and kind of a body against the endpoint it was sent to, and fills them
// in when absent.
Status CheckTypeMeta(const ResourceInfo& r, Object& body) {
  std::string api_version(obj::ApiVersion(body));
  std::string kind(obj::Kind(body));
  if (!api_version.empty() && api_version != r.ApiVersion()) {
    return tl::unexpected(BadRequestError("the API version in the data (" + api_version +
                                          ") does not match the expected API version (" +
                                          r.ApiVersion() + ")"));
  }
  if (!kind.empty() && kind != r.kind) {
    return tl::unexpected(BadRequestError(kind + " in version " + GoQuote(r.version) +
                                          " cannot be handled as a " + r.kind +
                                          ": the kind in the data does not match the endpoint"));
  }
  body["apiVersion"] = r.ApiVersion();
  body["kind"] = r.kind;
  return Ok();
}

Object ListDocument(const ResourceInfo& r, const ListResult& page) {
  Object meta;
  meta["resourceVersion"] = std::to_string(page.resource_version);
  if (!page.continue_token.empty()) meta["continue"] = page.continue_token;
  if (page.remaining_item_count) meta["remainingItemCount"] = *page.remaining_item_count;
  json::array items;
  items.reserve(page.items.size());
  for (const auto& item : page.items) {
    // Items of kube's typed lists carry no kind/apiVersion.
    Object copy;
    copy.reserve(item->size());
    for (const auto& [k, v] : *item) {
      if (k != "kind" && k != "apiVersion") copy.emplace(k, v);
    }
    items.push_back(std::move(copy));
  }
  Object doc;
  doc["kind"] = r.kind + "List";
  doc["apiVersion"] = r.ApiVersion();
  doc["metadata"] = std::move(meta);
  doc["items"] = std::move(items);
  return doc;
}

uint64_t RandomSeed() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

// The in-memory state and every operation on it. Methods named ...Locked expect the caller to
// hold mu (exclusively for writes); they collect the watchers to notify in Notifications, which
// the caller notifies after unlocking. Shared with watchers (weakly) for bookmarks.
class Core : public std::enable_shared_from_this<Core> {
 public:
  Core(const ResourceCatalog& catalog, Storage::Options options)
      : options_(std::move(options)), ids_(options_.seed != 0 ? options_.seed : RandomSeed()) {
    for (const auto& r : catalog.all()) AddState(r);
    // The types Storage itself relies on exist even when the catalog leaves them out.
    const ResourceCatalog defaults = ResourceCatalog::Default();
    for (const auto& r : defaults.all()) AddState(r);
    namespaces_ = &InfoOf("", "namespaces");
    pods_ = &InfoOf("", "pods");
    service_accounts_ = &InfoOf("", "serviceaccounts");
    config_maps_ = &InfoOf("", "configmaps");
    priority_classes_ = &InfoOf("scheduling.k8s.io", "priorityclasses");
  }

  void Bootstrap() {
    std::unique_lock lock(mu);
    Notifications notes;
    if (options_.builtin_controllers) {
      for (auto [name, value, description] :
           {std::tuple{"system-node-critical", 2000001000,
                       "Used for system critical pods that must not be moved from their current "
                       "node."},
            std::tuple{"system-cluster-critical", 2000000000,
                       "Used for system critical pods that must run in the cluster, but can be "
                       "moved to another node if necessary."}}) {
        Object pc;
        pc["metadata"] = Object{{"name", name}};
        pc["value"] = value;
        pc["description"] = description;
        pc["globalDefault"] = false;
        (void)CreateLocked(*priority_classes_, "", std::move(pc), false, notes);
      }
    }
    for (const auto& ns : options_.initial_namespaces) {
      Object body;
      body["metadata"] = Object{{"name", ns}};
      (void)CreateLocked(*namespaces_, "", std::move(body), false, notes);
    }
  }

  mutable std::shared_mutex mu;

  uint64_t rv() const { return rv_; }

  // ---- reads -------------------------------------------------------------------------------

  Result<ObjectPtr> GetLocked(const ResourceInfo& r, std::string_view ns,
                              std::string_view name) const {
    if (r.CreateOnly()) return tl::unexpected(MethodNotSupportedError(r, "get"));
    const ResourceState* s = FindState(r);
    if (s != nullptr) {
      auto it = s->objects.find(ObjectKey(r, ns, name));
      if (it != s->objects.end()) return it->second;
    }
    return tl::unexpected(NotFoundError(r.QualifiedResource(), name));
  }

  Result<ListResult> ListLocked(const ResourceInfo& r, const ListQuery& q,
                                const ObjectFilter& filter) const {
    ListResult page;
    uint64_t target = rv_;
    std::string start;
    bool paginate = q.limit > 0;
    if (!q.continue_token.empty()) {
      auto token = ContinueToken::Decode(q.continue_token);
      if (!token) return tl::unexpected(token.error());
      if (!q.resource_version.empty() && q.resource_version != "0") {
        return tl::unexpected(
            BadRequestError("specifying resource version is not allowed when using continue"));
      }
      start = token->start_key;
      if (token->resource_version > 0) target = static_cast<uint64_t>(token->resource_version);
      if (target > rv_) {
        return tl::unexpected(BadRequestError(
            "invalid continue token: continue key is not valid: resourceVersion is in the future"));
      }
    } else if (!q.resource_version.empty()) {
      auto requested = ParseResourceVersion(q.resource_version);
      if (!requested) return tl::unexpected(InvalidResourceVersion(q.resource_version));
      if (*requested == 0) {
        paginate = false;  // served from kube's watch cache, which ignores limit
      } else {
        if (*requested > rv_) return tl::unexpected(TooLargeResourceVersionError(*requested, rv_));
        bool exact = q.resource_version_match == "Exact" ||
                     (q.resource_version_match.empty() && q.limit > 0);
        if (exact) target = *requested;
      }
    }
    page.resource_version = target;
    const ResourceState* s = FindState(r);
    if (s == nullptr) return page;
    if (target < rv_ && target < s->compacted_rv) {
      if (!q.continue_token.empty()) {
        return tl::unexpected(ExpiredError(
            "The provided continue parameter is too old to display a consistent list result. You "
            "can start a new list without the continue parameter."));
      }
      return tl::unexpected(ExpiredError("The resourceVersion for the provided list is too old."));
    }

    std::string prefix = KeyPrefix(r, filter.ns);
    std::string begin = std::max(prefix, start);
    // The state at target: the current objects, overridden for every key written after target by
    // its state before that first write (nullptr: it did not exist yet).
    std::map<std::string_view, ObjectPtr> overrides;
    if (target < rv_) {
      auto first = std::upper_bound(s->history.begin(), s->history.end(), target,
                                    [](uint64_t v, const HistoryEvent& e) { return v < e.rv; });
      for (auto it = first; it != s->history.end(); ++it) {
        if (it->key < begin || !StartsWith(it->key, prefix)) continue;
        overrides.emplace(it->key, it->type == EventType::kAdded ? nullptr : it->prev);
      }
    }

    bool selecting = !filter.labels.Empty() || !filter.fields.Empty();
    bool full = false;
    int64_t remaining = 0;
    std::string last_key;
    auto cit = s->objects.lower_bound(begin);
    auto oit = overrides.begin();
    while (true) {
      bool has_current = cit != s->objects.end() && StartsWith(cit->first, prefix);
      bool has_override = oit != overrides.end();
      if (!has_current && !has_override) break;
      std::string_view key;
      ObjectPtr value;
      if (has_override && (!has_current || oit->first <= std::string_view(cit->first))) {
        key = oit->first;
        value = oit->second;
        if (has_current && cit->first == oit->first) ++cit;
        ++oit;
      } else {
        key = cit->first;
        value = cit->second;
        ++cit;
      }
      if (!value) continue;
      if (full) {
        // kube hands out a continue token when any key follows the page, matching or not.
        ++remaining;
        if (selecting) break;
        continue;
      }
      if (!filter.Matches(*value)) continue;
      page.items.push_back(value);
      last_key = std::string(key);
      if (paginate && static_cast<int64_t>(page.items.size()) >= q.limit) full = true;
    }
    if (full && remaining > 0) {
      page.continue_token = ContinueToken{static_cast<int64_t>(target), last_key + '\0'}.Encode();
      if (!selecting) page.remaining_item_count = remaining;
    }
    return page;
  }

  // ---- writes ------------------------------------------------------------------------------

  Result<ObjectPtr> CreateLocked(const ResourceInfo& r, std::string_view ns, Object body,
                                 bool dry_run, Notifications& notes) {
    ResourceState& s = StateFor(r);
    if (auto st = CheckTypeMeta(r, body); !st) return tl::unexpected(st.error());
    {
      auto& meta = obj::EnsureObject(body, {"metadata"});
      if (r.namespaced) {
        if (ns.empty()) {
          return tl::unexpected(BadRequestError("the namespace of the object must be set"));
        }
        auto body_ns = obj::String(body, {"metadata", "namespace"});
        if (!body_ns.empty() && body_ns != ns) {
          return tl::unexpected(BadRequestError(
              "the namespace of the provided object does not match the namespace sent on the "
              "request"));
        }
        meta["namespace"] = ns;
      } else {
        meta.erase("namespace");
      }
      if (!obj::ResourceVersion(body).empty()) {
        return tl::unexpected(
            BadRequestError("resourceVersion should not be set on objects to be created"));
      }
      for (const char* system : {"uid", "creationTimestamp", "deletionTimestamp",
                                 "deletionGracePeriodSeconds", "selfLink", "generation"}) {
        meta.erase(system);
      }
    }
    if (r.namespaced) {
      if (auto st = CheckNamespaceAcceptsContent(r, ns, obj::Name(body)); !st) {
        return tl::unexpected(st.error());
      }
    }
    ApplySchemeDefaults(r, body);
    if (IsCore(r, "secrets")) {
      if (auto st = NormalizeSecret(body); !st) return tl::unexpected(st.error());
    }
    if (IsCore(r, "pods")) {
      if (auto st = AdmitPodCreate(body, ns, AdmissionContext()); !st) {
        return tl::unexpected(st.error());
      }
    }
    PrepareForCreate(r, body);

    std::string name(obj::Name(body));
    std::string generate_name(obj::String(body, {"metadata", "generateName"}));
    bool generated = name.empty() && !generate_name.empty();
    if (name.empty() && !generated) {
      return tl::unexpected(
          InvalidError(r.QualifiedKind(), "",
                       {FieldRequired("metadata.name", "name or generateName is required")}));
    }
    std::string key;
    for (size_t attempt = 0; attempt < kGenerateNameAttempts; ++attempt) {
      if (generated) {
        name = generate_name.substr(0, kMaxGeneratedPrefix) + ids_.NameSuffix();
        obj::EnsureObject(body, {"metadata"})["name"] = name;
      }
      key = ObjectKey(r, ns, name);
      if (!generated || s.objects.count(key) == 0) break;
    }
    std::vector<ErrorCause> causes;
    for (const auto& e : ValidateName(r, name)) {
      causes.push_back(generated ? FieldInvalid("metadata.generateName", GoQuote(generate_name), e)
                                 : FieldInvalid("metadata.name", GoQuote(name), e));
    }
    if (causes.empty() && s.objects.count(key) != 0) {
      return tl::unexpected(AlreadyExistsError(r.QualifiedResource(), name));
    }
    auto more = ValidateCreate(r, body);
    causes.insert(causes.end(), more.begin(), more.end());
    if (causes.empty() && IsCore(r, "services")) {
      auto allocated = services_.Allocate(body, dry_run);
      if (!allocated) return tl::unexpected(allocated.error());
      causes = std::move(*allocated);
    }
    if (!causes.empty()) {
      return tl::unexpected(InvalidError(r.QualifiedKind(), name, std::move(causes)));
    }
    {
      auto& meta = obj::EnsureObject(body, {"metadata"});
      meta["uid"] = ids_.Uid();
      meta["creationTimestamp"] = FormatTime(Now());
      if (r.tracks_generation) meta["generation"] = 1;
    }
    if (dry_run) return std::make_shared<const Object>(std::move(body));
    ObjectPtr stored = CommitPut(s, key, std::move(body), nullptr, notes);
    if (IsCore(r, "namespaces")) PopulateNamespace(name, notes);
    return stored;
  }

  // PUT and the tail of PATCH. from_patch: body is the patched object (no create-on-update).
  Result<ObjectPtr> UpdateLocked(const ResourceInfo& r, std::string_view ns, std::string_view name,
                                 Object body, std::string_view subresource, bool dry_run,
                                 bool from_patch, Notifications& notes) {
    if (!WritableSubresource(r, subresource)) {
      return tl::unexpected(
          NotFoundError(r.QualifiedResource() + "/" + std::string(subresource), name));
    }
    ResourceState& s = StateFor(r);
    if (auto st = CheckTypeMeta(r, body); !st) return tl::unexpected(st.error());
    if (obj::Name(body) != name) {
      return tl::unexpected(
          BadRequestError("the name of the object (" + std::string(obj::Name(body)) +
                          ") does not match the name on the URL (" + std::string(name) + ")"));
    }
    if (r.namespaced) {
      auto body_ns = obj::String(body, {"metadata", "namespace"});
      if (!body_ns.empty() && body_ns != ns) {
        return tl::unexpected(BadRequestError(
            "the namespace of the provided object does not match the namespace sent on the "
            "request"));
      }
      obj::EnsureObject(body, {"metadata"})["namespace"] = ns;
    }
    std::string key = ObjectKey(r, ns, name);
    auto it = s.objects.find(key);
    if (it == s.objects.end()) {
      if (r.allow_create_on_update && subresource.empty() && !from_patch &&
          obj::ResourceVersion(body).empty()) {
        return CreateLocked(r, ns, std::move(body), dry_run, notes);
      }
      return tl::unexpected(NotFoundError(r.QualifiedResource(), name));
    }
    ObjectPtr current = it->second;

    std::string body_rv(obj::ResourceVersion(body));
    if (body_rv.empty()) {
      if (!r.allow_unconditional_update) {
        return tl::unexpected(InvalidError(
            r.QualifiedResource(), name,
            {FieldInvalid("metadata.resourceVersion", "0x0", "must be specified for an update")}));
      }
    } else if (!ParseResourceVersion(body_rv)) {
      return tl::unexpected(InvalidResourceVersion(body_rv));
    } else if (body_rv != obj::ResourceVersion(*current)) {
      return tl::unexpected(ConflictError(r.QualifiedResource(), name, kOptimisticLockMessage));
    }
    if (auto uid = obj::Uid(body); !uid.empty() && uid != obj::Uid(*current)) {
      return tl::unexpected(
          ConflictError(r.QualifiedResource(), name,
                        "Precondition failed: UID in precondition: " + std::string(uid) +
                            ", UID in object meta: " + std::string(obj::Uid(*current))));
    }

    Object updated;
    std::vector<ErrorCause> causes;
    if (subresource == "status") {
      updated = *current;
      if (const auto* status = body.if_contains("status")) {
        updated["status"] = *status;
      } else {
        updated.erase("status");
      }
    } else if (subresource == kEphemeralContainers) {
      updated = PrepareEphemeralContainersUpdate(body, *current);
      ApplySchemeDefaults(r, updated);
      causes = ValidateEphemeralContainersUpdate(updated, *current);
    } else {
      updated = std::move(body);
      ApplySchemeDefaults(r, updated);
      if (IsCore(r, "secrets")) {
        if (auto st = NormalizeSecret(updated); !st) return tl::unexpected(st.error());
      }
      PrepareForUpdate(r, updated, *current);
      auto& meta = obj::EnsureObject(updated, {"metadata"});
      meta.erase("selfLink");
      for (const char* owned : {"uid", "creationTimestamp", "deletionTimestamp",
                                "deletionGracePeriodSeconds", "generation"}) {
        if (const auto* v = obj::Find(*current, {"metadata", owned})) {
          meta[owned] = *v;
        } else {
          meta.erase(owned);
        }
      }
      if (obj::IsBeingDeleted(*current)) {
        causes = NewFinalizerCauses(updated, *current);
      }
      auto more = ValidateUpdate(r, updated, *current);
      causes.insert(causes.end(), more.begin(), more.end());
      if (causes.empty() && IsCore(r, "services")) {
        auto realloc = services_.Reallocate(updated, *current, dry_run);
        if (!realloc) return tl::unexpected(realloc.error());
        causes = std::move(*realloc);
      }
      if (r.tracks_generation && SpecChanged(updated, *current)) {
        obj::EnsureObject(updated, {"metadata"})["generation"] =
            obj::Int(*current, {"metadata", "generation"}) + 1;
      }
    }
    if (!causes.empty()) {
      return tl::unexpected(InvalidError(r.QualifiedKind(), name, std::move(causes)));
    }
    SetResourceVersion(updated, ParseResourceVersion(obj::ResourceVersion(*current)).value_or(0));
    if (updated == *current) return current;  // no-op: no new resourceVersion, no event

    bool finalized =
        !HasFinalizers(updated) && obj::IsBeingDeleted(*current) &&
        OptionalInt(*current, {"metadata", "deletionGracePeriodSeconds"}).value_or(0) == 0;
    if (dry_run) return std::make_shared<const Object>(std::move(updated));
    if (finalized && !IsCore(r, "namespaces")) {
      // kube deletes the stored object (finalizers included) instead of writing the update.
      return CommitDelete(s, key, current, notes);
    }
    ObjectPtr stored = CommitPut(s, key, std::move(updated), current, notes);
    if (finalized) TryFinalizeNamespace(name, notes);
    return stored;
  }

  Result<ObjectPtr> PatchLocked(const ResourceInfo& r, std::string_view ns, std::string_view name,
                                PatchKind kind, std::string_view patch,
                                std::string_view subresource, bool dry_run, Notifications& notes) {
    if (!WritableSubresource(r, subresource)) {
      return tl::unexpected(
          NotFoundError(r.QualifiedResource() + "/" + std::string(subresource), name));
    }
    ResourceState& s = StateFor(r);
    auto it = s.objects.find(ObjectKey(r, ns, name));
    if (kind == PatchKind::kApply) {
      boost::system::error_code ec;
      json::value parsed = json::parse(patch, ec);
      if (ec || !parsed.is_object()) {
        return tl::unexpected(
            BadRequestError("error decoding YAML: the apply body is not a JSON "
                            "object"));
      }
      Object& applied = parsed.get_object();
      if (obj::ApiVersion(applied).empty() || obj::Kind(applied).empty()) {
        return tl::unexpected(
            InvalidError("", "",
                         {FieldRequired(obj::ApiVersion(applied).empty() ? "apiVersion" : "kind",
                                        "must be set for apply")}));
      }
      if (auto st = CheckTypeMeta(r, applied); !st) return tl::unexpected(st.error());
      if (obj::Name(applied) != name) {
        return tl::unexpected(
            BadRequestError("the name of the object (" + std::string(obj::Name(applied)) +
                            ") does not match the name on the URL (" + std::string(name) + ")"));
      }
      if (it == s.objects.end()) {
        if (!subresource.empty()) return tl::unexpected(NotFoundError(r.QualifiedResource(), name));
        return CreateLocked(r, ns, std::move(applied), dry_run, notes);
      }
      auto merged = StrategicMergeObjects(*it->second, applied);
      if (!merged) return tl::unexpected(merged.error());
      return UpdateLocked(r, ns, name, std::move(*merged), subresource, dry_run, true, notes);
    }
    if (it == s.objects.end()) return tl::unexpected(NotFoundError(r.QualifiedResource(), name));
    const Object& current = *it->second;
    Result<Object> patched = tl::unexpected(InternalError("unknown patch type"));
    switch (kind) {
      case PatchKind::kJsonPatch: {
        auto result = ApplyJsonPatch(json::value(current), patch);
        if (!result) return tl::unexpected(result.error());
        if (!result->is_object()) {
          return tl::unexpected(InvalidError(
              "", "", {FieldInvalid("patch", "", "the patched document is not a JSON object")}));
        }
        patched = std::move(result->get_object());
        break;
      }
      case PatchKind::kMergePatch:
        patched = ApplyMergePatch(current, patch);
        break;
      case PatchKind::kStrategicMerge:
        patched = ApplyStrategicMergePatch(current, patch);
        break;
      case PatchKind::kApply:
        break;
    }
    if (!patched) return tl::unexpected(patched.error());
    return UpdateLocked(r, ns, name, std::move(*patched), subresource, dry_run, true, notes);
  }

  struct Deletion {
    ObjectPtr object;
    bool deleted = false;
  };

  Result<Deletion> DeleteLocked(const ResourceInfo& r, std::string_view ns, std::string_view name,
                                const DeleteRequest& req, Notifications& notes) {
    ResourceState& s = StateFor(r);
    std::string key = ObjectKey(r, ns, name);
    auto it = s.objects.find(key);
    if (it == s.objects.end()) return tl::unexpected(NotFoundError(r.QualifiedResource(), name));
    ObjectPtr current = it->second;
    if (!req.precondition_uid.empty() && req.precondition_uid != obj::Uid(*current)) {
      return tl::unexpected(ConflictError(
          r.QualifiedKind(), name,
          "the UID in the precondition (" + req.precondition_uid +
              ") does not match the UID in record (" + std::string(obj::Uid(*current)) +
              "). The object might have been deleted and then recreated"));
    }
    if (!req.precondition_resource_version.empty() &&
        req.precondition_resource_version != obj::ResourceVersion(*current)) {
      return tl::unexpected(ConflictError(r.QualifiedKind(), name,
                                          "the ResourceVersion in the precondition (" +
                                              req.precondition_resource_version +
                                              ") does not match the ResourceVersion in record (" +
                                              std::string(obj::ResourceVersion(*current)) +
                                              "). The object might have been modified"));
    }
    if (IsCore(r, "namespaces")) return DeleteNamespaceLocked(s, current, req, notes);

    std::optional<int64_t> grace = req.grace_period_seconds;
    if (grace && *grace < 0) grace = 1;
    Object updated = *current;
    auto& meta = obj::EnsureObject(updated, {"metadata"});
    bool graceful = false;
    int64_t last_grace = 0;
    // Pods are the one type here with a graceful delete strategy (kube's rest.BeforeDelete).
    if (IsCore(r, "pods")) {
      if (obj::IsBeingDeleted(*current)) {
        auto existing = OptionalInt(*current, {"metadata", "deletionGracePeriodSeconds"});
        if (existing && *existing > 0) {
          if (!grace || *grace >= *existing) {
            return Deletion{current, false};  // graceful deletion already pending
          }
          auto ts = ParseTime(obj::String(*current, {"metadata", "deletionTimestamp"}));
          auto base = ts.value_or(Now()) - std::chrono::seconds(*existing);
          meta["deletionTimestamp"] = FormatTime(base + std::chrono::seconds(*grace));
          meta["deletionGracePeriodSeconds"] = *grace;
          graceful = true;
          last_grace = *grace;
        }
      } else {
        int64_t period =
            grace.value_or(obj::Int(*current, {"spec", "terminationGracePeriodSeconds"}));
        auto phase = obj::String(*current, {"status", "phase"});
        if (obj::String(*current, {"spec", "nodeName"}).empty() || phase == "Succeeded" ||
            phase == "Failed") {
          period = 0;
        }
        if (period < 0) period = 1;
        meta["deletionTimestamp"] = FormatTime(Now() + std::chrono::seconds(period));
        meta["deletionGracePeriodSeconds"] = period;
        if (auto gen = obj::Int(*current, {"metadata", "generation"}); gen > 0) {
          meta["generation"] = gen + 1;
        }
        graceful = true;
        last_grace = period;
      }
    }
    bool pending_finalizers = HasFinalizers(*current);
    if (graceful || pending_finalizers) {
      if (!graceful) {
        // markAsDeleting: finalizers hold the object, with a deletionTimestamp of now.
        std::string now = FormatTime(Now());
        auto existing = ParseTime(obj::String(*current, {"metadata", "deletionTimestamp"}));
        if (!obj::IsBeingDeleted(*current) && obj::Int(*current, {"metadata", "generation"}) > 0) {
          meta["generation"] = obj::Int(*current, {"metadata", "generation"}) + 1;
        }
        if (!existing || *existing > Now()) meta["deletionTimestamp"] = now;
        meta["deletionGracePeriodSeconds"] = 0;
      }
      ObjectPtr written = current;
      if (updated != *current) {
        written = req.dry_run ? std::make_shared<const Object>(std::move(updated))
                              : CommitPut(s, key, std::move(updated), current, notes);
      }
      if (pending_finalizers || last_grace > 0) return Deletion{written, false};
      current = written;
    }
    if (req.dry_run) return Deletion{current, true};
    return Deletion{CommitDelete(s, key, current, notes), true};
  }

  Result<ObjectPtr> BindLocked(std::string_view ns, std::string_view name, std::string_view node,
                               bool dry_run, Notifications& notes) {
    ResourceState& s = StateFor(*pods_);
    std::string key = ObjectKey(*pods_, ns, name);
    auto it = s.objects.find(key);
    if (it == s.objects.end()) return tl::unexpected(NotFoundError("pods", name));
    const Object& pod = *it->second;
    auto conflict = [&](const std::string& why) {
      return tl::unexpected(ConflictError("pods/binding", name, why));
    };
    if (node.empty()) {
      return tl::unexpected(InvalidError("Binding", name, {FieldRequired("target.name")}));
    }
    if (obj::IsBeingDeleted(pod)) {
      return conflict("pod " + std::string(name) +
                      " is being deleted, cannot be assigned to a host");
    }
    if (auto bound = obj::String(pod, {"spec", "nodeName"}); !bound.empty()) {
      return conflict("pod " + std::string(name) + " is already assigned to node " +
                      GoQuote(bound));
    }
    const auto* gates = obj::Find(pod, {"spec", "schedulingGates"});
    if (gates != nullptr && gates->is_array() && !gates->get_array().empty()) {
      return conflict("pod " + std::string(name) + " has non-empty .spec.schedulingGates");
    }
    Object updated = pod;
    obj::EnsureObject(updated, {"spec"})["nodeName"] = node;
    auto& status = obj::EnsureObject(updated, {"status"});
    auto& conditions = status["conditions"];
    if (!conditions.is_array()) conditions = json::array();
    Object* scheduled = nullptr;
    for (auto& c : conditions.get_array()) {
      if (c.is_object() && obj::String(c.get_object(), {"type"}) == "PodScheduled") {
        scheduled = &c.get_object();
      }
    }
    if (scheduled == nullptr) {
      conditions.get_array().push_back(Object{{"type", "PodScheduled"}});
      scheduled = &conditions.get_array().back().get_object();
    }
    if (obj::String(*scheduled, {"status"}) != "True") {
      (*scheduled)["lastTransitionTime"] = FormatTime(Now());
    }
    (*scheduled)["status"] = "True";
    (*scheduled)["lastProbeTime"] = nullptr;
    scheduled->erase("reason");
    scheduled->erase("message");
    if (dry_run) return std::make_shared<const Object>(std::move(updated));
    return CommitPut(s, key, std::move(updated), it->second, notes);
  }

  // ---- watches -----------------------------------------------------------------------------

  Result<WatcherPtr> WatchLocked(const ResourceInfo& r, const ListQuery& q, ObjectFilter filter) {
    ResourceState& s = StateFor(r);
    std::optional<uint64_t> from;
    if (!q.resource_version.empty() && q.resource_version != "0") {
      from = ParseResourceVersion(q.resource_version);
      if (!from) return tl::unexpected(InvalidResourceVersion(q.resource_version));
      if (*from > rv_) return tl::unexpected(TooLargeResourceVersionError(*from, rv_));
    }
    std::weak_ptr<Core> weak = weak_from_this();
    auto watcher =
        std::make_shared<WatcherImpl>(std::move(filter), q.allow_bookmarks, [weak](WatcherImpl& w) {
          if (auto core = weak.lock()) core->PushBookmark(w);
        });
    const ObjectFilter& f = watcher->filter();
    if (!from || q.send_initial_events) {
      std::string prefix = KeyPrefix(r, f.ns);
      for (auto it = s.objects.lower_bound(prefix);
           it != s.objects.end() && StartsWith(it->first, prefix); ++it) {
        if (f.Matches(*it->second)) watcher->Push({"ADDED", it->second});
      }
      if (q.send_initial_events) watcher->Push(BookmarkEvent(r, rv_, true));
    } else {
      if (*from < s.compacted_rv) {
        return tl::unexpected(ExpiredError("too old resource version: " + std::to_string(*from) +
                                           " (" + std::to_string(s.compacted_rv) + ")"));
      }
      auto first = std::upper_bound(s.history.begin(), s.history.end(), *from,
                                    [](uint64_t v, const HistoryEvent& e) { return v < e.rv; });
      for (auto it = first; it != s.history.end(); ++it) {
        if (auto rec = Translate(*it, f)) watcher->Push(std::move(*rec));
      }
    }
    s.watchers.push_back(watcher);
    return WatcherPtr(watcher);
  }

  void PushBookmark(WatcherImpl& w) {
    bool notify;
    {
      std::shared_lock lock(mu);
      notify = w.Push(BookmarkEvent(w.filter().resource, rv_, false));
    }
    if (notify) w.Notify();
  }

  std::vector<std::shared_ptr<WatcherImpl>> TakeAllWatchersLocked() {
    std::vector<std::shared_ptr<WatcherImpl>> all;
    for (auto& [key, s] : states_) {
      all.insert(all.end(), s->watchers.begin(), s->watchers.end());
      s->watchers.clear();
    }
    return all;
  }

  Object ReviewResponse(const ResourceInfo& r, Object body) const {
    body["apiVersion"] = r.ApiVersion();
    body["kind"] = r.kind;
    auto& status = obj::EnsureObject(body, {"status"});
    if (r.resource == "tokenreviews") {
      status["authenticated"] = false;
    } else {
      status["allowed"] = true;
    }
    return body;
  }

 private:
  static bool IsCore(const ResourceInfo& r, std::string_view resource) {
    return r.group.empty() && r.resource == resource;
  }

  WallClock::time_point Now() const {
    return options_.wall_clock ? options_.wall_clock() : WallClock::now();
  }

  void AddState(const ResourceInfo& r) {
    if (r.CreateOnly()) return;
    states_.try_emplace(StateKey(r), std::make_unique<ResourceState>(r));
  }

  const ResourceInfo& InfoOf(std::string_view group, std::string_view resource) const {
    return states_.at(std::string(group) + "/" + std::string(resource))->info;
  }

  ResourceState& StateFor(const ResourceInfo& r) {
    auto& slot = states_[StateKey(r)];
    if (!slot) slot = std::make_unique<ResourceState>(r);
    return *slot;
  }

  const ResourceState* FindState(const ResourceInfo& r) const {
    auto it = states_.find(StateKey(r));
    return it == states_.end() ? nullptr : it->second.get();
  }

  const Object* Lookup(const ResourceInfo& r, std::string_view ns, std::string_view name) const {
    const ResourceState* s = FindState(r);
    if (s == nullptr) return nullptr;
    auto it = s->objects.find(ObjectKey(r, ns, name));
    return it == s->objects.end() ? nullptr : it->second.get();
  }

  PodAdmissionContext AdmissionContext() {
    PodAdmissionContext ctx;
    ctx.service_account = [this](std::string_view ns, std::string_view name) {
      return Lookup(*service_accounts_, ns, name);
    };
    ctx.priority_class = [this](std::string_view name) {
      return Lookup(*priority_classes_, "", name);
    };
    ctx.default_priority_class = [this]() -> const Object* {
      for (const auto& [key, pc] : FindState(*priority_classes_)->objects) {
        const auto* v = pc->if_contains("globalDefault");
        if (v != nullptr && v->is_bool() && v->get_bool()) return pc.get();
      }
      return nullptr;
    };
    ctx.service_account_admission = options_.builtin_controllers;
    ctx.ids = &ids_;
    return ctx;
  }

  Status CheckNamespaceAcceptsContent(const ResourceInfo& r, std::string_view ns,
                                      std::string_view name) const {
    const Object* namespace_object = Lookup(*namespaces_, "", ns);
    if (namespace_object == nullptr) {
      return tl::unexpected(NotFoundError("namespaces", ns));
    }
    if (obj::IsBeingDeleted(*namespace_object)) {
      return tl::unexpected(ForbiddenError(r.QualifiedResource(), name,
                                           "unable to create new content in namespace " +
                                               std::string(ns) +
                                               " because it is being terminated"));
    }
    return Ok();
  }

  static std::vector<ErrorCause> NewFinalizerCauses(const Object& updated, const Object& current) {
    const auto* now = obj::Find(updated, {"metadata", "finalizers"});
    const auto* before = obj::Find(current, {"metadata", "finalizers"});
    if (now == nullptr || !now->is_array()) return {};
    std::vector<std::string> added;
    for (const auto& f : now->get_array()) {
      bool existed = before != nullptr && before->is_array() &&
                     std::find(before->get_array().begin(), before->get_array().end(), f) !=
                         before->get_array().end();
      if (!existed && f.is_string()) added.emplace_back(f.get_string());
    }
    if (added.empty()) return {};
    std::string list = "[]string{";
    for (size_t i = 0; i < added.size(); ++i) list += (i > 0 ? ", " : "") + GoQuote(added[i]);
    list += "}";
    return {FieldForbidden("metadata.finalizers",
                           "no new finalizers can be added if the object is being deleted, found "
                           "new finalizers " +
                               list)};
  }

  // The serviceaccounts and root-ca-cert-publisher controllers, run synchronously.
  void PopulateNamespace(const std::string& ns, Notifications& notes) {
    if (!options_.builtin_controllers) return;
    Object sa;
    sa["metadata"] = Object{{"name", "default"}};
    (void)CreateLocked(*service_accounts_, ns, std::move(sa), false, notes);
    Object cm;
    cm["metadata"] = Object{
        {"name", "kube-root-ca.crt"},
        {"annotations",
         Object{{"kubernetes.io/description",
                 "Contains a CA bundle that can be used to verify the kube-apiserver when using "
                 "internal endpoints such as the internal service IP or kubernetes.default.svc. "
                 "No other usage is guaranteed across distributions of Kubernetes clusters."}}}};
    cm["data"] = Object{{"ca.crt", options_.root_ca_pem}};
    (void)CreateLocked(*config_maps_, ns, std::move(cm), false, notes);
  }

  Result<Deletion> DeleteNamespaceLocked(ResourceState& s, ObjectPtr current,
                                         const DeleteRequest& req, Notifications& notes) {
    std::string name(obj::Name(*current));
    if (name == "default" || name == "kube-system" || name == "kube-public") {
      return tl::unexpected(
          ForbiddenError("namespaces", name, "this namespace may not be deleted"));
    }
    if (!obj::IsBeingDeleted(*current)) {
      Object updated = *current;
      obj::EnsureObject(updated, {"metadata"})["deletionTimestamp"] = FormatTime(Now());
      obj::EnsureObject(updated, {"status"})["phase"] = "Terminating";
      if (req.dry_run) return Deletion{std::make_shared<const Object>(std::move(updated)), false};
      current = CommitPut(s, name, std::move(updated), current, notes);
      // The namespace controller's work, done at once: delete everything in the namespace with
      // default options (bound pods terminate gracefully; finalizers hold their objects).
      std::string prefix = name + "/";
      for (auto& [state_key, state] : states_) {
        if (!state->info.namespaced) continue;
        std::vector<std::string> names;
        for (auto it = state->objects.lower_bound(prefix);
             it != state->objects.end() && StartsWith(it->first, prefix); ++it) {
          names.emplace_back(obj::Name(*it->second));
        }
        const ResourceInfo info = state->info;
        for (const auto& object_name : names) {
          (void)DeleteLocked(info, name, object_name, DeleteRequest{}, notes);
        }
      }
    } else if (req.dry_run) {
      return Deletion{current, false};
    }
    TryFinalizeNamespace(name, notes);
    auto it = s.objects.find(name);
    if (it == s.objects.end()) return Deletion{last_deleted_namespace_, true};
    return Deletion{it->second, false};
  }

  // Removes a terminating namespace once nothing is left in it and no finalizer holds it.
  void TryFinalizeNamespace(std::string_view ns, Notifications& notes) {
    ResourceState& s = StateFor(*namespaces_);
    auto it = s.objects.find(ns);
    if (it == s.objects.end() || !obj::IsBeingDeleted(*it->second) || HasFinalizers(*it->second)) {
      return;
    }
    std::string prefix = std::string(ns) + "/";
    for (const auto& [key, state] : states_) {
      if (!state->info.namespaced) continue;
      auto lb = state->objects.lower_bound(prefix);
      if (lb != state->objects.end() && StartsWith(lb->first, prefix)) return;
    }
    ObjectPtr last = it->second;
    last_deleted_namespace_ = CommitDelete(s, std::string(ns), last, notes);
  }

  ObjectPtr CommitPut(ResourceState& s, const std::string& key, Object object, ObjectPtr prev,
                      Notifications& notes) {
    uint64_t rv = ++rv_;
    SetResourceVersion(object, rv);
    auto stored = std::make_shared<const Object>(std::move(object));
    s.objects[key] = stored;
    Append(s,
           HistoryEvent{rv, prev ? EventType::kModified : EventType::kAdded, key, stored,
                        std::move(prev), nullptr},
           notes);
    return stored;
  }

  ObjectPtr CommitDelete(ResourceState& s, const std::string& key, ObjectPtr last,
                         Notifications& notes) {
    uint64_t rv = ++rv_;
    ObjectPtr gone = WithResourceVersion(*last, rv);
    s.objects.erase(key);
    Append(s, HistoryEvent{rv, EventType::kDeleted, key, gone, last, nullptr}, notes);
    if (IsCore(s.info, "services")) services_.Release(*last);
    if (s.info.namespaced) TryFinalizeNamespace(obj::Namespace(*last), notes);
    return gone;
  }

  void Append(ResourceState& s, HistoryEvent event, Notifications& notes) {
    for (auto it = s.watchers.begin(); it != s.watchers.end();) {
      auto& w = *it;
      if (w->closed()) {
        it = s.watchers.erase(it);
        continue;
      }
      if (auto rec = Translate(event, w->filter())) {
        if (w->Push(std::move(*rec))) notes.push_back(w);
      }
      ++it;
    }
    s.history.push_back(std::move(event));
    while (s.history.size() > options_.watch_history) {
      s.compacted_rv = s.history.front().rv;
      s.history.pop_front();
    }
  }

  const Storage::Options options_;
  IdGenerator ids_;
  ServiceAllocator services_;
  uint64_t rv_ = 0;
  std::map<std::string, std::unique_ptr<ResourceState>, std::less<>> states_;
  const ResourceInfo* namespaces_ = nullptr;
  const ResourceInfo* pods_ = nullptr;
  const ResourceInfo* service_accounts_ = nullptr;
  const ResourceInfo* config_maps_ = nullptr;
  const ResourceInfo* priority_classes_ = nullptr;
  ObjectPtr last_deleted_namespace_;
};

void NotifyAll(const Notifications& notes) {
  for (const auto& w : notes) w->Notify();
}

class StorageImpl final : public Storage {
 public:
  StorageImpl(const ResourceCatalog& catalog, Options options)
      : core_(std::make_shared<Core>(catalog, std::move(options))) {
    core_->Bootstrap();
  }

  ~StorageImpl() override { CloseAllWatchers(); }

  using Storage::BindPod;

  Result<Object> Create(const ResourceInfo& r, std::string_view ns, Object body,
                        bool dry_run) override {
    if (r.CreateOnly()) return core_->ReviewResponse(r, std::move(body));
    return Write([&](Notifications& notes) {
      return core_->CreateLocked(r, ns, std::move(body), dry_run, notes);
    });
  }

  Result<Object> Get(const ResourceInfo& r, std::string_view ns,
                     std::string_view name) const override {
    auto ptr = GetShared(r, ns, name);
    if (!ptr) return tl::unexpected(ptr.error());
    return **ptr;
  }

  Result<ObjectPtr> GetShared(const ResourceInfo& r, std::string_view ns,
                              std::string_view name) const override {
    std::shared_lock lock(core_->mu);
    return core_->GetLocked(r, ns, name);
  }

  Result<Object> List(const ResourceInfo& r, const ListQuery& query) const override {
    auto page = ListObjects(r, query);
    if (!page) return tl::unexpected(page.error());
    return ListDocument(r, *page);
  }

  Result<ListResult> ListObjects(const ResourceInfo& r, const ListQuery& query) const override {
    if (r.CreateOnly()) return tl::unexpected(MethodNotSupportedError(r, "list"));
    if (auto st = ValidateListQuery(query); !st) return tl::unexpected(st.error());
    auto filter = MakeFilter(r, query);
    if (!filter) return tl::unexpected(filter.error());
    std::shared_lock lock(core_->mu);
    return core_->ListLocked(r, query, *filter);
  }

  Result<Object> Update(const ResourceInfo& r, std::string_view ns, std::string_view name,
                        Object body, std::string_view subresource, bool dry_run) override {
    if (r.CreateOnly()) return tl::unexpected(MethodNotSupportedError(r, "update"));
    return Write([&](Notifications& notes) {
      return core_->UpdateLocked(r, ns, name, std::move(body), subresource, dry_run, false, notes);
    });
  }

  Result<Object> Patch(const ResourceInfo& r, std::string_view ns, std::string_view name,
                       PatchKind kind, std::string_view patch, std::string_view subresource,
                       std::string_view field_manager, bool force, bool dry_run) override {
    if (r.CreateOnly()) return tl::unexpected(MethodNotSupportedError(r, "patch"));
    if (kind == PatchKind::kApply && field_manager.empty()) {
      return tl::unexpected(
          InvalidError("PatchOptions.meta.k8s.io", "",
                       {FieldRequired("fieldManager", "is required for apply patch")}));
    }
    if (kind != PatchKind::kApply && force) {
      return tl::unexpected(
          InvalidError("PatchOptions.meta.k8s.io", "",
                       {FieldForbidden("force", "may not be specified for non-apply patch")}));
    }
    return Write([&](Notifications& notes) {
      return core_->PatchLocked(r, ns, name, kind, patch, subresource, dry_run, notes);
    });
  }

  Result<Object> Delete(const ResourceInfo& r, std::string_view ns, std::string_view name,
                        const DeleteRequest& request) override {
    auto result = DeleteWithResult(r, ns, name, request);
    if (!result) return tl::unexpected(result.error());
    return std::move(result->object);
  }

  Result<DeleteResult> DeleteWithResult(const ResourceInfo& r, std::string_view ns,
                                        std::string_view name,
                                        const DeleteRequest& request) override {
    if (r.CreateOnly()) return tl::unexpected(MethodNotSupportedError(r, "delete"));
    if (auto st = ValidateDeleteRequest(request); !st) return tl::unexpected(st.error());
    Notifications notes;
    Result<Core::Deletion> result = [&] {
      std::unique_lock lock(core_->mu);
      return core_->DeleteLocked(r, ns, name, request, notes);
    }();
    NotifyAll(notes);
    if (!result) return tl::unexpected(result.error());
    return DeleteResult{*result->object, result->deleted};
  }

  Result<Object> DeleteCollection(const ResourceInfo& r, const ListQuery& query,
                                  const DeleteRequest& request) override {
    if (r.CreateOnly()) return tl::unexpected(MethodNotSupportedError(r, "deletecollection"));
    if (auto st = ValidateDeleteRequest(request); !st) return tl::unexpected(st.error());
    if (auto st = ValidateListQuery(query); !st) return tl::unexpected(st.error());
    auto filter = MakeFilter(r, query);
    if (!filter) return tl::unexpected(filter.error());
    ListQuery everything = query;
    everything.limit = 0;
    everything.continue_token.clear();
    everything.resource_version.clear();
    everything.resource_version_match.clear();
    Notifications notes;
    Result<ListResult> listed = [&]() -> Result<ListResult> {
      std::unique_lock lock(core_->mu);
      auto page = core_->ListLocked(r, everything, *filter);
      if (!page) return page;
      for (const auto& item : page->items) {
        auto deleted =
            core_->DeleteLocked(r, obj::Namespace(*item), obj::Name(*item), request, notes);
        if (!deleted && !deleted.error().IsNotFound()) return tl::unexpected(deleted.error());
      }
      return page;
    }();
    NotifyAll(notes);
    if (!listed) return tl::unexpected(listed.error());
    return ListDocument(r, *listed);
  }

  Result<WatcherPtr> Watch(const ResourceInfo& r, const ListQuery& query) override {
    if (r.CreateOnly()) return tl::unexpected(MethodNotSupportedError(r, "watch"));
    if (auto st = ValidateWatchQuery(query); !st) return tl::unexpected(st.error());
    auto filter = MakeFilter(r, query);
    if (!filter) return tl::unexpected(filter.error());
    std::unique_lock lock(core_->mu);
    return core_->WatchLocked(r, query, std::move(*filter));
  }

  Result<Object> BindPod(std::string_view ns, std::string_view name, std::string_view node_name,
                         bool dry_run) override {
    return Write([&](Notifications& notes) {
      return core_->BindLocked(ns, name, node_name, dry_run, notes);
    });
  }

  uint64_t CurrentResourceVersion() const override {
    std::shared_lock lock(core_->mu);
    return core_->rv();
  }

  void CloseAllWatchers() override {
    std::vector<std::shared_ptr<WatcherImpl>> all;
    {
      std::unique_lock lock(core_->mu);
      all = core_->TakeAllWatchersLocked();
    }
    for (auto& w : all) w->Close();
  }

 private:
  // Runs a write under the exclusive lock, then notifies watchers without it. The stored object
  // is copied out after unlocking: it is immutable.
  template <typename F>
  Result<Object> Write(F&& f) {
    Notifications notes;
    Result<ObjectPtr> result = [&] {
      std::unique_lock lock(core_->mu);
      return f(notes);
    }();
    NotifyAll(notes);
    if (!result) return tl::unexpected(result.error());
    return **result;
  }

  std::shared_ptr<Core> core_;
};

}  // namespace

std::unique_ptr<Storage> Storage::Create(const ResourceCatalog& catalog, Options options) {
  return std::make_unique<StorageImpl>(catalog, std::move(options));
}

std::unique_ptr<Storage> Storage::Create(const ResourceCatalog& catalog) {
  return Create(catalog, Options());
}

}  // namespace vk::kubesim
