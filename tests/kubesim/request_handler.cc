#include "tests/kubesim/request_handler.h"

#include <algorithm>
#include <boost/json.hpp>
#include <random>

#include "tests/kubesim/api_errors.h"
#include "tests/kubesim/negotiation.h"
#include "tests/kubesim/reviews.h"
#include "tests/kubesim/subresources.h"
#include "tests/kubesim/table.h"
#include "tests/kubesim/yaml_json.h"

namespace vk::kubesim {
namespace {

namespace json = boost::json;

HandlerResult Answer(HttpResponse response) { return HandlerResult{std::move(response), {}}; }

HttpResponse JsonResponse(int status, const Object& body,
                          std::string content_type = "application/json") {
  HttpResponse r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = json::serialize(body);
  return r;
}

HandlerResult Fail(const Error& e) { return Answer(RequestHandler::ErrorResponse(e)); }

HandlerResult TextAnswer(int status, std::string text) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(text);
  return Answer(std::move(r));
}

Error ResourceNotFound() {
  Error e(ErrorCode::kNotFound, "the server could not find the requested resource");
  e.WithReason("NotFound").WithHttpStatus(404);
  return e;
}

Error MethodNotAllowed() {
  Error e(ErrorCode::kMethodNotAllowed,
          "the server does not allow this method on the requested resource");
  e.WithReason("MethodNotAllowed").WithHttpStatus(405);
  return e;
}

Error NotAcceptable() {
  Error e(ErrorCode::kNotAcceptable,
          "only the following media types are accepted: application/json, "
          "application/json;as=Table;v=v1;g=meta.k8s.io");
  e.WithReason("NotAcceptable").WithHttpStatus(406);
  return e;
}

Error UnsupportedMedia(std::string_view accepted) {
  Error e(ErrorCode::kUnsupportedMedia,
          "the body of the request was in an unknown format - accepted media types include: " +
              std::string(accepted));
  e.WithReason("UnsupportedMediaType").WithHttpStatus(415);
  return e;
}

// The patch type of a PATCH request's Content-Type; 415 for anything else.
Result<PatchKind> PatchKindOf(std::string_view content_type) {
  MediaRange ct = ParseMediaType(content_type);
  const std::string type = ct.type + "/" + ct.subtype;
  if (type == "application/json-patch+json") return PatchKind::kJsonPatch;
  if (type == "application/merge-patch+json") return PatchKind::kMergePatch;
  if (type == "application/strategic-merge-patch+json") return PatchKind::kStrategicMerge;
  if (type == "application/apply-patch+yaml") return PatchKind::kApply;
  return tl::unexpected(
      UnsupportedMedia("application/json-patch+json, application/merge-patch+json, "
                       "application/apply-patch+yaml, application/strategic-merge-patch+json"));
}

Error InjectedFault(const FaultRule& rule) {
  ErrorCode code = ErrorCode::kUnknownStatus;
  std::string reason = "InternalError";
  std::string message;
  switch (rule.status) {
    case 400:
      code = ErrorCode::kBadRequest;
      reason = "BadRequest";
      break;
    case 401:
      code = ErrorCode::kUnauthorized;
      reason = "Unauthorized";
      message = "Unauthorized";
      break;
    case 403:
      code = ErrorCode::kForbidden;
      reason = "Forbidden";
      break;
    case 404:
      code = ErrorCode::kNotFound;
      reason = "NotFound";
      break;
    case 409:
      code = ErrorCode::kConflict;
      reason = "Conflict";
      break;
    case 410:
      code = ErrorCode::kGone;
      reason = "Expired";
      break;
    case 429:
      code = ErrorCode::kTooManyRequests;
      reason = "TooManyRequests";
      message = "Too many requests, please try again later.";
      break;
    case 500:
      code = ErrorCode::kInternal;
      message = "Internal error occurred: injected fault";
      break;
    case 503:
      code = ErrorCode::kServiceUnavailable;
      reason = "ServiceUnavailable";
      message = "the server is currently unable to handle the request";
      break;
    case 504:
      code = ErrorCode::kServerTimeout;
      reason = "Timeout";
      message =
          "the server was unable to return a response in the time allotted, but may still "
          "be processing the request";
      break;
    default:
      break;
  }
  if (message.empty()) message = "injected fault (HTTP " + std::to_string(rule.status) + ")";
  Error e(code, rule.message.empty() ? message : rule.message);
  e.WithReason(rule.reason.empty() ? reason : rule.reason).WithHttpStatus(rule.status);
  if (rule.retry_after_seconds) e.WithRetryAfter(std::chrono::seconds(*rule.retry_after_seconds));
  return e;
}

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string TrimSlashes(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return std::string(path);
}

// The request body as an object: JSON, or YAML as kube-apiserver also accepts.
Result<Object> DecodeBody(const HttpRequest& req) {
  MediaRange ct = ParseMediaType(req.content_type);
  const bool json_body = ct.type.empty() || (ct.type == "application" && ct.subtype == "json");
  const bool yaml_body = ct.type == "application" && ct.subtype == "yaml";
  if (!json_body && !yaml_body) {
    return tl::unexpected(UnsupportedMedia("application/json, application/yaml"));
  }
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) {
    return tl::unexpected(BadRequestError("the body of the request was empty"));
  }
  if (json_body) {
    auto parsed = obj::Parse(req.body);
    if (!parsed) {
      return tl::unexpected(BadRequestError("the body of the request could not be decoded: " +
                                            parsed.error().message()));
    }
    return parsed;
  }
  auto value = YamlToJson(req.body);
  if (!value) return tl::unexpected(BadRequestError(value.error().message()));
  if (!value->is_object()) {
    return tl::unexpected(BadRequestError("the body of the request is not a YAML object"));
  }
  return std::move(value->get_object());
}

