#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hostclient/base/error.h"

namespace prometheus {
class Registry;
}

namespace vk::kubelet {

// The fields of /proc/<pid>/stat that the process metrics use.
struct ProcStat {
  uint64_t utime_ticks = 0;
  uint64_t stime_ticks = 0;
  uint64_t start_ticks = 0;  // since boot
  uint64_t vsize_bytes = 0;
  int64_t rss_pages = 0;
};

// Parses /proc/<pid>/stat. The command name may hold spaces and parentheses: fields are counted
// from the last ')'.
Result<ProcStat> ParseProcStat(std::string_view text);
// The "btime" (boot time, seconds since the epoch) of /proc/stat.
Result<int64_t> ParseBootTime(std::string_view proc_stat);
// The soft "Max open files" limit of /proc/<pid>/limits; -1 when unlimited.
Result<int64_t> ParseMaxOpenFiles(std::string_view limits);

struct ProcessStats {
  double cpu_seconds = 0;
  double resident_memory_bytes = 0;
  double virtual_memory_bytes = 0;
  double open_fds = 0;
  double max_fds = 0;  // 0 when unknown or unlimited
  double start_time_seconds = 0;
};

// Reads this process's figures under proc_root ("/proc"; a directory laid out like it in tests).
Result<ProcessStats> ReadProcessStats(const std::string& proc_root = "/proc");

// Exposes the standard process_* metrics of Prometheus client libraries, read from /proc at each
// scrape: process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds, process_start_time_seconds.
// A failed read yields no families (scrapes never fail because of it). Thread-safe (stateless).
class ProcessCollector : public prometheus::Collectable {
 public:
  explicit ProcessCollector(std::string proc_root = "/proc");
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::string proc_root_;
};

// Adds vkubelet_build_info{version,kubelet_version} = 1 to the registry.
void RegisterBuildInfo(prometheus::Registry& registry);

}  // namespace vk::kubelet
