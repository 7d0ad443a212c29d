#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <cctype>

#include "tests/unit/kubesim/storage_fixture.h"

namespace vk::kubesim {
namespace {

using testing::J;

class StorageCrudTest : public testing::StorageTest {};

TEST_F(StorageCrudTest, CreateFillsSystemFields) {
  uint64_t before = storage_->CurrentResourceVersion();
  Object cm = CreateOk("configmaps", "default", R"({"metadata":{"name":"a"},"data":{"k":"v"}})");
  EXPECT_EQ(obj::Kind(cm), "ConfigMap");
  EXPECT_EQ(obj::ApiVersion(cm), "v1");
  EXPECT_EQ(obj::Namespace(cm), "default");
  auto uid = obj::Uid(cm);
  ASSERT_EQ(uid.size(), 36u);
  EXPECT_EQ(uid[14], '4') << "UUID version 4";
  EXPECT_EQ(obj::String(cm, {"metadata", "creationTimestamp"}), "2024-05-01T12:00:00Z");
  EXPECT_EQ(Rv(cm), before + 1);
  EXPECT_EQ(storage_->CurrentResourceVersion(), before + 1);
  EXPECT_EQ(obj::Find(cm, {"metadata", "generation"}), nullptr) << "configmaps track no generation";

  Object lease = CreateOk("leases", "default", R"({"metadata":{"name":"l"},"spec":{}})",
                          "coordination.k8s.io");
  EXPECT_EQ(obj::ApiVersion(lease), "coordination.k8s.io/v1");
  EXPECT_EQ(Rv(lease), before + 2) << "one counter for every resource";
  EXPECT_NE(obj::Uid(lease), uid);
}

TEST_F(StorageCrudTest, ClientSystemFieldsAreReplaced) {
  Object cm =
      CreateOk("configmaps", "default",
               R"({"metadata":{"name":"a","uid":"mine","creationTimestamp":"2000-01-01T00:00:00Z",
                           "deletionTimestamp":"2000-01-01T00:00:00Z"}})");
  EXPECT_NE(obj::Uid(cm), "mine");
  EXPECT_EQ(obj::String(cm, {"metadata", "creationTimestamp"}), "2024-05-01T12:00:00Z");
  EXPECT_FALSE(obj::IsBeingDeleted(cm));
  auto with_rv = storage_->Create(R("configmaps"), "default",
                                  J(R"({"metadata":{"name":"b","resourceVersion":"5"}})"), false);
  ASSERT_FALSE(with_rv);
  EXPECT_EQ(with_rv.error().code(), ErrorCode::kBadRequest);
}

TEST_F(StorageCrudTest, GenerateNameAddsFiveCharacters) {
  Object a = CreateOk("configmaps", "default", R"({"metadata":{"generateName":"web-"}})");
  Object b = CreateOk("configmaps", "default", R"({"metadata":{"generateName":"web-"}})");
  std::string name(obj::Name(a));
  ASSERT_EQ(name.size(), 9u);
  EXPECT_EQ(name.substr(0, 4), "web-");
  for (char c : name.substr(4))
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) && !std::isupper(c));
  EXPECT_NE(obj::Name(a), obj::Name(b));
  EXPECT_TRUE(storage_->Get(R("configmaps"), "default", name));
}

TEST_F(StorageCrudTest, NameIsRequiredAndValidated) {
  auto missing = storage_->Create(R("configmaps"), "default", J(R"({"metadata":{}})"), false);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kInvalid);
  EXPECT_EQ(missing.error().message(),
            "ConfigMap \"\" is invalid: metadata.name: Required value: name or generateName is "
            "required");
  ASSERT_EQ(missing.error().causes().size(), 1u);
  EXPECT_EQ(missing.error().causes()[0].field, "metadata.name");
  EXPECT_EQ(missing.error().causes()[0].reason, "FieldValueRequired");

  auto bad =
      storage_->Create(R("configmaps"), "default", J(R"({"metadata":{"name":"Bad_Name"}})"), false);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalid);
  EXPECT_EQ(bad.error().causes().at(0).reason, "FieldValueInvalid");
  EXPECT_EQ(bad.error().message().rfind("ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid "
                                        "value: \"Bad_Name\": a lowercase RFC 1123 subdomain",
                                        0),
            0u)
      << bad.error().message();

  auto svc =
      storage_->Create(R("services"), "default",
                       J(R"({"metadata":{"name":"1svc"},"spec":{"ports":[{"port":80}]}})"), false);
  ASSERT_FALSE(svc) << "service names are DNS-1035 labels";
  auto label =
      storage_->Create(R("configmaps"), "default",
                       J(R"({"metadata":{"name":"x","labels":{"a":"bad value"}}})"), false);
  ASSERT_FALSE(label);
  EXPECT_EQ(label.error().causes().at(0).field, "metadata.labels");
}

