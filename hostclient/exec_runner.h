#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "hostclient/base/error.h"

namespace vk::hostclient {

// One program to run: no shell is involved, arguments reach it as given.
struct ExecRequest {
  std::string command;            // a path (contains '/') or a name looked up in PATH
  std::vector<std::string> args;  // argv[1..]; argv[0] is command
  // Added to the environment, replacing inherited variables of the same name.
  std::vector<std::pair<std::string, std::string>> env;
  bool inherit_env = true;  // start from this process's environment
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  size_t max_output_bytes = 1 << 20;  // per stream; more is refused (a credential is small)
};

struct ExecResult {
  int exit_code = -1;  // -1 when a signal ended it
  int signal = 0;      // the signal that ended it, 0 when it exited
  std::string stdout_data;
  std::string stderr_data;
};

// Resolves command as the exec would: a command containing '/' is taken as a path; a bare name
// is searched in $PATH (empty entries are skipped: they would mean the working directory).
// kNotFound when there is no such executable file.
Result<std::string> FindExecutable(const std::string& command);

// Runs a program to completion and captures its output. stdin is /dev/null; stdout and stderr are
// captured separately. The child runs in its own process group with default signal dispositions,
// and inherits no descriptors besides 0-2. When the timeout passes, the whole group is killed
// (SIGKILL) and the result is kTimeout. Once the child has exited, output still buffered is read
// but descendants that keep the pipes open are not waited for.
// Errors: kNotFound (no executable), kConfig (invalid env name), kTimeout, kDecode (output over
// max_output_bytes), kUnavailableLocally (pipes or spawn failed).
// Blocks the calling thread; keeps no shared state, so concurrent calls are fine.
Result<ExecResult> RunProcess(const ExecRequest& request);

}  // namespace vk::hostclient
