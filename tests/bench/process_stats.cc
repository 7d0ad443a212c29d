#include "tests/bench/process_stats.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace vk::bench {
namespace {

// The value of a "Name:   123 kB" line of /proc/<pid>/status, in bytes.
uint64_t KilobytesField(const std::string& status, const std::string& name) {
  const size_t at = status.find(name + ":");
  if (at == std::string::npos) return 0;
  std::istringstream line(status.substr(at + name.size() + 1));
  uint64_t kilobytes = 0;
  line >> kilobytes;
  return kilobytes * 1024;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

Result<ProcessSample> SampleProcess(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid);
  const std::string stat = ReadAll(dir + "/stat");
  if (stat.empty()) return MakeError(ErrorCode::kNotFound, "process " + std::to_string(pid));
  // Fields after the command name (which may hold spaces) start at state, field 3.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return MakeError(ErrorCode::kInternal, "bad " + dir + "/stat");
  std::istringstream fields(stat.substr(close + 2));
  std::string skip;
  for (int field = 3; field < 14; ++field) fields >> skip;
  uint64_t utime = 0;
  uint64_t stime = 0;
  fields >> utime >> stime;
  if (!fields) return MakeError(ErrorCode::kInternal, "bad " + dir + "/stat");
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const std::string status = ReadAll(dir + "/status");
  ProcessSample sample;
  sample.cpu_seconds = static_cast<double>(utime + stime) / ticks;
  sample.rss_bytes = KilobytesField(status, "VmRSS");
  sample.peak_rss_bytes = KilobytesField(status, "VmHWM");
  return sample;
}

}  // namespace vk::bench
