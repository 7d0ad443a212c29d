#include "hostclient/store.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <mutex>
#include <utility>

namespace vk::hostclient {

const char* ToString(StoreChange::Type type) {
  switch (type) {
    case StoreChange::Type::kAdded:
      return "added";
    case StoreChange::Type::kUpdated:
      return "updated";
    case StoreChange::Type::kDeleted:
      return "deleted";
  }
  return "unknown";
}

IndexFunc NamespaceIndex() {
  return [](const Object& o) { return std::vector<std::string>{std::string(obj::Namespace(o))}; };
}

IndexFunc NodeNameIndex() {
  return [](const Object& o) {
    auto node = obj::String(o, {"spec", "nodeName"});
    if (node.empty()) return std::vector<std::string>{};
    return std::vector<std::string>{std::string(node)};
  };
}

IndexFunc LabelIndex(std::string label_key) {
  return [label_key = std::move(label_key)](const Object& o) {
    const auto* labels = obj::ObjectAt(o, {"metadata", "labels"});
    if (labels == nullptr) return std::vector<std::string>{};
    const auto* v = labels->if_contains(label_key);
    if (v == nullptr || !v->is_string()) return std::vector<std::string>{};
    return std::vector<std::string>{std::string(v->get_string())};
  };
}

namespace {

// Whether `next` differs from `prev` as far as consumers are concerned. The resourceVersion
// changes with every write on a real API server; content comparison covers objects without one.
bool Changed(const Object& prev, const Object& next) {
  auto prev_rv = obj::ResourceVersion(prev);
  auto next_rv = obj::ResourceVersion(next);
  if (!prev_rv.empty() || !next_rv.empty()) return prev_rv != next_rv;
  return prev != next;
}

}  // namespace

ObjectPtr ParseStored(const std::string& json) {
  // Cannot fail: the text is boost::json's own serialization of an object.
  return std::make_shared<const Object>(std::move(boost::json::parse(json).as_object()));
}

std::string Store::Compact(const Object& object) const {
  std::string json = obj::Serialize(cache_form_ ? cache_form_(object) : object);
  json.shrink_to_fit();
  return json;
}

Store::Entry Store::MakeEntry(const ObjectPtr& object, std::string json) const {
  Entry entry{std::move(json), {}};
  if (!cache_form_) entry.parsed = object;
  return entry;
}

ObjectPtr Store::Materialize(const Entry& entry) {
  if (ObjectPtr live = entry.parsed.lock()) return live;
  return ParseStored(entry.json);
}

ObjectPtr StoreChange::Resolve() const {
  if (object != nullptr || object_json == nullptr) return object;
  return ParseStored(*object_json);
}

Store::Store(ChangeHook hook, OldObjects old_objects, CacheForm cache_form)
    : hook_(std::move(hook)),
      report_old_objects_(old_objects == OldObjects::kReported),
      cache_form_(std::move(cache_form)) {}

Status Store::AddIndexer(const std::string& name, IndexFunc fn) {
  if (!fn) return MakeError(ErrorCode::kInvalid, "index " + name + ": no index function");
  std::unique_lock lock(mutex_);
  if (indexes_.contains(name)) {
    return MakeError(ErrorCode::kAlreadyExists, "index " + name + " already exists");
  }
  Index& index = indexes_[name];
  index.fn = std::move(fn);
  for (const auto& [key, entry] : items_) {
    for (auto& value : index.fn(*Materialize(entry))) {
      index.keys_by_value[std::move(value)].insert(key);
    }
  }
  return Ok();
}

void Store::IndexLocked(const std::string& key, const ObjectPtr& object, const Entry& entry) {
  if (indexes_.empty()) return;
  // Indexes see what readers see: the kept form, when the store keeps one.
  const ObjectPtr indexed = cache_form_ || object == nullptr ? Materialize(entry) : object;
  for (auto& [name, index] : indexes_) {
    for (auto& value : index.fn(*indexed)) index.keys_by_value[std::move(value)].insert(key);
  }
}

void Store::UnindexLocked(const std::string& key, const Entry& entry) {
  if (indexes_.empty()) return;  // spares the parse
  const ObjectPtr object = Materialize(entry);
  for (auto& [name, index] : indexes_) {
    for (const auto& value : index.fn(*object)) {
      auto it = index.keys_by_value.find(value);
      if (it == index.keys_by_value.end()) continue;
      it->second.erase(key);
      // Empty buckets would otherwise accumulate for every node or label value ever seen.
      if (it->second.empty()) index.keys_by_value.erase(it);
    }
  }
}

StoreChange Store::PutLocked(const std::string& key, ObjectPtr object, std::string json) {
  auto [it, inserted] = items_.try_emplace(key);
  if (inserted) {
    it->second = MakeEntry(object, std::move(json));
    IndexLocked(key, object, it->second);
    return StoreChange{StoreChange::Type::kAdded, nullptr, std::move(object), nullptr};
  }
  ObjectPtr old = report_old_objects_ ? Materialize(it->second) : nullptr;
  UnindexLocked(key, it->second);
  it->second = MakeEntry(object, std::move(json));
  IndexLocked(key, object, it->second);
  return StoreChange{StoreChange::Type::kUpdated, std::move(old), std::move(object), nullptr};
}

StoreChange Store::Add(ObjectPtr object) {
  std::string key = obj::Key(*object);
  std::string json = Compact(*object);
  std::unique_lock lock(mutex_);
  StoreChange change = PutLocked(key, std::move(object), std::move(json));
  if (hook_) hook_({change}, false);
  return change;
}

StoreChange Store::Update(ObjectPtr object) { return Add(std::move(object)); }

StoreChange Store::Delete(ObjectPtr object) {
  std::string key = obj::Key(*object);
  std::unique_lock lock(mutex_);
  StoreChange change{StoreChange::Type::kDeleted, nullptr, std::move(object), nullptr};
  auto it = items_.find(key);
  if (it != items_.end()) {
    if (report_old_objects_) change.old_object = Materialize(it->second);
    UnindexLocked(key, it->second);
    items_.erase(it);
  }
  if (hook_) hook_({change}, false);
  return change;
}

Store::Listed Store::Prepare(const Object& object) const {
  Listed listed{obj::Key(object), Compact(object), nullptr};
  listed.whole =
      std::make_shared<const std::string>(cache_form_ ? obj::Serialize(object) : listed.kept);
  return listed;
}

std::vector<StoreChange> Store::Replace(std::vector<ObjectPtr> objects,
                                        std::string resource_version) {
  std::vector<Listed> listed;
  listed.reserve(objects.size());
  for (const auto& object : objects)
    listed.push_back(Listed{obj::Key(*object), Compact(*object), nullptr});
  std::unique_lock lock(mutex_);
  std::vector<StoreChange> changes = ReplaceLocked(listed, objects);
  last_replace_rv_ = std::move(resource_version);
  if (hook_) hook_(changes, true);
  return changes;
}

std::vector<StoreChange> Store::ReplaceListed(std::vector<Listed> listed,
                                              std::string resource_version) {
  std::vector<ObjectPtr> no_objects(listed.size());
  std::unique_lock lock(mutex_);
  std::vector<StoreChange> changes = ReplaceLocked(listed, no_objects);
  last_replace_rv_ = std::move(resource_version);
  if (hook_) hook_(changes, true);
  return changes;
}

std::vector<StoreChange> Store::ReplaceLocked(std::vector<Listed>& listed,
                                              std::vector<ObjectPtr>& objects) {
  std::vector<StoreChange> changes;
  std::unordered_set<std::string> keys;
  keys.reserve(listed.size());
  for (size_t i = 0; i < listed.size(); ++i) {
    Listed& item = listed[i];
    auto it = items_.find(item.key);
    const auto changed = [&] {
      // Identical text is the common case of a relist and needs no parse.
      if (it->second.json == item.kept) return false;
      const ObjectPtr next = objects[i] != nullptr ? objects[i] : ParseStored(*item.whole);
      return Changed(*Materialize(it->second), *next);
    };
    if (it == items_.end() || changed()) {
      StoreChange change = PutLocked(item.key, objects[i], std::move(item.kept));
      if (change.object == nullptr) change.object_json = item.whole;
      changes.push_back(std::move(change));
    }
    keys.insert(std::move(item.key));
  }
  std::vector<std::string> vanished;
  for (const auto& [key, entry] : items_) {
    if (!keys.contains(key)) vanished.push_back(key);
  }
  // A stable order makes relist notifications reproducible.
  std::sort(vanished.begin(), vanished.end());
  for (const auto& key : vanished) {
    auto it = items_.find(key);
    ObjectPtr last = Materialize(it->second);
    UnindexLocked(key, it->second);
    items_.erase(it);
    changes.push_back(StoreChange{StoreChange::Type::kDeleted, last, last, nullptr});
  }
  return changes;
}

ObjectPtr Store::Get(const std::string& key) const {
  std::shared_lock lock(mutex_);
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : Materialize(it->second);
}

std::vector<ObjectPtr> Store::ListLocked() const {
  std::vector<ObjectPtr> out;
  out.reserve(items_.size());
  for (const auto& [key, entry] : items_) out.push_back(Materialize(entry));
  return out;
}

std::vector<ObjectPtr> Store::List() const {
  std::shared_lock lock(mutex_);
  return ListLocked();
}

void Store::ForEach(const std::function<void(const Object&)>& fn) const {
  std::shared_lock lock(mutex_);
  for (const auto& [key, entry] : items_) fn(*Materialize(entry));
}

std::vector<std::string> Store::ListKeys() const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> out;
  out.reserve(items_.size());
  for (const auto& [key, entry] : items_) out.push_back(key);
  return out;
}

