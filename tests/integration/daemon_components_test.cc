// The daemon's composition root in-process: component ordering, stop requests, start failures.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <filesystem>
#include <future>
#include <mutex>

#include "kubelet/daemon.h"
#include "tests/integration/tls_kubesim.h"
#include "tests/support/http_get.h"
#include "tests/support/wait_for.h"

namespace vk::kubelet {
namespace {

using ::testing::ElementsAre;

// Records what the daemon does to its components, in order. Thread-safe.
class Journal {
 public:
  void Add(std::string entry) {
    std::lock_guard lock(mutex_);
    entries_.push_back(std::move(entry));
  }
  std::vector<std::string> entries() const {
    std::lock_guard lock(mutex_);
    return entries_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> entries_;
};

class RecordingComponent : public Component {
 public:
  RecordingComponent(std::string name, Journal& journal, bool fail_start = false)
      : name_(std::move(name)), journal_(journal), fail_start_(fail_start) {}
  std::string name() const override { return name_; }
  Status Start() override {
    journal_.Add(name_ + ".start");
    if (fail_start_) return MakeError(ErrorCode::kInternal, "refused to start");
    return Ok();
  }
  void RequestStop() override { journal_.Add(name_ + ".request_stop"); }
  void Stop() override { journal_.Add(name_ + ".stop"); }

 private:
  std::string name_;
  Journal& journal_;
  bool fail_start_;
};

class DaemonComponentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::warn);
    char pattern[] = "/tmp/vkubelet-daemon-components-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    virtual_ = std::make_unique<testing::TlsKubesim>(dir_, "virtual");
    host_ = std::make_unique<testing::TlsKubesim>(dir_, "host");
    ASSERT_TRUE(virtual_->Start());
    ASSERT_TRUE(host_->Start());
    config_.cluster_name = "demo";
    config_.cluster_namespace = "demo-host";
    config_.node_name = "vkubelet-demo";
    config_.virtual_kubeconfig = virtual_->kubeconfig();
    config_.host_kubeconfig = host_->kubeconfig();
    config_.http_addr = "127.0.0.1:0";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Daemon> Create() {
    auto daemon = Daemon::Create(config_);
    EXPECT_TRUE(daemon) << daemon.error().ToString();
    return daemon ? std::move(*daemon) : nullptr;
  }

  std::string dir_;
  std::unique_ptr<testing::TlsKubesim> virtual_;
  std::unique_ptr<testing::TlsKubesim> host_;
  Config config_;
  Journal journal_;
};

TEST_F(DaemonComponentsTest, StartsInOrderAndStopsInReverseInTwoPhases) {
  auto daemon = Create();
  ASSERT_TRUE(daemon);
  daemon->AddComponent(std::make_unique<RecordingComponent>("a", journal_));
  daemon->AddComponent(std::make_unique<RecordingComponent>("b", journal_));
  auto run = std::async(std::launch::async, [&] { return daemon->Run(); });

  // Ready once both API servers have answered.
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        auto response = testing::HttpGet(daemon->http_port(), "/readyz");
        return response && response->status == 200;
      },
      std::chrono::seconds(10)));
  EXPECT_TRUE(daemon->readiness().Has("virtual-api-reachable"));
  EXPECT_TRUE(daemon->readiness().Has("host-api-reachable"));

  daemon->RequestStop();
  ASSERT_EQ(run.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(run.get(), 0);
  EXPECT_THAT(journal_.entries(), ElementsAre("a.start", "b.start", "b.request_stop",
                                              "a.request_stop", "b.stop", "a.stop"));
  EXPECT_FALSE(testing::HttpGet(daemon->http_port(), "/livez"));
}

TEST_F(DaemonComponentsTest, FailedStartStopsEverythingAndExitsWith1) {
  auto daemon = Create();
  ASSERT_TRUE(daemon);
  daemon->AddComponent(std::make_unique<RecordingComponent>("a", journal_));
  daemon->AddComponent(std::make_unique<RecordingComponent>("broken", journal_, true));
  daemon->AddComponent(std::make_unique<RecordingComponent>("c", journal_));
  auto run = std::async(std::launch::async, [&] { return daemon->Run(); });
  ASSERT_EQ(run.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(run.get(), 1);
  EXPECT_THAT(journal_.entries(),
              ElementsAre("a.start", "broken.start", "c.request_stop", "broken.request_stop",
                          "a.request_stop", "c.stop", "broken.stop", "a.stop"));
}

TEST_F(DaemonComponentsTest, StopRequestedBeforeRunEndsRunAtOnce) {
  auto daemon = Create();
  ASSERT_TRUE(daemon);
  daemon->AddComponent(std::make_unique<RecordingComponent>("a", journal_));
  daemon->RequestStop();
  auto run = std::async(std::launch::async, [&] { return daemon->Run(); });
  ASSERT_EQ(run.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(run.get(), 0);
  EXPECT_THAT(journal_.entries(), ElementsAre("a.request_stop", "a.stop"));
}

TEST_F(DaemonComponentsTest, InvalidKubeconfigIsAConfigErrorNamingTheCluster) {
  config_.host_kubeconfig = dir_ + "/missing.kubeconfig";
  auto daemon = Daemon::Create(config_);
  ASSERT_FALSE(daemon);
  EXPECT_EQ(daemon.error().code(), ErrorCode::kConfig);
  EXPECT_THAT(daemon.error().message(), ::testing::StartsWith("host cluster: "));
}

TEST_F(DaemonComponentsTest, InvalidConfigIsRejected) {
  config_.kubelet_port = 0;
  auto daemon = Daemon::Create(config_);
  ASSERT_FALSE(daemon);
  EXPECT_EQ(daemon.error().message(), "invalid config: kubelet_port: 0 is not a port");
}

}  // namespace
}  // namespace vk::kubelet