AuthzAttributes AttributesOf(const RequestInfo& info, const UserInfo& user) {
  AuthzAttributes a;
  a.user = user;
  a.verb = info.verb;
  a.is_resource_request = info.is_resource_request;
  a.api_group = info.api_group;
  a.resource = info.resource;
  a.subresource = info.subresource;
  a.ns = info.ns;
  a.name = info.name;
  a.path = info.path;
  return a;
}

std::string IncludeObject(const RequestInfo& info) {
  std::string v = info.Param("includeObject").value_or("");
  return v.empty() ? "Metadata" : v;
}

HttpResponse RenderObject(const ResourceInfo& r, const Object& o, const Output& out,
                          const RequestInfo& info, int status) {
  switch (out.form) {
    case OutputForm::kTable: {
      TableOptions options;
      options.group_version = out.group_version;
      options.include_object = IncludeObject(info);
      Object md{{"resourceVersion", obj::ResourceVersion(o)}};
      return JsonResponse(status, ToTable(r, {&o}, md, options));
    }
    case OutputForm::kPartialObjectMetadata:
      return JsonResponse(status, ToPartialObjectMetadata(o, out.group_version));
    default:
      return JsonResponse(status, o);
  }
}

Object ListMetadata(const ListResult& list) {
  Object md{{"resourceVersion", std::to_string(list.resource_version)}};
  if (!list.continue_token.empty()) md["continue"] = list.continue_token;
  if (list.remaining_item_count) md["remainingItemCount"] = *list.remaining_item_count;
  return md;
}

// Writes an object without its kind and apiVersion: items of kube's typed lists carry neither.
void SerializeItem(const Object& item, std::string& out) {
  out += '{';
  bool first = true;
  for (const auto& kv : item) {
    if (kv.key() == "kind" || kv.key() == "apiVersion") continue;
    if (!first) out += ',';
    first = false;
    out += json::serialize(kv.key());
    out += ':';
    out += json::serialize(kv.value());
  }
  out += '}';
}

