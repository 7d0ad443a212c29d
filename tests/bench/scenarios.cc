#include "tests/bench/scenarios.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <thread>

#include "tests/support/wait_for.h"

namespace vk::bench {
namespace {

constexpr char kBurstPrefix[] = "burst-";

std::vector<std::string> Names(const std::string& prefix, int from, int to) {
  std::vector<std::string> names;
  for (int i = from; i < to; ++i) names.push_back(prefix + std::to_string(i));
  return names;
}

// Generous: a run that is merely slow still finishes; one that hangs ends.
std::chrono::milliseconds TimeoutFor(size_t pods) {
  return std::chrono::milliseconds(60'000 + 50 * static_cast<int64_t>(pods));
}

Status Timeout(const std::string& what) { return MakeError(ErrorCode::kTimeout, "bench: " + what); }

double CpuNow(BenchRun& run) {
  auto sample = run.Daemon();
  return sample ? sample->cpu_seconds : 0;
}

uint64_t PeakRss(BenchRun& run) {
  auto sample = run.Daemon();
  return sample ? sample->peak_rss_bytes : 0;
}

std::string Mib(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return text;
}

// vkubelet's requests so far: virtual writes, virtual reads, host writes, host reads (watches
// count once, when they are opened).
std::array<double, 4> RequestsByCluster(BenchRun& run) {
  std::array<double, 4> out{};
  auto metrics = run.Metrics();
  if (!metrics) return out;
  const std::array<const char*, 2> clusters = {"cluster=\"virtual\"", "cluster=\"host\""};
  for (size_t c = 0; c < clusters.size(); ++c) {
    for (const char* verb : {"POST", "PUT", "PATCH", "DELETE"}) {
      out[c * 2] += run.MetricSum(*metrics, "rest_client_requests_total",
                                  {clusters[c], std::string("verb=\"") + verb + "\""});
    }
    for (const char* verb : {"GET", "LIST", "WATCH"}) {
      out[c * 2 + 1] += run.MetricSum(*metrics, "rest_client_requests_total",
                                      {clusters[c], std::string("verb=\"") + verb + "\""});
    }
  }
  return out;
}

// Latencies of one stage for the named pods: from `from(name)` to `to(name)` where both exist.
template <typename From, typename To>
LatencySummary Stage(const std::vector<std::string>& names, From from, To to) {
  std::vector<double> ms;
  for (const auto& name : names) {
    auto a = from(name);
    auto b = to(name);
    if (a && b) ms.push_back(Millis(*a, *b));
  }
  return Summarize(std::move(ms));
}

// Virtual create sent -> twin seen on the host.
LatencySummary CreateStage(BenchRun& run, const std::vector<std::string>& names) {
  return Stage(
      names, [&](const std::string& name) { return run.CreatedAt(name); },
      [&](const std::string& name) -> std::optional<Steady::time_point> {
        auto twin = run.twins().Get(name);
        if (!twin) return std::nullopt;
        return twin->seen;
      });
}

// Twin seen Running -> virtual pod seen Running.
LatencySummary RunningStage(BenchRun& run, const std::vector<std::string>& names) {
  return Stage(
      names,
      [&](const std::string& name) -> std::optional<Steady::time_point> {
        auto twin = run.twins().Get(name);
        return twin ? twin->running : std::nullopt;
      },
      [&](const std::string& name) -> std::optional<Steady::time_point> {
        auto pod = run.virtual_pods().Get(name);
        return pod ? pod->running : std::nullopt;
      });
}

// Creates the pods named so at `rate` a second from `threads` threads, each create sent at its
// slot (i / rate after the start) so that a slow answer does not hold back the next pods.
Status CreatePaced(BenchRun& run, const std::vector<std::string>& names, double rate,
                   const std::function<void(size_t)>& after_each = {}) {
  const auto start = Steady::now();
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  Status first = Ok();
  std::mutex mutex;
  std::vector<std::thread> pool;
  for (int t = 0; t < std::max(1, run.options().creators); ++t) {
    pool.emplace_back([&] {
      for (size_t i = next++; i < names.size() && !failed; i = next++) {
        const auto slot = start + std::chrono::duration_cast<Steady::duration>(
                                      std::chrono::duration<double>(static_cast<double>(i) / rate));
        // Pacing an offered load, not waiting for a condition.
        std::this_thread::sleep_until(slot);
        if (auto s = run.CreatePod(Side::kVirtual, names[i]); !s) {
          std::lock_guard lock(mutex);
          if (first) first = s;
          failed = true;
        }
        if (after_each) after_each(i);
      }
    });
  }
  for (auto& thread : pool) thread.join();
  return first;
}

}  // namespace

Result<Row> ColdStart(BenchRun& run) {
  const auto start = Steady::now();
  if (auto s = run.StartVkubelet(); !s) return tl::unexpected(s.error());
  if (auto s = run.WaitVkubeletReady(std::chrono::seconds(30)); !s) {
    return tl::unexpected(s.error());
  }
  if (auto s = run.env().WaitForNodeReady(run.env().node_name()); !s) {
    return tl::unexpected(s.error());
  }
  Row row;
  row.scenario = "cold start";
  row.seconds = Millis(start, Steady::now()) / 1000;
  row.latency_what = "exec -> node Ready";
  row.daemon_cpu_seconds = CpuNow(run);
  row.daemon_peak_rss = PeakRss(run);
  row.note = "target <= 0.300 s";
  return row;
}

Result<std::vector<Row>> Burst(BenchRun& run, Side side, int pods) {
  const bool via_vkubelet = side == Side::kVirtual;
  PodTracker& tracker = via_vkubelet ? run.virtual_pods() : run.direct_pods();
  const auto names = Names(via_vkubelet ? kBurstPrefix : "direct-", 0, pods);
  const double cpu_before = via_vkubelet ? CpuNow(run) : 0;
  const auto requests_before = RequestsByCluster(run);
  const auto start = Steady::now();
  if (auto s = run.CreatePods(side, names); !s) return tl::unexpected(s.error());
  const size_t n = names.size();
  if (!tracker.WaitUntil([&](size_t, size_t running) { return running >= n; }, TimeoutFor(n))) {
    return tl::unexpected(Timeout(std::to_string(tracker.running()) + " of " + std::to_string(n) +
                                  " burst pods running")
                              .error());
  }
  const auto end = Steady::now();
  std::vector<Row> rows;
  Row row;
  row.scenario = via_vkubelet ? "burst via vkubelet" : "burst direct (baseline)";
  row.pods = n;
  row.seconds = Millis(start, end) / 1000;
  row.pods_per_second = static_cast<double>(n) / row.seconds;
  row.latency_what = via_vkubelet ? "create -> virtual Running" : "create -> Running";
  row.latency = Stage(
      names, [&](const std::string& name) { return run.CreatedAt(name); },
      [&](const std::string& name) -> std::optional<Steady::time_point> {
        auto record = tracker.Get(name);
        return record ? record->running : std::nullopt;
      });
  if (via_vkubelet) {
    row.daemon_cpu_seconds = CpuNow(run) - cpu_before;
    row.daemon_peak_rss = PeakRss(run);
    const auto requests_after = RequestsByCluster(run);
    char note[160];
    std::snprintf(note, sizeof(note),
                  "vkubelet requests/pod: virtual %.1f writes + %.1f reads, host %.1f + %.1f",
                  (requests_after[0] - requests_before[0]) / static_cast<double>(n),
                  (requests_after[1] - requests_before[1]) / static_cast<double>(n),
                  (requests_after[2] - requests_before[2]) / static_cast<double>(n),
                  (requests_after[3] - requests_before[3]) / static_cast<double>(n));
    row.note = note;
  }
  rows.push_back(row);
  if (!via_vkubelet) {
    // The baseline's pods go again, unmeasured.
    if (auto s = run.DeletePods(Side::kHostDirect, names, 0); !s) return tl::unexpected(s.error());
    run.direct_pods().WaitUntil([](size_t present, size_t) { return present == 0; }, TimeoutFor(n));
    return rows;
  }
  Row create_stage;
  create_stage.scenario = "  stage";
  create_stage.latency_what = "virtual create -> host create";
  create_stage.latency = CreateStage(run, names);
  rows.push_back(create_stage);
  Row running_stage;
  running_stage.scenario = "  stage";
  running_stage.latency_what = "host Running -> virtual Running";
  running_stage.latency = RunningStage(run, names);
  rows.push_back(running_stage);
  return rows;
}

Result<Row> Restart(BenchRun& run, int pods) {
  const auto before = run.twins().PresentUids();
  run.env().KillVkubelet();
  const auto start = Steady::now();
  if (auto s = run.StartVkubelet(); !s) return tl::unexpected(s.error());
  if (auto s = run.WaitVkubeletReady(std::chrono::seconds(60)); !s) {
    return tl::unexpected(s.error());
  }
  const auto ready = Steady::now();
  // Adopted: every pod reconciled once (the controller counts each in vkubelet_pods) and nothing
  // left queued.
  std::string metrics;
  const bool adopted = testing::WaitFor(
      [&] {
        auto fetched = run.Metrics();
        if (!fetched) return false;
        metrics = std::move(*fetched);
        return run.MetricSum(metrics, "vkubelet_pods") >= pods &&
               run.MetricSum(metrics, "workqueue_depth", {"name=\"pods\""}) == 0;
      },
      TimeoutFor(static_cast<size_t>(pods)));
  if (!adopted) return tl::unexpected(Timeout("pods not adopted after restart").error());
  const auto end = Steady::now();
  double host_writes = 0;
  for (const char* verb : {"POST", "PUT", "PATCH", "DELETE"}) {
    host_writes += run.MetricSum(metrics, "rest_client_requests_total",
                                 {"cluster=\"host\"", std::string("verb=\"") + verb + "\""});
  }
  const auto after = run.twins().PresentUids();
  size_t recreated = 0;
  for (const auto& [key, uid] : before) {
    auto it = after.find(key);
    if (it == after.end() || it->second != uid) ++recreated;
  }
  const size_t duplicates = run.twins().pods_present() - run.twins().present();
  size_t orphans = 0;
  for (const auto& [key, uid] : after) {
    if (!run.virtual_pods().Get(key)) ++orphans;
  }
  Row row;
  row.scenario = "restart (kill -9)";
  row.pods = static_cast<size_t>(pods);
  row.seconds = Millis(start, end) / 1000;
  row.latency_what = "exec -> ready " + std::to_string(static_cast<int>(Millis(start, ready))) +
                     " ms, -> all adopted";
  row.daemon_cpu_seconds = CpuNow(run);
  row.daemon_peak_rss = PeakRss(run);
  row.note = "host writes " + std::to_string(static_cast<int64_t>(host_writes)) + ", duplicates " +
             std::to_string(duplicates) + ", orphans " + std::to_string(orphans) +
             ", twins recreated " + std::to_string(recreated);
  return row;
}

Result<Row> DeleteBurst(BenchRun& run, int pods) {
  const auto names = Names(kBurstPrefix, 0, pods);
  const double cpu_before = CpuNow(run);
  const auto start = Steady::now();
  // A short grace period: the real path (twin deleted with it, pod removed once the twin is gone).
  if (auto s = run.DeletePods(Side::kVirtual, names, 1); !s) return tl::unexpected(s.error());
  const auto timeout = TimeoutFor(names.size());
  if (!run.virtual_pods().WaitUntil([](size_t present, size_t) { return present == 0; }, timeout) ||
      !run.twins().WaitUntil([](size_t present, size_t) { return present == 0; }, timeout)) {
    return tl::unexpected(Timeout(std::to_string(run.virtual_pods().present()) +
                                  " virtual pods and " + std::to_string(run.twins().present()) +
                                  " twins left after deleting the burst")
                              .error());
  }
  Row row;
  row.scenario = "delete via vkubelet";
  row.pods = names.size();
  row.seconds = Millis(start, Steady::now()) / 1000;
  row.pods_per_second = static_cast<double>(row.pods) / row.seconds;
  row.daemon_cpu_seconds = CpuNow(run) - cpu_before;
  row.daemon_peak_rss = PeakRss(run);
  run.virtual_pods().Forget();
  run.twins().Forget();
  return row;
}

Result<std::vector<Row>> SteadyLoad(BenchRun& run) {
  const BenchOptions& options = run.options();
  const int count = static_cast<int>(options.rate * static_cast<double>(options.duration.count()));
  const auto names = Names("steady-", 0, count);
  const double cpu_before = CpuNow(run);
  const auto start = Steady::now();
  if (auto s = CreatePaced(run, names, options.rate); !s) return tl::unexpected(s.error());
  const size_t n = names.size();
  if (!run.virtual_pods().WaitUntil([&](size_t, size_t running) { return running >= n; },
                                    TimeoutFor(n))) {
    return tl::unexpected(Timeout("steady pods not running").error());
  }
  std::vector<Row> rows;
  Row create_stage;
  create_stage.scenario = "steady " + std::to_string(static_cast<int>(options.rate)) + " pods/s";
  create_stage.pods = n;
  create_stage.seconds = Millis(start, Steady::now()) / 1000;
  create_stage.latency_what = "virtual create -> host create";
  create_stage.latency = CreateStage(run, names);
  create_stage.daemon_cpu_seconds = CpuNow(run) - cpu_before;
  create_stage.daemon_peak_rss = PeakRss(run);
  create_stage.note = "target p99 <= 25 ms";
  rows.push_back(create_stage);
  Row running_stage;
  running_stage.scenario = "  stage";
  running_stage.latency_what = "host Running -> virtual Running";
  running_stage.latency = RunningStage(run, names);
  running_stage.note = "target p99 <= 25 ms";
  rows.push_back(running_stage);

  if (auto s = run.DeletePods(Side::kVirtual, names, 1); !s) return tl::unexpected(s.error());
  if (!run.virtual_pods().WaitUntil([](size_t present, size_t) { return present == 0; },
                                    TimeoutFor(n))) {
    return tl::unexpected(Timeout("steady pods not deleted").error());
  }
  run.virtual_pods().Forget();
  run.twins().Forget();
  return rows;
}

Result<Row> Churn(BenchRun& run) {
  const BenchOptions& options = run.options();
  const auto standing = Names("stand-", 0, options.standing);
  if (auto s = run.CreatePods(Side::kVirtual, standing); !s) return tl::unexpected(s.error());
  const size_t n = standing.size();
  if (!run.virtual_pods().WaitUntil([&](size_t, size_t running) { return running >= n; },
                                    TimeoutFor(n))) {
    return tl::unexpected(Timeout("churn's standing pods not running").error());
  }
  auto metrics_before = run.Metrics();
  if (!metrics_before) return tl::unexpected(metrics_before.error());
  auto sample_before = run.Daemon();
  if (!sample_before) return tl::unexpected(sample_before.error());

  // Each new pod replaces the oldest of the churned ones: the standing set stays as it is.
  const int count = static_cast<int>(options.rate * static_cast<double>(options.duration.count()));
  const auto churned = Names("churn-", 0, count);
  const size_t window = std::max<size_t>(1, static_cast<size_t>(options.rate));
  hostclient::DeleteOptions grace;
  grace.grace_period_seconds = 1;
  std::atomic<size_t> delete_errors{0};
  const auto start = Steady::now();
  auto status = CreatePaced(run, churned, options.rate, [&](size_t i) {
    if (i < window) return;
    auto deleted = run.env().virtual_client().Delete(
        hostclient::resources::Pods(), BenchRun::kVirtualNamespace, churned[i - window], grace);
    if (!deleted && deleted.error().code() != ErrorCode::kNotFound) ++delete_errors;
  });
  if (!status) return tl::unexpected(status.error());
  const size_t tail_from = churned.size() > window ? churned.size() - window : 0;
  std::vector<std::string> tail(churned.begin() + static_cast<std::ptrdiff_t>(tail_from),
                                churned.end());
  if (auto s = run.DeletePods(Side::kVirtual, tail, 1); !s) return tl::unexpected(s.error());
  // Settled: only the standing pods are left, on both sides.
  const auto timeout = TimeoutFor(churned.size());
  if (!run.virtual_pods().WaitUntil([&](size_t present, size_t) { return present == n; },
                                    timeout) ||
      !run.twins().WaitUntil([&](size_t present, size_t) { return present == n; }, timeout)) {
    return tl::unexpected(Timeout("churn did not settle").error());
  }
  const auto end = Steady::now();
  std::string metrics_after;
  testing::WaitFor(
      [&] {
        auto fetched = run.Metrics();
        if (!fetched) return false;
        metrics_after = std::move(*fetched);
        return run.MetricSum(metrics_after, "workqueue_depth", {"name=\"pods\""}) == 0;
      },
      std::chrono::seconds(10));
  auto sample_after = run.Daemon();
  if (!sample_after) return tl::unexpected(sample_after.error());
  Row row;
  row.scenario = "churn " + std::to_string(static_cast<int>(options.rate)) + " pods/s";
  row.pods = churned.size();
  row.seconds = Millis(start, end) / 1000;
  row.pods_per_second = static_cast<double>(row.pods) / row.seconds;
  row.latency_what = std::to_string(n) + " standing";
  row.daemon_cpu_seconds = sample_after->cpu_seconds - sample_before->cpu_seconds;
  row.daemon_peak_rss = sample_after->peak_rss_bytes;
  const double depth = run.MetricSum(metrics_after, "workqueue_depth", {"name=\"pods\""});
  const double tracked_before = run.MetricSum(*metrics_before, "vkubelet_pods");
  const double tracked_after = run.MetricSum(metrics_after, "vkubelet_pods");
  row.note = "RSS " + Mib(sample_before->rss_bytes) + " -> " + Mib(sample_after->rss_bytes) +
             ", queue depth " + std::to_string(static_cast<int64_t>(depth)) + ", pods tracked " +
             std::to_string(static_cast<int64_t>(tracked_before)) + " -> " +
             std::to_string(static_cast<int64_t>(tracked_after)) +
             (delete_errors ? ", delete errors " + std::to_string(delete_errors.load()) : "");

  if (auto s = run.DeletePods(Side::kVirtual, standing, 1); !s) return tl::unexpected(s.error());
  run.virtual_pods().WaitUntil([](size_t present, size_t) { return present == 0; }, TimeoutFor(n));
  run.virtual_pods().Forget();
  run.twins().Forget();
  return row;
}

}  // namespace vk::bench
