#include "kubelet/api_server_probe.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <condition_variable>

#include "hostclient/rest_client.h"
#include "tests/support/wait_for.h"
#include "tests/unit/hostclient/fake_transport.h"

namespace vk::kubelet {
namespace {

using hostclient::testing::FakeCredentials;
using hostclient::testing::FakeTransport;
using ::testing::HasSubstr;

constexpr const char* kVersionJson =
    R"({"major":"1","minor":"31","gitVersion":"v1.31.2","platform":"linux/arm64"})";

using vk::testing::WaitFor;

class ApiServerProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto transport = std::make_unique<FakeTransport>();
    transport_ = transport.get();
    hostclient::RestClientOptions options;
    options.max_retries = 0;  // the probe's own retries are under test
    options.qps = 0;
    client_ = hostclient::RestClient::CreateWith("virtual", std::move(transport),
                                                 std::make_unique<FakeCredentials>(), options);
  }

  std::unique_ptr<ApiServerProbe> MakeProbe(std::chrono::milliseconds backoff) {
    ApiServerProbe::Options options;
    options.initial_backoff = backoff;
    options.max_backoff = backoff * 4;
    return std::make_unique<ApiServerProbe>(*client_, reachable_, &registry_, options);
  }

  std::string Metrics() { return prometheus::TextSerializer().Serialize(registry_.Collect()); }

  FakeTransport* transport_ = nullptr;
  hostclient::RestClientPtr client_;
  ConditionPtr reachable_ = std::make_shared<Condition>("not probed yet");
  prometheus::Registry registry_;
};

TEST_F(ApiServerProbeTest, RetriesUntilTheServerAnswers) {
  transport_->Fail(Error(ErrorCode::kNetwork, "connection refused"))
      .Respond(503, R"({"kind":"Status","status":"Failure","code":503,"message":"starting"})")
      .Respond(200, kVersionJson);
  auto probe = MakeProbe(std::chrono::milliseconds(1));
  EXPECT_EQ(probe->name(), "virtual-api-probe");
  ASSERT_TRUE(probe->Start());
  ASSERT_TRUE(WaitFor([&] { return reachable_->ok(); }));
  auto version = probe->version();
  ASSERT_TRUE(version.has_value());
  EXPECT_EQ(version->git_version, "v1.31.2");
  EXPECT_EQ(version->platform, "linux/arm64");
  EXPECT_EQ(transport_->request_count(), 3u);
  EXPECT_EQ(transport_->last_request().target, "/version");
  EXPECT_THAT(Metrics(),
              HasSubstr("vkubelet_api_server_probe_failures_total{cluster=\"virtual\"} 2"));
  probe->Stop();
}

TEST_F(ApiServerProbeTest, ConditionCarriesTheLastFailure) {
  transport_->Fail(Error(ErrorCode::kNetwork, "connection refused"));
  auto probe = MakeProbe(std::chrono::seconds(30));
  ASSERT_TRUE(probe->Start());
  ASSERT_TRUE(WaitFor([&] {
    auto status = reachable_->Check();
    return !status && status.error().message().find("connection refused") != std::string::npos;
  }));
  EXPECT_FALSE(probe->version().has_value());
  // Stop interrupts the 30 s backoff at once.
  const auto start = std::chrono::steady_clock::now();
  probe->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST_F(ApiServerProbeTest, StopsWhenTheClientIsCancelled) {
  transport_->BlockUntilShutdown();
  auto probe = MakeProbe(std::chrono::milliseconds(1));
  ASSERT_TRUE(probe->Start());
  ASSERT_TRUE(transport_->WaitForRequests(1));
  probe->RequestStop();
  client_->Shutdown();
  const auto start = std::chrono::steady_clock::now();
  probe->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_FALSE(reachable_->ok());
  probe->Stop();  // idempotent
}

TEST_F(ApiServerProbeTest, GarbledVersionIsAFailure) {
  transport_->Respond(200, R"({"major":"1"})").Respond(200, kVersionJson);
  auto probe = MakeProbe(std::chrono::milliseconds(1));
  ASSERT_TRUE(probe->Start());
  ASSERT_TRUE(WaitFor([&] { return reachable_->ok(); }));
  EXPECT_THAT(Metrics(),
              HasSubstr("vkubelet_api_server_probe_failures_total{cluster=\"virtual\"} 1"));
}

TEST(ServerVersionTest, ParsesVersionInfo) {
  auto version = ParseServerVersion(kVersionJson);
  ASSERT_TRUE(version);
  EXPECT_EQ(version->git_version, "v1.31.2");
  EXPECT_FALSE(ParseServerVersion("not json"));
  EXPECT_FALSE(ParseServerVersion("{}"));
}

}  // namespace
}  // namespace vk::kubelet
