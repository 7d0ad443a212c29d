#include "tests/kubesim/discovery.h"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <tuple>

namespace vk::kubesim {
namespace {

namespace json = boost::json;

json::array Strings(const std::vector<std::string>& values) {
  json::array out;
  for (const auto& v : values) out.emplace_back(v);
  return out;
}

// The resources kubectl includes in `kubectl get all`.
bool InCategoryAll(const ResourceInfo& r) {
  static const std::vector<std::pair<std::string_view, std::string_view>> kAll = {
      {"", "pods"},
      {"", "services"},
      {"", "replicationcontrollers"},
      {"apps", "deployments"},
      {"apps", "replicasets"},
      {"apps", "statefulsets"},
      {"apps", "daemonsets"},
      {"batch", "jobs"},
      {"batch", "cronjobs"},
      {"autoscaling", "horizontalpodautoscalers"}};
  return std::find(kAll.begin(), kAll.end(),
                   std::pair<std::string_view, std::string_view>(r.group, r.resource)) !=
         kAll.end();
}

// (kind rank, major, minor) where rank 0 = GA, 1 = beta, 2 = alpha; nullopt for other shapes.
std::optional<std::tuple<int, int, int>> ParseKubeVersion(std::string_view v) {
  if (v.size() < 2 || v[0] != 'v') return std::nullopt;
  size_t i = 1;
  auto number = [&](int& out) {
    size_t start = i;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9') ++i;
    if (i == start) return false;
    std::from_chars(v.data() + start, v.data() + i, out);
    return true;
  };
  int major = 0;
  if (!number(major)) return std::nullopt;
  if (i == v.size()) return std::make_tuple(0, major, 0);
  int rank;
  if (v.substr(i, 5) == "alpha") {
    rank = 2;
    i += 5;
  } else if (v.substr(i, 4) == "beta") {
    rank = 1;
    i += 4;
  } else {
    return std::nullopt;
  }
  int minor = 0;
  if (!number(minor) || i != v.size()) return std::nullopt;
  return std::make_tuple(rank, major, minor);
}

json::object ResponseKind(std::string_view group, std::string_view version, std::string_view kind) {
  return json::object{{"group", group}, {"version", version}, {"kind", kind}};
}

}  // namespace

bool VersionPrecedes(std::string_view a, std::string_view b) {
  auto pa = ParseKubeVersion(a);
  auto pb = ParseKubeVersion(b);
  if (pa && pb) {
    auto [ra, ma, na] = *pa;
    auto [rb, mb, nb] = *pb;
    if (ra != rb) return ra < rb;
    if (ma != mb) return ma > mb;
    return na > nb;
  }
  if (pa || pb) return pa.has_value();
  return a < b;
}

std::vector<SubresourceInfo> SubresourcesOf(const ResourceInfo& r) {
  std::vector<SubresourceInfo> out;
  if (r.has_status)
    out.push_back({"status", r.group, r.version, r.kind, {"get", "patch", "update"}});
  for (const auto& name : r.subresources) {
    if (name == "status") continue;
    SubresourceInfo s{name, r.group, r.version, r.kind, {"get"}};
    if (name == "binding") {
      s.group = "";
      s.version = "v1";
      s.kind = "Binding";
      s.verbs = {"create"};
    } else if (name == "eviction") {
      s.group = "policy";
      s.version = "v1";
      s.kind = "Eviction";
      s.verbs = {"create"};
    } else if (name == "token") {
      s.group = "authentication.k8s.io";
      s.version = "v1";
      s.kind = "TokenRequest";
      s.verbs = {"create"};
    } else if (name == "log") {
      s.verbs = {"get"};
    } else if (name == "exec") {
      s.kind = "PodExecOptions";
      s.verbs = {"create", "get"};
    } else if (name == "attach") {
      s.kind = "PodAttachOptions";
      s.verbs = {"create", "get"};
    } else if (name == "portforward") {
      s.kind = "PodPortForwardOptions";
      s.verbs = {"create", "get"};
    } else if (name == "proxy") {
      s.kind = r.kind + "ProxyOptions";
      s.verbs = {"create", "delete", "get", "patch", "update"};
    } else if (name == "finalize") {
      s.verbs = {"update"};
    } else if (name == "scale") {
      s.group = "autoscaling";
      s.version = "v1";
      s.kind = "Scale";
      s.verbs = {"get", "patch", "update"};
    } else if (name == "ephemeralcontainers" || name == "resize") {
      s.verbs = {"get", "patch", "update"};
    }
    out.push_back(std::move(s));
  }
  return out;
}

const SubresourceInfo* FindSubresource(const std::vector<SubresourceInfo>& subs,
                                       std::string_view name) {
  for (const auto& s : subs) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

Discovery::Discovery(const ResourceCatalog& catalog) : resources_(catalog.all()) {
  for (const auto& r : resources_) {
    if (r.group.empty()) continue;
    auto it = std::find_if(groups_.begin(), groups_.end(),
                           [&](const GroupVersions& g) { return g.group == r.group; });
    if (it == groups_.end()) {
      groups_.push_back({r.group, {}});
      it = groups_.end() - 1;
    }
    if (std::find(it->versions.begin(), it->versions.end(), r.version) == it->versions.end()) {
      it->versions.push_back(r.version);
    }
  }
  for (auto& g : groups_) {
    std::stable_sort(
        g.versions.begin(), g.versions.end(),
        [](const std::string& a, const std::string& b) { return VersionPrecedes(a, b); });
  }
}

Object Discovery::Version() {
  return Object{
      {"major", kKubeMajor},           {"minor", kKubeMinor},
      {"gitVersion", kKubeGitVersion}, {"gitCommit", "0000000000000000000000000000000000000000"},
      {"gitTreeState", "clean"},       {"buildDate", "2024-08-13T00:00:00Z"},
      {"goVersion", "go1.22.5"},       {"compiler", "gc"},
      {"platform", "linux/amd64"}};
}

Object Discovery::CoreVersions(std::string_view server_address) const {
  return Object{
      {"kind", "APIVersions"},
      {"versions", json::array{"v1"}},
      {"serverAddressByClientCIDRs",
       json::array{json::object{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", server_address}}}}};
}

Object Discovery::GroupDocument(const GroupVersions& gv) const {
  json::array versions;
  for (const auto& v : gv.versions) {
    versions.push_back(json::object{{"groupVersion", gv.group + "/" + v}, {"version", v}});
  }
  return Object{{"name", gv.group},
                {"versions", std::move(versions)},
                {"preferredVersion", json::object{{"groupVersion", gv.group + "/" + gv.versions[0]},
                                                  {"version", gv.versions[0]}}}};
}

Object Discovery::Groups() const {
  json::array groups;
  for (const auto& g : groups_) groups.push_back(GroupDocument(g));
  return Object{{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", std::move(groups)}};
}

std::optional<Object> Discovery::Group(std::string_view group) const {
  for (const auto& g : groups_) {
    if (g.group != group) continue;
    Object doc{{"kind", "APIGroup"}, {"apiVersion", "v1"}};
    for (auto& [key, value] : GroupDocument(g)) doc[key] = std::move(value);
    return doc;
  }
  return std::nullopt;
}

std::vector<const ResourceInfo*> Discovery::ResourcesIn(std::string_view group,
                                                        std::string_view version) const {
  std::vector<const ResourceInfo*> out;
  for (const auto& r : resources_) {
    if (r.group == group && r.version == version) out.push_back(&r);
  }
  return out;
}

std::optional<Object> Discovery::Resources(std::string_view group, std::string_view version) const {
  auto in = ResourcesIn(group, version);
  if (in.empty()) return std::nullopt;
  json::array resources;
  for (const ResourceInfo* r : in) {
    json::object entry{{"name", r->resource},
                       {"singularName", r->singular},
                       {"namespaced", r->namespaced},
                       {"kind", r->kind},
                       {"verbs", Strings(r->verbs)}};
    if (!r->short_names.empty()) entry["shortNames"] = Strings(r->short_names);
    if (InCategoryAll(*r)) entry["categories"] = json::array{"all"};
    resources.push_back(std::move(entry));
    for (const auto& sub : SubresourcesOf(*r)) {
      json::object s{{"name", r->resource + "/" + sub.name},
                     {"singularName", ""},
                     {"namespaced", r->namespaced}};
      if (sub.group != r->group || sub.version != r->version) {
        s["group"] = sub.group;
        s["version"] = sub.version;
      }
      s["kind"] = sub.kind;
      s["verbs"] = Strings(sub.verbs);
      resources.push_back(std::move(s));
    }
  }
  std::string gv =
      group.empty() ? std::string(version) : std::string(group) + "/" + std::string(version);
  return Object{{"kind", "APIResourceList"},
                {"apiVersion", "v1"},
                {"groupVersion", gv},
                {"resources", std::move(resources)}};
}

Object Discovery::AggregatedGroup(const GroupVersions& gv) const {
  json::array versions;
  for (const auto& v : gv.versions) {
    json::array resources;
    for (const ResourceInfo* r : ResourcesIn(gv.group, v)) {
      json::object entry{{"resource", r->resource},
                         {"responseKind", ResponseKind(r->group, r->version, r->kind)},
                         {"scope", r->namespaced ? "Namespaced" : "Cluster"},
                         {"singularResource", r->singular},
                         {"verbs", Strings(r->verbs)}};
      if (!r->short_names.empty()) entry["shortNames"] = Strings(r->short_names);
      if (InCategoryAll(*r)) entry["categories"] = json::array{"all"};
      json::array subs;
      for (const auto& sub : SubresourcesOf(*r)) {
        subs.push_back(
            json::object{{"subresource", sub.name},
                         {"responseKind", ResponseKind(sub.group, sub.version, sub.kind)},
                         {"verbs", Strings(sub.verbs)}});
      }
      if (!subs.empty()) entry["subresources"] = std::move(subs);
      resources.push_back(std::move(entry));
    }
    versions.push_back(json::object{
        {"version", v}, {"resources", std::move(resources)}, {"freshness", "Current"}});
  }
  json::object metadata{{"creationTimestamp", nullptr}};
  if (!gv.group.empty()) metadata["name"] = gv.group;
  return Object{{"metadata", std::move(metadata)}, {"versions", std::move(versions)}};
}

Object Discovery::AggregatedCore(std::string_view api_version) const {
  json::array items;
  if (!ResourcesIn("", "v1").empty()) items.push_back(AggregatedGroup({"", {"v1"}}));
  return Object{{"kind", "APIGroupDiscoveryList"},
                {"apiVersion", api_version},
                {"metadata", json::object{}},
                {"items", std::move(items)}};
}

Object Discovery::AggregatedGroups(std::string_view api_version) const {
  json::array items;
  for (const auto& g : groups_) items.push_back(AggregatedGroup(g));
  return Object{{"kind", "APIGroupDiscoveryList"},
                {"apiVersion", api_version},
                {"metadata", json::object{}},
                {"items", std::move(items)}};
}

}  // namespace vk::kubesim
