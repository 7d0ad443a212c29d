// hostclient's RestClient against an in-process kubesim over TLS: the verbs, errors and manners
// of the client on a real HTTP stack.
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "hostclient/rest_client.h"
#include "tests/support/kubesim_instance.h"
#include "tests/support/sample_objects.h"

namespace vk::hostclient {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

class RestClientKubesimTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kubesim::ApiServer::Options options;
    // A bare cluster: no kube-root-ca.crt ConfigMaps that would change the counts below.
    options.storage.builtin_controllers = false;
    auto instance = testing::KubesimInstance::Start(options);
    ASSERT_TRUE(instance.has_value()) << instance.error().ToString();
    kubesim_ = std::move(*instance);
    client_ = NewClient(kubesim_->TokenConfig());
  }

  RestClientPtr NewClient(const ClusterConfig& config, RestClientOptions options = {}) {
    auto client = RestClient::Create(config, options, &metrics_);
    EXPECT_TRUE(client.has_value()) << client.error().ToString();
    return client ? std::move(*client) : nullptr;
  }

  kubesim::Storage& storage() { return kubesim_->server().storage(); }
  const kubesim::ResourceInfo& ConfigMapInfo() {
    return *kubesim_->server().catalog().Find("", "v1", "configmaps");
  }

  // Writes configmaps straight into kubesim's storage: fast seeding for list and watch tests.
  void SeedConfigMaps(int count, const std::string& prefix) {
    for (int i = 0; i < count; ++i) {
      auto created = storage().Create(
          ConfigMapInfo(), "default",
          testing::SampleConfigMap("default", prefix + std::to_string(i), 1, 16), false);
      ASSERT_TRUE(created.has_value()) << created.error().ToString();
    }
  }

  prometheus::Registry metrics_;
  std::unique_ptr<testing::KubesimInstance> kubesim_;
  RestClientPtr client_;
};

TEST_F(RestClientKubesimTest, CreateGetUpdatePatchDelete) {
  auto created = client_->Create(resources::ConfigMaps(), "default",
                                 testing::SampleConfigMap("default", "settings"));
  ASSERT_TRUE(created.has_value()) << created.error().ToString();
  EXPECT_FALSE(obj::Uid(*created).empty());

  auto fetched = client_->Get(resources::ConfigMaps(), "default", "settings");
  ASSERT_TRUE(fetched.has_value()) << fetched.error().ToString();
  EXPECT_EQ(obj::ResourceVersion(*fetched), obj::ResourceVersion(*created));

  Object changed = *fetched;
  changed["data"].as_object()["mode"] = "fast";
  auto updated = client_->Update(resources::ConfigMaps(), "default", changed);
  ASSERT_TRUE(updated.has_value()) << updated.error().ToString();
  EXPECT_NE(obj::ResourceVersion(*updated), obj::ResourceVersion(*fetched));

  auto merged = client_->Patch(resources::ConfigMaps(), "default", "settings",
                               PatchType::kMergePatch, R"({"data":{"extra":"1"}})");
  ASSERT_TRUE(merged.has_value()) << merged.error().ToString();
  EXPECT_EQ(obj::String(*merged, {"data", "extra"}), "1");
  EXPECT_EQ(obj::String(*merged, {"data", "mode"}), "fast");

  auto json_patched =
      client_->Patch(resources::ConfigMaps(), "default", "settings", PatchType::kJsonPatch,
                     R"([{"op":"replace","path":"/data/mode","value":"slow"}])");
  ASSERT_TRUE(json_patched.has_value()) << json_patched.error().ToString();
  EXPECT_EQ(obj::String(*json_patched, {"data", "mode"}), "slow");

  auto strategic =
      client_->Patch(resources::ConfigMaps(), "default", "settings", PatchType::kStrategicMerge,
                     R"({"metadata":{"labels":{"a":"b"}}})");
  ASSERT_TRUE(strategic.has_value()) << strategic.error().ToString();
  EXPECT_EQ(obj::Label(*strategic, "a"), "b");

  PatchOptions apply_options;
  apply_options.field_manager = "vkubelet-test";
  auto applied = client_->Patch(
      resources::ConfigMaps(), "default", "applied", PatchType::kApply,
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"applied"},"data":{"k":"v"}})",
      apply_options);
  ASSERT_TRUE(applied.has_value()) << applied.error().ToString();
  EXPECT_EQ(obj::String(*applied, {"data", "k"}), "v");

  auto deleted = client_->Delete(resources::ConfigMaps(), "default", "settings");
  ASSERT_TRUE(deleted.has_value()) << deleted.error().ToString();
  auto gone = client_->Get(resources::ConfigMaps(), "default", "settings");
  ASSERT_FALSE(gone.has_value());
  EXPECT_TRUE(gone.error().IsNotFound()) << gone.error().ToString();
}

