#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "hostclient/base/clock.h"
#include "hostclient/base/error.h"
#include "hostclient/base/object.h"
#include "hostclient/cluster_config.h"
#include "hostclient/credentials.h"
#include "hostclient/resource.h"
#include "hostclient/sleeper.h"
#include "hostclient/transport.h"

namespace prometheus {
class Registry;
}

namespace vk::hostclient {

struct GetOptions {
  std::string resource_version;  // "" = most recent (quorum read); "0" = any cached version
};

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  int64_t limit = 0;                   // 0 = no pagination
  std::string continue_token;          // from the previous page's metadata.continue
  std::string resource_version;        // list/watch resourceVersion semantics
  std::string resource_version_match;  // "NotOlderThan" or "Exact"
  // Watch only:
  bool allow_watch_bookmarks = false;
  std::optional<int64_t> timeout_seconds;
};

struct CreateOptions {
  std::string field_manager;
  bool dry_run = false;
};

struct UpdateOptions {
  std::string field_manager;
  bool dry_run = false;
};

enum class PatchType {
  kJsonPatch,       // application/json-patch+json (RFC 6902)
  kMergePatch,      // application/merge-patch+json (RFC 7386)
  kStrategicMerge,  // application/strategic-merge-patch+json
  kApply,           // application/apply-patch+yaml (server-side apply; JSON is valid YAML)
};

struct PatchOptions {
  std::string field_manager;  // required by the server for kApply
  bool force = false;         // kApply: take ownership of conflicting fields
  bool dry_run = false;
};

struct DeleteOptions {
  std::optional<int64_t> grace_period_seconds;
  std::string precondition_uid;
  std::string precondition_resource_version;
  std::string propagation_policy;  // "Orphan", "Background", "Foreground" or "" (server default)
  bool dry_run = false;
};

// One decoded watch event. For kError the object is the metav1.Status the server sent.
struct WatchEvent {
  enum class Type { kAdded, kModified, kDeleted, kBookmark, kError };
  Type type;
  ObjectPtr object;
};

const char* ToString(WatchEvent::Type type);

// A watch in progress. Next blocks until an event arrives; nullopt when the server ended the
// watch normally (timeoutSeconds reached), an error when the connection failed. An ERROR event
// carrying a 410 is returned as an Error with code kGone. Cancel works from any thread.
// RestClient's streams return every ERROR event as an Error (its Status mapped as for an HTTP
// failure) after the events that preceded it, and never hand out kError events.
class WatchStream {
 public:
  virtual ~WatchStream() = default;
  virtual Result<std::optional<WatchEvent>> Next() = 0;
  virtual void Cancel() = 0;
};

using WatchStreamPtr = std::unique_ptr<WatchStream>;

struct RestClientOptions {
  double qps = 50;  // client-side token bucket; <= 0 disables it
  int burst = 100;
  int max_retries = 5;  // for retryable errors (RetryAction kBackoff / kAfterDelay)
  std::chrono::milliseconds backoff_base{std::chrono::milliseconds(100)};
  std::chrono::milliseconds backoff_max{std::chrono::seconds(10)};
  std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};
  std::string user_agent = "vkubelet";
  TransportOptions transport;
};

// Typed Kubernetes REST verbs over a Transport, for any group/version/resource.
//
// Adds authentication, Accept/Content-Type, the user agent; applies the client-side rate limit;
// retries errors whose RetryAction is kBackoff or kAfterDelay (honouring Retry-After) up to
// max_retries for requests that are safe to repeat (reads always; writes only when the request
// never reached the server); retries once after a 401 with fresh credentials. Decodes
// metav1.Status failures into Error. Records rest_client_requests_total{cluster,verb,code} and
// rest_client_request_duration_seconds{cluster,verb}. Thread-safe.
//
// Rate limit: every attempt takes a token first (watch and stream establishment included, as in
// client-go); the wait is recorded in rest_client_rate_limiter_duration_seconds.
//
// Retry policy, in detail. Reads (GET, LIST, the establishment of a watch or stream) are retried
// on every kBackoff/kAfterDelay error. The wait is the server's Retry-After (header, else
// details.retryAfterSeconds) exactly, as client-go does; otherwise a decorrelated-jitter backoff
// between backoff_base and backoff_max. Writes (POST, PUT, PATCH, DELETE) are retried only when
// the server says it did not act on them: 429 (max-in-flight and API priority and fairness reject
// before any handler runs) and 503 with a Retry-After (an API server starting or shutting down,
// an unavailable aggregated API). A network error, a timeout or a 500 on a write is returned to
// the caller: the transport cannot tell "never connected" from "reset after the request was
// sent", and repeating a create or a JSON patch that did happen is worse than letting the
// caller's level-based reconcile decide. After a 401, Credentials::Invalidate is called and the
// request is repeated once, whatever the verb (the server rejected it before acting). kNever,
// kReread and kRelist errors are returned at once. Errors carry what was being done
// ("get pods default/web: ...") and retries are counted in rest_client_retries_total.
class RestClient {
 public:
  // metrics may be null (no metrics). The registry must outlive the client.
  static Result<std::unique_ptr<RestClient>> Create(const ClusterConfig& config,
                                                    const RestClientOptions& options = {},
                                                    prometheus::Registry* metrics = nullptr);
  // For tests: a given transport and credentials (either may be a fake). The clock times
  // requests and drives the rate limiter; the sleeper does all the waiting (rate limit, backoff,
  // Retry-After) and is shut down by Shutdown; null means a RealSleeper.
  static std::unique_ptr<RestClient> CreateWith(std::string cluster_name, TransportPtr transport,
                                                CredentialsPtr credentials,
                                                const RestClientOptions& options,
                                                prometheus::Registry* metrics = nullptr,
                                                Clock& clock = Clock::Real(),
                                                SleeperPtr sleeper = nullptr);
  virtual ~RestClient();

