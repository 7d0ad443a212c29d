#include <gtest/gtest.h>

#include <set>

#include "tests/kubesim/continue_token.h"
#include "tests/unit/kubesim/storage_fixture.h"

namespace vk::kubesim {
namespace {

using testing::J;

class StorageListTest : public testing::StorageTest {
 protected:
  void CreateConfigMaps(int n, std::string_view ns = "default") {
    for (int i = 0; i < n; ++i) {
      char name[32];
      std::snprintf(name, sizeof(name), "cm-%05d", i);
      CreateOk("configmaps", ns,
               std::string(R"({"metadata":{"name":")") + name + R"(","labels":{"parity":")" +
                   (i % 2 == 0 ? "even" : "odd") + R"("}}})");
    }
  }

  ListQuery Query(int64_t limit = 0, std::string ns = "default") {
    ListQuery q;
    q.ns = std::move(ns);
    q.limit = limit;
    return q;
  }

  static std::vector<std::string> Names(const ListResult& page) {
    std::vector<std::string> names;
    for (const auto& item : page.items) names.emplace_back(obj::Name(*item));
    return names;
  }
};

TEST_F(StorageListTest, ListDocumentShape) {
  CreateConfigMaps(2);
  Object list = Ok(storage_->List(R("configmaps"), Query()));
  EXPECT_EQ(obj::Kind(list), "ConfigMapList");
  EXPECT_EQ(obj::ApiVersion(list), "v1");
  EXPECT_EQ(obj::String(list, {"metadata", "resourceVersion"}),
            std::to_string(storage_->CurrentResourceVersion()));
  const auto& items = list.at("items").as_array();
  ASSERT_EQ(items.size(), 3u);  // plus kube-root-ca.crt
  EXPECT_FALSE(items[0].as_object().contains("kind")) << "typed list items carry no kind";
  EXPECT_EQ(obj::Name(items[0].as_object()), "cm-00000");
}

TEST_F(StorageListTest, SortedByNamespaceThenName) {
  CreateOk("namespaces", "", R"({"metadata":{"name":"a-b"}})");
  CreateOk("configmaps", "a-b", R"({"metadata":{"name":"z"}})");
  CreateOk("configmaps", "default", R"({"metadata":{"name":"b"}})");
  CreateOk("configmaps", "default", R"({"metadata":{"name":"a"}})");
  ListQuery all;
  all.label_selector = "!ignored";
  all.field_selector = "metadata.name!=kube-root-ca.crt";
  auto page = Ok(storage_->ListObjects(R("configmaps"), all));
  std::vector<std::string> keys;
  for (const auto& item : page.items) keys.push_back(obj::Key(*item));
  EXPECT_EQ(keys, (std::vector<std::string>{"a-b/z", "default/a", "default/b"}));
  auto ns_only = Ok(storage_->ListObjects(R("configmaps"), Query()));
  EXPECT_EQ(Names(ns_only), (std::vector<std::string>{"a", "b", "kube-root-ca.crt"}));
}

TEST_F(StorageListTest, PaginatesFiveThousandObjects) {
  CreateConfigMaps(5000);
  ListQuery q = Query(500);
  q.field_selector = "";
  std::vector<std::string> seen;
  uint64_t list_rv = 0;
  int pages = 0;
  while (true) {
    auto page = Ok(storage_->ListObjects(R("configmaps"), q));
    ++pages;
    if (list_rv == 0) list_rv = page.resource_version;
    EXPECT_EQ(page.resource_version, list_rv) << "every page is the first page's snapshot";
    for (auto& n : Names(page)) seen.push_back(n);
    if (page.continue_token.empty()) {
      EXPECT_FALSE(page.remaining_item_count.has_value());
      break;
    }
    ASSERT_TRUE(page.remaining_item_count.has_value());
    EXPECT_EQ(*page.remaining_item_count, 5001 - static_cast<int64_t>(seen.size()));
    q.continue_token = page.continue_token;
    ASSERT_LT(pages, 20);
  }
  EXPECT_EQ(pages, 11);
  ASSERT_EQ(seen.size(), 5001u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), seen.size());
}

TEST_F(StorageListTest, ContinuationServesTheFirstPagesSnapshot) {
  CreateConfigMaps(10);
  auto first = Ok(storage_->ListObjects(R("configmaps"), Query(4)));
  EXPECT_EQ(Names(first),
            (std::vector<std::string>{"cm-00000", "cm-00001", "cm-00002", "cm-00003"}));
  // Changes after the snapshot: a deletion, a creation and a modification past the cursor.
  ASSERT_TRUE(storage_->Delete(R("configmaps"), "default", "cm-00005", {}));
  CreateOk("configmaps", "default", R"({"metadata":{"name":"cm-00004a"}})");
  ASSERT_TRUE(storage_->Patch(R("configmaps"), "default", "cm-00006", PatchKind::kMergePatch,
                              R"({"data":{"new":"yes"}})", "", "", false, false));
  ListQuery next = Query(4);
  next.continue_token = first.continue_token;
  auto second = Ok(storage_->ListObjects(R("configmaps"), next));
  EXPECT_EQ(second.resource_version, first.resource_version);
  EXPECT_EQ(Names(second),
            (std::vector<std::string>{"cm-00004", "cm-00005", "cm-00006", "cm-00007"}));
  EXPECT_EQ(second.items[2]->if_contains("data"), nullptr) << "the old state of cm-00006";
}