HttpResponse RenderList(const ResourceInfo& r, const ListResult& list, const Output& out,
                        const RequestInfo& info) {
  switch (out.form) {
    case OutputForm::kTable: {
      std::vector<const Object*> items;
      items.reserve(list.items.size());
      for (const auto& item : list.items) items.push_back(item.get());
      TableOptions options;
      options.group_version = out.group_version;
      options.include_object = IncludeObject(info);
      return JsonResponse(200, ToTable(r, items, ListMetadata(list), options));
    }
    case OutputForm::kPartialObjectMetadata: {
      json::array items;
      for (const auto& item : list.items) {
        items.push_back(ToPartialObjectMetadata(*item, out.group_version));
      }
      return JsonResponse(200, Object{{"kind", "PartialObjectMetadataList"},
                                      {"apiVersion", out.group_version},
                                      {"metadata", ListMetadata(list)},
                                      {"items", std::move(items)}});
    }
    default: {
      // Serialised piecewise from the shared stored objects: no copy of a large list.
      HttpResponse response;
      std::string& body = response.body;
      body += "{\"kind\":";
      body += json::serialize(r.kind + "List");
      body += ",\"apiVersion\":";
      body += json::serialize(r.ApiVersion());
      body += ",\"metadata\":";
      body += json::serialize(ListMetadata(list));
      body += ",\"items\":[";
      for (size_t i = 0; i < list.items.size(); ++i) {
        if (i > 0) body += ',';
        SerializeItem(*list.items[i], body);
      }
      body += "]}";
      return response;
    }
  }
}

void AppendEvent(std::string_view type, const std::string& object_json, std::string& out) {
  out += "{\"type\":\"";
  out += type;
  out += "\",\"object\":";
  out += object_json;
  out += "}\n";
}

// orphanDependents=false, in the body's DeleteOptions or (without a body) in the query.
bool OrphanDependentsFalse(const RequestInfo& info, std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") != std::string_view::npos) {
    auto options = obj::Parse(body);
    if (!options) return false;
    const json::value* v = options->if_contains("orphanDependents");
    return v != nullptr && v->is_bool() && !v->get_bool();
  }
  auto v = info.Param("orphanDependents");
  return v && (*v == "0" || *v == "false" || *v == "False");
}

std::chrono::milliseconds RandomizedTimeout(std::chrono::seconds min) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> factor(1.0, 2.0);
  return std::chrono::milliseconds(
      static_cast<int64_t>(std::chrono::duration<double, std::milli>(min).count() * factor(rng)));
}

}  // namespace

HttpResponse RequestHandler::ErrorResponse(const Error& e) {
  HttpResponse r = JsonResponse(HttpStatusFor(e), StatusFromError(e));
  if (auto delay = e.retry_after()) {
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(*delay).count();
    r.headers.emplace_back("Retry-After", std::to_string(std::max<int64_t>(seconds, 1)));
  }
  return r;
}

RequestHandler::RequestHandler(Storage& storage, const ResourceCatalog& catalog,
                               Authenticator& authenticator, Authorizer& authorizer,
                               FaultInjector& faults, Options options)
    : storage_(storage),
      catalog_(catalog),
      authenticator_(authenticator),
      authorizer_(authorizer),
      faults_(faults),
      options_(std::move(options)),
      discovery_(catalog),
      openapi_(catalog) {}

PreparedRequest RequestHandler::Prepare(HttpRequest request) const {
  PreparedRequest p;
  p.http = std::move(request);
  auto info = ParseRequestInfo(p.http.method, p.http.target);
  if (!info) {
    p.early = Fail(BadRequestError(info.error().message()));
    return p;
  }
  p.info = std::move(*info);
  auto user = authenticator_.Authenticate(p.http.credentials);
  if (!user) {
    Error e(ErrorCode::kUnauthorized, "Unauthorized");
    e.WithReason("Unauthorized").WithHttpStatus(401);
    p.early = Fail(e);
    return p;
  }
  p.user = std::move(*user);
  auto decision = faults_.Evaluate(p.info.verb, p.http.method, p.info.path);
  p.delay = decision.delay;
  if (decision.fault) p.early = Fail(InjectedFault(*decision.fault));
  return p;
}

