// Runs the real vkubelet binary against two kubesim API servers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/tls_kubesim.h"
#include "tests/support/daemon_process.h"
#include "tests/support/http_get.h"
#include "tests/support/wait_for.h"

namespace vk::kubelet {
namespace {

using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

using vk::testing::DaemonProcess;
using vk::testing::WaitFor;

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/vkubelet-daemon-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void StartClusters() {
    virtual_ = std::make_unique<testing::TlsKubesim>(dir_, "virtual");
    host_ = std::make_unique<testing::TlsKubesim>(dir_, "host");
    auto v = virtual_->Start();
    ASSERT_TRUE(v) << v.error().ToString();
    auto h = host_->Start("demo-host");
    ASSERT_TRUE(h) << h.error().ToString();
  }

  // The daemon with only the given environment (hermetic: nothing of the test's own leaks in),
  // logging to a file of its own under dir_.
  std::unique_ptr<DaemonProcess> Spawn(std::vector<std::string> args,
                                       std::vector<std::string> env) {
    DaemonProcess::Options options;
    options.binary = VKUBELET_BINARY;
    options.args = std::move(args);
    options.env = std::move(env);
    options.inherit_environment = false;
    options.log_path = dir_ + "/vkubelet-" + std::to_string(++spawned_) + ".log";
    auto process = DaemonProcess::Start(std::move(options));
    EXPECT_TRUE(process) << process.error().ToString();
    return process ? std::move(*process) : nullptr;
  }

  std::unique_ptr<DaemonProcess> StartDaemon(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--cluster-name",       "demo",
                                     "--cluster-namespace",  "demo-host",
                                     "--virtual-kubeconfig", virtual_->kubeconfig(),
                                     "--host-kubeconfig",    host_->kubeconfig(),
                                     "--http-addr",          "127.0.0.1:0",
                                     "--log-format",         "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Spawn(std::move(args), {"PATH=/usr/bin:/bin"});
  }

  // The port the daemon logged for its HTTP endpoint.
  uint16_t WaitForHttpPort(DaemonProcess& process) {
    static const std::regex kServing("on 127\\.0\\.0\\.1:([0-9]+)");
    std::string log;
    std::smatch match;
    bool found = WaitFor(
        [&] {
          log = process.Log();
          return std::regex_search(log, match, kServing);
        },
        std::chrono::seconds(10));
    EXPECT_TRUE(found) << process.Log();
    return found ? static_cast<uint16_t>(std::stoi(match[1].str())) : 0;
  }

  static int ReadyzStatus(uint16_t port) {
    auto response = testing::HttpGet(port, "/readyz");
    return response ? response->status : 0;
  }

  std::string dir_;
  int spawned_ = 0;
  std::unique_ptr<testing::TlsKubesim> virtual_;
  std::unique_ptr<testing::TlsKubesim> host_;
};

TEST_F(DaemonTest, InvalidConfigExitsWith2AndOneClearLine) {
  auto process = Spawn({"--cluster-name", "demo"}, {"PATH=/usr/bin:/bin"});
  ASSERT_TRUE(process);
  auto code = process->WaitExit(std::chrono::seconds(10));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2);
  EXPECT_EQ(process->Log(),
            "invalid config: cluster_namespace: required (set --cluster-namespace, "
            "CLUSTER_NAMESPACE or cluster_namespace in the config file)\n");
}

TEST_F(DaemonTest, EnvironmentIsReadAndFlagsWin) {
  auto process =
      Spawn({"--kubelet-port", "99999"}, {"CLUSTER_NAME=demo", "CLUSTER_NAMESPACE=ns",
                                          "VIRT_KUBECONFIG=/v", "VKUBELET_KUBELET_PORT=10250"});
  ASSERT_TRUE(process);
  auto code = process->WaitExit(std::chrono::seconds(10));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2);
  EXPECT_EQ(process->Log(),
            "invalid config: kubelet_port: 99999 is not a port (from --kubelet-port)\n");
}