TEST_F(StorageListTest, ContinueTokenExpiresWithHistory) {
  Storage::Options options;
  options.watch_history = 5;
  Reset(options);
  CreateConfigMaps(6);
  auto first = Ok(storage_->ListObjects(R("configmaps"), Query(2)));
  ASSERT_FALSE(first.continue_token.empty());
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(storage_->Patch(R("configmaps"), "default", "cm-00000", PatchKind::kMergePatch,
                                R"({"data":{"i":")" + std::to_string(i) + R"("}})", "", "", false,
                                false));
  }
  ListQuery next = Query(2);
  next.continue_token = first.continue_token;
  auto expired = storage_->ListObjects(R("configmaps"), next);
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code(), ErrorCode::kGone);
  EXPECT_EQ(expired.error().reason(), "Expired");
  EXPECT_EQ(
      expired.error().message().rfind(
          "The provided continue parameter is too old to display a consistent list result.", 0),
      0u);
}

TEST_F(StorageListTest, ResourceVersionSemantics) {
  CreateConfigMaps(3);
  uint64_t before = storage_->CurrentResourceVersion();
  ASSERT_TRUE(storage_->Delete(R("configmaps"), "default", "cm-00001", {}));
  CreateOk("configmaps", "default", R"({"metadata":{"name":"late"}})");

  ListQuery exact = Query();
  exact.resource_version = std::to_string(before);
  exact.resource_version_match = "Exact";
  auto past = Ok(storage_->ListObjects(R("configmaps"), exact));
  EXPECT_EQ(past.resource_version, before);
  EXPECT_EQ(Names(past),
            (std::vector<std::string>{"cm-00000", "cm-00001", "cm-00002", "kube-root-ca.crt"}));

  ListQuery not_older = Query();
  not_older.resource_version = std::to_string(before);
  auto now = Ok(storage_->ListObjects(R("configmaps"), not_older));
  EXPECT_EQ(now.resource_version, storage_->CurrentResourceVersion());

  ListQuery future = Query();
  future.resource_version = std::to_string(storage_->CurrentResourceVersion() + 10);
  auto too_large = storage_->ListObjects(R("configmaps"), future);
  ASSERT_FALSE(too_large);
  EXPECT_EQ(too_large.error().code(), ErrorCode::kServerTimeout);
  EXPECT_EQ(too_large.error().message().rfind("Timeout: Too large resource version", 0), 0u);

  ListQuery any = Query(1);
  any.resource_version = "0";
  auto whole = Ok(storage_->ListObjects(R("configmaps"), any));
  EXPECT_EQ(whole.items.size(), 4u) << "rv=0 is served from the watch cache, limit ignored";
  EXPECT_TRUE(whole.continue_token.empty());
}

TEST_F(StorageListTest, ExactListOlderThanHistoryIsGone) {
  Storage::Options options;
  options.watch_history = 2;
  Reset(options);
  uint64_t start = storage_->CurrentResourceVersion();
  CreateConfigMaps(5);
  ListQuery exact = Query();
  exact.resource_version = std::to_string(start);
  exact.resource_version_match = "Exact";
  auto gone = storage_->ListObjects(R("configmaps"), exact);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code(), ErrorCode::kGone);
  EXPECT_EQ(gone.error().message(), "The resourceVersion for the provided list is too old.");
}

TEST_F(StorageListTest, SelectorsAndPagination) {
  CreateConfigMaps(10);
  ListQuery q = Query(3);
  q.label_selector = "parity=odd";
  std::vector<std::string> seen;
  while (true) {
    auto page = Ok(storage_->ListObjects(R("configmaps"), q));
    EXPECT_FALSE(page.remaining_item_count.has_value()) << "unknown with a selector";
    for (auto& n : Names(page)) seen.push_back(n);
    if (page.continue_token.empty()) break;
    q.continue_token = page.continue_token;
  }
  EXPECT_EQ(seen,
            (std::vector<std::string>{"cm-00001", "cm-00003", "cm-00005", "cm-00007", "cm-00009"}));
}

TEST_F(StorageListTest, QueryValidation) {
  ListQuery bad_token = Query(2);
  bad_token.continue_token = "!!!";
  EXPECT_EQ(storage_->ListObjects(R("configmaps"), bad_token).error().code(),
            ErrorCode::kBadRequest);
  ListQuery rv_and_continue = Query(2);
  rv_and_continue.continue_token = ContinueToken{1, "default/a\0"}.Encode();
  rv_and_continue.resource_version = "1";
  EXPECT_EQ(storage_->ListObjects(R("configmaps"), rv_and_continue).error().code(),
            ErrorCode::kBadRequest);
  ListQuery match_only = Query();
  match_only.resource_version_match = "Exact";
  auto invalid = storage_->ListObjects(R("configmaps"), match_only);
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.error().code(), ErrorCode::kInvalid);
  EXPECT_EQ(invalid.error().message(),
            "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: "
            "resourceVersionMatch is forbidden unless resourceVersion is provided");
  ListQuery bad_labels = Query();
  bad_labels.label_selector = "a in (";
  EXPECT_EQ(storage_->ListObjects(R("configmaps"), bad_labels).error().code(),
            ErrorCode::kBadRequest);
  ListQuery bad_field = Query();
  bad_field.field_selector = "spec.nodeName=x";
  EXPECT_EQ(storage_->ListObjects(R("configmaps"), bad_field).error().message(),
            "field label not supported: spec.nodeName");
}

TEST_F(StorageListTest, ContinueTokenRoundTrip) {
  ContinueToken t{42, std::string("ns/name") + '\0'};
  auto decoded = ContinueToken::Decode(t.Encode());
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->resource_version, 42);
  EXPECT_EQ(decoded->start_key, t.start_key);
  EXPECT_FALSE(ContinueToken::Decode(ContinueToken{42, "../etc"}.Encode()));
  EXPECT_FALSE(ContinueToken::Decode(ContinueToken{0, "a"}.Encode()));
}

}  // namespace
}  // namespace vk::kubesim
