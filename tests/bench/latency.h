#pragma once

#include <cstddef>
#include <vector>

namespace vk::bench {

// Nearest-rank percentiles of a set of latencies in milliseconds (all 0 when empty).
struct LatencySummary {
  size_t count = 0;
  double p50 = 0;
  double p90 = 0;
  double p99 = 0;
  double max = 0;
};

LatencySummary Summarize(std::vector<double> milliseconds);

}  // namespace vk::bench
