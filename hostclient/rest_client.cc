#include "hostclient/rest_client.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <optional>
#include <utility>

#include "hostclient/backoff.h"
#include "hostclient/client_metrics.h"
#include "hostclient/request_builder.h"
#include "hostclient/rest_watch_stream.h"
#include "hostclient/token_bucket.h"

namespace vk::hostclient {
namespace {

// The verbs of the API server's request metrics, which our metrics use too.
constexpr std::string_view kGet = "GET";
constexpr std::string_view kList = "LIST";
constexpr std::string_view kWatch = "WATCH";
constexpr std::string_view kPost = "POST";
constexpr std::string_view kPut = "PUT";
constexpr std::string_view kPatch = "PATCH";
constexpr std::string_view kDelete = "DELETE";

constexpr std::string_view kJson = "application/json";
// Streamed subresources (pods/log) answer in text/plain; errors still come as JSON.
constexpr std::string_view kAcceptAny = "application/json, */*";
// How much of a failed stream's body is read to decode its Status.
constexpr size_t kMaxErrorBody = 1 << 20;
// A watch's timeoutSeconds must end it this long before the transport's idle timeout would.
constexpr std::chrono::seconds kWatchIdleMargin{30};

// One API request, retried as a unit.
struct Call {
  std::string_view verb{};  // metric verb
  std::string_view method{};
  std::string target{};
  std::string body{};
  std::string_view content_type{};
  std::string_view accept = kJson;
  bool write = false;
  std::string what{};  // "get pods default/web", for error messages
};

std::string Describe(std::string_view action, const GroupVersionResource& gvr, std::string_view ns,
                     std::string_view name = {}, std::string_view subresource = {}) {
  std::string out(action);
  out.append(" ").append(gvr.ToString());
  if (!subresource.empty()) out.append("/").append(subresource);
  if (!name.empty()) {
    out.append(" ");
    if (!ns.empty() && gvr.namespaced) out.append(ns).append("/");
    out.append(name);
  } else if (!ns.empty() && gvr.namespaced) {
    out.append(" in ").append(ns);
  }
  return out;
}

// client-go's rule for names in paths: they must not be able to change the path's structure.
Status ValidateSegment(std::string_view what, std::string_view segment, bool required) {
  if (segment.empty()) {
    if (!required) return Ok();
    return MakeError(ErrorCode::kInvalid, std::string(what) + " may not be empty");
  }
  if (segment == "." || segment == "..") {
    return MakeError(ErrorCode::kInvalid,
                     std::string(what) + " may not be '" + std::string(segment) + "'");
  }
  if (segment.find_first_of("/%") != std::string_view::npos) {
    return MakeError(ErrorCode::kInvalid, std::string(what) + " \"" + std::string(segment) +
                                              "\" may not contain '/' or '%'");
  }
  return Ok();
}

Status ValidateTarget(std::string_view ns, std::string_view name, bool name_required) {
  if (auto s = ValidateSegment("namespace", ns, false); !s) return s;
  return ValidateSegment("resource name", name, name_required);
}

bool IsSuccess(int status) { return status >= 200 && status < 300; }

int StatusOf(const HttpResponse& response) { return response.status; }
int StatusOf(const ByteStreamPtr& stream) { return stream->status(); }

Result<Object> ParseBody(const HttpResponse& response, const std::string& what) {
  auto parsed = obj::Parse(response.body);
  if (!parsed) {
    Error error = std::move(parsed.error());
    error.WithHttpStatus(response.status).Context(what + ": decoding the response");
    return tl::unexpected(std::move(error));
  }
  return parsed;
}

// Reads what a failed stream has to say (a Status, usually), within reason.
HttpResponse DrainErrorBody(ByteStream& stream) {
  HttpResponse response;
  response.status = stream.status();
  response.headers = stream.headers();
  while (response.body.size() < kMaxErrorBody) {
    auto chunk = stream.Read();
    if (!chunk || !chunk->has_value()) break;
    response.body.append(**chunk);
  }
  return response;
}

}  // namespace

struct RestClient::Impl {
  Impl(std::string cluster_name, TransportPtr t, CredentialsPtr c, const RestClientOptions& o,
       prometheus::Registry* registry, Clock& clk, SleeperPtr s)
      : cluster(std::move(cluster_name)),
        transport(std::move(t)),
        credentials(std::move(c)),
        options(o),
        metrics(registry, cluster),
        clock(clk),
        sleeper(s ? std::move(s) : std::make_unique<RealSleeper>()),
        limiter(o.qps, o.burst, clk) {}

