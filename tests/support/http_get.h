#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "hostclient/base/error.h"

namespace vk::testing {

struct SimpleHttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  std::string Header(const std::string& lower_case_name) const;
};

// A blocking HTTP/1.1 request to 127.0.0.1:port over a plain TCP socket ("Connection: close",
// the body read until the peer closes). For tests of our own HTTP endpoints; the timeout bounds
// connect, send and receive each.
Result<SimpleHttpResponse> HttpRequest(uint16_t port, const std::string& method,
                                       const std::string& target,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(5));
inline Result<SimpleHttpResponse> HttpGet(uint16_t port, const std::string& target) {
  return HttpRequest(port, "GET", target);
}

}  // namespace vk::testing