TEST_F(StorageCrudTest, NamespaceRules) {
  auto missing =
      storage_->Create(R("configmaps"), "nope", J(R"({"metadata":{"name":"a"}})"), false);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().message(), "namespaces \"nope\" not found");
  auto mismatch =
      storage_->Create(R("configmaps"), "default",
                       J(R"({"metadata":{"name":"a","namespace":"kube-system"}})"), false);
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(mismatch.error().code(), ErrorCode::kBadRequest);
  Object node = CreateOk("nodes", "", R"({"metadata":{"name":"n1","namespace":"ignored"}})");
  EXPECT_EQ(obj::Find(node, {"metadata", "namespace"}), nullptr) << "cluster-scoped";
}

TEST_F(StorageCrudTest, DuplicatesAndMissingObjects) {
  CreateOk("configmaps", "default", R"({"metadata":{"name":"a"}})");
  auto dup = storage_->Create(R("configmaps"), "default", J(R"({"metadata":{"name":"a"}})"), false);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(dup.error().message(), "configmaps \"a\" already exists");
  auto get = storage_->Get(R("configmaps"), "default", "x");
  ASSERT_FALSE(get);
  EXPECT_EQ(get.error().message(), "configmaps \"x\" not found");
  auto lease = storage_->Get(R("leases", "coordination.k8s.io"), "default", "x");
  ASSERT_FALSE(lease);
  EXPECT_EQ(lease.error().message(), "leases.coordination.k8s.io \"x\" not found");
  EXPECT_FALSE(storage_->Get(R("configmaps"), "kube-system", "a")) << "namespaces are separate";
}

TEST_F(StorageCrudTest, UpdateChecksResourceVersion) {
  Object cm = CreateOk("configmaps", "default", R"({"metadata":{"name":"a"},"data":{"k":"1"}})");
  Object stale = cm;
  cm["data"] = Object{{"k", "2"}};
  Object updated = Ok(storage_->Update(R("configmaps"), "default", "a", cm, "", false));
  EXPECT_GT(Rv(updated), Rv(cm));
  EXPECT_EQ(obj::Uid(updated), obj::Uid(cm));
  EXPECT_EQ(obj::String(updated, {"metadata", "creationTimestamp"}),
            obj::String(cm, {"metadata", "creationTimestamp"}));

  stale["data"] = Object{{"k", "3"}};
  auto conflict = storage_->Update(R("configmaps"), "default", "a", stale, "", false);
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error().code(), ErrorCode::kConflict);
  EXPECT_EQ(conflict.error().message(),
            "Operation cannot be fulfilled on configmaps \"a\": the object has been modified; "
            "please apply your changes to the latest version and try again");

  obj::EnsureObject(stale, {"metadata"}).erase("resourceVersion");
  Object unconditional = Ok(storage_->Update(R("configmaps"), "default", "a", stale, "", false));
  EXPECT_EQ(unconditional.at("data").at("k"), "3");
}

TEST_F(StorageCrudTest, UpdateRejectsForeignUidAndRenames) {
  Object cm = CreateOk("configmaps", "default", R"({"metadata":{"name":"a"}})");
  Object other = cm;
  obj::EnsureObject(other, {"metadata"})["uid"] = "0000";
  auto uid = storage_->Update(R("configmaps"), "default", "a", other, "", false);
  ASSERT_FALSE(uid);
  EXPECT_EQ(uid.error().code(), ErrorCode::kConflict);
  EXPECT_EQ(uid.error().message(),
            "Operation cannot be fulfilled on configmaps \"a\": Precondition failed: UID in "
            "precondition: 0000, UID in object meta: " +
                std::string(obj::Uid(cm)));
  auto renamed = storage_->Update(R("configmaps"), "default", "b", cm, "", false);
  ASSERT_FALSE(renamed);
  EXPECT_EQ(renamed.error().code(), ErrorCode::kBadRequest);
}