  Error Cancelled(const Call& call) const {
    Error error(ErrorCode::kCancelled, "client shut down");
    error.Context(call.what);
    return error;
  }

  bool Retryable(const Call& call, const Error& error) const {
    const RetryAction action = error.retry_action();
    if (action != RetryAction::kBackoff && action != RetryAction::kAfterDelay) return false;
    if (!call.write) return true;
    // See the class comment: only answers that promise the server did nothing.
    if (error.code() == ErrorCode::kTooManyRequests) return true;
    return error.code() == ErrorCode::kServiceUnavailable && error.retry_after().has_value();
  }

  Result<HttpRequest> BuildRequest(const Call& call) const {
    HttpRequest request;
    request.method = std::string(call.method);
    request.target = call.target;
    request.timeout = options.request_timeout;
    request.headers.emplace_back("Accept", std::string(call.accept));
    request.headers.emplace_back("User-Agent", options.user_agent);
    if (credentials) {
      // Asked on every attempt: a token file may have rotated, an exec credential expired.
      auto authorization = credentials->AuthorizationHeader();
      if (!authorization) {
        Error error = std::move(authorization.error());
        error.Context(call.what + ": credentials");
        return tl::unexpected(std::move(error));
      }
      if (!authorization->empty()) {
        request.headers.emplace_back("Authorization", std::move(*authorization));
      }
    }
    if (!call.body.empty()) {
      request.headers.emplace_back("Content-Type", std::string(call.content_type));
      request.body = call.body;
    }
    return request;
  }

  // The retry loop shared by every verb. attempt sends one request and returns a success or the
  // decoded failure (with its HTTP status, 0 when there was no response).
  template <typename T>
  Result<T> Execute(const Call& call, const std::function<Result<T>(const HttpRequest&)>& attempt) {
    // Made on the first retry only: seeding it costs a system call, and most requests succeed.
    std::optional<Backoff> backoff;
    int retries = 0;
    bool reauthenticated = false;
    while (true) {
      if (shutdown.load()) return tl::unexpected(Cancelled(call));
      auto waited = limiter.Wait(*sleeper);
      if (!waited) return tl::unexpected(Cancelled(call));
      metrics.ObserveRateLimiterWait(call.verb, *waited);

      auto request = BuildRequest(call);
      if (!request) return tl::unexpected(std::move(request.error()));
      const auto start = clock.Now();
      Result<T> result = attempt(*request);
      metrics.ObserveRequest(call.verb, result ? StatusOf(*result) : result.error().http_status(),
                             clock.Now() - start);
      if (result) return result;

      Error error = std::move(result.error());
      if (shutdown.load()) return tl::unexpected(Cancelled(call));
      if (error.code() == ErrorCode::kUnauthorized && !reauthenticated && credentials) {
        reauthenticated = true;
        spdlog::debug("{}: {}: unauthorized, retrying with fresh credentials", cluster, call.what);
        credentials->Invalidate();
        metrics.ObserveRetry(call.verb, ToString(error.code()));
        continue;
      }
      if (retries < options.max_retries && Retryable(call, error)) {
        ++retries;
        if (!backoff) {
          backoff.emplace(options.backoff_base, options.backoff_max,
                          Backoff::Jitter::kDecorrelated);
        }
        const Clock::Duration delay =
            error.retry_after() ? Clock::Duration(*error.retry_after()) : backoff->Next();
        spdlog::debug("{}: {}: {}; retry {}/{} in {} ms", cluster, call.what, error.ToString(),
                      retries, options.max_retries,
                      std::chrono::duration_cast<std::chrono::milliseconds>(delay).count());
        metrics.ObserveRetry(call.verb, ToString(error.code()));
        if (!sleeper->SleepFor(delay)) return tl::unexpected(Cancelled(call));
        continue;
      }
      error.Context(call.what);
      return tl::unexpected(std::move(error));
    }
  }

  Result<HttpResponse> Do(const Call& call) {
    return Execute<HttpResponse>(call, [this](const HttpRequest& request) -> Result<HttpResponse> {
      auto response = transport->RoundTrip(request);
      if (!response) return response;
      if (!IsSuccess(response->status)) return tl::unexpected(ErrorFromResponse(*response));
      return response;
    });
  }

