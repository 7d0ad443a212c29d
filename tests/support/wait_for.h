#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace vk::testing {

// Waits until `condition` holds or `timeout` passes, checking it every millisecond; returns
// whether it held. For conditions that change in another thread or process and offer nothing to
// wait on (an HTTP endpoint, a file, a server's state); where a condition variable exists, wait
// on that instead.
inline bool WaitFor(const std::function<bool()>& condition,
                    std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace vk::testing
