#include "hostclient/request_builder.h"

#include <boost/json/serialize.hpp>

namespace vk::hostclient {
namespace {

bool IsUnreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

std::string Escape(std::string_view value, bool (*keep)(char)) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (keep(c)) {
      out.push_back(c);
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0x0f]);
    }
  }
  return out;
}

// Segments may also keep the sub-delimiters and ':' '@' (RFC 3986 pchar), which Kubernetes names
// use (e.g. "system:node:x" in RBAC names).
bool IsPathChar(char c) {
  return IsUnreserved(c) || c == ':' || c == '@' || c == '!' || c == '$' || c == '&' || c == '\'' ||
         c == '(' || c == ')' || c == '*' || c == '+' || c == ',' || c == ';' || c == '=';
}

constexpr std::string_view kDryRunAll = "All";

}  // namespace

std::string QueryEscape(std::string_view value) { return Escape(value, IsUnreserved); }

std::string PathEscape(std::string_view segment) { return Escape(segment, IsPathChar); }

QueryBuilder& QueryBuilder::Add(std::string_view key, std::string_view value) {
  query_.push_back(query_.empty() ? '?' : '&');
  query_.append(QueryEscape(key)).append("=").append(QueryEscape(value));
  return *this;
}

QueryBuilder& QueryBuilder::AddIfSet(std::string_view key, std::string_view value) {
  if (!value.empty()) Add(key, value);
  return *this;
}

QueryBuilder& QueryBuilder::AddRaw(std::string_view encoded) {
  while (!encoded.empty() && (encoded.front() == '?' || encoded.front() == '&')) {
    encoded.remove_prefix(1);
  }
  if (encoded.empty()) return *this;
  query_.push_back(query_.empty() ? '?' : '&');
  query_.append(encoded);
  return *this;
}

std::string QueryBuilder::Build() const { return query_; }

std::string CollectionPath(const GroupVersionResource& gvr, std::string_view ns) {
  return gvr.CollectionPath(PathEscape(ns));
}

std::string ObjectPath(const GroupVersionResource& gvr, std::string_view ns, std::string_view name,
                       std::string_view subresource) {
  return gvr.ObjectPath(PathEscape(ns), PathEscape(name), PathEscape(subresource));
}

std::string GetQuery(const GetOptions& options) {
  return QueryBuilder().AddIfSet("resourceVersion", options.resource_version).Build();
}

std::string ListQuery(const ListOptions& options, bool watch) {
  QueryBuilder query;
  query.AddIfSet("labelSelector", options.label_selector)
      .AddIfSet("fieldSelector", options.field_selector);
  if (options.limit > 0) query.Add("limit", std::to_string(options.limit));
  query.AddIfSet("continue", options.continue_token)
      .AddIfSet("resourceVersion", options.resource_version)
      .AddIfSet("resourceVersionMatch", options.resource_version_match);
  if (options.timeout_seconds) {
    query.Add("timeoutSeconds", std::to_string(*options.timeout_seconds));
  }
  if (watch) {
    query.Add("watch", "true");
    if (options.allow_watch_bookmarks) query.Add("allowWatchBookmarks", "true");
  }
  return query.Build();
}

std::string CreateQuery(const CreateOptions& options) {
  QueryBuilder query;
  if (options.dry_run) query.Add("dryRun", kDryRunAll);
  return query.AddIfSet("fieldManager", options.field_manager).Build();
}

std::string UpdateQuery(const UpdateOptions& options) {
  QueryBuilder query;
  if (options.dry_run) query.Add("dryRun", kDryRunAll);
  return query.AddIfSet("fieldManager", options.field_manager).Build();
}

std::string PatchQuery(PatchType type, const PatchOptions& options) {
  QueryBuilder query;
  if (options.dry_run) query.Add("dryRun", kDryRunAll);
  query.AddIfSet("fieldManager", options.field_manager);
  // The server rejects force for the other patch types.
  if (type == PatchType::kApply && options.force) query.Add("force", "true");
  return query.Build();
}

const char* PatchContentType(PatchType type) {
  switch (type) {
    case PatchType::kJsonPatch:
      return "application/json-patch+json";
    case PatchType::kMergePatch:
      return "application/merge-patch+json";
    case PatchType::kStrategicMerge:
      return "application/strategic-merge-patch+json";
    case PatchType::kApply:
      return "application/apply-patch+yaml";
  }
  return "application/merge-patch+json";
}

const char* ToString(PatchType type) {
  switch (type) {
    case PatchType::kJsonPatch:
      return "json";
    case PatchType::kMergePatch:
      return "merge";
    case PatchType::kStrategicMerge:
      return "strategic";
    case PatchType::kApply:
      return "apply";
  }
  return "merge";
}

std::string DeleteBody(const DeleteOptions& options) {
  Object body;
  body["kind"] = "DeleteOptions";
  body["apiVersion"] = "v1";
  if (options.grace_period_seconds) body["gracePeriodSeconds"] = *options.grace_period_seconds;
  if (!options.precondition_uid.empty() || !options.precondition_resource_version.empty()) {
    Object preconditions;
    if (!options.precondition_uid.empty()) preconditions["uid"] = options.precondition_uid;
    if (!options.precondition_resource_version.empty()) {
      preconditions["resourceVersion"] = options.precondition_resource_version;
    }
    body["preconditions"] = std::move(preconditions);
  }
  if (!options.propagation_policy.empty()) {
    body["propagationPolicy"] = options.propagation_policy;
  }
  if (options.dry_run) body["dryRun"] = boost::json::array{kDryRunAll};
  return boost::json::serialize(body);
}

}  // namespace vk::hostclient