HandlerResult RequestHandler::Execute(const PreparedRequest& p) {
  if (p.early) return *p.early;
  AuthzAttributes attributes = AttributesOf(p.info, p.user);
  AuthzDecision decision = authorizer_.Authorize(attributes);
  if (!decision.allowed) {
    // kube's NewForbidden names the resource in details even when no object is named.
    Error e = ForbiddenErrorFor(attributes, decision.reason);
    Object status = StatusFromError(e);
    if (attributes.is_resource_request) {
      Object details;
      if (!attributes.name.empty()) details["name"] = attributes.name;
      if (!attributes.api_group.empty()) details["group"] = attributes.api_group;
      details["kind"] = attributes.resource;
      status["details"] = std::move(details);
    }
    return Answer(JsonResponse(403, status));
  }
  return p.info.is_resource_request ? Resource(p) : NonResource(p);
}

HandlerResult RequestHandler::NonResource(const PreparedRequest& p) {
  const RequestInfo& info = p.info;
  const std::string path = TrimSlashes(info.path);
  const bool read = p.http.method == "GET" || p.http.method == "HEAD";
  if (path == "/healthz" || path == "/livez" || path == "/readyz" ||
      path.rfind("/healthz/", 0) == 0 || path.rfind("/livez/", 0) == 0 ||
      path.rfind("/readyz/", 0) == 0) {
    if (!read) return Fail(MethodNotAllowed());
    if (info.Param("verbose")) {
      std::string check = path.substr(1, path.find('/', 1) - 1);
      return TextAnswer(200, "[+]ping ok\n[+]log ok\n[+]etcd ok\n" + check + " check passed\n");
    }
    return TextAnswer(200, "ok");
  }
  if (!read) return TextAnswer(404, "404 page not found\n");
  if (path == "/version") return Answer(JsonResponse(200, Discovery::Version()));

  OutputChoices discovery_choices;
  discovery_choices.aggregated_discovery = true;
  if (path == "/api" || path == "/apis") {
    Output out;
    if (!NegotiateOutput(p.http.accept, discovery_choices, out)) return Fail(NotAcceptable());
    HttpResponse r;
    if (out.form == OutputForm::kAggregatedDiscovery) {
      r = JsonResponse(200,
                       path == "/api" ? discovery_.AggregatedCore(out.group_version)
                                      : discovery_.AggregatedGroups(out.group_version),
                       out.ContentType());
    } else {
      r = JsonResponse(200, path == "/api" ? discovery_.CoreVersions(options_.server_address)
                                           : discovery_.Groups());
    }
    r.headers.emplace_back("Vary", "Accept");
    return Answer(std::move(r));
  }
  if (info.api_prefix == "apis" && info.api_version.empty()) {
    if (auto group = discovery_.Group(info.api_group)) return Answer(JsonResponse(200, *group));
    return Fail(ResourceNotFound());
  }
  if (!info.api_prefix.empty()) {
    if (info.api_prefix == "api" && info.api_group.empty() && info.api_version != "v1") {
      return Fail(ResourceNotFound());
    }
    if (auto resources = discovery_.Resources(info.api_group, info.api_version)) {
      return Answer(JsonResponse(200, *resources));
    }
    return Fail(ResourceNotFound());
  }
  if (path == "/openapi/v3") return Answer(JsonResponse(200, openapi_.Index()));
  if (path.rfind("/openapi/v3/", 0) == 0) {
    if (auto doc = openapi_.GroupVersion(path.substr(std::string_view("/openapi/v3/").size()))) {
      HttpResponse r = JsonResponse(200, *doc);
      r.headers.emplace_back("Cache-Control", "public, immutable");
      return Answer(std::move(r));
    }
    return Fail(ResourceNotFound());
  }
  return TextAnswer(404, "404 page not found\n");
}

