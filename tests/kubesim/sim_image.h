#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace vk::kubesim {

// What a simulated container does, read from words in its image reference (README, "Node
// simulator"). The reference is split into words at '/', ':', '@', '-', '_' and '.'; these
// word sequences anywhere in it are directives:
//   exit-after-<D>          the container exits with code 0 after D
//   exit-<code>-after-<D>   ... with <code> (0..255); D is <N>ms, <N>s or <N>m
//   fail-pull               the image cannot be pulled (ErrImagePull, then ImagePullBackOff)
//   ignore-sigterm          on deletion the container runs until the grace period ends (137)
// e.g. "busybox:exit-3-after-500ms", "example.com/fail-pull/app:1", "app:ignore-sigterm".
// Anything else runs until it is stopped.
struct ImageBehavior {
  bool fail_pull = false;
  bool ignore_sigterm = false;
  std::optional<std::chrono::milliseconds> exit_after;
  int exit_code = 0;
};

ImageBehavior ParseImageBehavior(std::string_view image);

}  // namespace vk::kubesim