TEST_F(StorageCrudTest, LeasesNeedResourceVersionOnUpdate) {
  Object lease = CreateOk("leases", "default", R"({"metadata":{"name":"l"},"spec":{}})",
                          "coordination.k8s.io");
  obj::EnsureObject(lease, {"metadata"}).erase("resourceVersion");
  auto result =
      storage_->Update(R("leases", "coordination.k8s.io"), "default", "l", lease, "", false);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalid);
  EXPECT_EQ(result.error().message(),
            "leases.coordination.k8s.io \"l\" is invalid: metadata.resourceVersion: Invalid value: "
            "0x0: must be specified for an update");
}

TEST_F(StorageCrudTest, NoOpUpdateKeepsResourceVersion) {
  Object cm = CreateOk("configmaps", "default", R"({"metadata":{"name":"a"},"data":{"k":"v"}})");
  uint64_t rv = storage_->CurrentResourceVersion();
  Object again = Ok(storage_->Update(R("configmaps"), "default", "a", cm, "", false));
  EXPECT_EQ(Rv(again), Rv(cm));
  EXPECT_EQ(storage_->CurrentResourceVersion(), rv);
}

TEST_F(StorageCrudTest, UpdateOfMissingObject) {
  auto missing = storage_->Update(R("configmaps"), "default", "a",
                                  J(R"({"metadata":{"name":"a"}})"), "", false);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  Object created = Ok(storage_->Update(R("endpoints"), "default", "e",
                                       J(R"({"metadata":{"name":"e"}})"), "", false));
  EXPECT_FALSE(obj::Uid(created).empty()) << "endpoints allow create on update";
}

TEST_F(StorageCrudTest, StatusSubresourceIsolation) {
  Object pod = CreatePod("p");
  Object body = pod;
  body["status"] = Object{{"phase", "Running"}};
  obj::EnsureObject(body, {"metadata", "labels"})["x"] = "y";
  Object main = Ok(storage_->Update(R("pods"), "default", "p", body, "", false));
  EXPECT_EQ(obj::String(main, {"status", "phase"}), "Pending") << "main resource keeps status";
  EXPECT_EQ(obj::Label(main, "x"), "y");

  Object status_body = main;
  status_body["status"] = Object{{"phase", "Running"}, {"podIP", "10.0.0.5"}};
  obj::EnsureObject(status_body, {"metadata", "labels"})["x"] = "changed";
  obj::EnsureObject(status_body, {"spec"})["activeDeadlineSeconds"] = 5;
  Object status = Ok(storage_->Update(R("pods"), "default", "p", status_body, "status", false));
  EXPECT_EQ(obj::String(status, {"status", "phase"}), "Running");
  EXPECT_EQ(obj::String(status, {"status", "podIP"}), "10.0.0.5");
  EXPECT_EQ(obj::Label(status, "x"), "y") << "status writes change only status";
  EXPECT_EQ(obj::Find(status, {"spec", "activeDeadlineSeconds"}), nullptr);

  auto no_status = storage_->Update(R("configmaps"), "default", "a",
                                    J(R"({"metadata":{"name":"a"}})"), "status", false);
  ASSERT_FALSE(no_status);
  EXPECT_EQ(no_status.error().code(), ErrorCode::kNotFound);
}

TEST_F(StorageCrudTest, NodesKeepStatusOnCreateServicesDoNot) {
  Object node =
      CreateOk("nodes", "", R"({"metadata":{"name":"n"},"status":{"capacity":{"cpu":"4"}}})");
  EXPECT_EQ(obj::String(node, {"status", "capacity", "cpu"}), "4");
  Object svc = CreateOk("services", "default",
                        R"({"metadata":{"name":"s"},"spec":{"ports":[{"port":80}]},
                            "status":{"loadBalancer":{"ingress":[{"ip":"1.2.3.4"}]}}})");
  EXPECT_EQ(svc.at("status"), J(R"({"loadBalancer":{}})"));
}