TEST_F(DaemonTest, BecomesReadyAndExitsCleanlyOnSigterm) {
  StartClusters();
  auto daemon = StartDaemon();
  ASSERT_TRUE(daemon);
  const uint16_t port = WaitForHttpPort(*daemon);
  ASSERT_NE(port, 0);
  auto live = testing::HttpGet(port, "/livez");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200);

  EXPECT_TRUE(WaitFor([&] { return ReadyzStatus(port) == 200; }, std::chrono::seconds(10)))
      << daemon->Log();
  auto verbose = testing::HttpGet(port, "/readyz?verbose");
  ASSERT_TRUE(verbose);
  EXPECT_THAT(verbose->body, HasSubstr("[+]virtual-api-reachable ok"));
  EXPECT_THAT(verbose->body, HasSubstr("[+]host-api-reachable ok"));
  auto metrics = testing::HttpGet(port, "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_THAT(metrics->body, HasSubstr("vkubelet_build_info{"));
  EXPECT_THAT(metrics->body, HasSubstr("process_resident_memory_bytes "));
  EXPECT_THAT(daemon->Log(), HasSubstr("virtual API server is reachable: v"));

  const auto start = Clock::now();
  ASSERT_TRUE(daemon->Signal(SIGTERM));
  auto code = daemon->WaitExit(std::chrono::seconds(5));
  ASSERT_TRUE(code.has_value()) << "still running 5 s after SIGTERM\n" << daemon->Log();
  EXPECT_EQ(*code, 0) << daemon->Log();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
  EXPECT_THAT(daemon->Log(), HasSubstr("shutting down: received"));
  // Every log line is one JSON object.
  std::istringstream lines(daemon->Log());
  for (std::string line; std::getline(lines, line);) {
    EXPECT_TRUE(line.starts_with("{\"ts\":\"") && line.ends_with("}")) << line;
  }
}

TEST_F(DaemonTest, ReadinessWaitsForAnUnreachableHost) {
  StartClusters();
  host_->server().Stop();  // the port stays reserved for the restart below
  auto daemon = StartDaemon({"--log-format", "text"});
  ASSERT_TRUE(daemon);
  const uint16_t port = WaitForHttpPort(*daemon);
  ASSERT_NE(port, 0);
  EXPECT_TRUE(WaitFor(
      [&] {
        auto response = testing::HttpGet(port, "/readyz?verbose");
        return response && response->status == 500 &&
               response->body.find("[-]host-api-reachable failed: ") != std::string::npos &&
               response->body.find("[+]virtual-api-reachable ok") != std::string::npos;
      },
      std::chrono::seconds(10)))
      << daemon->Log();

  ASSERT_TRUE(host_->server().Start());
  EXPECT_TRUE(WaitFor([&] { return ReadyzStatus(port) == 200; }, std::chrono::seconds(20)))
      << daemon->Log();

  ASSERT_TRUE(daemon->Signal(SIGINT));
  auto code = daemon->WaitExit(std::chrono::seconds(5));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
}

TEST_F(DaemonTest, ShutsDownPromptlyWhileStillProbing) {
  StartClusters();
  host_->server().Stop();
  virtual_->server().Stop();
  auto daemon = StartDaemon();
  ASSERT_TRUE(daemon);
  const uint16_t port = WaitForHttpPort(*daemon);
  ASSERT_NE(port, 0);
  EXPECT_EQ(ReadyzStatus(port), 500);
  ASSERT_TRUE(daemon->Signal(SIGTERM));
  auto code = daemon->WaitExit(std::chrono::seconds(5));
  ASSERT_TRUE(code.has_value()) << daemon->Log();
  EXPECT_EQ(*code, 0);
}

TEST_F(DaemonTest, BusyHttpPortIsARuntimeFailure) {
  StartClusters();
  auto first = StartDaemon();
  ASSERT_TRUE(first);
  const uint16_t port = WaitForHttpPort(*first);
  ASSERT_NE(port, 0);
  auto second = StartDaemon({"--http-addr", "127.0.0.1:" + std::to_string(port)});
  ASSERT_TRUE(second);
  auto code = second->WaitExit(std::chrono::seconds(10));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 1);
  EXPECT_THAT(second->Log(), HasSubstr("cannot listen on 127.0.0.1:" + std::to_string(port)));
}

}  // namespace
}  // namespace vk::kubelet
