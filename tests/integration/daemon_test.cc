// Runs the real vkubelet binary against two kubesim API servers.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/tls_kubesim.h"
#include "tests/support/http_get.h"
#include "tests/support/wait_for.h"

extern char** environ;

namespace vk::kubelet {
namespace {

using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

using vk::testing::WaitFor;

// The vkubelet process under test, its stderr captured through a pipe.
class Process {
 public:
  Process(const std::vector<std::string>& args, const std::vector<std::string>& env) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    std::vector<char*> argv;
    std::string binary = VKUBELET_BINARY;
    argv.push_back(binary.data());
    std::vector<std::string> args_copy = args;
    for (auto& arg : args_copy) argv.push_back(arg.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_copy = env;
    std::vector<char*> envp;
    for (auto& entry : env_copy) envp.push_back(entry.data());
    envp.push_back(nullptr);
    if (posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), envp.data()) != 0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    stderr_fd_ = fds[0];
    fcntl(stderr_fd_, F_SETFL, O_NONBLOCK);
  }

  ~Process() {
    if (pid_ > 0 && !exit_status_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (stderr_fd_ >= 0) close(stderr_fd_);
  }

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  // Everything the process wrote to stderr so far.
  const std::string& ReadStderr() {
    char buffer[4096];
    while (true) {
      ssize_t n = read(stderr_fd_, buffer, sizeof(buffer));
      if (n <= 0) break;
      stderr_.append(buffer, static_cast<size_t>(n));
    }
    return stderr_;
  }

  // The exit code once the process has exited within the timeout (-1 when killed by a signal).
  std::optional<int> WaitExit(std::chrono::milliseconds timeout) {
    WaitFor(
        [&] {
          int status = 0;
          if (waitpid(pid_, &status, WNOHANG) == pid_) {
            exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
          }
          return exit_status_.has_value();
        },
        timeout);
    ReadStderr();
    return exit_status_;
  }

 private:
  pid_t pid_ = -1;
  int stderr_fd_ = -1;
  std::string stderr_;
  std::optional<int> exit_status_;
};

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

  std::unique_ptr<Process> StartDaemon(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--cluster-name",       "demo",
                                     "--cluster-namespace",  "demo-host",
                                     "--virtual-kubeconfig", virtual_->kubeconfig(),
                                     "--host-kubeconfig",    host_->kubeconfig(),
                                     "--http-addr",          "127.0.0.1:0",
                                     "--log-format",         "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<Process>(args, std::vector<std::string>{"PATH=/usr/bin:/bin"});
  }

  // The port the daemon logged for its HTTP endpoint.
  uint16_t WaitForHttpPort(Process& process) {
    static const std::regex kServing("on 127\\.0\\.0\\.1:([0-9]+)");
    std::smatch match;
    bool found = WaitFor(
        [&] {
          const std::string& err = process.ReadStderr();
          return std::regex_search(err, match, kServing);
        },
        std::chrono::seconds(10));
    EXPECT_TRUE(found) << process.ReadStderr();
    return found ? static_cast<uint16_t>(std::stoi(match[1].str())) : 0;
  }

  static int ReadyzStatus(uint16_t port) {
    auto response = testing::HttpGet(port, "/readyz");
    return response ? response->status : 0;
  }

  std::string dir_;
  std::unique_ptr<testing::TlsKubesim> virtual_;
  std::unique_ptr<testing::TlsKubesim> host_;
};

TEST_F(DaemonTest, InvalidConfigExitsWith2AndOneClearLine) {
  Process process({"--cluster-name", "demo"}, {"PATH=/usr/bin:/bin"});
  ASSERT_TRUE(process.started());
  auto code = process.WaitExit(std::chrono::seconds(10));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2);
  EXPECT_EQ(process.ReadStderr(),
            "invalid config: cluster_namespace: required (set --cluster-namespace, "
            "CLUSTER_NAMESPACE or cluster_namespace in the config file)\n");
}