HandlerResult RequestHandler::Resource(const PreparedRequest& p) {
  const RequestInfo& info = p.info;
  const ResourceInfo* r = catalog_.Find(info.api_group, info.api_version, info.resource);
  if (r == nullptr || info.parts.size() > 3) return Fail(ResourceNotFound());
  // /api/v1/namespaces/<name>[/status]: the namespace object, cluster-scoped in storage.
  std::string_view ns = info.ns;
  if (!r->namespaced) {
    if (!(r->group.empty() && r->resource == "namespaces") && !ns.empty()) {
      return Fail(ResourceNotFound());
    }
    ns = {};
  }
  if (!info.subresource.empty()) return Subresource(p, *r, ns);
  if (info.name.empty() || info.verb == "list" || info.verb == "watch" ||
      info.verb == "deletecollection" || (info.verb == "create" && info.parts.size() == 1)) {
    return Collection(p, *r, ns);
  }
  return Item(p, *r, ns);
}

HandlerResult RequestHandler::Collection(const PreparedRequest& p, const ResourceInfo& r,
                                         std::string_view ns) {
  const RequestInfo& info = p.info;
  const std::string& verb = info.verb;
  if (verb != "list" && verb != "watch" && verb != "create" && verb != "deletecollection") {
    return Fail(MethodNotAllowed());
  }
  if (!Contains(r.verbs, verb)) return Fail(MethodNotAllowed());
  // Writes to a namespaced collection need the namespace in the path (/api/v1/pods is
  // read-only).
  if (r.namespaced && ns.empty() && (verb == "create" || verb == "deletecollection")) {
    return Fail(MethodNotAllowed());
  }
  if (verb == "create") return Create(p, r, ns);
  auto query = ParseListQuery(info);
  if (!query) return Fail(query.error());
  query->ns = std::string(ns);
  if (verb == "watch") return Watch(p, r, std::move(*query));
  if (verb == "deletecollection") {
    auto request = ParseDeleteRequest(info, p.http.body);
    if (!request) return Fail(request.error());
    auto list = storage_.DeleteCollection(r, *query, *request);
    if (!list) return Fail(list.error());
    return Answer(JsonResponse(200, *list));
  }
  OutputChoices choices;
  choices.table = true;
  choices.partial_metadata = true;
  Output out;
  if (!NegotiateOutput(p.http.accept, choices, out)) return Fail(NotAcceptable());
  auto list = storage_.ListObjects(r, *query);
  if (!list) return Fail(list.error());
  return Answer(RenderList(r, *list, out, info));
}

HandlerResult RequestHandler::Item(const PreparedRequest& p, const ResourceInfo& r,
                                   std::string_view ns) {
  const RequestInfo& info = p.info;
  if (!Contains(r.verbs, info.verb)) return Fail(MethodNotAllowed());
  if (info.verb == "get") {
    OutputChoices choices;
    choices.table = true;
    choices.partial_metadata = true;
    Output out;
    if (!NegotiateOutput(p.http.accept, choices, out)) return Fail(NotAcceptable());
    auto object = storage_.GetShared(r, ns, info.name);
    if (!object) return Fail(object.error());
    return Answer(RenderObject(r, **object, out, info, 200));
  }
  if (info.verb == "update") return Update(p, r, ns, "");
  if (info.verb == "patch") return Patch(p, r, ns, "");
  if (info.verb == "delete") return Delete(p, r, ns);
  return Fail(MethodNotAllowed());
}