TEST_F(StorageCrudTest, DryRunWritesNothing) {
  uint64_t rv = storage_->CurrentResourceVersion();
  Object cm =
      Ok(storage_->Create(R("configmaps"), "default", J(R"({"metadata":{"name":"a"}})"), true));
  EXPECT_EQ(obj::ResourceVersion(cm), "");
  EXPECT_FALSE(obj::Uid(cm).empty());
  EXPECT_FALSE(storage_->Get(R("configmaps"), "default", "a"));
  CreateOk("configmaps", "default", R"({"metadata":{"name":"a"}})");
  rv = storage_->CurrentResourceVersion();
  DeleteRequest dry;
  dry.dry_run = true;
  EXPECT_TRUE(storage_->Delete(R("configmaps"), "default", "a", dry));
  EXPECT_TRUE(storage_->Get(R("configmaps"), "default", "a"));
  auto patched = storage_->Patch(R("configmaps"), "default", "a", PatchKind::kMergePatch,
                                 R"({"data":{"x":"y"}})", "", "", false, true);
  ASSERT_TRUE(patched);
  EXPECT_EQ(patched->at("data").at("x"), "y");
  EXPECT_EQ(storage_->CurrentResourceVersion(), rv);
  EXPECT_EQ(Ok(storage_->Get(R("configmaps"), "default", "a")).if_contains("data"), nullptr);
}

TEST_F(StorageCrudTest, SecretsMergeStringDataAndCheckBase64) {
  Object s =
      CreateOk("secrets", "default",
               R"({"metadata":{"name":"s"},"data":{"a":"b2xk"},"stringData":{"a":"new","b":"x"}})");
  EXPECT_EQ(s.at("data"), J(R"({"a":"bmV3","b":"eA=="})"));
  EXPECT_FALSE(s.contains("stringData"));
  EXPECT_EQ(obj::String(s, {"type"}), "Opaque");
  auto bad = storage_->Create(R("secrets"), "default",
                              J(R"({"metadata":{"name":"t"},"data":{"a":"!!!"}})"), false);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kBadRequest);
  s["type"] = "kubernetes.io/tls";
  auto type_change = storage_->Update(R("secrets"), "default", "s", s, "", false);
  ASSERT_FALSE(type_change);
  EXPECT_EQ(type_change.error().code(), ErrorCode::kInvalid);
}

TEST_F(StorageCrudTest, ImmutableConfigMapsRejectDataChanges) {
  Object cm = CreateOk("configmaps", "default",
                       R"({"metadata":{"name":"a"},"data":{"k":"v"},"immutable":true})");
  Object labels = cm;
  obj::EnsureObject(labels, {"metadata", "labels"})["l"] = "1";
  EXPECT_TRUE(storage_->Update(R("configmaps"), "default", "a", labels, "", false));
  Object data = Ok(storage_->Get(R("configmaps"), "default", "a"));
  data["data"] = Object{{"k", "changed"}};
  auto result = storage_->Update(R("configmaps"), "default", "a", data, "", false);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalid);
  EXPECT_EQ(
      result.error().message(),
      "ConfigMap \"a\" is invalid: data: Forbidden: field is immutable when `immutable` is set");
}

TEST_F(StorageCrudTest, GenerationCountsSpecChanges) {
  Object np =
      CreateOk("networkpolicies", "default",
               R"({"metadata":{"name":"np"},"spec":{"podSelector":{}}})", "networking.k8s.io");
  EXPECT_EQ(obj::Int(np, {"metadata", "generation"}), 1);
  EXPECT_EQ(np.at("spec").at("policyTypes"), boost::json::parse(R"(["Ingress"])"));
  obj::EnsureObject(np, {"metadata", "labels"})["a"] = "b";
  np = Ok(
      storage_->Update(R("networkpolicies", "networking.k8s.io"), "default", "np", np, "", false));
  EXPECT_EQ(obj::Int(np, {"metadata", "generation"}), 1) << "metadata changes do not count";
  obj::EnsureObject(np, {"spec"})["policyTypes"] = boost::json::array{"Ingress", "Egress"};
  np = Ok(
      storage_->Update(R("networkpolicies", "networking.k8s.io"), "default", "np", np, "", false));
  EXPECT_EQ(obj::Int(np, {"metadata", "generation"}), 2);
}

TEST_F(StorageCrudTest, BuiltinNamespaceContents) {
  Object ns = CreateOk("namespaces", "", R"({"metadata":{"name":"team"}})");
  EXPECT_EQ(obj::Label(ns, "kubernetes.io/metadata.name"), "team");
  EXPECT_EQ(obj::String(ns, {"status", "phase"}), "Active");
  EXPECT_EQ(ns.at("spec").at("finalizers"), boost::json::parse(R"(["kubernetes"])"));
  EXPECT_TRUE(storage_->Get(R("serviceaccounts"), "team", "default"));
  EXPECT_TRUE(storage_->Get(R("configmaps"), "team", "kube-root-ca.crt"));
  EXPECT_TRUE(storage_->Get(R("serviceaccounts"), "kube-system", "default"));
  EXPECT_TRUE(storage_->Get(R("priorityclasses", "scheduling.k8s.io"), "", "system-node-critical"));
}

