#include "hostclient/server_url.h"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>

namespace vk::hostclient {
namespace {

bool IsIpv6(std::string_view host) { return host.find(':') != std::string_view::npos; }

tl::unexpected<Error> BadUrl(std::string_view server, std::string_view why) {
  return MakeError(ErrorCode::kConfig,
                   "invalid server URL \"" + std::string(server) + "\": " + std::string(why));
}

}  // namespace

std::string ServerUrl::HostHeader() const {
  std::string out = IsIpv6(host) ? "[" + host + "]" : host;
  if (port != (tls ? 443 : 80)) out += ":" + std::to_string(port);
  return out;
}

std::string ServerUrl::Origin() const {
  std::string out = tls ? "https://" : "http://";
  out += IsIpv6(host) ? "[" + host + "]" : host;
  out += ":" + std::to_string(port);
  return out;
}

std::string ServerUrl::Target(std::string_view target) const {
  std::string out;
  out.reserve(path_prefix.size() + target.size() + 1);
  out += path_prefix;
  if (target.empty() || target.front() != '/') out += '/';
  out += target;
  return out;
}

Result<ServerUrl> ParseServerUrl(std::string_view server) {
  if (server.empty()) return BadUrl(server, "empty");
  std::string text(server);
  if (text.find("://") == std::string::npos) text = "https://" + text;
  auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed) return BadUrl(server, parsed.error().message());
  const boost::urls::url_view& url = *parsed;

  ServerUrl out;
  if (url.scheme() == "https") {
    out.tls = true;
  } else if (url.scheme() == "http") {
    out.tls = false;
  } else {
    return BadUrl(server, "scheme must be https or http");
  }
  if (url.has_userinfo()) return BadUrl(server, "user info is not allowed");
  if (url.has_query()) return BadUrl(server, "a query is not allowed");
  if (url.has_fragment()) return BadUrl(server, "a fragment is not allowed");

  switch (url.host_type()) {
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::ipv6:
      out.host_is_ip = true;
      out.host = url.host_address();
      break;
    case boost::urls::host_type::name:
      out.host = url.host_address();
      break;
    default:
      return BadUrl(server, "unsupported host");
  }
  if (out.host.empty()) return BadUrl(server, "missing host");

  out.port = out.tls ? 443 : 80;
  if (url.has_port()) {
    std::string_view port = url.port();
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 ||
        value > 65535) {
      return BadUrl(server, "invalid port");
    }
    out.port = static_cast<uint16_t>(value);
  }

  std::string_view path = url.encoded_path();
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  out.path_prefix = std::string(path);
  return out;
}

}  // namespace vk::hostclient