HandlerResult RequestHandler::Subresource(const PreparedRequest& p, const ResourceInfo& r,
                                          std::string_view ns) {
  const RequestInfo& info = p.info;
  const std::vector<SubresourceInfo> subs = SubresourcesOf(r);
  const SubresourceInfo* sub = FindSubresource(subs, info.subresource);
  if (sub == nullptr) return Fail(ResourceNotFound());
  if (!Contains(sub->verbs, info.verb)) return Fail(MethodNotAllowed());
  const std::string& name = sub->name;
  if (name == "status" || name == "ephemeralcontainers") {
    // Both read as the whole object and write only their part of it.
    if (info.verb == "get") {
      auto object = storage_.GetShared(r, ns, info.name);
      if (!object) return Fail(object.error());
      return Answer(JsonResponse(200, **object));
    }
    if (info.verb == "update") return Update(p, r, ns, name);
    return Patch(p, r, ns, name);
  }
  if (name == "scale") {
    if (info.verb == "get") {
      auto scale = GetScaleSubresource(storage_, r, ns, info.name);
      if (!scale) return Fail(scale.error());
      return Answer(JsonResponse(200, *scale));
    }
    auto options = ParseWriteOptions(info);
    if (!options) return Fail(options.error());
    Result<Object> scale = MakeError(ErrorCode::kInternal, "unreachable");
    if (info.verb == "update") {
      auto body = DecodeBody(p.http);
      if (!body) return Fail(body.error());
      scale = UpdateScaleSubresource(storage_, r, ns, info.name, *body, options->dry_run);
    } else {
      auto kind = PatchKindOf(p.http.content_type);
      if (!kind) return Fail(kind.error());
      std::string patch = p.http.body;
      if (*kind == PatchKind::kApply && !obj::Parse(patch)) {
        auto value = YamlToJson(patch);
        if (!value) return Fail(BadRequestError(value.error().message()));
        patch = json::serialize(*value);
      }
      scale = PatchScaleSubresource(storage_, r, ns, info.name, *kind, patch, options->dry_run);
    }
    if (!scale) return Fail(scale.error());
    return Answer(JsonResponse(200, *scale));
  }
  if (name == "log") return PodLog(p, ns);
  if (name == "exec" || name == "attach" || name == "portforward") {
    return Fail(BadRequestError("Upgrade request required"));
  }
  if (name != "binding" && name != "eviction" && name != "token") return Fail(ResourceNotFound());

  auto options = ParseWriteOptions(info);
  if (!options) return Fail(options.error());
  auto body = DecodeBody(p.http);
  if (!body) return Fail(body.error());
  Result<Object> answer = MakeError(ErrorCode::kInternal, "unreachable");
  if (name == "binding") {
    answer = BindPodSubresource(storage_, catalog_, ns, info.name, *body, options->dry_run);
  } else if (name == "eviction") {
    answer = EvictPodSubresource(storage_, catalog_, ns, info.name, *body, options->dry_run);
  } else {
    answer = RequestTokenSubresource(storage_, catalog_, authenticator_, ns, info.name, *body,
                                     options->dry_run);
  }
  if (!answer) return Fail(answer.error());
  return Answer(JsonResponse(201, *answer));
}

HandlerResult RequestHandler::Create(const PreparedRequest& p, const ResourceInfo& r,
                                     std::string_view ns) {
  auto options = ParseWriteOptions(p.info);
  if (!options) return Fail(options.error());
  auto body = DecodeBody(p.http);
  if (!body) return Fail(body.error());
  if (r.CreateOnly()) return Review(p, r, ns, *body);
  auto created = storage_.Create(r, ns, std::move(*body), options->dry_run);
  if (!created) return Fail(created.error());
  return Answer(JsonResponse(201, *created));
}

HandlerResult RequestHandler::Review(const PreparedRequest& p, const ResourceInfo& r,
                                     std::string_view ns, const Object& body) {
  Result<Object> answer = tl::unexpected(ResourceNotFound());
  if (r.group == "authorization.k8s.io") {
    if (r.resource == "selfsubjectaccessreviews") {
      answer = ReviewSelfSubjectAccess(body, p.user, authorizer_);
    } else if (r.resource == "subjectaccessreviews") {
      answer = ReviewSubjectAccess(body, authorizer_);
    } else if (r.resource == "localsubjectaccessreviews") {
      answer = ReviewLocalSubjectAccess(body, ns, authorizer_);
    }
  } else if (r.group == "authentication.k8s.io") {
    if (r.resource == "tokenreviews") {
      answer = ReviewToken(body, authenticator_);
    } else if (r.resource == "selfsubjectreviews") {
      answer = ReviewSelfSubject(body, p.user);
    }
  }
  if (!answer) return Fail(answer.error());
  return Answer(JsonResponse(201, *answer));
}