  // A PUT of body to its own name (or to its subresource), shared by Update and UpdateStatus.
  Result<Object> Put(const GroupVersionResource& gvr, std::string_view ns, const Object& body,
                     const UpdateOptions& options, std::string_view subresource) {
    const std::string_view name = obj::Name(body);
    Call call{.verb = kPut,
              .method = "PUT",
              .body = obj::Serialize(body),
              .content_type = kJson,
              .write = true,
              .what = Describe("update", gvr, ns, name, subresource)};
    if (auto valid = ValidateTarget(ns, name, true); !valid) {
      return tl::unexpected(std::move(valid.error().Context(call.what)));
    }
    call.target = ObjectPath(gvr, ns, name, subresource) + UpdateQuery(options);
    return DoObject(call);
  }

  Result<Object> DoObject(const Call& call) {
    auto response = Do(call);
    if (!response) return tl::unexpected(std::move(response.error()));
    return ParseBody(*response, call.what);
  }

  Result<ByteStreamPtr> DoStream(const Call& call) {
    return Execute<ByteStreamPtr>(
        call, [this](const HttpRequest& request) -> Result<ByteStreamPtr> {
          auto stream = transport->Stream(request);
          if (!stream) return stream;
          if (!IsSuccess((*stream)->status())) {
            return tl::unexpected(ErrorFromResponse(DrainErrorBody(**stream)));
          }
          return stream;
        });
  }

  // Lowers timeoutSeconds below the transport's idle timeout, which would otherwise end a quiet
  // watch as a failure before the server ends it normally.
  std::optional<int64_t> WatchTimeout(std::optional<int64_t> requested) const {
    if (!requested) return requested;
    const auto idle =
        std::chrono::duration_cast<std::chrono::seconds>(options.transport.stream_idle_timeout);
    const auto margin = std::min<std::chrono::seconds>(kWatchIdleMargin, idle / 2);
    const int64_t allowed = std::max<int64_t>(1, (idle - margin).count());
    return std::min(*requested, allowed);
  }

