#pragma once

#include <string>
#include <string_view>

#include "hostclient/rest_client.h"

// How RestClient's options become URLs and bodies. Free functions: no state, no I/O.
namespace vk::hostclient {

// Percent-encodes everything but RFC 3986's unreserved characters (ALPHA DIGIT - . _ ~), so that
// selectors such as "app in (a,b),!canary" and "spec.nodeName=n 1" reach the server intact.
std::string QueryEscape(std::string_view value);
// Same for one path segment (a namespace, a name): a '/' or '?' in a name must not change which
// URL is requested.
std::string PathEscape(std::string_view segment);

// Builds "?key=value&..." in the order the keys were added; "" when nothing was added.
class QueryBuilder {
 public:
  QueryBuilder& Add(std::string_view key, std::string_view value);
  // Adds only when value is not empty.
  QueryBuilder& AddIfSet(std::string_view key, std::string_view value);
  // Appends an already-encoded query ("a=b&c=d") as given.
  QueryBuilder& AddRaw(std::string_view encoded);
  std::string Build() const;

 private:
  std::string query_;
};

// Request paths, with ns/name/subresource escaped.
std::string CollectionPath(const GroupVersionResource& gvr, std::string_view ns);
std::string ObjectPath(const GroupVersionResource& gvr, std::string_view ns, std::string_view name,
                       std::string_view subresource = {});

// Query strings, each starting with '?' when not empty.
std::string GetQuery(const GetOptions& options);
// watch adds watch=true and allowWatchBookmarks; timeoutSeconds goes with either.
std::string ListQuery(const ListOptions& options, bool watch);
std::string CreateQuery(const CreateOptions& options);
std::string UpdateQuery(const UpdateOptions& options);
std::string PatchQuery(PatchType type, const PatchOptions& options);

// The Content-Type header of a patch body.
const char* PatchContentType(PatchType type);
const char* ToString(PatchType type);

// The body of a DELETE: a meta/v1 DeleteOptions. Sent as a body rather than as query parameters
// (as client-go does) because preconditions have no query form, and the API server reads
// parameters only when there is no body.
std::string DeleteBody(const DeleteOptions& options);

}  // namespace vk::hostclient
