#pragma once

#include <sys/types.h>

#include <cstdint>

#include "hostclient/base/error.h"

namespace vk::bench {

// What the kernel accounts to one process (Linux /proc): CPU time in user and kernel mode, the
// resident set now and at its peak (VmHWM).
struct ProcessSample {
  double cpu_seconds = 0;
  uint64_t rss_bytes = 0;
  uint64_t peak_rss_bytes = 0;
};

// kNotFound when the process is gone; kInternal when /proc cannot be parsed.
Result<ProcessSample> SampleProcess(pid_t pid);

}  // namespace vk::bench
