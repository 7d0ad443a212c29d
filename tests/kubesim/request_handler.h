#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "hostclient/base/clock.h"
#include "hostclient/base/error.h"
#include "tests/kubesim/authn.h"
#include "tests/kubesim/authz.h"
#include "tests/kubesim/discovery.h"
#include "tests/kubesim/fault_injector.h"
#include "tests/kubesim/openapi.h"
#include "tests/kubesim/resource_catalog.h"
#include "tests/kubesim/router.h"
#include "tests/kubesim/storage.h"

namespace vk::kubesim {

// An HTTP request as the server read it, independent of the network library.
struct HttpRequest {
  std::string method;  // "GET"
  std::string target;  // "/api/v1/pods?limit=10"
  std::string content_type;
  std::string accept;
  std::string body;
  Credentials credentials;  // client certificate from the TLS session, bearer token
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// A watch for the server to stream: initial_events (already encoded) first, then every event the
// watcher yields, encoded by `encode` as one JSON line each, until the watcher closes or the
// timeout passes. Bookmarks are requested from the watcher at the server's interval when asked.
struct WatchPlan {
  std::string initial_events;
  WatcherPtr watcher;  // null: send initial_events and end the stream
  std::chrono::milliseconds timeout{0};
  bool bookmarks = false;
  std::function<void(const WatchEventRecord& event, std::string& out)> encode;
  std::string content_type = "application/json";
};

struct HandlerResult {
  HttpResponse response;  // for a watch: status and content type of the stream
  std::optional<WatchPlan> watch;
};

// A request past parsing, authentication and fault injection: the server waits `delay`, then
// answers `early` when set (a 400, 401 or injected fault) or calls Execute.
struct PreparedRequest {
  HttpRequest http;
  RequestInfo info;
  UserInfo user;
  std::chrono::milliseconds delay{0};
  std::optional<HandlerResult> early;
};

// What `GET pods/<name>/log` asks for.
struct PodLogRequest {
  std::string ns;
  std::string pod;
  std::string container;
  bool follow = false;
  bool previous = false;
  bool timestamps = false;
  std::optional<int64_t> tail_lines;
  std::optional<int64_t> limit_bytes;
  std::optional<int64_t> since_seconds;
};
// Supplies container logs (a node simulator does); without one pods/log answers 400.
using PodLogProvider = std::function<Result<std::string>(const PodLogRequest&)>;
// A followed log (follow=true): `initial` is sent at once, then the text of every event the
// watcher yields (the string at the event object's "text"), until the watcher closes (the
// container ended) or the client goes away. A null watcher ends the stream after `initial`.
struct PodLogStream {
  std::string initial;
  WatcherPtr watcher;
};
using PodLogStreamProvider = std::function<Result<PodLogStream>(const PodLogRequest&)>;

// The API logic of kubesim, independent of the network: routing, authentication, authorisation,
// fault injection, content negotiation, CRUD and watch setup over Storage, subresources, reviews,
// discovery and OpenAPI. Errors are answered as metav1.Status with kube-apiserver's codes and
// messages. Thread-safe: called concurrently from the server's I/O threads; it keeps no
// per-request state. Borrows everything it is given, which must outlive it.
class RequestHandler {
 public:
  struct Options {
    std::string server_address;  // "127.0.0.1:6443", for /api
    // Watches without timeoutSeconds last between 1x and 2x this, as in kube-apiserver.
    std::chrono::seconds min_request_timeout{1800};
    PodLogProvider pod_logs;
    // Serves follow=true when set; without it follow=true answers what pod_logs has and ends.
    PodLogStreamProvider pod_log_streams;
  };

  RequestHandler(Storage& storage, const ResourceCatalog& catalog, Authenticator& authenticator,
                 Authorizer& authorizer, FaultInjector& faults, Options options);

  PreparedRequest Prepare(HttpRequest request) const;
  HandlerResult Execute(const PreparedRequest& request);

  // Error answers that the server produces itself (413 for an oversized body, ...).
  static HttpResponse ErrorResponse(const Error& error);

 private:
  HandlerResult NonResource(const PreparedRequest& p);
  HandlerResult Resource(const PreparedRequest& p);
  HandlerResult Collection(const PreparedRequest& p, const ResourceInfo& r, std::string_view ns);
  HandlerResult Item(const PreparedRequest& p, const ResourceInfo& r, std::string_view ns);
  HandlerResult Subresource(const PreparedRequest& p, const ResourceInfo& r, std::string_view ns);
  HandlerResult Watch(const PreparedRequest& p, const ResourceInfo& r, ListQuery query);
  HandlerResult Create(const PreparedRequest& p, const ResourceInfo& r, std::string_view ns);
  HandlerResult Review(const PreparedRequest& p, const ResourceInfo& r, std::string_view ns,
                       const Object& body);
  HandlerResult Update(const PreparedRequest& p, const ResourceInfo& r, std::string_view ns,
                       std::string_view subresource);
  HandlerResult Patch(const PreparedRequest& p, const ResourceInfo& r, std::string_view ns,
                      std::string_view subresource);
  HandlerResult Delete(const PreparedRequest& p, const ResourceInfo& r, std::string_view ns);
  HandlerResult PodLog(const PreparedRequest& p, std::string_view ns);

  Storage& storage_;
  const ResourceCatalog& catalog_;
  Authenticator& authenticator_;
  Authorizer& authorizer_;
  FaultInjector& faults_;
  Options options_;
  Discovery discovery_;
  OpenApi openapi_;
};

}  // namespace vk::kubesim