HandlerResult RequestHandler::Update(const PreparedRequest& p, const ResourceInfo& r,
                                     std::string_view ns, std::string_view subresource) {
  auto options = ParseWriteOptions(p.info);
  if (!options) return Fail(options.error());
  auto body = DecodeBody(p.http);
  if (!body) return Fail(body.error());
  // kube answers 201 when a PUT created the object.
  bool existed = true;
  if (r.allow_create_on_update && subresource.empty()) {
    existed = storage_.GetShared(r, ns, p.info.name).has_value();
  }
  auto updated =
      storage_.Update(r, ns, p.info.name, std::move(*body), subresource, options->dry_run);
  if (!updated) return Fail(updated.error());
  return Answer(JsonResponse(existed ? 200 : 201, *updated));
}

HandlerResult RequestHandler::Patch(const PreparedRequest& p, const ResourceInfo& r,
                                    std::string_view ns, std::string_view subresource) {
  auto options = ParseWriteOptions(p.info);
  if (!options) return Fail(options.error());
  auto parsed_kind = PatchKindOf(p.http.content_type);
  if (!parsed_kind) return Fail(parsed_kind.error());
  const PatchKind kind = *parsed_kind;
  std::string patch = p.http.body;
  if (kind == PatchKind::kApply) {
    if (options->field_manager.empty()) {
      return Fail(InvalidError("PatchOptions.meta.k8s.io", "",
                               {FieldRequired("fieldManager", "is required for apply patch")}));
    }
    // Apply configurations are YAML; JSON (what kubectl sends) is a subset, passed as is.
    if (!obj::Parse(patch)) {
      auto value = YamlToJson(patch);
      if (!value) return Fail(BadRequestError(value.error().message()));
      patch = json::serialize(*value);
    }
  } else if (options->force) {
    return Fail(
        InvalidError("PatchOptions.meta.k8s.io", "",
                     {FieldForbidden("force", "may not be specified for non-apply patch")}));
  }
  bool existed = true;
  if (kind == PatchKind::kApply && subresource.empty()) {
    existed = storage_.GetShared(r, ns, p.info.name).has_value();
  }
  auto patched = storage_.Patch(r, ns, p.info.name, kind, patch, subresource,
                                options->field_manager, options->force, options->dry_run);
  if (!patched) return Fail(patched.error());
  return Answer(JsonResponse(existed ? 200 : 201, *patched));
}

HandlerResult RequestHandler::Delete(const PreparedRequest& p, const ResourceInfo& r,
                                     std::string_view ns) {
  auto request = ParseDeleteRequest(p.info, p.http.body);
  if (!request) return Fail(request.error());
  auto result = storage_.DeleteWithResult(r, ns, p.info.name, *request);
  if (!result) return Fail(result.error());
  // As kube-apiserver: 202 only for a deletion that is not complete and asked for
  // orphanDependents=false; the object while it lingers (graceful deletion, finalizers) or for
  // the types that return it; a Success Status naming the object otherwise.
  const int status = !result->deleted && OrphanDependentsFalse(p.info, p.http.body) ? 202 : 200;
  if (r.delete_returns_object || !result->deleted) {
    return Answer(JsonResponse(status, result->object));
  }
  const Object& deleted = result->object;
  Object details{{"name", obj::Name(deleted)}};
  if (!r.group.empty()) details["group"] = r.group;
  details["kind"] = r.resource;
  details["uid"] = obj::Uid(deleted);
  return Answer(JsonResponse(status, Object{{"kind", "Status"},
                                            {"apiVersion", "v1"},
                                            {"metadata", json::object{}},
                                            {"status", "Success"},
                                            {"details", std::move(details)}}));
}

