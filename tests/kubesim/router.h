#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hostclient/base/error.h"
#include "tests/kubesim/storage.h"

namespace vk::kubesim {

// What a request addresses, in the terms kube-apiserver's RequestInfoFactory uses: the API
// prefix and group/version, the resource, namespace, name and subresource, and the verb
// (get list watch create update patch delete deletecollection for resources; the lower-case HTTP
// method for other paths). Authorisation, audit of faults and dispatch all read this.
struct RequestInfo {
  bool is_resource_request = false;
  std::string path;         // decoded path, without the query
  std::string verb;         // kube verb, see above
  std::string api_prefix;   // "api" or "apis" for API paths, "" otherwise
  std::string api_group;    // "" for the core group
  std::string api_version;  // "v1"; "" for /api, /apis and /apis/<group>
  std::string ns;
  std::string resource;
  std::string subresource;
  std::string name;
  // Path segments after the group/version (and after namespaces/<ns> for namespaced resources).
  std::vector<std::string> parts;
  // The query, decoded, in order (a key may repeat).
  std::vector<std::pair<std::string, std::string>> query;

  // The last value of a query parameter, or nullopt when absent.
  std::optional<std::string> Param(std::string_view key) const;
};

// Parses the method and request target (origin form, "/api/v1/pods?watch=1") the way
// kube-apiserver does, including the deprecated /watch/ prefix and a metadata.name field
// selector on a collection naming the object for authorisation. kBadRequest for a malformed
// target.
Result<RequestInfo> ParseRequestInfo(std::string_view method, std::string_view target);

// Options common to writes (create, update, patch, delete).
struct WriteOptions {
  bool dry_run = false;
  std::string field_manager;
  bool force = false;
  std::string field_validation;  // "", "Ignore", "Warn", "Strict"
};

// The list/watch parameters of a collection request: labelSelector, fieldSelector, limit,
// continue, resourceVersion, resourceVersionMatch, allowWatchBookmarks, sendInitialEvents.
// kBadRequest for malformed values, with kube-apiserver's messages.
Result<ListQuery> ParseListQuery(const RequestInfo& info);

// Whether the collection request asks for a watch (watch=true|1, or the /watch/ prefix).
bool IsWatch(const RequestInfo& info);

// timeoutSeconds of a list or watch; nullopt when absent. kBadRequest when not a number.
Result<std::optional<int64_t>> ParseTimeoutSeconds(const RequestInfo& info);

// dryRun (only "All" is accepted, as kube), fieldManager, force, fieldValidation.
Result<WriteOptions> ParseWriteOptions(const RequestInfo& info);

// The delete options of a DELETE: the query parameters gracePeriodSeconds, propagationPolicy,
// orphanDependents, dryRun, plus a DeleteOptions document in the body (which wins where both
// are given, as in kube-apiserver), with preconditions.uid and preconditions.resourceVersion.
Result<DeleteRequest> ParseDeleteRequest(const RequestInfo& info, std::string_view body);

// The same fields read from a DeleteOptions object (the body of an Eviction's deleteOptions).
Result<DeleteRequest> DeleteRequestFromOptions(const Object& options, DeleteRequest base);

}  // namespace vk::kubesim
