#pragma once

#include <vector>

#include "hostclient/base/error.h"
#include "tests/bench/bench_run.h"

namespace vk::bench {

// Each scenario leaves the clusters as it found them, except Burst(kVirtual), whose pods the
// restart and delete scenarios use (see pod_bench_main.cc for the order).

// Exec of vkubelet to readiness and a Ready virtual node, on clusters without pods.
Result<Row> ColdStart(BenchRun& run);
// `pods` pods at once until every one reports Running: through vkubelet (the virtual side), or
// created on the host directly (the baseline). The virtual burst adds rows for each stage.
Result<std::vector<Row>> Burst(BenchRun& run, Side side, int pods);
// kill -9 and restart with the burst's pods synced: readiness and adoption time, host writes,
// duplicates, orphans and recreated twins.
Result<Row> Restart(BenchRun& run, int pods);
// Deletes the burst's pods through vkubelet until no virtual pod and no twin is left.
Result<Row> DeleteBurst(BenchRun& run, int pods);
// options.rate pods a second for options.duration; both stages' latencies.
Result<std::vector<Row>> SteadyLoad(BenchRun& run);
// options.standing pods stay while pods are created and deleted at options.rate.
Result<Row> Churn(BenchRun& run);

}  // namespace vk::bench
