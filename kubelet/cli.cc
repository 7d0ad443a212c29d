#include "kubelet/cli.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <ostream>

#include "kubelet/check_command.h"
#include "kubelet/daemon.h"
#include "kubelet/flags.h"
#include "kubelet/logging.h"
#include "kubelet/version.h"

namespace vk::kubelet {
namespace {

constexpr const char* kHelpHint = "run 'vkubelet --help' for usage";

int UsageError(std::ostream& err, const std::string& message) {
  err << "vkubelet: " << message << " (" << kHelpHint << ")\n";
  return kExitUsage;
}

int RunDaemon(std::span<const std::string> args, const EnvLookup& env, std::ostream& out,
              std::ostream& err) {
  std::vector<FlagSpec> specs = ConfigFlagSpecs();
  specs.push_back({"help", false});
  specs.push_back({"version", false});
  auto parsed = ParseFlags(args, specs);
  if (!parsed) return UsageError(err, parsed.error().message());
  if (parsed->Has("help")) {
    out << Usage();
    return kExitOk;
  }
  if (parsed->Has("version")) {
    out << VersionText();
    return kExitOk;
  }
  if (!parsed->positional.empty()) {
    return UsageError(err, "unexpected argument \"" + parsed->positional.front() + "\"");
  }
  std::vector<ParsedFlag> config_flags;
  for (const ParsedFlag& flag : parsed->flags) {
    if (flag.name != "help" && flag.name != "version") config_flags.push_back(flag);
  }
  auto config = LoadConfig(config_flags, env);
  if (!config) {
    err << config.error().message() << "\n";
    return kExitUsage;
  }
  if (auto status = ConfigureLogging(config->log_level, config->log_format); !status) {
    err << "invalid config: " << status.error().message() << "\n";
    return kExitUsage;
  }
  auto daemon = Daemon::Create(*config);
  if (!daemon) {
    const Error& error = daemon.error();
    if (error.code() == ErrorCode::kConfig) {
      err << "invalid config: " << error.message() << "\n";
      return kExitUsage;
    }
    spdlog::critical("cannot start: {}", error.ToString());
    return kExitFailure;
  }
  return (*daemon)->Run();
}

int RunCheckCommand(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
  const std::vector<FlagSpec> specs = CheckFlagSpecs();
  auto parsed = ParseFlags(args, specs);
  if (!parsed) return UsageError(err, "check: " + parsed.error().message());
  if (parsed->Has("help")) {
    out << Usage();
    return kExitOk;
  }
  auto options = ParseCheckOptions(*parsed);
  if (!options) return UsageError(err, options.error().message());
  return RunCheck(*options, out, err);
}

}  // namespace

std::string VersionText() {
  return fmt::format("vkubelet {} (kubelet {})\n", kVersion, kKubeletVersion);
}

std::string Usage() {
  std::string text =
      "vkubelet: a virtual-kubelet provider that runs the pods of a virtual cluster on its host "
      "cluster.\n\n"
      "Usage:\n"
      "  vkubelet [run] [flags]   run the daemon until SIGTERM or SIGINT\n"
      "  vkubelet check [--kubeconfig FILE] [--context NAME] [--role virtual|host] "
      "[--namespace NS]\n"
      "                           check that a cluster answers and grants what vkubelet needs\n"
      "  vkubelet --version       print the version\n"
      "  vkubelet --help          print this help\n\n"
      "Flags of run (a flag overrides its environment variable, which overrides the config\n"
      "file, which overrides the default):\n";
  for (const OptionInfo& option : ConfigOptions()) {
    text += fmt::format("  --{} {}\n      {}\n      env {}", option.flag, option.value_name,
                        option.help, option.env);
    if (!option.key.empty()) text += fmt::format(", config file key {}", option.key);
    if (!option.default_value.empty()) text += fmt::format(", default {}", option.default_value);
    text += "\n";
  }
  text +=
      "\nFlags of check:\n"
      "  --kubeconfig FILE   kubeconfig of the cluster (default $KUBECONFIG, ~/.kube/config)\n"
      "  --context NAME      context to use (default: the current context)\n"
      "  --role ROLE         virtual (default) or host: which permission set to check\n"
      "  --namespace NS      host role: the virtual cluster's host namespace (default: the\n"
      "                      context's namespace)\n\n"
      "Exit codes: 0 success, 1 runtime failure (unreachable server, missing permissions),\n"
      "2 invalid configuration or usage.\n"
      "Endpoints on --http-addr: /healthz, /livez, /readyz (?verbose), /metrics.\n";
  return text;
}

int RunCli(std::span<const std::string> args, const EnvLookup& env, std::ostream& out,
           std::ostream& err) {
  if (!args.empty()) {
    const std::string& command = args.front();
    if (command == "help") {
      out << Usage();
      return kExitOk;
    }
    if (command == "version") {
      out << VersionText();
      return kExitOk;
    }
    if (command == "check") return RunCheckCommand(args.subspan(1), out, err);
    if (command == "run") return RunDaemon(args.subspan(1), env, out, err);
    if (!command.starts_with("-")) {
      return UsageError(err, "unknown command \"" + command + "\"");
    }
  }
  return RunDaemon(args, env, out, err);
}

}  // namespace vk::kubelet