TEST_F(StorageCrudTest, DeletePreconditions) {
  Object cm = CreateOk("configmaps", "default", R"({"metadata":{"name":"a"}})");
  DeleteRequest req;
  req.precondition_uid = "other";
  auto uid = storage_->Delete(R("configmaps"), "default", "a", req);
  ASSERT_FALSE(uid);
  EXPECT_EQ(uid.error().code(), ErrorCode::kConflict);
  EXPECT_EQ(uid.error().message(),
            "Operation cannot be fulfilled on ConfigMap \"a\": the UID in the precondition (other) "
            "does not match the UID in record (" +
                std::string(obj::Uid(cm)) +
                "). The object might have been deleted and then recreated");
  req = {};
  req.precondition_resource_version = "1";
  auto rv = storage_->Delete(R("configmaps"), "default", "a", req);
  ASSERT_FALSE(rv);
  EXPECT_EQ(rv.error().code(), ErrorCode::kConflict);
  req = {};
  req.precondition_uid = std::string(obj::Uid(cm));
  req.precondition_resource_version = std::string(obj::ResourceVersion(cm));
  auto done = storage_->DeleteWithResult(R("configmaps"), "default", "a", req);
  ASSERT_TRUE(done);
  EXPECT_TRUE(done->deleted);
  EXPECT_FALSE(storage_->Get(R("configmaps"), "default", "a"));
  req = {};
  req.propagation_policy = "Sideways";
  EXPECT_EQ(storage_->Delete(R("configmaps"), "default", "a", req).error().code(),
            ErrorCode::kInvalid);
}

TEST_F(StorageCrudTest, FinalizersHoldObjectsUntilRemoved) {
  CreateOk("configmaps", "default", R"({"metadata":{"name":"a","finalizers":["example.com/x"]}})");
  auto result = storage_->DeleteWithResult(R("configmaps"), "default", "a", {});
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->deleted);
  Object held = Ok(storage_->Get(R("configmaps"), "default", "a"));
  EXPECT_EQ(obj::String(held, {"metadata", "deletionTimestamp"}), "2024-05-01T12:00:00Z");
  EXPECT_EQ(obj::Int(held, {"metadata", "deletionGracePeriodSeconds"}, -1), 0);

  Object more = held;
  obj::EnsureObject(more, {"metadata"})["finalizers"] = boost::json::array{"example.com/x", "y/z"};
  auto added = storage_->Update(R("configmaps"), "default", "a", more, "", false);
  ASSERT_FALSE(added);
  EXPECT_EQ(added.error().code(), ErrorCode::kInvalid);

  Object label = held;
  obj::EnsureObject(label, {"metadata", "labels"})["l"] = "1";
  held = Ok(storage_->Update(R("configmaps"), "default", "a", label, "", false));
  EXPECT_EQ(obj::String(held, {"metadata", "deletionTimestamp"}), "2024-05-01T12:00:00Z")
      << "an update cannot clear deletionTimestamp";

  auto cleared = storage_->Patch(R("configmaps"), "default", "a", PatchKind::kMergePatch,
                                 R"({"metadata":{"finalizers":null}})", "", "", false, false);
  ASSERT_TRUE(cleared) << cleared.error().ToString();
  EXPECT_FALSE(storage_->Get(R("configmaps"), "default", "a")) << "last finalizer gone: deleted";
}

TEST_F(StorageCrudTest, DeleteCollectionBySelector) {
  CreateOk("configmaps", "default", R"({"metadata":{"name":"a","labels":{"app":"x"}}})");
  CreateOk("configmaps", "default", R"({"metadata":{"name":"b","labels":{"app":"x"}}})");
  CreateOk("configmaps", "default", R"({"metadata":{"name":"c","labels":{"app":"y"}}})");
  ListQuery q;
  q.ns = "default";
  q.label_selector = "app=x";
  Object deleted = Ok(storage_->DeleteCollection(R("configmaps"), q, {}));
  EXPECT_EQ(deleted.at("items").as_array().size(), 2u);
  EXPECT_FALSE(storage_->Get(R("configmaps"), "default", "a"));
  EXPECT_TRUE(storage_->Get(R("configmaps"), "default", "c"));
}