TEST_F(RestClientKubesimTest, ErrorsCarryKubernetesReasons) {
  auto body = testing::SampleConfigMap("default", "dup");
  ASSERT_TRUE(client_->Create(resources::ConfigMaps(), "default", body).has_value());
  auto duplicate = client_->Create(resources::ConfigMaps(), "default", body);
  ASSERT_FALSE(duplicate.has_value());
  EXPECT_TRUE(duplicate.error().IsAlreadyExists()) << duplicate.error().ToString();
  EXPECT_EQ(duplicate.error().http_status(), 409);

  // A write with a stale resourceVersion is a conflict: re-read and retry.
  auto current = client_->Get(resources::ConfigMaps(), "default", "dup");
  ASSERT_TRUE(current.has_value());
  Object first = *current;
  first["data"].as_object()["v"] = "1";
  ASSERT_TRUE(client_->Update(resources::ConfigMaps(), "default", first).has_value());
  Object stale = *current;
  stale["data"].as_object()["v"] = "2";
  auto conflict = client_->Update(resources::ConfigMaps(), "default", stale);
  ASSERT_FALSE(conflict.has_value());
  EXPECT_TRUE(conflict.error().IsConflict()) << conflict.error().ToString();
  EXPECT_EQ(conflict.error().retry_action(), RetryAction::kReread);

  // UID precondition on delete.
  DeleteOptions wrong_uid;
  wrong_uid.precondition_uid = "not-the-uid";
  auto refused = client_->Delete(resources::ConfigMaps(), "default", "dup", wrong_uid);
  ASSERT_FALSE(refused.has_value());
  EXPECT_TRUE(refused.error().IsConflict()) << refused.error().ToString();

  Object invalid = testing::SampleConfigMap("default", "Not_A_Valid_Name");
  auto rejected = client_->Create(resources::ConfigMaps(), "default", invalid);
  ASSERT_FALSE(rejected.has_value());
  EXPECT_EQ(rejected.error().code(), ErrorCode::kInvalid) << rejected.error().ToString();
  EXPECT_FALSE(rejected.error().causes().empty());

  auto missing_ns =
      client_->Create(resources::ConfigMaps(), "nowhere", testing::SampleConfigMap("nowhere", "x"));
  ASSERT_FALSE(missing_ns.has_value());
  EXPECT_TRUE(missing_ns.error().IsNotFound()) << missing_ns.error().ToString();
}

TEST_F(RestClientKubesimTest, ClientCertificateAuthenticates) {
  auto config = kubesim_->ClientCertConfig("alice", {"system:masters"});
  ASSERT_TRUE(config.has_value()) << config.error().ToString();
  auto client = NewClient(*config);
  ASSERT_NE(client, nullptr);
  auto list = client->List(resources::Namespaces(), "");
  ASSERT_TRUE(list.has_value()) << list.error().ToString();
  EXPECT_GE(list->at("items").as_array().size(), 4u);

  ClusterConfig anonymous = kubesim_->TokenConfig();
  anonymous.token.clear();
  auto refused = NewClient(anonymous)->List(resources::Namespaces(), "");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::kUnauthorized) << refused.error().ToString();
}

TEST_F(RestClientKubesimTest, ListAllPagesThroughFiveThousandObjects) {
  SeedConfigMaps(5000, "cm-");
  const uint64_t requests_before = kubesim_->server().requests_served();
  ListOptions options;
  options.limit = 500;
  auto list = client_->ListAll(resources::ConfigMaps(), "default", options);
  ASSERT_TRUE(list.has_value()) << list.error().ToString();
  const auto& items = list->at("items").as_array();
  ASSERT_EQ(items.size(), 5000u);
  std::set<std::string> names;
  for (const auto& item : items) names.insert(std::string(obj::Name(item.as_object())));
  EXPECT_EQ(names.size(), 5000u);
  EXPECT_EQ(kubesim_->server().requests_served() - requests_before, 10u);
  EXPECT_FALSE(obj::String(*list, {"metadata", "resourceVersion"}).empty());
}

TEST_F(RestClientKubesimTest, WatchDeliversTenThousandEventsInOrder) {
  auto list = client_->List(resources::ConfigMaps(), "default");
  ASSERT_TRUE(list.has_value());
  ListOptions options;
  options.resource_version = std::string(obj::String(*list, {"metadata", "resourceVersion"}));
  auto watch = client_->Watch(resources::ConfigMaps(), "default", options);
  ASSERT_TRUE(watch.has_value()) << watch.error().ToString();

  constexpr int kEvents = 10000;
  std::thread writer([&] { SeedConfigMaps(kEvents, "w-"); });
  int received = 0;
  uint64_t last_version = 0;
  bool in_order = true;
  while (received < kEvents) {
    auto event = (*watch)->Next();
    ASSERT_TRUE(event.has_value()) << event.error().ToString();
    ASSERT_TRUE(event->has_value()) << "watch ended after " << received << " events";
    if ((*event)->type == WatchEvent::Type::kBookmark) continue;
    ASSERT_EQ((*event)->type, WatchEvent::Type::kAdded);
    const Object& object = *(*event)->object;
    EXPECT_EQ(obj::Name(object), "w-" + std::to_string(received));
    const uint64_t version = std::stoull(std::string(obj::ResourceVersion(object)));
    in_order = in_order && version > last_version;
    last_version = version;
    ++received;
  }
  writer.join();
  (*watch)->Cancel();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(received, kEvents);
}