TEST_F(DaemonTest, EnvironmentIsReadAndFlagsWin) {
  Process process({"--kubelet-port", "99999"},
                  {"CLUSTER_NAME=demo", "CLUSTER_NAMESPACE=ns", "VIRT_KUBECONFIG=/v",
                   "VKUBELET_KUBELET_PORT=10250"});
  auto code = process.WaitExit(std::chrono::seconds(10));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2);
  EXPECT_EQ(process.ReadStderr(),
            "invalid config: kubelet_port: 99999 is not a port (from --kubelet-port)\n");
}

TEST_F(DaemonTest, BecomesReadyAndExitsCleanlyOnSigterm) {
  StartClusters();
  auto daemon = StartDaemon();
  ASSERT_TRUE(daemon->started());
  const uint16_t port = WaitForHttpPort(*daemon);
  ASSERT_NE(port, 0);
  auto live = testing::HttpGet(port, "/livez");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200);

  EXPECT_TRUE(WaitFor([&] { return ReadyzStatus(port) == 200; }, std::chrono::seconds(10)))
      << daemon->ReadStderr();
  auto verbose = testing::HttpGet(port, "/readyz?verbose");
  ASSERT_TRUE(verbose);
  EXPECT_THAT(verbose->body, HasSubstr("[+]virtual-api-reachable ok"));
  EXPECT_THAT(verbose->body, HasSubstr("[+]host-api-reachable ok"));
  auto metrics = testing::HttpGet(port, "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_THAT(metrics->body, HasSubstr("vkubelet_build_info{"));
  EXPECT_THAT(metrics->body, HasSubstr("process_resident_memory_bytes "));
  EXPECT_THAT(daemon->ReadStderr(), HasSubstr("virtual API server is reachable: v"));

  const auto start = Clock::now();
  ASSERT_EQ(kill(daemon->pid(), SIGTERM), 0);
  auto code = daemon->WaitExit(std::chrono::seconds(5));
  ASSERT_TRUE(code.has_value()) << "still running 5 s after SIGTERM\n" << daemon->ReadStderr();
  EXPECT_EQ(*code, 0) << daemon->ReadStderr();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
  EXPECT_THAT(daemon->ReadStderr(), HasSubstr("shutting down: received"));
  // Every log line is one JSON object.
  std::istringstream lines(daemon->ReadStderr());
  for (std::string line; std::getline(lines, line);) {
    EXPECT_TRUE(line.starts_with("{\"ts\":\"") && line.ends_with("}")) << line;
  }
}

TEST_F(DaemonTest, ReadinessWaitsForAnUnreachableHost) {
  StartClusters();
  host_->server().Stop();  // the port stays reserved for the restart below
  auto daemon = StartDaemon({"--log-format", "text"});
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
      << daemon->ReadStderr();

  ASSERT_TRUE(host_->server().Start());
  EXPECT_TRUE(WaitFor([&] { return ReadyzStatus(port) == 200; }, std::chrono::seconds(20)))
      << daemon->ReadStderr();

  ASSERT_EQ(kill(daemon->pid(), SIGINT), 0);
  auto code = daemon->WaitExit(std::chrono::seconds(5));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
}

TEST_F(DaemonTest, ShutsDownPromptlyWhileStillProbing) {
  StartClusters();
  host_->server().Stop();
  virtual_->server().Stop();
  auto daemon = StartDaemon();
  const uint16_t port = WaitForHttpPort(*daemon);
  ASSERT_NE(port, 0);
  EXPECT_EQ(ReadyzStatus(port), 500);
  ASSERT_EQ(kill(daemon->pid(), SIGTERM), 0);
  auto code = daemon->WaitExit(std::chrono::seconds(5));
  ASSERT_TRUE(code.has_value()) << daemon->ReadStderr();
  EXPECT_EQ(*code, 0);
}

TEST_F(DaemonTest, BusyHttpPortIsARuntimeFailure) {
  StartClusters();
  auto first = StartDaemon();
  const uint16_t port = WaitForHttpPort(*first);
  ASSERT_NE(port, 0);
  auto second = StartDaemon({"--http-addr", "127.0.0.1:" + std::to_string(port)});
  auto code = second->WaitExit(std::chrono::seconds(10));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 1);
  EXPECT_THAT(second->ReadStderr(),
              HasSubstr("cannot listen on 127.0.0.1:" + std::to_string(port)));
}

}  // namespace
}  // namespace vk::kubelet