TEST_F(StorageCrudTest, NamespaceDeletionRemovesContentsThenTheNamespace) {
  CreateOk("namespaces", "", R"({"metadata":{"name":"team"}})");
  CreateOk("configmaps", "team", R"({"metadata":{"name":"a"}})");
  CreatePod("bound", R"("nodeName":"n1")", "team");
  auto result = storage_->DeleteWithResult(R("namespaces"), "", "team", {});
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->deleted) << "a bound pod terminates gracefully first";
  EXPECT_EQ(obj::String(result->object, {"status", "phase"}), "Terminating");
  EXPECT_FALSE(storage_->Get(R("configmaps"), "team", "a"));
  auto blocked =
      storage_->Create(R("configmaps"), "team", J(R"({"metadata":{"name":"b"}})"), false);
  ASSERT_FALSE(blocked);
  EXPECT_EQ(blocked.error().code(), ErrorCode::kForbidden);
  EXPECT_EQ(blocked.error().message(),
            "configmaps \"b\" is forbidden: unable to create new content in namespace team because "
            "it is being terminated");
  DeleteRequest now;
  now.grace_period_seconds = 0;
  ASSERT_TRUE(storage_->Delete(R("pods"), "team", "bound", now));
  EXPECT_FALSE(storage_->Get(R("namespaces"), "", "team")) << "finalized once empty";
  auto protected_ns = storage_->Delete(R("namespaces"), "", "default", {});
  ASSERT_FALSE(protected_ns);
  EXPECT_EQ(protected_ns.error().code(), ErrorCode::kForbidden);
}

TEST_F(StorageCrudTest, PatchTypes) {
  CreateOk("configmaps", "default",
           R"({"metadata":{"name":"a","labels":{"x":"1"}},"data":{"k":"v"}})");
  const auto& cms = R("configmaps");
  Object merged = Ok(storage_->Patch(cms, "default", "a", PatchKind::kMergePatch,
                                     R"({"metadata":{"labels":{"y":"2"}}})", "", "", false, false));
  EXPECT_EQ(obj::Label(merged, "x"), "1");
  EXPECT_EQ(obj::Label(merged, "y"), "2");
  Object json_patched = Ok(storage_->Patch(cms, "default", "a", PatchKind::kJsonPatch,
                                           R"([{"op":"replace","path":"/data/k","value":"w"}])", "",
                                           "", false, false));
  EXPECT_EQ(json_patched.at("data").at("k"), "w");
  auto failed =
      storage_->Patch(cms, "default", "a", PatchKind::kJsonPatch,
                      R"([{"op":"test","path":"/data/k","value":"nope"}])", "", "", false, false);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), ErrorCode::kInvalid);
  auto stale = storage_->Patch(cms, "default", "a", PatchKind::kMergePatch,
                               R"({"metadata":{"resourceVersion":"1"},"data":{"k":"z"}})", "", "",
                               false, false);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code(), ErrorCode::kConflict);
  auto missing =
      storage_->Patch(cms, "default", "nope", PatchKind::kMergePatch, "{}", "", "", false, false);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
}

TEST_F(StorageCrudTest, StrategicPatchOfPodContainersAndStatus) {
  CreatePod("p");
  Object patched = Ok(storage_->Patch(
      R("pods"), "default", "p", PatchKind::kStrategicMerge,
      R"({"spec":{"containers":[{"name":"app","image":"nginx:1.26"}]}})", "", "", false, false));
  const auto& containers = patched.at("spec").at("containers").as_array();
  ASSERT_EQ(containers.size(), 1u);
  EXPECT_EQ(containers[0].at("image"), "nginx:1.26");
  EXPECT_EQ(containers[0].at("terminationMessagePath"), "/dev/termination-log");
  EXPECT_EQ(obj::Int(patched, {"metadata", "generation"}), 2);

  Object status = Ok(storage_->Patch(
      R("pods"), "default", "p", PatchKind::kStrategicMerge,
      R"({"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]},
          "metadata":{"labels":{"ignored":"yes"}}})",
      "status", "", false, false));
  EXPECT_EQ(obj::String(status, {"status", "phase"}), "Running");
  EXPECT_EQ(obj::Label(status, "ignored"), "");
  auto main = storage_->Patch(R("pods"), "default", "p", PatchKind::kMergePatch,
                              R"({"status":{"phase":"Failed"}})", "", "", false, false);
  ASSERT_TRUE(main);
  EXPECT_EQ(obj::String(*main, {"status", "phase"}), "Running") << "main patches ignore status";
}

