#include "hostclient/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "tests/support/fake_lister_watcher.h"

namespace vk::hostclient {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::Pod;
using ::testing::UnorderedElementsAre;

std::vector<std::string> Keys(const std::vector<ObjectPtr>& objects) {
  std::vector<std::string> keys;
  for (const auto& o : objects) keys.push_back(obj::Key(*o));
  std::sort(keys.begin(), keys.end());
  return keys;
}

std::vector<std::string> Describe(const std::vector<StoreChange>& changes) {
  std::vector<std::string> out;
  for (const auto& c : changes) {
    std::string s = std::string(ToString(c.type)) + " " + obj::Key(*c.object) + " " +
                    std::string(obj::ResourceVersion(*c.object));
    if (c.old_object) s += " from " + std::string(obj::ResourceVersion(*c.old_object));
    out.push_back(s);
  }
  return out;
}

class StoreTest : public ::testing::Test {
 protected:
  StoreTest()
      : store_([this](const std::vector<StoreChange>& changes, bool from_replace) {
          for (const auto& c : changes) hooked_.push_back(c);
          if (from_replace) ++replace_batches_;
        }) {}

  std::vector<StoreChange> hooked_;
  int replace_batches_ = 0;
  Store store_;
};

TEST_F(StoreTest, AddUpdateDeleteReportChangesAndOldState) {
  auto v1 = Pod("ns", "a", "1");
  auto v2 = Pod("ns", "a", "2");
  StoreChange added = store_.Add(v1);
  EXPECT_EQ(added.type, StoreChange::Type::kAdded);
  EXPECT_EQ(added.old_object, nullptr);
  EXPECT_EQ(store_.Get("ns/a"), v1);

  StoreChange updated = store_.Update(v2);
  EXPECT_EQ(updated.type, StoreChange::Type::kUpdated);
  EXPECT_EQ(updated.old_object, v1);
  EXPECT_EQ(updated.object, v2);
  // A reader's snapshot is unaffected by later writes.
  EXPECT_EQ(obj::ResourceVersion(*v1), "1");

  // Add of a held key is an update; Update of an absent key is an add.
  EXPECT_EQ(store_.Add(Pod("ns", "a", "3")).type, StoreChange::Type::kUpdated);
  EXPECT_EQ(store_.Update(Pod("ns", "b", "1")).type, StoreChange::Type::kAdded);

  auto final_state = Pod("ns", "a", "4");
  StoreChange deleted = store_.Delete(final_state);
  EXPECT_EQ(deleted.type, StoreChange::Type::kDeleted);
  EXPECT_EQ(obj::ResourceVersion(*deleted.old_object), "3");
  EXPECT_EQ(deleted.object, final_state);
  EXPECT_EQ(store_.Get("ns/a"), nullptr);
  EXPECT_THAT(store_.ListKeys(), ElementsAre("ns/b"));
  EXPECT_EQ(store_.Size(), 1u);

  EXPECT_THAT(Describe(hooked_),
              ElementsAre("added ns/a 1", "updated ns/a 2 from 1", "updated ns/a 3 from 2",
                          "added ns/b 1", "deleted ns/a 4 from 3"));
  EXPECT_EQ(replace_batches_, 0);
}

TEST_F(StoreTest, DeleteOfUnknownObjectIsStillReported) {
  auto gone = Pod("ns", "never-seen", "9");
  StoreChange change = store_.Delete(gone);
  EXPECT_EQ(change.type, StoreChange::Type::kDeleted);
  EXPECT_EQ(change.old_object, nullptr);
  EXPECT_EQ(change.object, gone);
  ASSERT_EQ(hooked_.size(), 1u);
}

TEST_F(StoreTest, ClusterScopedObjectsAreKeyedByName) {
  auto node = std::make_shared<const Object>(
      Object{{"kind", "Node"}, {"metadata", Object{{"name", "n1"}, {"resourceVersion", "1"}}}});
  store_.Add(node);
  EXPECT_EQ(store_.Get("n1"), node);
}

TEST_F(StoreTest, ReplaceReportsOnlyTheDifference) {
  store_.Add(Pod("ns", "same", "1"));
  store_.Add(Pod("ns", "changed", "1"));
  store_.Add(Pod("ns", "vanished-b", "1"));
  store_.Add(Pod("ns", "vanished-a", "1"));
  hooked_.clear();

  auto changes = store_.Replace(
      {Pod("ns", "same", "1"), Pod("ns", "changed", "5"), Pod("ns", "new", "6")}, "10");
  EXPECT_THAT(Describe(changes),
              ElementsAre("updated ns/changed 5 from 1", "added ns/new 6",
                          "deleted ns/vanished-a 1 from 1", "deleted ns/vanished-b 1 from 1"));
  EXPECT_THAT(Describe(hooked_), Describe(changes));
  EXPECT_EQ(replace_batches_, 1);
  EXPECT_THAT(Keys(store_.List()), ElementsAre("ns/changed", "ns/new", "ns/same"));
  EXPECT_EQ(store_.LastReplaceResourceVersion(), "10");
}

TEST_F(StoreTest, ReplaceWithoutResourceVersionsComparesContent) {
  auto plain = [](const std::string& value) {
    return std::make_shared<const Object>(
        Object{{"metadata", Object{{"name", "x"}, {"namespace", "ns"}}}, {"data", value}});
  };
  store_.Add(plain("a"));
  EXPECT_THAT(store_.Replace({plain("a")}, "1"), IsEmpty());
  EXPECT_EQ(store_.Replace({plain("b")}, "2").size(), 1u);
}

// The store keeps text, not the tree: an object nobody holds any more is read back whole, with
// fields vkubelet does not know and every JSON kind intact.
TEST(StoreCompactTest, AnObjectNobodyHoldsIsReadBackWhole) {
  Store store;
  auto parsed = obj::Parse(
      R"({"metadata":{"name":"p","namespace":"ns","resourceVersion":"7"},)"
      R"("spec":{"unknownField":{"nested":[1,-2,9223372036854775807,18446744073709551615,)"
      R"(0.125,true,null,"\u00e9\u4e2d\n\"q\""]}},"status":{}})");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  const Object original = *parsed;
  store.Add(std::make_shared<const Object>(original));  // the store is now the only holder
  ObjectPtr read = store.Get("ns/p");
  ASSERT_NE(read, nullptr);
  EXPECT_EQ(*read, original);
  ASSERT_EQ(store.List().size(), 1u);
  EXPECT_EQ(*store.List()[0], original);
}