TEST_F(RestClientKubesimTest, TooManyRequestsHonoursRetryAfter) {
  kubesim::FaultRule throttle;
  throttle.verb = "get";
  throttle.path_substring = "/configmaps/throttled";
  throttle.status = 429;
  throttle.retry_after_seconds = 1;
  kubesim_->server().faults().AddFault(throttle);
  ASSERT_TRUE(client_
                  ->Create(resources::ConfigMaps(), "default",
                           testing::SampleConfigMap("default", "throttled"))
                  .has_value());

  const auto start = steady_clock::now();
  auto fetched = client_->Get(resources::ConfigMaps(), "default", "throttled");
  const auto elapsed = steady_clock::now() - start;
  ASSERT_TRUE(fetched.has_value()) << fetched.error().ToString();
  EXPECT_EQ(kubesim_->server().faults().faults_injected(), 1u);
  // The client waited as long as the server asked before it tried again.
  EXPECT_GE(elapsed, milliseconds(950));
}

TEST_F(RestClientKubesimTest, WritesAreNotRepeatedAfterServerErrors) {
  kubesim::FaultRule broken;
  broken.verb = "create";
  broken.path_substring = "/configmaps";
  broken.status = 500;
  kubesim_->server().faults().AddFault(broken);
  auto created = client_->Create(resources::ConfigMaps(), "default",
                                 testing::SampleConfigMap("default", "once"));
  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().code(), ErrorCode::kInternal) << created.error().ToString();
  EXPECT_EQ(kubesim_->server().faults().faults_injected(), 1u);
}

TEST_F(RestClientKubesimTest, RateLimitIsRespected) {
  RestClientOptions options;
  options.qps = 50;
  options.burst = 1;
  auto limited = NewClient(kubesim_->TokenConfig(), options);
  ASSERT_NE(limited, nullptr);
  const auto start = steady_clock::now();
  for (int i = 0; i < 26; ++i) {
    ASSERT_TRUE(limited->Get(resources::Namespaces(), "", "default").has_value());
  }
  // 1 request from the burst, then 25 at 50 per second: at least 500 ms, whatever the machine.
  EXPECT_GE(steady_clock::now() - start, milliseconds(480));
}

TEST_F(RestClientKubesimTest, TokenFileRotationIsPickedUp) {
  const std::string dir =
      ::testing::TempDir() + "/token-rotation-" + std::to_string(reinterpret_cast<uintptr_t>(this));
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/token";
  kubesim_->server().AddToken("first-token", {"rotating", "", {"system:masters"}, {}});
  kubesim_->server().AddToken("second-token", {"rotating", "", {"system:masters"}, {}});
  { std::ofstream(path) << "first-token\n"; }

  ClusterConfig config = kubesim_->TokenConfig();
  config.token.clear();
  config.token_file = path;
  auto client = NewClient(config);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Get(resources::Namespaces(), "", "default").has_value());

  // The kubelet rotates the bound token: a new file appears and the old token is revoked. The
  // next request gets a 401, re-reads the file and succeeds with the new token.
  { std::ofstream(path + ".new") << "second-token\n"; }
  std::filesystem::rename(path + ".new", path);
  kubesim_->server().authenticator().RemoveToken("first-token");
  auto after = client->Get(resources::Namespaces(), "", "default");
  ASSERT_TRUE(after.has_value()) << after.error().ToString();
}

TEST_F(RestClientKubesimTest, MetricsCountRequestsByVerbAndCode) {
  ASSERT_TRUE(client_->Get(resources::Namespaces(), "", "default").has_value());
  ASSERT_FALSE(client_->Get(resources::Namespaces(), "", "absent").has_value());
  bool saw_ok = false;
  bool saw_not_found = false;
  for (const auto& family : metrics_.Collect()) {
    if (family.name != "rest_client_requests_total") continue;
    for (const auto& metric : family.metric) {
      std::map<std::string, std::string> labels;
      for (const auto& label : metric.label) labels[label.name] = label.value;
      if (labels["cluster"] != "test") continue;
      if (labels["code"] == "200" && metric.counter.value >= 1) saw_ok = true;
      if (labels["code"] == "404" && metric.counter.value >= 1) saw_not_found = true;
    }
  }
  EXPECT_TRUE(saw_ok);
  EXPECT_TRUE(saw_not_found);
}

}  // namespace
}  // namespace vk::hostclient
