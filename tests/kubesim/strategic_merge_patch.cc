#include "tests/kubesim/strategic_merge_patch.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "tests/kubesim/api_errors.h"

namespace vk::kubesim {
namespace {

namespace json = boost::json;

constexpr std::string_view kPatchDirective = "$patch";
constexpr std::string_view kRetainKeys = "$retainKeys";
constexpr std::string_view kDeleteFromPrimitiveList = "$deleteFromPrimitiveList/";
constexpr std::string_view kSetElementOrder = "$setElementOrder/";

bool IsContainerList(std::string_view name) {
  return name == "containers" || name == "initContainers" || name == "ephemeralContainers";
}

tl::unexpected<Error> Bad(const std::string& message) {
  return tl::unexpected(BadRequestError(message));
}

// The value of "$patch" in a map, "" when absent.
Result<std::string> DirectiveOf(const json::object& o) {
  const auto* v = o.if_contains(kPatchDirective);
  if (v == nullptr) return std::string();
  if (!v->is_string()) return Bad("invalid $patch directive: not a string");
  std::string d(v->get_string());
  if (d != "replace" && d != "delete" && d != "merge") return Bad("Unknown patch type: " + d);
  return d;
}

// A patch map with every directive key removed, recursively: what is stored when a patch element
// lands where there was nothing to merge with.
json::value StripDirectives(const json::value& v) {
  if (const auto* o = v.if_object()) {
    json::object out;
    for (const auto& [k, child] : *o) {
      if (!k.empty() && k.front() == '$') continue;
      if (child.is_null()) continue;
      out[k] = StripDirectives(child);
    }
    return out;
  }
  if (const auto* a = v.if_array()) {
    json::array out;
    for (const auto& child : *a) {
      if (const auto* co = child.if_object()) {
        const auto* d = co->if_contains(kPatchDirective);
        if (d != nullptr && co->size() == 1) continue;  // a bare {"$patch": ...} element
      }
      out.push_back(StripDirectives(child));
    }
    return out;
  }
  return v;
}

class Merger {
 public:
  // Returns nullopt (in *deleted) when the patch deletes the map itself.
  Result<json::object> MergeMap(const json::object& original, const json::object& patch,
                                std::vector<std::string>& path, bool& deleted) {
    deleted = false;
    auto directive = DirectiveOf(patch);
    if (!directive) return tl::unexpected(directive.error());
    if (*directive == "delete") {
      deleted = true;
      return json::object();
    }
    if (*directive == "replace") return StripDirectives(json::value(patch)).get_object();

    json::object result = original;
    std::vector<std::pair<std::string, const json::value*>> deletions;
    for (const auto& [key, value] : patch) {
      std::string_view k = key;
      if (!k.empty() && k.front() == '$') {
        if (k.substr(0, kDeleteFromPrimitiveList.size()) == kDeleteFromPrimitiveList) {
          deletions.emplace_back(std::string(k.substr(kDeleteFromPrimitiveList.size())), &value);
        } else if (k != kPatchDirective && k != kRetainKeys &&
                   k.substr(0, kSetElementOrder.size()) != kSetElementOrder) {
          return Bad("unknown strategic merge patch directive " + GoQuote(k));
        }
        continue;
      }
      if (value.is_null()) {
        result.erase(key);
        continue;
      }
      path.emplace_back(k);
      const json::value* existing = result.if_contains(key);
      if (const auto* po = value.if_object()) {
        static const json::object kEmpty;
        const json::object& base =
            existing != nullptr && existing->is_object() ? existing->get_object() : kEmpty;
        bool child_deleted = false;
        auto merged = MergeMap(base, *po, path, child_deleted);
        if (!merged) return merged;
        if (child_deleted) {
          result.erase(key);
        } else {
          result[key] = std::move(*merged);
        }
      } else if (const auto* pa = value.if_array()) {
        static const json::array kNone;
        const json::array& base =
            existing != nullptr && existing->is_array() ? existing->get_array() : kNone;
        auto merged = MergeList(base, *pa, path);
        if (!merged) return tl::unexpected(merged.error());
        result[key] = std::move(*merged);
      } else {
        result[key] = value;
      }
      path.pop_back();
    }

    for (const auto& [field, values] : deletions) {
      if (!values->is_array()) return Bad("$deleteFromPrimitiveList/" + field + " must be a list");
      auto* list = result.if_contains(field);
      if (list == nullptr || !list->is_array()) continue;
      auto& items = list->get_array();
      json::array kept;
      for (const auto& item : items) {
        const auto& gone = values->get_array();
        if (std::find(gone.begin(), gone.end(), item) == gone.end()) kept.push_back(item);
      }
      items = std::move(kept);
    }

    if (const auto* retain = patch.if_contains(kRetainKeys)) {
      if (!retain->is_array()) return Bad("$retainKeys must be a list of strings");
      const auto& keep = retain->get_array();
      for (auto it = result.begin(); it != result.end();) {
        bool listed = std::any_of(keep.begin(), keep.end(), [&](const json::value& k) {
          return k.is_string() && k.get_string() == it->key();
        });
        it = listed ? std::next(it) : result.erase(it);
      }
    }
    return result;
  }

