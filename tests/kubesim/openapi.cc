#include "tests/kubesim/openapi.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>

namespace vk::kubesim {
namespace {

namespace json = boost::json;

json::object QueryParam(std::string_view name) {
  return json::object{{"name", name},
                      {"in", "query"},
                      {"schema", json::object{{"type", "string"}, {"uniqueItems", true}}}};
}

json::object Operation(const ResourceInfo& r, std::string_view action,
                       std::initializer_list<std::string_view> params) {
  json::array parameters;
  for (auto p : params) parameters.push_back(QueryParam(p));
  return json::object{{"operationId", std::string(action) + r.kind},
                      {"x-kubernetes-action", action},
                      {"x-kubernetes-group-version-kind",
                       json::object{{"group", r.group}, {"version", r.version}, {"kind", r.kind}}},
                      {"parameters", std::move(parameters)},
                      {"responses", json::object{{"200", json::object{{"description", "OK"}}}}}};
}

std::string GvPath(const ResourceInfo& r) {
  return r.group.empty() ? "api/" + r.version : "apis/" + r.group + "/" + r.version;
}

// FNV-1a, printed as hex: a stable content hash for serverRelativeURL, as kube's ETag-like hash.
std::string Hash(std::string_view text) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llX", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace

OpenApi::OpenApi(const ResourceCatalog& catalog) {
  for (const auto& r : catalog.all()) {
    const std::string gv = GvPath(r);
    auto it = std::find_if(entries_.begin(), entries_.end(),
                           [&](const Entry& e) { return e.path == gv; });
    if (it == entries_.end()) {
      entries_.push_back(
          {gv,
           Object{{"openapi", "3.0.0"},
                  {"info", json::object{{"title", "Kubernetes"}, {"version", "v1.31.0-kubesim"}}},
                  {"paths", json::object{}},
                  {"components", json::object{{"schemas", json::object{}}}}},
           ""});
      it = entries_.end() - 1;
    }
    json::object& paths = it->document["paths"].as_object();
    const std::string prefix =
        "/" + gv + (r.namespaced ? "/namespaces/{namespace}/" : "/") + r.resource;
    auto has = [&](std::string_view verb) {
      return std::find(r.verbs.begin(), r.verbs.end(), verb) != r.verbs.end();
    };
    json::object collection;
    if (has("list")) collection["get"] = Operation(r, "list", {"labelSelector", "fieldSelector"});
    if (has("create")) {
      collection["post"] = Operation(r, "post", {"dryRun", "fieldManager", "fieldValidation"});
    }
    if (has("deletecollection")) collection["delete"] = Operation(r, "deletecollection", {});
    if (!collection.empty()) paths[prefix] = std::move(collection);
    json::object item;
    if (has("get")) item["get"] = Operation(r, "get", {});
    if (has("update")) {
      item["put"] = Operation(r, "put", {"dryRun", "fieldManager", "fieldValidation"});
    }
    if (has("patch")) {
      item["patch"] = Operation(r, "patch", {"dryRun", "fieldManager", "fieldValidation", "force"});
    }
    if (has("delete")) item["delete"] = Operation(r, "delete", {"dryRun", "gracePeriodSeconds"});
    if (!item.empty()) paths[prefix + "/{name}"] = std::move(item);
  }
  for (auto& e : entries_) e.hash = Hash(json::serialize(e.document));
}

Object OpenApi::Index() const {
  json::object paths;
  for (const auto& e : entries_) {
    paths[e.path] =
        json::object{{"serverRelativeURL", "/openapi/v3/" + e.path + "?hash=" + e.hash}};
  }
  return Object{{"paths", std::move(paths)}};
}

std::optional<Object> OpenApi::GroupVersion(std::string_view gv_path) const {
  for (const auto& e : entries_) {
    if (e.path == gv_path) return e.document;
  }
  return std::nullopt;
}

}  // namespace vk::kubesim