size_t Store::Size() const {
  std::shared_lock lock(mutex_);
  return items_.size();
}

Result<std::vector<ObjectPtr>> Store::ByIndex(const std::string& index_name,
                                              const std::string& value) const {
  std::shared_lock lock(mutex_);
  auto index = indexes_.find(index_name);
  if (index == indexes_.end()) {
    return MakeError(ErrorCode::kNotFound, "index " + index_name + " does not exist");
  }
  std::vector<ObjectPtr> out;
  auto bucket = index->second.keys_by_value.find(value);
  if (bucket == index->second.keys_by_value.end()) return out;
  out.reserve(bucket->second.size());
  for (const auto& key : bucket->second) {
    auto it = items_.find(key);
    if (it != items_.end()) out.push_back(Materialize(it->second));
  }
  return out;
}

Result<std::vector<std::string>> Store::IndexValues(const std::string& index_name) const {
  std::shared_lock lock(mutex_);
  auto index = indexes_.find(index_name);
  if (index == indexes_.end()) {
    return MakeError(ErrorCode::kNotFound, "index " + index_name + " does not exist");
  }
  std::vector<std::string> out;
  out.reserve(index->second.keys_by_value.size());
  for (const auto& [value, keys] : index->second.keys_by_value) out.push_back(value);
  return out;
}

std::string Store::LastReplaceResourceVersion() const {
  std::shared_lock lock(mutex_);
  return last_replace_rv_;
}

void Store::VisitAtomically(const std::function<void(const std::vector<ObjectPtr>&)>& fn) const {
  std::shared_lock lock(mutex_);
  fn(ListLocked());
}

}  // namespace vk::hostclient
