#include "syncer/shared/pod_update_translator.h"

#include <algorithm>
#include <set>
#include <string_view>

#include "syncer/shared/host_naming.h"

namespace vk::syncer::shared {
namespace {

namespace json = boost::json;

const Object& ObjectOrEmpty(const Object& o, std::initializer_list<std::string_view> path) {
  static const Object kEmpty;
  const Object* found = obj::ObjectAt(o, path);
  return found == nullptr ? kEmpty : *found;
}

const json::array& ArrayOrEmpty(const Object& o, std::initializer_list<std::string_view> path) {
  static const json::array kEmpty;
  const json::value* found = obj::Find(o, path);
  return found == nullptr || !found->is_array() ? kEmpty : found->get_array();
}

std::set<std::string> SplitKeys(std::string_view list) {
  std::set<std::string> keys;
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    std::string_view key = list.substr(0, comma);
    if (!key.empty()) keys.emplace(key);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return keys;
}

// Sets patch entries for keys whose desired value differs; `removable` keys absent from `desired`
// become null (deleted).
void DiffMap(const Object& desired, const Object& actual, const std::set<std::string>& removable,
             Object& patch) {
  for (const auto& entry : desired) {
    const auto* current = actual.if_contains(entry.key());
    if (current == nullptr || *current != entry.value()) patch[entry.key()] = entry.value();
  }
  for (const auto& key : removable) {
    if (actual.contains(key) && !desired.contains(key)) patch[key] = nullptr;
  }
}

// Image changes, as strategic-merge list entries keyed by container name.
json::array DiffImages(const json::array& desired, const json::array& actual) {
  json::array changes;
  for (const auto& container : desired) {
    if (!container.is_object()) continue;
    const std::string_view name = obj::String(container.get_object(), {"name"});
    const std::string_view image = obj::String(container.get_object(), {"image"});
    for (const auto& running : actual) {
      if (!running.is_object() || obj::String(running.get_object(), {"name"}) != name) continue;
      if (obj::String(running.get_object(), {"image"}) != image) {
        Object change;
        change["name"] = name;
        change["image"] = image;
        changes.push_back(std::move(change));
      }
      break;
    }
  }
  return changes;
}

}  // namespace

Result<std::optional<std::string>> ComputeHostPodPatch(const Object& virtual_pod,
                                                       const Object& host_pod,
                                                       const TranslationContext& ctx) {
  auto translated = TranslatePod(virtual_pod, ctx);
  if (!translated) return tl::unexpected(std::move(translated.error()));
  const Object& desired = *translated;

  Object metadata_patch;
  {
    const Object& want = ObjectOrEmpty(desired, {"metadata", "labels"});
    const Object& have = ObjectOrEmpty(host_pod, {"metadata", "labels"});
    std::set<std::string> removable;
    for (const auto& entry : have) removable.emplace(entry.key());
    Object labels;
    DiffMap(want, have, removable, labels);
    if (!labels.empty()) metadata_patch["labels"] = std::move(labels);
  }
  {
    const Object& want = ObjectOrEmpty(desired, {"metadata", "annotations"});
    const Object& have = ObjectOrEmpty(host_pod, {"metadata", "annotations"});
    std::set<std::string> removable =
        SplitKeys(obj::Annotation(host_pod, kAnnotationSyncedAnnotations));
    Object annotations;
    DiffMap(want, have, removable, annotations);
    if (!annotations.empty()) metadata_patch["annotations"] = std::move(annotations);
  }

  Object spec_patch;
  for (auto list : {"containers", "initContainers"}) {
    json::array images =
        DiffImages(ArrayOrEmpty(desired, {"spec", list}), ArrayOrEmpty(host_pod, {"spec", list}));
    if (!images.empty()) spec_patch[list] = std::move(images);
  }

  if (const json::value* deadline = obj::Find(desired, {"spec", "activeDeadlineSeconds"});
      deadline != nullptr && deadline->is_number()) {
    const int64_t want = obj::Int(desired, {"spec", "activeDeadlineSeconds"});
    const json::value* current = obj::Find(host_pod, {"spec", "activeDeadlineSeconds"});
    if (current == nullptr || !current->is_number() ||
        want < obj::Int(host_pod, {"spec", "activeDeadlineSeconds"})) {
      spec_patch["activeDeadlineSeconds"] = want;
    }
  }

  {
    const json::array& have = ArrayOrEmpty(host_pod, {"spec", "tolerations"});
    json::array merged = have;
    for (const auto& toleration : ArrayOrEmpty(desired, {"spec", "tolerations"})) {
      if (std::find(have.begin(), have.end(), toleration) == have.end()) {
        merged.push_back(toleration);
      }
    }
    if (merged.size() != have.size()) spec_patch["tolerations"] = std::move(merged);
  }

  Object patch;
  if (!metadata_patch.empty()) patch["metadata"] = std::move(metadata_patch);
  if (!spec_patch.empty()) patch["spec"] = std::move(spec_patch);
  if (patch.empty()) return std::optional<std::string>();
  return std::optional<std::string>(obj::Serialize(patch));
}

}  // namespace vk::syncer::shared
