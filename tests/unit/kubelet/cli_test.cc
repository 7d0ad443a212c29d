#include "kubelet/cli.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "kubelet/config.h"
#include "kubelet/version.h"

namespace vk::kubelet {
namespace {

using ::testing::HasSubstr;

class CliTest : public ::testing::Test {
 protected:
  int Run(std::vector<std::string> args) {
    out_.str("");
    err_.str("");
    auto env = [this](const std::string& name) -> std::optional<std::string> {
      auto it = env_.find(name);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
    return RunCli(args, env, out_, err_);
  }

  std::map<std::string, std::string> env_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(CliTest, HelpListsEveryFlagWithItsEnvironmentVariableAndDefault) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"--help"}, {"-h"}, {"help"}, {"run", "--help"}}) {
    EXPECT_EQ(Run(args), kExitOk);
    const std::string help = out_.str();
    for (const OptionInfo& option : ConfigOptions()) {
      EXPECT_THAT(help, HasSubstr("--" + option.flag + " ")) << option.flag;
      EXPECT_THAT(help, HasSubstr("env " + option.env)) << option.flag;
      if (!option.default_value.empty()) {
        EXPECT_THAT(help, HasSubstr("default " + option.default_value)) << option.flag;
      }
    }
    EXPECT_THAT(help, HasSubstr("vkubelet check"));
    EXPECT_THAT(help, HasSubstr("--kubeconfig FILE"));
    EXPECT_THAT(help, HasSubstr("env CLUSTER_NAMESPACE"));
    EXPECT_THAT(help, HasSubstr("default 10250"));
    EXPECT_TRUE(err_.str().empty());
  }
}

TEST_F(CliTest, VersionPrintsBothVersions) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"--version"}, {"version"}, {"run", "--version"}}) {
    EXPECT_EQ(Run(args), kExitOk);
    EXPECT_THAT(out_.str(), HasSubstr(kVersion));
    EXPECT_THAT(out_.str(), HasSubstr(kKubeletVersion));
  }
}

TEST_F(CliTest, InvalidConfigIsOneLineAndExitCode2) {
  EXPECT_EQ(Run({"--cluster-name", "demo"}), kExitUsage);
  EXPECT_EQ(err_.str(),
            "invalid config: cluster_namespace: required (set --cluster-namespace, "
            "CLUSTER_NAMESPACE or cluster_namespace in the config file)\n");
  EXPECT_TRUE(out_.str().empty());

  env_ = {{"CLUSTER_NAME", "demo"}, {"CLUSTER_NAMESPACE", "ns"}, {"VIRT_KUBECONFIG", "/v"}};
  EXPECT_EQ(Run({"run", "--kubelet-port", "70000"}), kExitUsage);
  EXPECT_EQ(err_.str(),
            "invalid config: kubelet_port: 70000 is not a port (from --kubelet-port)\n");
}

TEST_F(CliTest, UsageErrorsExitWith2AndPointToHelp) {
  EXPECT_EQ(Run({"--clustr-name", "x"}), kExitUsage);
  EXPECT_EQ(err_.str(),
            "vkubelet: unknown flag --clustr-name (did you mean --cluster-name?) (run 'vkubelet "
            "--help' for usage)\n");
  EXPECT_EQ(Run({"frobnicate"}), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("unknown command \"frobnicate\""));
  EXPECT_EQ(Run({"run", "extra"}), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("unexpected argument \"extra\""));
}

TEST_F(CliTest, MissingKubeconfigFileIsAConfigError) {
  env_ = {{"CLUSTER_NAME", "demo"},
          {"CLUSTER_NAMESPACE", "ns"},
          {"VIRT_KUBECONFIG", "/nonexistent/virtual.kubeconfig"},
          {"HOST_KUBECONFIG", "/nonexistent/host.kubeconfig"},
          {"VKUBELET_LOG_LEVEL", "off"},
          {"VKUBELET_HTTP_ADDR", "127.0.0.1:0"}};
  EXPECT_EQ(Run({}), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("virtual cluster"));
  const std::string err = err_.str();
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
}

TEST_F(CliTest, CheckValidatesItsFlags) {
  EXPECT_EQ(Run({"check", "--role", "admin"}), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--role: \"admin\" is not one of host, virtual"));
  EXPECT_EQ(Run({"check", "--kubconfig", "x"}), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("did you mean --kubeconfig?"));
  EXPECT_EQ(Run({"check", "--help"}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("Flags of check"));
}

TEST_F(CliTest, CheckWithAMissingKubeconfigExitsWith2) {
  EXPECT_EQ(Run({"check", "--kubeconfig", "/nonexistent/kubeconfig"}), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("vkubelet check: "));
}

}  // namespace
}  // namespace vk::kubelet
