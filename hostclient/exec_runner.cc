#include "hostclient/exec_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace vk::hostclient {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::string SystemMessage(const std::string& what, int err) {
  return what + ": " + std::strerror(err);
}

// Owns a file descriptor.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

bool IsExecutableFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

Result<std::vector<std::string>> BuildEnvironment(const ExecRequest& request) {
  std::vector<std::string> env;
  if (request.inherit_env && environ != nullptr) {
    for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  }
  for (const auto& [name, value] : request.env) {
    if (name.empty() || name.find('=') != std::string::npos) {
      return MakeError(ErrorCode::kConfig, "invalid environment variable name \"" + name + "\"");
    }
    std::string prefix = name + "=";
    std::erase_if(env, [&](const std::string& entry) { return entry.starts_with(prefix); });
    env.push_back(prefix + value);
  }
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// A stream being captured from the child.
struct Capture {
  UniqueFd fd;
  std::string* sink;
  bool open = true;
};

enum class ReadOutcome { kOk, kOverflow };

// Reads what is available without blocking; marks the capture closed at end of file.
ReadOutcome Drain(Capture& c, size_t max_bytes) {
  char buf[8192];
  while (c.open) {
    ssize_t n = ::read(c.fd.get(), buf, sizeof(buf));
    if (n > 0) {
      if (c.sink->size() + static_cast<size_t>(n) > max_bytes) return ReadOutcome::kOverflow;
      c.sink->append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    // End of file, or an error that makes the stream useless either way.
    c.open = false;
    c.fd.Reset();
  }
  return ReadOutcome::kOk;
}

void KillGroupAndReap(pid_t pid) {
  ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

void RecordExit(int status, ExecResult& result) {
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
}

std::string FormatMillis(std::chrono::milliseconds d) { return std::to_string(d.count()) + "ms"; }

}  // namespace

Result<std::string> FindExecutable(const std::string& command) {
  if (command.empty()) return MakeError(ErrorCode::kNotFound, "empty command");
  if (command.find('/') != std::string::npos) {
    if (IsExecutableFile(command)) return command;
    return MakeError(ErrorCode::kNotFound, "executable \"" + command + "\" not found");
  }
  const char* path_env = std::getenv("PATH");
  std::string_view rest = path_env != nullptr ? path_env : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    size_t colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    if (!dir.empty()) {
      std::string candidate = dir + "/" + command;
      if (IsExecutableFile(candidate)) return candidate;
    }
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  return MakeError(ErrorCode::kNotFound, "executable \"" + command + "\" not found in PATH");
}

Result<ExecResult> RunProcess(const ExecRequest& request) {
  auto path = FindExecutable(request.command);
  if (!path) return tl::unexpected(path.error());
  auto env = BuildEnvironment(request);
  if (!env) return tl::unexpected(env.error());

  std::vector<std::string> argv_storage;
  argv_storage.push_back(request.command);
  argv_storage.insert(argv_storage.end(), request.args.begin(), request.args.end());
  std::vector<char*> argv = CStrings(argv_storage);
  std::vector<char*> envp = CStrings(*env);

  std::array<int, 2> out_pipe{-1, -1};
  std::array<int, 2> err_pipe{-1, -1};
  if (::pipe2(out_pipe.data(), O_CLOEXEC) != 0) {
    return MakeError(ErrorCode::kUnavailableLocally, SystemMessage("pipe", errno));
  }
  UniqueFd out_read(out_pipe[0]);
  UniqueFd out_write(out_pipe[1]);
  if (::pipe2(err_pipe.data(), O_CLOEXEC) != 0) {
    return MakeError(ErrorCode::kUnavailableLocally, SystemMessage("pipe", errno));
  }
  UniqueFd err_read(err_pipe[0]);
  UniqueFd err_write(err_pipe[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_write.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_write.get(), STDERR_FILENO);
  // Sockets and files of this daemon opened without O_CLOEXEC must not leak into a plugin.
  posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group, so that a timeout can kill whatever the plugin started too.
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t mask;
  sigemptyset(&mask);
  posix_spawnattr_setsigmask(&attr, &mask);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM}) {
    sigaddset(&defaults, sig);
  }
  posix_spawnattr_setsigdefault(&attr, &defaults);

  pid_t pid = -1;
  int spawn_error = ::posix_spawn(&pid, path->c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  out_write.Reset();
  err_write.Reset();
  if (spawn_error != 0) {
    ErrorCode code = (spawn_error == ENOENT || spawn_error == EACCES || spawn_error == ENOEXEC)
                         ? ErrorCode::kNotFound
                         : ErrorCode::kUnavailableLocally;
    return MakeError(code, SystemMessage("cannot execute " + *path, spawn_error));
  }

  const auto deadline = SteadyClock::now() + request.timeout;
  ExecResult result;
  std::array<Capture, 2> captures{Capture{std::move(out_read), &result.stdout_data},
                                  Capture{std::move(err_read), &result.stderr_data}};
  for (auto& c : captures) ::fcntl(c.fd.get(), F_SETFL, ::fcntl(c.fd.get(), F_GETFL) | O_NONBLOCK);

  // A pidfd makes the child's exit pollable next to its pipes; without one (old kernels) the exit
  // is checked with WNOHANG on a short poll period.
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  bool exited = false;
  int status = 0;

  auto reap_nonblocking = [&] {
    pid_t r;
    do {
      r = ::waitpid(pid, &status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == pid) exited = true;
  };

  while (true) {
    if (!exited && !pidfd.valid()) reap_nonblocking();
    if (exited) {
      // Whatever the child wrote before exiting is in the pipes; descendants that still hold them
      // open are not waited for.
      for (auto& c : captures) {
        if (Drain(c, request.max_output_bytes) == ReadOutcome::kOverflow) {
          return MakeError(ErrorCode::kDecode, request.command + ": output exceeds " +
                                                   std::to_string(request.max_output_bytes) +
                                                   " bytes");
        }
      }
      break;
    }
    auto remaining =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (remaining.count() <= 0) {
      KillGroupAndReap(pid);
      std::string message =
          request.command + " did not finish within " + FormatMillis(request.timeout);
      return MakeError(ErrorCode::kTimeout, message);
    }

    std::array<pollfd, 3> fds{};
    std::array<Capture*, 3> owners{};
    nfds_t count = 0;
    for (auto& c : captures) {
      if (!c.open) continue;
      fds[count] = pollfd{c.fd.get(), POLLIN, 0};
      owners[count++] = &c;
    }
    if (pidfd.valid()) {
      fds[count] = pollfd{pidfd.get(), POLLIN, 0};
      owners[count++] = nullptr;
    }
    int wait_ms = static_cast<int>(std::min<int64_t>(remaining.count() + 1, 60'000));
    if (!pidfd.valid()) wait_ms = std::min(wait_ms, 10);
    int ready = ::poll(fds.data(), count, wait_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      KillGroupAndReap(pid);
      return MakeError(ErrorCode::kUnavailableLocally, SystemMessage("poll", err));
    }
    for (nfds_t i = 0; i < count; ++i) {
      if (fds[i].revents == 0) continue;
      if (owners[i] == nullptr) {
        pid_t r;
        do {
          r = ::waitpid(pid, &status, 0);
        } while (r < 0 && errno == EINTR);
        exited = true;
        continue;
      }
      if (Drain(*owners[i], request.max_output_bytes) == ReadOutcome::kOverflow) {
        KillGroupAndReap(pid);
        return MakeError(ErrorCode::kDecode, request.command + ": output exceeds " +
                                                 std::to_string(request.max_output_bytes) +
                                                 " bytes");
      }
    }
  }
  RecordExit(status, result);
  return result;
}

}  // namespace vk::hostclient
