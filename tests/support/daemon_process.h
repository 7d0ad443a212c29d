#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hostclient/base/error.h"

namespace vk::testing {

// A child process for tests that run a real binary (the vkubelet daemon): spawned with the given
// arguments and environment, its stdout and stderr both appended to one log file. The log is a
// file rather than a pipe so that a test can print it on failure, and so that a process killed
// with SIGKILL and started again under the same log path leaves one log telling the whole story.
//
// Owns the process: the destructor kills it (SIGKILL) and reaps it unless it has exited already.
// Not thread-safe; use it from the test's thread.
class DaemonProcess {
 public:
  struct Options {
    std::string binary;               // path of the executable
    std::vector<std::string> args;    // argv[1..]
    std::vector<std::string> env;     // "NAME=value" entries, added to or replacing inherited ones
    bool inherit_environment = true;  // false: env is the whole environment (hermetic tests)
    std::string log_path;             // created if missing, appended to otherwise; required
  };

  // kConfig when binary or log_path is empty, kInternal when the log cannot be opened or the
  // process cannot be spawned.
  static Result<std::unique_ptr<DaemonProcess>> Start(Options options);

  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }

  // Sends a signal; an error once the process has been reaped.
  Status Signal(int signal);
  // SIGKILL, then waits for the process and reaps it. Does nothing once it has exited.
  void Kill();
  // The exit code once the process has exited within the timeout (128 + the signal's number when
  // a signal ended it); nullopt while it still runs. Once reaped, returns the same code at once.
  std::optional<int> WaitExit(std::chrono::milliseconds timeout);
  // Whether the process has not exited yet (reaps it if it just has).
  bool Running();

  // Everything in the log file so far (not only this process's part); "" if it cannot be read.
  std::string Log() const;

 private:
  DaemonProcess(pid_t pid, std::string log_path) : pid_(pid), log_path_(std::move(log_path)) {}
  // Reaps the process without waiting; true once it has exited.
  bool Poll();

  pid_t pid_;
  std::string log_path_;
  std::optional<int> exit_code_;
};

using DaemonProcessPtr = std::unique_ptr<DaemonProcess>;

}  // namespace vk::testing
