#pragma once

#include <memory>
#include <string>

#include "hostclient/base/error.h"
#include "hostclient/cluster_config.h"
#include "hostclient/server_url.h"

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

namespace vk::hostclient {

// The name the server certificate must carry and that is sent as SNI: config.tls_server_name when
// set, otherwise the host of the server URL.
std::string TlsServerName(const ClusterConfig& config, const ServerUrl& url);

// Builds the client TLS context for one API server, once per transport and shared by all of its
// connections: TLS >= 1.2, ALPN http/1.1, peer verification against config.ca_pem (or the system's
// default roots when empty) with the certificate checked for `server_name`, unless
// config.insecure_skip_tls_verify; the client certificate and key from config when given.
// Errors are kConfig and say which PEM is wrong. The context is immutable once returned and may
// be used from any thread.
Result<std::shared_ptr<boost::asio::ssl::context>> NewTlsClientContext(
    const ClusterConfig& config, const std::string& server_name);

// Whether `name` is an IPv4 or IPv6 literal (SNI must not carry one, RFC 6066 section 3).
bool IsIpLiteral(const std::string& name);

}  // namespace vk::hostclient
