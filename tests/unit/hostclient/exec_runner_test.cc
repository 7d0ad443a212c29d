#include "hostclient/exec_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include "tests/unit/hostclient/test_files.h"

namespace vk::hostclient {
namespace {

using ::testing::HasSubstr;
using testutil::TempDir;

class ExecRunnerTest : public ::testing::Test {
 protected:
  ExecRequest Script(const std::string& body) {
    ExecRequest request;
    request.command = dir_.WriteScript("script-" + std::to_string(++scripts_) + ".sh", body);
    request.timeout = std::chrono::seconds(10);
    return request;
  }

  TempDir dir_;
  int scripts_ = 0;
};

TEST_F(ExecRunnerTest, CapturesStdoutStderrAndExitCode) {
  auto result = RunProcess(Script("echo out; echo err >&2; exit 7\n"));
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ(result->stdout_data, "out\n");
  EXPECT_EQ(result->stderr_data, "err\n");
  EXPECT_EQ(result->exit_code, 7);
  EXPECT_EQ(result->signal, 0);
}

TEST_F(ExecRunnerTest, ReportsTheSignalThatEndedIt) {
  auto result = RunProcess(Script("kill -TERM $$\n"));
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ(result->signal, SIGTERM);
  EXPECT_EQ(result->exit_code, -1);
}

TEST_F(ExecRunnerTest, ArgumentsAreNotInterpretedByAShell) {
  ExecRequest request = Script("for a in \"$@\"; do printf '[%s]' \"$a\"; done\n");
  request.args = {"a b", "$HOME", "*", ""};
  auto result = RunProcess(request);
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ(result->stdout_data, "[a b][$HOME][*][]");
}

TEST_F(ExecRunnerTest, EnvironmentIsInheritedAndOverridden) {
  testutil::ScopedEnv inherited("VK_TEST_INHERITED", "from-parent");
  testutil::ScopedEnv replaced("VK_TEST_REPLACED", "old");
  ExecRequest request = Script(
      "printf '%s %s %s' \"$VK_TEST_INHERITED\" \"$VK_TEST_REPLACED\" "
      "\"$VK_TEST_ADDED\"\n");
  request.env = {{"VK_TEST_REPLACED", "new"}, {"VK_TEST_ADDED", "added"}};
  auto result = RunProcess(request);
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ(result->stdout_data, "from-parent new added");

  request.inherit_env = false;
  result = RunProcess(request);
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ(result->stdout_data, " new added");
}

TEST_F(ExecRunnerTest, InvalidEnvironmentNameIsAConfigError) {
  ExecRequest request = Script("true\n");
  request.env = {{"A=B", "x"}};
  auto result = RunProcess(request);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kConfig);
}

TEST_F(ExecRunnerTest, StdinIsEmpty) {
  auto result = RunProcess(Script("cat; echo done\n"));
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ(result->stdout_data, "done\n");
}

TEST_F(ExecRunnerTest, FindsCommandsInPath) {
  testutil::ScopedEnv path("PATH", "::" + dir_.path().string() + ":/usr/bin:/bin");
  dir_.WriteScript("vk-test-tool", "echo found\n");
  ExecRequest request;
  request.command = "vk-test-tool";
  auto result = RunProcess(request);
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ(result->stdout_data, "found\n");
  EXPECT_EQ(*FindExecutable("vk-test-tool"), dir_.Join("vk-test-tool"));
}

TEST_F(ExecRunnerTest, MissingOrNonExecutableCommandIsNotFound) {
  ExecRequest request;
  request.command = "vk-test-definitely-missing";
  auto result = RunProcess(request);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(result.error().message(), HasSubstr("not found in PATH"));

  request.command = dir_.Write("not-executable", "echo hi\n");
  result = RunProcess(request);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kNotFound);
}

TEST_F(ExecRunnerTest, TimeoutKillsTheWholeProcessGroup) {
  // The background child holds stdout open; it must be killed too or the read would hang.
  ExecRequest request = Script("sleep 30 &\nsleep 30\n");
  request.timeout = std::chrono::milliseconds(200);
  auto start = std::chrono::steady_clock::now();
  auto result = RunProcess(request);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kTimeout);
  EXPECT_THAT(result.error().message(), HasSubstr("200ms"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(ExecRunnerTest, DoesNotWaitForDescendantsThatKeepThePipesOpen) {
  // The script exits at once; its background child keeps stdout open for 5 s.
  ExecRequest request = Script("echo token; sleep 5 &\nexit 0\n");
  auto start = std::chrono::steady_clock::now();
  auto result = RunProcess(request);
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ(result->stdout_data, "token\n");
  EXPECT_EQ(result->exit_code, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
}

TEST_F(ExecRunnerTest, OutputOverTheLimitIsRefused) {
  ExecRequest request = Script("head -c 100000 /dev/zero\n");
  request.max_output_bytes = 1000;
  auto result = RunProcess(request);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kDecode);
}

TEST_F(ExecRunnerTest, LargeOutputOnBothStreamsDoesNotDeadlock) {
  // More than a pipe buffer on each stream: both must be drained concurrently.
  auto result = RunProcess(Script("head -c 200000 /dev/zero; head -c 200000 /dev/zero >&2\n"));
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ(result->stdout_data.size(), 200000u);
  EXPECT_EQ(result->stderr_data.size(), 200000u);
}

}  // namespace
}  // namespace vk::hostclient
