#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "hostclient/base/error.h"

namespace vk::hostclient {

// The parsed `server` of a ClusterConfig: where to connect and what to prepend to every request
// target. A plain value; cheap to copy.
struct ServerUrl {
  bool tls = true;          // https (true) or http (false)
  std::string host;         // name or address, IPv6 without brackets: "::1"
  uint16_t port = 443;      // explicit port, else 443 for https and 80 for http
  std::string path_prefix;  // "" or "/some/prefix" (escaped, no trailing slash)
  bool host_is_ip = false;  // host is an IPv4 or IPv6 literal, not a name

  // Value of the Host header: the host, bracketed when IPv6, with ":port" unless it is the
  // scheme's default.
  std::string HostHeader() const;
  // "https://host:port" for log and error messages.
  std::string Origin() const;
  // The request target sent on the wire: path_prefix + target (target "" means "/").
  std::string Target(std::string_view target) const;
};

// Parses "https://host[:port][/prefix]" or "http://...". A bare "host:port" (no scheme) is taken
// as https, as client-go does. User info, queries and fragments are rejected. Errors are kConfig.
Result<ServerUrl> ParseServerUrl(std::string_view server);

}  // namespace vk::hostclient
