#pragma once

#include <string_view>

namespace vk {

// Names the calling thread (Linux keeps the first 15 bytes), so that `top -H`, perf and gdb tell
// the daemon's threads apart.
void SetCurrentThreadName(std::string_view name);

}  // namespace vk