  const std::string cluster;
  TransportPtr transport;
  CredentialsPtr credentials;
  const RestClientOptions options;
  ClientMetrics metrics;
  Clock& clock;
  SleeperPtr sleeper;
  TokenBucket limiter;
  std::atomic<bool> shutdown{false};
};

Result<std::unique_ptr<RestClient>> RestClient::Create(const ClusterConfig& config,
                                                       const RestClientOptions& options,
                                                       prometheus::Registry* metrics) {
  auto transport = NewHttpTransport(config, options.transport);
  if (!transport) return tl::unexpected(std::move(transport.error()));
  auto credentials = Credentials::Create(config);
  if (!credentials) return tl::unexpected(std::move(credentials.error()));
  return CreateWith(config.name, std::move(*transport), std::move(*credentials), options, metrics);
}

std::unique_ptr<RestClient> RestClient::CreateWith(std::string cluster_name, TransportPtr transport,
                                                   CredentialsPtr credentials,
                                                   const RestClientOptions& options,
                                                   prometheus::Registry* metrics, Clock& clock,
                                                   SleeperPtr sleeper) {
  return std::unique_ptr<RestClient>(new RestClient(
      std::make_unique<Impl>(std::move(cluster_name), std::move(transport), std::move(credentials),
                             options, metrics, clock, std::move(sleeper))));
}

RestClient::RestClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RestClient::~RestClient() = default;

const std::string& RestClient::cluster_name() const { return impl_->cluster; }

Result<Object> RestClient::Get(const GroupVersionResource& gvr, std::string_view ns,
                               std::string_view name, const GetOptions& options) {
  Call call{.verb = kGet, .method = "GET", .what = Describe("get", gvr, ns, name)};
  if (auto valid = ValidateTarget(ns, name, true); !valid) {
    return tl::unexpected(std::move(valid.error().Context(call.what)));
  }
  call.target = ObjectPath(gvr, ns, name) + GetQuery(options);
  return impl_->DoObject(call);
}

Result<Object> RestClient::List(const GroupVersionResource& gvr, std::string_view ns,
                                const ListOptions& options) {
  Call call{.verb = kList, .method = "GET", .what = Describe("list", gvr, ns)};
  if (auto valid = ValidateTarget(ns, {}, false); !valid) {
    return tl::unexpected(std::move(valid.error().Context(call.what)));
  }
  call.target = CollectionPath(gvr, ns) + ListQuery(options, false);
  return impl_->DoObject(call);
}

Status RestClient::ListPages(const GroupVersionResource& gvr, std::string_view ns,
                             ListOptions options, const PageHandler& on_page) {
  // As client-go's pager: later pages carry only the continue token (the server rejects a
  // resourceVersion beside it), and an expired token means one unpaginated list at the version
  // first asked for.
  const std::string requested_version = options.resource_version;
  const std::string requested_match = options.resource_version_match;
  bool first = true;
  while (true) {
    auto page = List(gvr, ns, options);
    if (!page) {
      if (!page.error().IsGone() || options.continue_token.empty()) {
        return tl::unexpected(std::move(page.error()));
      }
      spdlog::info("{}: {}: continue token expired, listing everything at once", cluster_name(),
                   Describe("list", gvr, ns));
      options.limit = 0;
      options.continue_token.clear();
      options.resource_version = requested_version;
      options.resource_version_match = requested_match;
      page = List(gvr, ns, options);
      if (!page) return tl::unexpected(std::move(page.error()));
      return on_page(*page, true);
    }
    std::string next(obj::String(*page, {"metadata", "continue"}));
    if (auto handled = on_page(*page, first); !handled) return handled;
    if (next.empty()) return Ok();
    first = false;
    options.continue_token = std::move(next);
    options.resource_version.clear();
    options.resource_version_match.clear();
  }
}

Result<Object> RestClient::ListAll(const GroupVersionResource& gvr, std::string_view ns,
                                   ListOptions options) {
  Object result;
  auto listed = ListPages(gvr, ns, std::move(options), [&](Object& page, bool first) -> Status {
    if (first) {
      result = std::move(page);
      if (!result["items"].is_array()) result["items"] = boost::json::array();
    } else if (auto* items = page.if_contains("items"); items && items->is_array()) {
      auto& all = result["items"].get_array();
      auto& more = items->get_array();
      all.reserve(all.size() + more.size());
      for (auto& item : more) all.push_back(std::move(item));
    }
    return Ok();
  });
  if (!listed) return tl::unexpected(std::move(listed.error()));
  if (auto* metadata = result.if_contains("metadata"); metadata && metadata->is_object()) {
    metadata->get_object().erase("continue");
    metadata->get_object().erase("remainingItemCount");
  }
  return result;
}

Result<Object> RestClient::Create(const GroupVersionResource& gvr, std::string_view ns,
                                  const Object& body, const CreateOptions& options) {
  std::string name(obj::Name(body));
  if (name.empty()) {
    std::string_view prefix = obj::String(body, {"metadata", "generateName"});
    if (!prefix.empty()) name = std::string(prefix) + "*";
  }
  Call call{.verb = kPost,
            .method = "POST",
            .body = obj::Serialize(body),
            .content_type = kJson,
            .write = true,
            .what = Describe("create", gvr, ns, name)};
  if (auto valid = ValidateTarget(ns, {}, false); !valid) {
    return tl::unexpected(std::move(valid.error().Context(call.what)));
  }
  call.target = CollectionPath(gvr, ns) + CreateQuery(options);
  return impl_->DoObject(call);
}

Result<Object> RestClient::CreateSubresource(const GroupVersionResource& gvr, std::string_view ns,
                                             std::string_view name, std::string_view subresource,
                                             const Object& body, const CreateOptions& options) {
  Call call{.verb = kPost,
            .method = "POST",
            .body = obj::Serialize(body),
            .content_type = kJson,
            .write = true,
            .what = Describe("create", gvr, ns, name, subresource)};
  if (auto valid = ValidateTarget(ns, name, true); !valid) {
    return tl::unexpected(std::move(valid.error().Context(call.what)));
  }
  if (auto valid = ValidateSegment("subresource", subresource, true); !valid) {
    return tl::unexpected(std::move(valid.error().Context(call.what)));
  }
  call.target = ObjectPath(gvr, ns, name, subresource) + CreateQuery(options);
  return impl_->DoObject(call);
}

Result<Object> RestClient::Update(const GroupVersionResource& gvr, std::string_view ns,
                                  const Object& body, const UpdateOptions& options) {
  return impl_->Put(gvr, ns, body, options, {});
}

Result<Object> RestClient::UpdateStatus(const GroupVersionResource& gvr, std::string_view ns,
                                        const Object& body, const UpdateOptions& options) {
  return impl_->Put(gvr, ns, body, options, "status");
}

Result<Object> RestClient::Patch(const GroupVersionResource& gvr, std::string_view ns,
                                 std::string_view name, PatchType type, std::string_view patch,
                                 const PatchOptions& options, std::string_view subresource) {
  Call call{.verb = kPatch,
            .method = "PATCH",
            .body = std::string(patch),
            .content_type = PatchContentType(type),
            .write = true,
            .what = Describe(std::string(ToString(type)) + " patch", gvr, ns, name, subresource)};
  if (auto valid = ValidateTarget(ns, name, true); !valid) {
    return tl::unexpected(std::move(valid.error().Context(call.what)));
  }
  if (auto valid = ValidateSegment("subresource", subresource, false); !valid) {
    return tl::unexpected(std::move(valid.error().Context(call.what)));
  }
  if (type == PatchType::kApply && options.field_manager.empty()) {
    Error error(ErrorCode::kInvalid, "server-side apply needs a field manager");
    return tl::unexpected(std::move(error.Context(call.what)));
  }
  if (patch.empty()) {
    Error error(ErrorCode::kInvalid, "empty patch");
    return tl::unexpected(std::move(error.Context(call.what)));
  }
  call.target = ObjectPath(gvr, ns, name, subresource) + PatchQuery(type, options);
  return impl_->DoObject(call);
}

Result<Object> RestClient::Delete(const GroupVersionResource& gvr, std::string_view ns,
                                  std::string_view name, const DeleteOptions& options) {
  Call call{.verb = kDelete,
            .method = "DELETE",
            .body = DeleteBody(options),
            .content_type = kJson,
            .write = true,
            .what = Describe("delete", gvr, ns, name)};
  if (auto valid = ValidateTarget(ns, name, true); !valid) {
    return tl::unexpected(std::move(valid.error().Context(call.what)));
  }
  call.target = ObjectPath(gvr, ns, name);
  auto response = impl_->Do(call);
  if (!response) return tl::unexpected(std::move(response.error()));
  // Some servers (and proxies) answer a delete with no body at all.
  if (response->body.empty()) return Object();
  return ParseBody(*response, call.what);
}

Result<WatchStreamPtr> RestClient::Watch(const GroupVersionResource& gvr, std::string_view ns,
                                         const ListOptions& options) {
  Call call{.verb = kWatch, .method = "GET", .what = Describe("watch", gvr, ns)};
  if (auto valid = ValidateTarget(ns, {}, false); !valid) {
    return tl::unexpected(std::move(valid.error().Context(call.what)));
  }
  ListOptions effective = options;
  effective.timeout_seconds = impl_->WatchTimeout(options.timeout_seconds);
  call.target = CollectionPath(gvr, ns) + ListQuery(effective, true);
  auto stream = impl_->DoStream(call);
  if (!stream) return tl::unexpected(std::move(stream.error()));
  return NewRestWatchStream(std::move(*stream), call.what);
}

Result<ByteStreamPtr> RestClient::StreamGet(const GroupVersionResource& gvr, std::string_view ns,
                                            std::string_view name, std::string_view subresource,
                                            std::string_view query) {
  Call call{.verb = kGet,
            .method = "GET",
            .accept = kAcceptAny,
            .what = Describe("get", gvr, ns, name, subresource)};
  if (auto valid = ValidateTarget(ns, name, true); !valid) {
    return tl::unexpected(std::move(valid.error().Context(call.what)));
  }
  if (auto valid = ValidateSegment("subresource", subresource, false); !valid) {
    return tl::unexpected(std::move(valid.error().Context(call.what)));
  }
  call.target = ObjectPath(gvr, ns, name, subresource) + QueryBuilder().AddRaw(query).Build();
  return impl_->DoStream(call);
}

Result<std::string> RestClient::RawGet(std::string_view path) {
  Call call{.verb = kGet, .method = "GET", .target = std::string(path)};
  call.what = "get " + call.target;
  if (path.empty() || path.front() != '/') {
    Error error(ErrorCode::kInvalid, "path must start with '/'");
    return tl::unexpected(std::move(error.Context(call.what)));
  }
  auto response = impl_->Do(call);
  if (!response) return tl::unexpected(std::move(response.error()));
  return std::move(response->body);
}

void RestClient::Shutdown() {
  impl_->shutdown.store(true);
  impl_->sleeper->Shutdown();
  impl_->transport->Shutdown();
}

}  // namespace vk::hostclient