// While someone holds the object last put under a key, readers get that very object.
TEST(StoreCompactTest, AHeldObjectIsReturnedItself) {
  Store store;
  auto held = Pod("ns", "a", "1");
  store.Add(held);
  EXPECT_EQ(store.Get("ns/a"), held);
  EXPECT_EQ(store.List()[0], held);
}

// Changes report the previous state even when its object was let go: the store parses its text.
TEST(StoreCompactTest, ChangesReportAPreviousStateNobodyHeld) {
  Store store;
  store.Add(Pod("ns", "a", "1"));
  StoreChange updated = store.Update(Pod("ns", "a", "2"));
  ASSERT_NE(updated.old_object, nullptr);
  EXPECT_EQ(obj::ResourceVersion(*updated.old_object), "1");
  // A relist with the same text is no change; one with a new resourceVersion is.
  EXPECT_THAT(store.Replace({Pod("ns", "a", "2")}, "5"), IsEmpty());
  auto relisted = store.Replace({Pod("ns", "a", "3")}, "6");
  ASSERT_EQ(relisted.size(), 1u);
  EXPECT_EQ(obj::ResourceVersion(*relisted[0].old_object), "2");
  StoreChange deleted = store.Delete(Pod("ns", "a", "4"));
  ASSERT_NE(deleted.old_object, nullptr);
  EXPECT_EQ(obj::ResourceVersion(*deleted.old_object), "3");
}

// A store that keeps a form of its objects: readers get the form, the change hook the whole
// object; a relist compares forms (their resourceVersions).
TEST(StoreCompactTest, ACacheFormIsWhatReadersGet) {
  std::vector<StoreChange> hooked;
  Store store([&](const std::vector<StoreChange>& changes,
                  bool) { hooked.insert(hooked.end(), changes.begin(), changes.end()); },
              OldObjects::kNotReported,
              [](const Object& o) {
                return Object{{"metadata", Object{{"name", obj::Name(o)},
                                                  {"namespace", obj::Namespace(o)},
                                                  {"resourceVersion", obj::ResourceVersion(o)}}}};
              });
  auto whole = Pod("ns", "a", "1", "node-1");
  store.Add(whole);
  ASSERT_EQ(hooked.size(), 1u);
  EXPECT_EQ(hooked[0].object, whole);
  ObjectPtr read = store.Get("ns/a");
  ASSERT_NE(read, nullptr);
  EXPECT_FALSE(read->contains("spec"));
  EXPECT_EQ(obj::ResourceVersion(*read), "1");
  EXPECT_THAT(store.Replace({Pod("ns", "a", "1", "node-1")}, "5"), IsEmpty());
  EXPECT_EQ(store.Replace({Pod("ns", "a", "2", "node-1")}, "6").size(), 1u);
}