  const std::string& cluster_name() const;

  Result<Object> Get(const GroupVersionResource& gvr, std::string_view ns, std::string_view name,
                     const GetOptions& options = {});
  // Returns the list object (kind XList) with items, metadata.resourceVersion and .continue.
  Result<Object> List(const GroupVersionResource& gvr, std::string_view ns,
                      const ListOptions& options = {});
  // Lists every page (following metadata.continue) and returns one list object.
  Result<Object> ListAll(const GroupVersionResource& gvr, std::string_view ns,
                         ListOptions options = {});
  // Called with each page of a list as it arrives. `first`: the page starts the list, so what
  // earlier pages gave is to be dropped (an expired continue token restarts the list as one
  // unpaginated page). The list's resourceVersion is the first page's.
  using PageHandler = std::function<Status(Object& page, bool first)>;
  // Lists every page like ListAll, handing each page over instead of joining them, so that a
  // large collection is never held whole. Stops at the first error, on_page's included.
  Status ListPages(const GroupVersionResource& gvr, std::string_view ns, ListOptions options,
                   const PageHandler& on_page);
  Result<Object> Create(const GroupVersionResource& gvr, std::string_view ns, const Object& body,
                        const CreateOptions& options = {});
  // Creates a subresource of an object: pods/binding, pods/eviction, serviceaccounts/token.
  Result<Object> CreateSubresource(const GroupVersionResource& gvr, std::string_view ns,
                                   std::string_view name, std::string_view subresource,
                                   const Object& body, const CreateOptions& options = {});
  // PUT; the body's metadata.resourceVersion is the optimistic-concurrency precondition.
  Result<Object> Update(const GroupVersionResource& gvr, std::string_view ns, const Object& body,
                        const UpdateOptions& options = {});
  Result<Object> UpdateStatus(const GroupVersionResource& gvr, std::string_view ns,
                              const Object& body, const UpdateOptions& options = {});
  Result<Object> Patch(const GroupVersionResource& gvr, std::string_view ns, std::string_view name,
                       PatchType type, std::string_view patch, const PatchOptions& options = {},
                       std::string_view subresource = {});
  // Returns what the server returned: the object (graceful deletion, finalizers) or a Status.
  Result<Object> Delete(const GroupVersionResource& gvr, std::string_view ns, std::string_view name,
                        const DeleteOptions& options = {});
  // A non-200 answer is an Error. A timeoutSeconds that the transport's stream_idle_timeout would
  // cut short is lowered to fit under it (a silent watch must end on the server's terms).
  Result<WatchStreamPtr> Watch(const GroupVersionResource& gvr, std::string_view ns,
                               const ListOptions& options = {});
  // GET of a streaming subresource (pods/log with follow=true...): the raw byte stream.
  // query is appended as is ("container=c&follow=true").
  Result<ByteStreamPtr> StreamGet(const GroupVersionResource& gvr, std::string_view ns,
                                  std::string_view name, std::string_view subresource,
                                  std::string_view query);
  // Any request (discovery, /version, /healthz...): the JSON body, errors decoded.
  Result<std::string> RawGet(std::string_view path);

  // Cancels everything in flight; later calls fail with kCancelled.
  void Shutdown();

 private:
  struct Impl;
  explicit RestClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

using RestClientPtr = std::unique_ptr<RestClient>;

// Builds the Error for a non-2xx response: decodes a metav1.Status body when there is one
// (reason, message, details.causes, details.retryAfterSeconds) and the Retry-After header.
Error ErrorFromResponse(const HttpResponse& response);

}  // namespace vk::hostclient
