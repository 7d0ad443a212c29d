#include "tests/bench/latency.h"

#include <algorithm>
#include <cmath>

namespace vk::bench {

LatencySummary Summarize(std::vector<double> milliseconds) {
  LatencySummary out;
  out.count = milliseconds.size();
  if (milliseconds.empty()) return out;
  std::sort(milliseconds.begin(), milliseconds.end());
  auto rank = [&](double p) {
    const auto n = static_cast<double>(milliseconds.size());
    const size_t index = static_cast<size_t>(std::max(1.0, std::ceil(p * n))) - 1;
    return milliseconds[std::min(index, milliseconds.size() - 1)];
  };
  out.p50 = rank(0.50);
  out.p90 = rank(0.90);
  out.p99 = rank(0.99);
  out.max = milliseconds.back();
  return out;
}

}  // namespace vk::bench
