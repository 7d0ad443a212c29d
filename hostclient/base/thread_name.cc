#include "hostclient/base/thread_name.h"

#include <pthread.h>

#include <string>

namespace vk {

void SetCurrentThreadName(std::string_view name) {
  constexpr size_t kMaxLength = 15;  // the kernel's limit, without the terminating NUL
  const std::string truncated(name.substr(0, kMaxLength));
  pthread_setname_np(pthread_self(), truncated.c_str());
}

}  // namespace vk