TEST_F(StoreTest, EmptyReplaceStillCallsTheHook) {
  EXPECT_THAT(store_.Replace({}, "3"), IsEmpty());
  EXPECT_EQ(replace_batches_, 1);
}

TEST_F(StoreTest, IndexesFollowEveryChange) {
  ASSERT_TRUE(store_.AddIndexer(kNodeNameIndex, NodeNameIndex()).has_value());
  ASSERT_TRUE(store_.AddIndexer(kNamespaceIndex, NamespaceIndex()).has_value());
  ASSERT_TRUE(store_.AddIndexer("app", LabelIndex("app")).has_value());

  store_.Add(Pod("ns1", "a", "1", "node-a", "web"));
  store_.Add(Pod("ns1", "b", "1", "node-a", "db"));
  store_.Add(Pod("ns2", "c", "1", "", "web"));

  EXPECT_THAT(Keys(*store_.ByIndex(kNodeNameIndex, "node-a")), ElementsAre("ns1/a", "ns1/b"));
  EXPECT_THAT(Keys(*store_.ByIndex(kNamespaceIndex, "ns2")), ElementsAre("ns2/c"));
  EXPECT_THAT(Keys(*store_.ByIndex("app", "web")), ElementsAre("ns1/a", "ns2/c"));

  // Rescheduling moves the pod between node buckets.
  store_.Update(Pod("ns1", "a", "2", "node-b", "web"));
  EXPECT_THAT(Keys(*store_.ByIndex(kNodeNameIndex, "node-a")), ElementsAre("ns1/b"));
  EXPECT_THAT(Keys(*store_.ByIndex(kNodeNameIndex, "node-b")), ElementsAre("ns1/a"));

  store_.Delete(Pod("ns1", "b", "3"));
  EXPECT_THAT(*store_.ByIndex(kNodeNameIndex, "node-a"), IsEmpty());
  EXPECT_THAT(*store_.IndexValues(kNodeNameIndex), ElementsAre("node-b"));

  store_.Replace({Pod("ns2", "c", "2", "node-c", "web")}, "9");
  EXPECT_THAT(*store_.IndexValues(kNodeNameIndex), ElementsAre("node-c"));
  EXPECT_THAT(Keys(*store_.ByIndex("app", "web")), ElementsAre("ns2/c"));
  EXPECT_THAT(*store_.ByIndex(kNamespaceIndex, "ns1"), IsEmpty());
}

TEST_F(StoreTest, IndexAddedLaterCoversExistingObjects) {
  store_.Add(Pod("ns", "a", "1", "node-a"));
  ASSERT_TRUE(store_.AddIndexer(kNodeNameIndex, NodeNameIndex()).has_value());
  EXPECT_THAT(Keys(*store_.ByIndex(kNodeNameIndex, "node-a")), ElementsAre("ns/a"));
}

TEST_F(StoreTest, IndexErrors) {
  ASSERT_TRUE(store_.AddIndexer("app", LabelIndex("app")).has_value());
  auto duplicate = store_.AddIndexer("app", LabelIndex("app"));
  ASSERT_FALSE(duplicate.has_value());
  EXPECT_TRUE(duplicate.error().IsAlreadyExists());
  auto missing = store_.ByIndex("nope", "x");
  ASSERT_FALSE(missing.has_value());
  EXPECT_TRUE(missing.error().IsNotFound());
  EXPECT_FALSE(store_.IndexValues("nope").has_value());
}

TEST(StoreConcurrencyTest, ReadersAndWritersRunTogether) {
  Store store;
  ASSERT_TRUE(store.AddIndexer(kNodeNameIndex, NodeNameIndex()).has_value());
  std::atomic<bool> done{false};
  std::atomic<int> inconsistencies{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      while (!done.load()) {
        for (const auto& o : store.List()) {
          if (obj::Name(*o).empty()) ++inconsistencies;
        }
        auto on_node = store.ByIndex(kNodeNameIndex, "n");
        if (!on_node) ++inconsistencies;
      }
    });
  }
  for (int i = 0; i < 2000; ++i) {
    const std::string name = "p" + std::to_string(i % 50);
    store.Add(Pod("ns", name, std::to_string(i), i % 2 ? "n" : "m"));
    if (i % 7 == 0) store.Delete(Pod("ns", name, std::to_string(i)));
  }
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(inconsistencies.load(), 0);
  auto on_node = store.ByIndex(kNodeNameIndex, "n");
  ASSERT_TRUE(on_node.has_value());
  for (const auto& o : *on_node) {
    EXPECT_EQ(obj::String(*o, {"spec", "nodeName"}), "n");
  }
}

}  // namespace
}  // namespace vk::hostclient