TEST_F(StorageCrudTest, ServerSideApply) {
  const auto& cms = R("configmaps");
  auto no_manager = storage_->Patch(
      cms, "default", "a", PatchKind::kApply,
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}})", "", "", false, false);
  ASSERT_FALSE(no_manager);
  EXPECT_EQ(no_manager.error().code(), ErrorCode::kInvalid);
  Object created = Ok(storage_->Patch(
      cms, "default", "a", PatchKind::kApply,
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"k":"1"}})", "",
      "test", false, false));
  EXPECT_EQ(created.at("data").at("k"), "1");
  Object applied = Ok(storage_->Patch(
      cms, "default", "a", PatchKind::kApply,
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"j":"2"}})", "",
      "test", true, false));
  EXPECT_EQ(applied.at("data"), J(R"({"k":"1","j":"2"})"));
  auto wrong_name =
      storage_->Patch(cms, "default", "a", PatchKind::kApply,
                      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b"}})", "",
                      "test", false, false);
  ASSERT_FALSE(wrong_name);
  EXPECT_EQ(wrong_name.error().code(), ErrorCode::kBadRequest);
  auto forced =
      storage_->Patch(cms, "default", "a", PatchKind::kMergePatch, "{}", "", "", true, false);
  ASSERT_FALSE(forced);
  EXPECT_EQ(forced.error().code(), ErrorCode::kInvalid);
}

TEST_F(StorageCrudTest, ServicesGetClusterIpsAndNodePorts) {
  Object svc =
      CreateOk("services", "default",
               R"({"metadata":{"name":"web"},"spec":{"type":"NodePort","ports":[{"port":80}]}})");
  std::string ip(obj::String(svc, {"spec", "clusterIP"}));
  EXPECT_EQ(ip.rfind("10.9", 0), 0u) << ip;
  EXPECT_EQ(svc.at("spec").at("clusterIPs"), boost::json::array{boost::json::value(ip)});
  const auto& port = svc.at("spec").at("ports").as_array()[0].as_object();
  EXPECT_EQ(port.at("protocol"), "TCP");
  EXPECT_EQ(port.at("targetPort"), 80);
  int64_t node_port = port.at("nodePort").as_int64();
  EXPECT_GE(node_port, 30000);
  EXPECT_LE(node_port, 32767);
  EXPECT_EQ(obj::String(svc, {"spec", "sessionAffinity"}), "None");

  auto taken = storage_->Create(R("services"), "default",
                                J(R"({"metadata":{"name":"dup"},"spec":{"clusterIP":")" + ip +
                                  R"(","ports":[{"port":80}]}})"),
                                false);
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code(), ErrorCode::kInvalid);

  // A PUT that leaves clusterIP out keeps it.
  Object body =
      J(R"({"metadata":{"name":"web"},"spec":{"type":"NodePort","ports":[{"port":80}]}})");
  Object updated = Ok(storage_->Update(R("services"), "default", "web", body, "", false));
  EXPECT_EQ(obj::String(updated, {"spec", "clusterIP"}), ip);
  EXPECT_EQ(updated.at("spec").at("ports").as_array()[0].at("nodePort"), node_port);

  ASSERT_TRUE(storage_->Delete(R("services"), "default", "web", {}));
  Object reuse = CreateOk("services", "default",
                          R"({"metadata":{"name":"again"},"spec":{"clusterIP":")" + ip +
                              R"(","ports":[{"port":80}]}})");
  EXPECT_EQ(obj::String(reuse, {"spec", "clusterIP"}), ip) << "released on delete";
}

TEST_F(StorageCrudTest, ReviewResourcesAreNotStored) {
  Object review =
      Ok(storage_->Create(R("selfsubjectaccessreviews", "authorization.k8s.io"), "",
                          J(R"({"spec":{"resourceAttributes":{"verb":"get"}}})"), false));
  EXPECT_EQ(obj::Kind(review), "SelfSubjectAccessReview");
  EXPECT_TRUE(review.at("status").at("allowed").as_bool());
  auto list = storage_->List(R("selfsubjectaccessreviews", "authorization.k8s.io"), {});
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error().code(), ErrorCode::kMethodNotAllowed);
}

}  // namespace
}  // namespace vk::kubesim
