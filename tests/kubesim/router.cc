#include "tests/kubesim/router.h"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>

#include "hostclient/base/object.h"

namespace vk::kubesim {
namespace {

std::vector<std::string> SplitPath(std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  std::vector<std::string> parts;
  if (path.empty()) return parts;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    parts.emplace_back(
        path.substr(start, slash == std::string_view::npos ? path.npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return parts;
}

std::string VerbForMethod(std::string_view method) {
  if (method == "POST") return "create";
  if (method == "GET" || method == "HEAD") return "get";
  if (method == "PUT") return "update";
  if (method == "PATCH") return "patch";
  if (method == "DELETE") return "delete";
  return "";
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// kube-apiserver's query-parameter bool: absent is false, "0" and "false" are false, anything
// else (including an empty value) is true.
bool ParamBool(const std::optional<std::string>& value) {
  if (!value) return false;
  return !(*value == "0" || Lower(*value) == "false");
}

Result<int64_t> ParseInt(std::string_view name, std::string_view text) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) {
    return MakeError(ErrorCode::kBadRequest, "invalid value for " + std::string(name) +
                                                 ": strconv.ParseInt: parsing \"" +
                                                 std::string(text) + "\": invalid syntax");
  }
  return value;
}

// Only namespaces/<ns>/status and namespaces/<ns>/finalize are subresources of the namespace
// itself; any other third segment names a namespaced resource.
bool IsNamespaceSubresource(std::string_view s) { return s == "status" || s == "finalize"; }

// The object name from a metadata.name=<x> (or ==) field selector, when that is its only term.
std::string NameFromFieldSelector(std::string_view selector) {
  if (selector.find(',') != std::string_view::npos) return "";
  constexpr std::string_view kKey = "metadata.name";
  if (selector.substr(0, kKey.size()) != kKey) return "";
  std::string_view rest = selector.substr(kKey.size());
  if (rest.substr(0, 2) == "==") {
    rest.remove_prefix(2);
  } else if (rest.substr(0, 1) == "=") {
    rest.remove_prefix(1);
  } else {
    return "";
  }
  if (rest.empty() || rest.find('/') != std::string_view::npos || rest == "." || rest == "..") {
    return "";
  }
  return std::string(rest);
}

Status ValidateDryRun(const std::vector<std::string>& values) {
  for (const auto& v : values) {
    if (v != "All") {
      return MakeError(ErrorCode::kBadRequest,
                       "Unsupported value: \"" + v + "\": supported values: \"All\"");
    }
  }
  return Ok();
}

}  // namespace

std::optional<std::string> RequestInfo::Param(std::string_view key) const {
  std::optional<std::string> value;
  for (const auto& [k, v] : query) {
    if (k == key) value = v;
  }
  return value;
}

Result<RequestInfo> ParseRequestInfo(std::string_view method, std::string_view target) {
  auto url = boost::urls::parse_origin_form(target);
  if (!url) {
    return MakeError(ErrorCode::kBadRequest,
                     "malformed request target \"" + std::string(target) + "\"");
  }
  RequestInfo info;
  info.path = url->path();
  if (info.path.empty()) info.path = "/";
  boost::urls::encoding_opts opts(/*space_as_plus=*/true);
  for (auto param : url->params(opts)) {
    info.query.emplace_back(param.key, param.has_value ? param.value : std::string());
  }
  info.verb = Lower(method);

  std::vector<std::string> parts = SplitPath(info.path);
  if (parts.empty() || (parts[0] != "api" && parts[0] != "apis")) return info;
  info.api_prefix = parts[0];
  size_t next = 1;
  if (info.api_prefix == "apis") {
    if (parts.size() < 2) return info;  // /apis
    info.api_group = parts[1];
    next = 2;
  }
  if (parts.size() <= next) return info;  // /api or /apis/<group>
  info.api_version = parts[next++];
  std::vector<std::string> rest(parts.begin() + static_cast<std::ptrdiff_t>(next), parts.end());
  if (rest.empty()) return info;  // discovery of one group version

  info.is_resource_request = true;
  info.verb = VerbForMethod(method);
  if (info.verb.empty()) info.verb = Lower(method);
  // The deprecated /watch/ prefix: /api/v1/watch/namespaces/x/pods.
  if (rest[0] == "watch") {
    info.verb = "watch";
    rest.erase(rest.begin());
    if (rest.empty()) {
      info.is_resource_request = false;
      return info;
    }
  }
  if (rest[0] == "namespaces" && rest.size() > 1) {
    info.ns = rest[1];
    if (rest.size() > 2 && !IsNamespaceSubresource(rest[2])) {
      rest.erase(rest.begin(), rest.begin() + 2);
    }
  }
  info.parts = rest;
  info.resource = rest[0];
  if (rest.size() >= 2) info.name = rest[1];
  if (rest.size() >= 3) info.subresource = rest[2];

  if (info.name.empty() && info.verb == "get") {
    info.verb = ParamBool(info.Param("watch")) ? "watch" : "list";
  }
  if (info.name.empty() && (info.verb == "list" || info.verb == "watch")) {
    if (auto selector = info.Param("fieldSelector")) info.name = NameFromFieldSelector(*selector);
  }
  if (info.name.empty() && info.verb == "delete") info.verb = "deletecollection";
  return info;
}

bool IsWatch(const RequestInfo& info) { return info.verb == "watch"; }

Result<ListQuery> ParseListQuery(const RequestInfo& info) {
  ListQuery q;
  q.ns = info.ns;
  q.label_selector = info.Param("labelSelector").value_or("");
  q.field_selector = info.Param("fieldSelector").value_or("");
  if (auto limit = info.Param("limit"); limit && !limit->empty()) {
    auto value = ParseInt("limit", *limit);
    if (!value) return tl::unexpected(value.error());
    q.limit = *value < 0 ? 0 : *value;
  }
  q.continue_token = info.Param("continue").value_or("");
  q.resource_version = info.Param("resourceVersion").value_or("");
  q.resource_version_match = info.Param("resourceVersionMatch").value_or("");
  q.allow_bookmarks = ParamBool(info.Param("allowWatchBookmarks"));
  q.send_initial_events = ParamBool(info.Param("sendInitialEvents"));

  // kube-apiserver's ValidateListOptions, answered as 422 Invalid on ListOptions.
  auto invalid = [](const std::string& field, const std::string& what) {
    Error e(ErrorCode::kInvalid, "ListOptions.meta.k8s.io \"\" is invalid: " + field + ": " + what);
    e.WithReason("Invalid").WithCause({"FieldValueForbidden", what, field});
    return tl::unexpected<Error>(std::move(e));
  };
  const bool watch = IsWatch(info);
  if (!q.resource_version_match.empty()) {
    if (watch) {
      return invalid("resourceVersionMatch",
                     "Forbidden: resourceVersionMatch is forbidden for watch");
    }
    if (q.resource_version.empty()) {
      return invalid("resourceVersionMatch",
                     "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is "
                     "provided");
    }
    if (!q.continue_token.empty()) {
      return invalid("resourceVersionMatch",
                     "Forbidden: resourceVersionMatch is forbidden when continue is provided");
    }
    if (q.resource_version_match != "NotOlderThan" && q.resource_version_match != "Exact") {
      return invalid("resourceVersionMatch",
                     "Unsupported value: \"" + q.resource_version_match +
                         "\": supported values: \"Exact\", \"NotOlderThan\", \"\"");
    }
    if (q.resource_version_match == "Exact" && q.resource_version == "0") {
      return invalid("resourceVersionMatch",
                     "Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion "
                     "\"0\"");
    }
  }
  if (q.send_initial_events && !watch) {
    return invalid("sendInitialEvents", "Forbidden: sendInitialEvents is forbidden for list");
  }
  return q;
}

Result<std::optional<int64_t>> ParseTimeoutSeconds(const RequestInfo& info) {
  auto text = info.Param("timeoutSeconds");
  if (!text || text->empty()) return std::optional<int64_t>();
  auto value = ParseInt("timeoutSeconds", *text);
  if (!value) return tl::unexpected(value.error());
  return std::optional<int64_t>(*value);
}

Result<WriteOptions> ParseWriteOptions(const RequestInfo& info) {
  WriteOptions w;
  std::vector<std::string> dry_run;
  for (const auto& [k, v] : info.query) {
    if (k == "dryRun") dry_run.push_back(v);
  }
  if (auto s = ValidateDryRun(dry_run); !s) return tl::unexpected(s.error());
  w.dry_run = !dry_run.empty();
  w.field_manager = info.Param("fieldManager").value_or("");
  if (w.field_manager.size() > 128) {
    return MakeError(ErrorCode::kBadRequest,
                     "fieldManager: Too long: may not be longer than 128 characters");
  }
  w.force = ParamBool(info.Param("force"));
  w.field_validation = info.Param("fieldValidation").value_or("");
  if (!w.field_validation.empty() && w.field_validation != "Ignore" &&
      w.field_validation != "Warn" && w.field_validation != "Strict") {
    return MakeError(ErrorCode::kBadRequest,
                     "fieldValidation: Unsupported value: \"" + w.field_validation +
                         "\": supported values: \"Ignore\", \"Strict\", \"Warn\"");
  }
  return w;
}

Result<DeleteRequest> DeleteRequestFromOptions(const Object& options, DeleteRequest d) {
  if (const auto* grace = options.if_contains("gracePeriodSeconds");
      grace != nullptr && !grace->is_null()) {
    if (!grace->is_int64() && !grace->is_uint64()) {
      return MakeError(ErrorCode::kBadRequest, "gracePeriodSeconds: must be an integer");
    }
    d.grace_period_seconds = grace->to_number<int64_t>();
  }
  if (const auto* policy = options.if_contains("propagationPolicy");
      policy != nullptr && policy->is_string()) {
    d.propagation_policy = std::string(policy->get_string());
  }
  if (const auto* orphan = options.if_contains("orphanDependents");
      orphan != nullptr && orphan->is_bool()) {
    if (!d.propagation_policy.empty()) {
      return MakeError(ErrorCode::kInvalid,
                       "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Invalid "
                       "value: \"" +
                           d.propagation_policy +
                           "\": orphanDependents and deletionPropagation cannot be both set");
    }
    d.propagation_policy = orphan->get_bool() ? "Orphan" : "Background";
  }
  if (const auto* dry = options.if_contains("dryRun"); dry != nullptr && dry->is_array()) {
    std::vector<std::string> values;
    for (const auto& v : dry->get_array()) {
      if (v.is_string()) values.emplace_back(v.get_string());
    }
    if (auto s = ValidateDryRun(values); !s) return tl::unexpected(s.error());
    d.dry_run = !values.empty();
  }
  if (const Object* pre = obj::ObjectAt(options, {"preconditions"})) {
    d.precondition_uid = std::string(obj::String(*pre, {"uid"}));
    d.precondition_resource_version = std::string(obj::String(*pre, {"resourceVersion"}));
  }
  if (!d.propagation_policy.empty() && d.propagation_policy != "Orphan" &&
      d.propagation_policy != "Background" && d.propagation_policy != "Foreground") {
    return MakeError(ErrorCode::kInvalid,
                     "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported "
                     "value: \"" +
                         d.propagation_policy +
                         "\": supported values: \"Foreground\", \"Background\", \"Orphan\"");
  }
  return d;
}

Result<DeleteRequest> ParseDeleteRequest(const RequestInfo& info, std::string_view body) {
  DeleteRequest d;
  bool has_body = body.find_first_not_of(" \t\r\n") != std::string_view::npos;
  if (has_body) {
    // As kube-apiserver: a DeleteOptions body replaces the query parameters entirely.
    auto options = obj::Parse(body);
    if (!options) {
      return MakeError(ErrorCode::kBadRequest,
                       "the body of the request was not a valid DeleteOptions document: " +
                           options.error().message());
    }
    return DeleteRequestFromOptions(*options, d);
  }
  Object options;
  if (auto grace = info.Param("gracePeriodSeconds"); grace && !grace->empty()) {
    auto value = ParseInt("gracePeriodSeconds", *grace);
    if (!value) return tl::unexpected(value.error());
    options["gracePeriodSeconds"] = *value;
  }
  if (auto policy = info.Param("propagationPolicy"); policy && !policy->empty()) {
    options["propagationPolicy"] = *policy;
  }
  if (auto orphan = info.Param("orphanDependents")) {
    options["orphanDependents"] = ParamBool(orphan);
  }
  boost::json::array dry_run;
  for (const auto& [k, v] : info.query) {
    if (k == "dryRun") dry_run.emplace_back(v);
  }
  if (!dry_run.empty()) options["dryRun"] = std::move(dry_run);
  return DeleteRequestFromOptions(options, d);
}

}  // namespace vk::kubesim
