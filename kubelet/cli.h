#pragma once

#include <iosfwd>
#include <span>
#include <string>

#include "kubelet/config.h"

namespace vk::kubelet {

// Exit codes of the vkubelet binary.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // runtime failure (unreachable server, missing rights)
inline constexpr int kExitUsage = 2;    // invalid configuration or command line

// The vkubelet command line:
//   vkubelet [run] [flags]   run the daemon (blocks until SIGTERM/SIGINT)
//   vkubelet check [--kubeconfig FILE] [--context NAME] [--role virtual|host] [--namespace NS]
//   vkubelet --version | version
//   vkubelet --help | -h | help
// args excludes the program name. Usage errors and invalid configuration print one line to err
// and return kExitUsage. Returns the process exit code.
int RunCli(std::span<const std::string> args, const EnvLookup& env, std::ostream& out,
           std::ostream& err);

// The --help text.
std::string Usage();
// The --version text: "vkubelet 0.1.0 (kubelet v1.31.0-vkubelet-0.1.0)".
std::string VersionText();

}  // namespace vk::kubelet
