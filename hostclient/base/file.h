#pragma once

#include <cstddef>
#include <string>

#include "hostclient/base/error.h"

namespace vk {

// Reads a whole regular file (certificates, tokens, kubeconfigs). Files larger than max_bytes are
// refused so that a wrong path such as /dev/zero cannot exhaust memory. Errors are kConfig and
// name the path and the system's reason; callers re-code them where another code fits better.
Result<std::string> ReadFileContents(const std::string& path, size_t max_bytes = 16 << 20);

}  // namespace vk