HandlerResult RequestHandler::Watch(const PreparedRequest& p, const ResourceInfo& r,
                                    ListQuery query) {
  const RequestInfo& info = p.info;
  OutputChoices choices;
  choices.table = true;
  choices.partial_metadata = true;
  Output out;
  if (!NegotiateOutput(p.http.accept, choices, out)) return Fail(NotAcceptable());
  auto timeout_seconds = ParseTimeoutSeconds(info);
  if (!timeout_seconds) return Fail(timeout_seconds.error());

  WatchPlan plan;
  plan.timeout = (*timeout_seconds && **timeout_seconds > 0)
                     ? std::chrono::milliseconds(std::chrono::seconds(**timeout_seconds))
                     : RandomizedTimeout(options_.min_request_timeout);
  plan.bookmarks = query.allow_bookmarks;
  const std::string include_object = IncludeObject(info);
  plan.encode = [resource = r, out, include_object](const WatchEventRecord& event,
                                                    std::string& buffer) {
    if (!event.object) return;
    if (event.type == "ERROR" || out.form == OutputForm::kJson) {
      AppendEvent(event.type, json::serialize(*event.object), buffer);
      return;
    }
    if (out.form == OutputForm::kPartialObjectMetadata) {
      AppendEvent(event.type,
                  json::serialize(ToPartialObjectMetadata(*event.object, out.group_version)),
                  buffer);
      return;
    }
    TableOptions options;
    options.group_version = out.group_version;
    options.include_object = include_object;
    Object md{{"resourceVersion", obj::ResourceVersion(*event.object)}};
    std::vector<const Object*> rows;
    if (event.type != "BOOKMARK") rows.push_back(event.object.get());
    AppendEvent(event.type, json::serialize(ToTable(resource, rows, md, options)), buffer);
  };

  auto watcher = storage_.Watch(r, query);
  if (!watcher) {
    if (!watcher.error().IsGone()) return Fail(watcher.error());
    // kube-apiserver starts the stream and sends the 410 as its only event.
    Object status = StatusFromError(watcher.error());
    status["reason"] = "Expired";
    status["code"] = 410;
    AppendEvent("ERROR", json::serialize(status), plan.initial_events);
  } else {
    plan.watcher = std::move(*watcher);
  }
  HandlerResult result;
  result.response.status = 200;
  result.response.content_type = "application/json";
  result.watch = std::move(plan);
  return result;
}

HandlerResult RequestHandler::PodLog(const PreparedRequest& p, std::string_view ns) {
  const ResourceInfo* pods = catalog_.Find("", "v1", "pods");
  if (pods == nullptr) return Fail(ResourceNotFound());
  auto pod = storage_.GetShared(*pods, ns, p.info.name);
  if (!pod) return Fail(pod.error());
  if (!options_.pod_logs) {
    return Fail(BadRequestError("pod " + GoQuote(p.info.name) +
                                " has no logs: kubesim serves logs only with a node simulator"));
  }
  PodLogRequest request;
  request.ns = std::string(ns);
  request.pod = p.info.name;
  request.container = p.info.Param("container").value_or("");
  auto flag = [&](const char* key) {
    auto v = p.info.Param(key);
    return v && *v != "false" && *v != "0";
  };
  auto number = [&](const char* key) -> std::optional<int64_t> {
    auto v = p.info.Param(key);
    if (!v || v->empty()) return std::nullopt;
    char* end = nullptr;
    long long n = std::strtoll(v->c_str(), &end, 10);
    if (end == nullptr || *end != '\0') return std::nullopt;
    return n;
  };
  request.follow = flag("follow");
  request.previous = flag("previous");
  request.timestamps = flag("timestamps");
  request.tail_lines = number("tailLines");
  request.limit_bytes = number("limitBytes");
  request.since_seconds = number("sinceSeconds");
  if (request.follow && options_.pod_log_streams) {
    auto stream = options_.pod_log_streams(request);
    if (!stream) return Fail(stream.error());
    WatchPlan plan;
    plan.initial_events = std::move(stream->initial);
    plan.watcher = std::move(stream->watcher);
    // kube-apiserver puts no deadline on a followed log: it lasts as long as the container.
    plan.timeout = std::chrono::hours(24 * 365);
    plan.content_type = "text/plain";
    plan.encode = [](const WatchEventRecord& event, std::string& out) {
      if (event.object) out += obj::String(*event.object, {"text"});
    };
    HandlerResult result;
    result.response.status = 200;
    result.response.content_type = "text/plain";
    result.watch = std::move(plan);
    return result;
  }
  auto logs = options_.pod_logs(request);
  if (!logs) return Fail(logs.error());
  return TextAnswer(200, std::move(*logs));
}

}  // namespace vk::kubesim