  Result<json::array> MergeList(const json::array& original, const json::array& patch,
                                std::vector<std::string>& path) {
    for (const auto& item : patch) {
      const auto* o = item.if_object();
      if (o == nullptr) continue;
      const auto* d = o->if_contains(kPatchDirective);
      if (d != nullptr && d->is_string() && d->get_string() == "replace") {
        json::array replaced;
        for (const auto& other : patch) {
          if (&other != &item) replaced.push_back(StripDirectives(other));
        }
        return replaced;
      }
    }
    ListStrategy strategy = ListStrategyFor(path);
    switch (strategy.kind) {
      case ListStrategy::Kind::kReplace:
        return StripDirectives(json::value(patch)).get_array();
      case ListStrategy::Kind::kMergePrimitives: {
        json::array result = original;
        for (const auto& item : patch) {
          if (std::find(result.begin(), result.end(), item) == result.end()) {
            result.push_back(item);
          }
        }
        return result;
      }
      case ListStrategy::Kind::kMergeByKey:
        break;
    }
    const std::string& key = strategy.merge_key;
    json::array result = original;
    for (const auto& item : patch) {
      const auto* po = item.if_object();
      if (po == nullptr) {
        result.push_back(item);
        continue;
      }
      auto directive = DirectiveOf(*po);
      if (!directive) return tl::unexpected(directive.error());
      const json::value* key_value = po->if_contains(key);
      if (key_value == nullptr) {
        return Bad("map: " + json::serialize(*po) + " does not contain declared merge key: " + key);
      }
      auto found = std::find_if(result.begin(), result.end(), [&](const json::value& v) {
        const auto* vo = v.if_object();
        const json::value* k = vo == nullptr ? nullptr : vo->if_contains(key);
        return k != nullptr && *k == *key_value;
      });
      if (*directive == "delete") {
        if (found != result.end()) result.erase(found);
        continue;
      }
      static const json::object kEmpty;
      const json::object& base =
          found != result.end() && found->is_object() ? found->get_object() : kEmpty;
      bool deleted = false;
      auto merged = MergeMap(base, *po, path, deleted);
      if (!merged) return tl::unexpected(merged.error());
      if (found != result.end()) {
        *found = std::move(*merged);
      } else {
        result.push_back(std::move(*merged));
      }
    }
    return result;
  }
};

}  // namespace

ListStrategy ListStrategyFor(const std::vector<std::string>& path) {
  if (path.empty()) return {};
  const std::string& last = path.back();
  const std::string parent = path.size() >= 2 ? path[path.size() - 2] : std::string();
  auto by = [](const char* key) { return ListStrategy{ListStrategy::Kind::kMergeByKey, key}; };
  if (path.size() == 2 && path[0] == "metadata" && last == "finalizers") {
    return {ListStrategy::Kind::kMergePrimitives, ""};
  }
  if (path.size() == 2 && path[0] == "metadata" && last == "ownerReferences") return by("uid");
  if (IsContainerList(last)) return by("name");
  if (last == "ports") {
    if (IsContainerList(parent)) return by("containerPort");
    if (path.size() == 2 && path[0] == "spec") return by("port");
    return {};
  }
  if (last == "env" || last == "volumes" || last == "imagePullSecrets" ||
      last == "schedulingGates" || last == "resourceClaims") {
    return by("name");
  }
  if (last == "volumeMounts") return by("mountPath");
  if (last == "volumeDevices") return by("devicePath");
  if (last == "conditions") return by("type");
  if (last == "hostAliases" || last == "podIPs" || last == "hostIPs") return by("ip");
  if (last == "topologySpreadConstraints") return by("topologyKey");
  if (path.size() == 2 && path[0] == "status" && last == "addresses") return by("type");
  if (path.size() == 1 && last == "secrets") return by("name");  // ServiceAccount.secrets
  return {};
}

Result<Object> StrategicMergeObjects(const Object& original, const Object& patch) {
  Merger merger;
  std::vector<std::string> path;
  bool deleted = false;
  auto merged = merger.MergeMap(original, patch, path, deleted);
  if (!merged) return merged;
  if (deleted) return Bad("the root object may not be deleted by $patch: delete");
  return merged;
}

Result<Object> ApplyStrategicMergePatch(const Object& original, std::string_view patch) {
  boost::system::error_code ec;
  json::value parsed = json::parse(patch, ec);
  if (ec || !parsed.is_object()) {
    return Bad("error decoding patch: the patch is not a JSON object");
  }
  return StrategicMergeObjects(original, parsed.get_object());
}

}  // namespace vk::kubesim
