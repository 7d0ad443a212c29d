#include "kubelet/process_metrics.h"

#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "kubelet/version.h"

namespace vk::kubelet {
namespace {

template <typename T>
bool ParseNumber(std::string_view text, T& value) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size();
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kUnavailableLocally, "cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

prometheus::MetricFamily Family(std::string name, std::string help, prometheus::MetricType type,
                                double value) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
  return family;
}

}  // namespace

Result<ProcStat> ParseProcStat(std::string_view text) {
  size_t paren = text.rfind(')');
  if (paren == std::string_view::npos) {
    return MakeError(ErrorCode::kDecode, "/proc stat: no command name");
  }
  // After ") " come the fields from the 3rd (state) on; utime is the 14th field of the file.
  std::vector<std::string_view> fields;
  std::string_view rest = text.substr(paren + 1);
  while (!rest.empty()) {
    size_t start = rest.find_first_not_of(" \n");
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    size_t end = rest.find_first_of(" \n");
    fields.push_back(rest.substr(0, end));
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end);
  }
  const auto field = [&](size_t number) { return fields[number - 3]; };
  if (fields.size() < 24 - 2) return MakeError(ErrorCode::kDecode, "/proc stat: too few fields");
  ProcStat stat;
  if (!ParseNumber(field(14), stat.utime_ticks) || !ParseNumber(field(15), stat.stime_ticks) ||
      !ParseNumber(field(22), stat.start_ticks) || !ParseNumber(field(23), stat.vsize_bytes) ||
      !ParseNumber(field(24), stat.rss_pages)) {
    return MakeError(ErrorCode::kDecode, "/proc stat: a field is not a number");
  }
  return stat;
}

Result<int64_t> ParseBootTime(std::string_view proc_stat) {
  std::istringstream in{std::string(proc_stat)};
  std::string line;
  while (std::getline(in, line)) {
    std::string_view view = line;
    if (!view.starts_with("btime ")) continue;
    int64_t value = 0;
    if (ParseNumber(view.substr(6), value)) return value;
  }
  return MakeError(ErrorCode::kDecode, "/proc/stat: no btime line");
}

Result<int64_t> ParseMaxOpenFiles(std::string_view limits) {
  std::istringstream in{std::string(limits)};
  std::string line;
  while (std::getline(in, line)) {
    if (!std::string_view(line).starts_with("Max open files")) continue;
    std::istringstream fields(line.substr(std::string_view("Max open files").size()));
    std::string soft;
    fields >> soft;
    if (soft == "unlimited") return -1;
    int64_t value = 0;
    if (ParseNumber(soft, value)) return value;
  }
  return MakeError(ErrorCode::kDecode, "limits: no \"Max open files\" line");
}

Result<ProcessStats> ReadProcessStats(const std::string& proc_root) {
  auto stat_text = ReadFile(proc_root + "/self/stat");
  if (!stat_text) return tl::unexpected(stat_text.error());
  auto stat = ParseProcStat(*stat_text);
  if (!stat) return tl::unexpected(stat.error());
  auto system_stat = ReadFile(proc_root + "/stat");
  if (!system_stat) return tl::unexpected(system_stat.error());
  auto boot_time = ParseBootTime(*system_stat);
  if (!boot_time) return tl::unexpected(boot_time.error());

  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page_size = static_cast<double>(sysconf(_SC_PAGESIZE));
  ProcessStats stats;
  stats.cpu_seconds = static_cast<double>(stat->utime_ticks + stat->stime_ticks) / ticks;
  stats.resident_memory_bytes = static_cast<double>(stat->rss_pages) * page_size;
  stats.virtual_memory_bytes = static_cast<double>(stat->vsize_bytes);
  stats.start_time_seconds =
      static_cast<double>(*boot_time) + static_cast<double>(stat->start_ticks) / ticks;

  std::error_code ec;
  size_t fds = 0;
  for (std::filesystem::directory_iterator it(proc_root + "/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++fds;
  }
  if (ec) {
    return MakeError(ErrorCode::kUnavailableLocally, "cannot list open files: " + ec.message());
  }
  // Like the Go client, this counts the descriptor used to read the directory itself.
  stats.open_fds = static_cast<double>(fds);
  if (auto limits = ReadFile(proc_root + "/self/limits")) {
    if (auto max = ParseMaxOpenFiles(*limits); max && *max > 0) {
      stats.max_fds = static_cast<double>(*max);
    }
  }
  return stats;
}

ProcessCollector::ProcessCollector(std::string proc_root) : proc_root_(std::move(proc_root)) {}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  auto stats = ReadProcessStats(proc_root_);
  if (!stats) return {};
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> families;
  families.push_back(Family("process_cpu_seconds_total",
                            "Total user and system CPU time spent in seconds.", MetricType::Counter,
                            stats->cpu_seconds));
  families.push_back(Family("process_resident_memory_bytes", "Resident memory size in bytes.",
                            MetricType::Gauge, stats->resident_memory_bytes));
  families.push_back(Family("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                            MetricType::Gauge, stats->virtual_memory_bytes));
  families.push_back(Family("process_open_fds", "Number of open file descriptors.",
                            MetricType::Gauge, stats->open_fds));
  if (stats->max_fds > 0) {
    families.push_back(Family("process_max_fds", "Maximum number of open file descriptors.",
                              MetricType::Gauge, stats->max_fds));
  }
  families.push_back(Family("process_start_time_seconds",
                            "Start time of the process since unix epoch in seconds.",
                            MetricType::Gauge, stats->start_time_seconds));
  return families;
}

void RegisterBuildInfo(prometheus::Registry& registry) {
  prometheus::BuildGauge()
      .Name("vkubelet_build_info")
      .Help("A metric with a constant '1' value labelled by the version vkubelet was built from.")
      .Register(registry)
      .Add({{"version", kVersion}, {"kubelet_version", kKubeletVersion}})
      .Set(1);
}

}  // namespace vk::kubelet
