// vkubelet-bench: the pod path at scale, against two kubesims it starts or two clusters given as
// kubeconfigs, with a direct baseline measured in the same run. Prints one table; exits 1 when a
// scenario breaks (never because of a timing). tests/bench/run.sh builds it in Release and runs it.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "tests/bench/bench_run.h"
#include "tests/bench/scenarios.h"

namespace vk::bench {
namespace {

constexpr char kUsage[] = R"(usage: vkubelet-bench --vkubelet PATH [options]
  --pods N                 burst and restart size (10000)
  --creators N             threads creating and deleting pods (16)
  --qps Q                  client-side limit of every client, the bench's and vkubelet's (0: none)
  --workers N              vkubelet --workers (8)
  --rate R                 pods/s of the steady and churn scenarios (100)
  --duration S             seconds of the steady and churn scenarios (60)
  --standing N             pods standing during churn (5000)
  --scenarios LIST         of cold,burst,restart,steady,churn (all)
  --virtual-kubeconfig F   run against these clusters instead of kubesims started here;
  --host-kubeconfig F      the bench then plays the host's kubelets
)";

struct Flags {
  BenchOptions options;
  std::set<std::string> scenarios = {"cold", "burst", "restart", "steady", "churn"};
};

std::optional<Flags> Parse(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) return std::nullopt;
    const std::string value = argv[++i];
    try {
      if (flag == "--vkubelet") {
        flags.options.vkubelet_binary = value;
      } else if (flag == "--pods") {
        flags.options.pods = std::stoi(value);
      } else if (flag == "--creators") {
        flags.options.creators = std::stoi(value);
      } else if (flag == "--qps") {
        flags.options.qps = std::stod(value);
      } else if (flag == "--workers") {
        flags.options.workers = std::stoi(value);
      } else if (flag == "--rate") {
        flags.options.rate = std::stod(value);
      } else if (flag == "--duration") {
        flags.options.duration = std::chrono::seconds(std::stoi(value));
      } else if (flag == "--standing") {
        flags.options.standing = std::stoi(value);
      } else if (flag == "--virtual-kubeconfig") {
        flags.options.virtual_kubeconfig = value;
      } else if (flag == "--host-kubeconfig") {
        flags.options.host_kubeconfig = value;
      } else if (flag == "--scenarios") {
        flags.scenarios.clear();
        size_t from = 0;
        while (from <= value.size()) {
          const size_t comma = std::min(value.find(',', from), value.size());
          flags.scenarios.insert(value.substr(from, comma - from));
          from = comma + 1;
        }
      } else {
        return std::nullopt;
      }
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  if (flags.options.vkubelet_binary.empty() || flags.options.pods < 1 || flags.options.rate <= 0 ||
      flags.options.creators < 1) {
    return std::nullopt;
  }
  return flags;
}

void PrintRow(const Row& row) {
  const double per_second = row.pods_per_second;
  std::printf(
      "%-24s %7s %8s %9s  %-32s %7s %7s %7s %7s  %7s %9s  %s\n", row.scenario.c_str(),
      row.pods ? std::to_string(row.pods).c_str() : "",
      row.seconds > 0 ? std::to_string(row.seconds).substr(0, 7).c_str() : "",
      per_second > 0 ? std::to_string(static_cast<int64_t>(per_second)).c_str() : "",
      row.latency_what.c_str(),
      row.latency.count ? std::to_string(row.latency.p50).substr(0, 6).c_str() : "",
      row.latency.count ? std::to_string(row.latency.p90).substr(0, 6).c_str() : "",
      row.latency.count ? std::to_string(row.latency.p99).substr(0, 6).c_str() : "",
      row.latency.count ? std::to_string(row.latency.max).substr(0, 6).c_str() : "",
      row.daemon_cpu_seconds > 0 ? std::to_string(row.daemon_cpu_seconds).substr(0, 6).c_str() : "",
      row.daemon_peak_rss ? (std::to_string(row.daemon_peak_rss / (1024 * 1024)) + " MiB").c_str()
                          : "",
      row.note.c_str());
  std::fflush(stdout);
}

void PrintHeader(const BenchOptions& options, bool external) {
  std::printf("vkubelet-bench: %s, %d pods, %d creators, qps %s, %d workers, %ld CPUs\n",
              external ? "clusters from kubeconfigs (the bench plays the host kubelets)"
                       : "two kubesims in this process (node simulator plays the host kubelets)",
              options.pods, options.creators,
              options.qps > 0 ? std::to_string(options.qps).c_str() : "unlimited", options.workers,
              sysconf(_SC_NPROCESSORS_ONLN));
  std::printf("%-24s %7s %8s %9s  %-32s %7s %7s %7s %7s  %7s %9s  %s\n", "scenario", "pods",
              "seconds", "pods/s", "latency of (ms)", "p50", "p90", "p99", "max", "cpu s",
              "peak RSS", "notes");
}

int Main(int argc, char** argv) {
  auto flags = Parse(argc, argv);
  if (!flags) {
    std::cerr << kUsage;
    return 2;
  }
  const BenchOptions& options = flags->options;
  auto started = BenchRun::Start(options);
  if (!started) {
    std::cerr << "vkubelet-bench: " << started.error().ToString() << "\n";
    return 1;
  }
  BenchRun& run = **started;
  PrintHeader(options, run.env().external());
  auto fail = [&](const Error& error) {
    std::cerr << "vkubelet-bench: " << error.ToString() << "\n--- vkubelet log (tail) ---\n";
    const std::string log = run.env().VkubeletLog();
    std::cerr << log.substr(log.size() > 4000 ? log.size() - 4000 : 0) << "\n";
    return 1;
  };
  auto wants = [&](const char* name) { return flags->scenarios.count(name) != 0; };

  uint64_t idle_rss = 0;
  if (wants("cold")) {
    auto row = ColdStart(run);
    if (!row) return fail(row.error());
    PrintRow(*row);
  } else {
    if (auto s = run.StartVkubelet(); !s) return fail(s.error());
    if (auto s = run.WaitVkubeletReady(std::chrono::seconds(30)); !s) return fail(s.error());
  }
  if (auto idle = run.Daemon()) idle_rss = idle->rss_bytes;

  if (wants("burst") || wants("restart")) {
    auto direct = Burst(run, Side::kHostDirect, options.pods);
    if (!direct) return fail(direct.error());
    for (const auto& row : *direct) PrintRow(row);
    auto burst = Burst(run, Side::kVirtual, options.pods);
    if (!burst) return fail(burst.error());
    for (const auto& row : *burst) PrintRow(row);
    const double direct_rate = options.pods / direct->front().seconds;
    const double vk_rate = options.pods / burst->front().seconds;
    auto synced = run.Daemon();
    const uint64_t rss_synced = synced ? synced->rss_bytes : 0;
    double cpu = burst->front().daemon_cpu_seconds;
    if (wants("restart")) {
      auto restart = Restart(run, options.pods);
      if (!restart) return fail(restart.error());
      PrintRow(*restart);
    }
    auto deleted = DeleteBurst(run, options.pods);
    if (!deleted) return fail(deleted.error());
    PrintRow(*deleted);
    cpu += deleted->daemon_cpu_seconds;
    std::printf("  burst throughput vkubelet / direct = %.2f (target >= 0.9)\n",
                vk_rate / direct_rate);
    std::printf(
        "  RSS with %d pods synced: %.1f MiB (target <= 100 MiB), %.0f bytes/pod over idle "
        "%.1f MiB\n",
        options.pods, rss_synced / 1048576.0,
        rss_synced > idle_rss ? static_cast<double>(rss_synced - idle_rss) / options.pods : 0,
        idle_rss / 1048576.0);
    std::printf("  daemon CPU per pod (create + status + delete%s): %.0f us (target <= 200 us)\n",
                wants("restart") ? ", restart excluded" : "", cpu * 1e6 / options.pods);
  }
  if (wants("steady")) {
    auto rows = SteadyLoad(run);
    if (!rows) return fail(rows.error());
    for (const auto& row : *rows) PrintRow(row);
  }
  if (wants("churn")) {
    auto row = Churn(run);
    if (!row) return fail(row.error());
    PrintRow(*row);
  }
  return 0;
}

}  // namespace
}  // namespace vk::bench

int main(int argc, char** argv) { return vk::bench::Main(argc, argv); }
