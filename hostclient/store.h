#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "hostclient/base/error.h"
#include "hostclient/base/object.h"

namespace vk::hostclient {

// One change a Store mutation made. For kDeleted, `object` is the last state known: the object the
// deletion carried (a watch DELETED event holds the final state) or, for objects that vanished
// from a relist, the state the store held.
struct StoreChange {
  enum class Type { kAdded, kUpdated, kDeleted };
  Type type;
  // What the store held before; null for kAdded, for unknown deletions, and for kUpdated and
  // kDeleted of a store that does not report old objects.
  ObjectPtr old_object;
  // Null only for kAdded and kUpdated of a prepared Replace, whose objects exist as text alone:
  // object_json then holds the whole object.
  ObjectPtr object;
  std::shared_ptr<const std::string> object_json;

  // `object`, or object_json parsed when it is null.
  ObjectPtr Resolve() const;
};

// Whether a Store reports the state an update or a deletion replaced (StoreChange::old_object).
// Reporting it costs a parse of the kept text per change (see Store).
enum class OldObjects { kReported, kNotReported };

// What a Store keeps of each object, when its readers need less than the whole (for example only
// an identity) while its change hook still gets objects whole. Null: the whole object. The form
// must keep metadata.name, .namespace and .resourceVersion: a relist compares the latter.
using CacheForm = std::function<Object(const Object&)>;

const char* ToString(StoreChange::Type type);

// Parses a text a Store made (StoreChange::object_json).
ObjectPtr ParseStored(const std::string& json);

// Computes the index values of an object; an object may sit under any number of values.
using IndexFunc = std::function<std::vector<std::string>(const Object&)>;

// Names of the built-in indexes, for AddIndexer / ByIndex.
inline constexpr char kNamespaceIndex[] = "namespace";
inline constexpr char kNodeNameIndex[] = "spec.nodeName";

// metadata.namespace ("" for cluster-scoped objects).
IndexFunc NamespaceIndex();
// spec.nodeName when set (pods bound to a node); unscheduled pods are not indexed.
IndexFunc NodeNameIndex();
// The value of one label when the object carries it.
IndexFunc LabelIndex(std::string label_key);

// A thread-safe cache of Kubernetes objects keyed by obj::Key ("namespace/name"), with named
// secondary indexes.
//
// Contents are immutable shared objects: readers get ObjectPtr snapshots that stay valid however
// the store changes later. The store keeps each object as its JSON text, which takes about a
// third of the memory of the parsed tree (measured on pods, Secrets and Events: 3.5 to 3.7 times
// the text), and parses it again when read. While anyone still holds the object last put under a
// key, reads return that very object; so a read right after a change, and any read while a
// change is being delivered, costs no parse. Reads take a shared lock and may run concurrently with
// each other; mutations are exclusive. The change hook, when given, is called for every mutation
// with the changes it made, in mutation order, while the write lock is held: it must be quick
// (enqueue and return) and must not call back into the store. This is what lets an informer order
// its notifications exactly as the store changed.
class Store {
 public:
  // from_replace: the changes come from Replace (a relist) rather than a single event.
  using ChangeHook =
      std::function<void(const std::vector<StoreChange>& changes, bool from_replace)>;

  explicit Store(ChangeHook hook = nullptr, OldObjects old_objects = OldObjects::kReported,
                 CacheForm cache_form = nullptr);
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Adds a named index, built at once over the current contents. kAlreadyExists when the name is
  // taken.
  Status AddIndexer(const std::string& name, IndexFunc fn);

  // Inserts or replaces the object under its key: kAdded or kUpdated.
  StoreChange Add(ObjectPtr object);
  StoreChange Update(ObjectPtr object);
  // Removes the object with the key of `object`. Reports a deletion even when the key was not held
  // (the caller saw a deletion the store missed); old_object is then null.
  StoreChange Delete(ObjectPtr object);
  // Makes the contents exactly `objects` and returns the difference: kAdded for new keys, kUpdated
  // for keys whose resourceVersion (or, without one, content) changed, kDeleted for keys no longer
  // present. Unchanged objects produce no change. Duplicate keys in `objects`: the last wins.
  std::vector<StoreChange> Replace(std::vector<ObjectPtr> objects, std::string resource_version);

  // One listed object prepared for Replace: its key and texts, without the parsed tree, so that
  // a relist never holds every object parsed at once (a page at a time is enough).
  struct Listed {
    std::string key;
    std::string kept;                          // what the store keeps (see CacheForm)
    std::shared_ptr<const std::string> whole;  // the object, for the change hook
  };
  Listed Prepare(const Object& object) const;
  // Replace with prepared objects: its kAdded and kUpdated changes carry them as text
  // (StoreChange::object_json).
  std::vector<StoreChange> ReplaceListed(std::vector<Listed> listed, std::string resource_version);

  // Null when absent.
  ObjectPtr Get(const std::string& key) const;
  std::vector<ObjectPtr> List() const;
  // Calls fn with every object, one at a time, under the read lock: unlike List, it never holds
  // every object parsed at once (10,000 pods would be over 100 MB). fn must not call back into
  // the store.
  void ForEach(const std::function<void(const Object&)>& fn) const;
  std::vector<std::string> ListKeys() const;
  size_t Size() const;
  // Objects whose index `index_name` holds `value`; kNotFound when there is no such index.
  Result<std::vector<ObjectPtr>> ByIndex(const std::string& index_name,
                                         const std::string& value) const;
  // The values under which index `index_name` holds at least one object.
  Result<std::vector<std::string>> IndexValues(const std::string& index_name) const;
  // resourceVersion passed to the last Replace ("" before the first).
  std::string LastReplaceResourceVersion() const;

  // Calls fn with the contents while holding the read lock, so that no mutation (and no change
  // hook) happens while fn runs. For consumers that must order a snapshot against the change
  // hook's stream; fn must not call back into the store.
  void VisitAtomically(const std::function<void(const std::vector<ObjectPtr>&)>& fn) const;

 private:
  struct Index {
    IndexFunc fn;
    std::unordered_map<std::string, std::unordered_set<std::string>> keys_by_value;
  };

  struct Entry {
    std::string json;                    // the object, serialized
    std::weak_ptr<const Object> parsed;  // the object as put, while anyone holds it
  };

  // The text kept for an object; callers make it before taking the lock.
  std::string Compact(const Object& object) const;
  // The entry for an object and its text: readers get the object itself while it lives, unless
  // the store keeps another form of it.
  Entry MakeEntry(const ObjectPtr& object, std::string json) const;
  static ObjectPtr Materialize(const Entry& entry);

  // The mutators below require mutex_ held exclusively.
  StoreChange PutLocked(const std::string& key, ObjectPtr object, std::string json);
  // Replace's core: `objects[i]` may be null (prepared listings), then `listed[i].whole` stands
  // for it.
  std::vector<StoreChange> ReplaceLocked(std::vector<Listed>& listed,
                                         std::vector<ObjectPtr>& objects);
  void IndexLocked(const std::string& key, const ObjectPtr& object, const Entry& entry);
  void UnindexLocked(const std::string& key, const Entry& entry);
  std::vector<ObjectPtr> ListLocked() const;

  const ChangeHook hook_;
  const bool report_old_objects_;
  const CacheForm cache_form_;
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, Entry> items_;
  std::map<std::string, Index> indexes_;
  std::string last_replace_rv_;
};

}  // namespace vk::hostclient
