#include "tests/support/daemon_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>

#include "tests/support/wait_for.h"

extern char** environ;

namespace vk::testing {
namespace {

std::string_view EnvName(std::string_view entry) { return entry.substr(0, entry.find('=')); }

// The child's environment: this process's (unless not inherited) with `extra` added, an extra
// entry replacing an inherited one of the same name.
std::vector<std::string> ChildEnvironment(const std::vector<std::string>& extra, bool inherit) {
  std::vector<std::string> out;
  if (inherit) {
    for (char** entry = environ; *entry != nullptr; ++entry) {
      const std::string_view name = EnvName(*entry);
      bool replaced = false;
      for (const auto& e : extra) replaced = replaced || EnvName(e) == name;
      if (!replaced) out.emplace_back(*entry);
    }
  }
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

int ExitCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

Result<std::unique_ptr<DaemonProcess>> DaemonProcess::Start(Options options) {
  if (options.binary.empty()) return MakeError(ErrorCode::kConfig, "daemon process: no binary");
  if (options.log_path.empty()) return MakeError(ErrorCode::kConfig, "daemon process: no log");
  // Opened here rather than by the spawn's file actions so that a bad path is reported clearly.
  const int log_fd =
      open(options.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return MakeError(ErrorCode::kInternal,
                     "cannot open " + options.log_path + ": " + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, log_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, log_fd, STDERR_FILENO);

  std::vector<std::string> args;
  args.push_back(options.binary);
  args.insert(args.end(), options.args.begin(), options.args.end());
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = ChildEnvironment(options.env, options.inherit_environment);
  std::vector<char*> envp;
  for (auto& entry : env) envp.push_back(entry.data());
  envp.push_back(nullptr);

  pid_t pid = -1;
  const int spawned =
      posix_spawn(&pid, options.binary.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(log_fd);
  if (spawned != 0) {
    return MakeError(ErrorCode::kInternal,
                     "cannot start " + options.binary + ": " + std::strerror(spawned));
  }
  return std::unique_ptr<DaemonProcess>(new DaemonProcess(pid, std::move(options.log_path)));
}

DaemonProcess::~DaemonProcess() { Kill(); }

bool DaemonProcess::Poll() {
  if (exit_code_) return true;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_code_ = ExitCode(status);
  } else if (r < 0 && errno == ECHILD) {
    exit_code_ = -1;  // reaped elsewhere: nothing to wait for any more
  }
  return exit_code_.has_value();
}

Status DaemonProcess::Signal(int signal) {
  if (Poll()) {
    return MakeError(ErrorCode::kUnavailableLocally,
                     "process " + std::to_string(pid_) + " has exited");
  }
  if (kill(pid_, signal) != 0) {
    return MakeError(ErrorCode::kInternal,
                     "kill " + std::to_string(pid_) + ": " + std::strerror(errno));
  }
  return Ok();
}

void DaemonProcess::Kill() {
  if (Poll()) return;
  kill(pid_, SIGKILL);
  int status = 0;
  pid_t r = -1;
  do {
    r = waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  exit_code_ = r == pid_ ? ExitCode(status) : -1;
}

std::optional<int> DaemonProcess::WaitExit(std::chrono::milliseconds timeout) {
  WaitFor([this] { return Poll(); }, timeout);
  return exit_code_;
}

bool DaemonProcess::Running() { return !Poll(); }

std::string DaemonProcess::Log() const {
  std::ifstream in(log_path_, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace vk::testing
