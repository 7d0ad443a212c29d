#include "hostclient/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/verify_context.hpp>

namespace vk::hostclient {
namespace ssl = boost::asio::ssl;

namespace {

tl::unexpected<Error> TlsConfigError(const std::string& what, const boost::system::error_code& ec) {
  return MakeError(ErrorCode::kConfig, what + ": " + ec.message());
}

// Counts the PEM certificates in a bundle so that a bundle with none (a typo, a key pasted in
// the wrong field) fails loudly instead of trusting nothing.
bool ContainsCertificate(const std::string& pem) {
  return pem.find("-----BEGIN CERTIFICATE-----") != std::string::npos;
}

}  // namespace

std::string TlsServerName(const ClusterConfig& config, const ServerUrl& url) {
  return config.tls_server_name.empty() ? url.host : config.tls_server_name;
}

bool IsIpLiteral(const std::string& name) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(name, ec);
  return !ec;
}

Result<std::shared_ptr<ssl::context>> NewTlsClientContext(const ClusterConfig& config,
                                                          const std::string& server_name) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX* native = ctx->native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) {
    return MakeError(ErrorCode::kConfig, "TLS: cannot require TLS 1.2");
  }
  // Announce HTTP/1.1 so that a server preferring h2 never picks it for us.
  static constexpr unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  if (SSL_CTX_set_alpn_protos(native, kAlpn, sizeof(kAlpn)) != 0) {
    return MakeError(ErrorCode::kConfig, "TLS: cannot set ALPN");
  }
  boost::system::error_code ec;

  if (config.insecure_skip_tls_verify) {
    ctx->set_verify_mode(ssl::verify_none, ec);
    if (ec) return TlsConfigError("TLS: set verify mode", ec);
  } else {
    if (!config.ca_pem.empty()) {
      if (!ContainsCertificate(config.ca_pem)) {
        return MakeError(ErrorCode::kConfig, "TLS: CA data holds no PEM certificate");
      }
      ctx->add_certificate_authority(boost::asio::buffer(config.ca_pem), ec);
      if (ec) return TlsConfigError("TLS: invalid CA certificate", ec);
    } else {
      ctx->set_default_verify_paths(ec);
      if (ec) return TlsConfigError("TLS: cannot load the system's CA certificates", ec);
    }
    ctx->set_verify_mode(ssl::verify_peer, ec);
    if (ec) return TlsConfigError("TLS: set verify mode", ec);
    // host_name_verification leaves the store error at X509_V_OK when only the name is wrong;
    // record the mismatch so that the handshake error can say why.
    ctx->set_verify_callback(
        [verifier = ssl::host_name_verification(server_name)](bool preverified,
                                                              ssl::verify_context& vc) {
          bool ok = verifier(preverified, vc);
          if (preverified && !ok) {
            X509_STORE_CTX_set_error(vc.native_handle(), X509_V_ERR_HOSTNAME_MISMATCH);
          }
          return ok;
        },
        ec);
    if (ec) return TlsConfigError("TLS: set verify callback", ec);
  }

  const bool has_cert = !config.client_cert_pem.empty();
  const bool has_key = !config.client_key_pem.empty();
  if (has_cert != has_key) {
    return MakeError(ErrorCode::kConfig, has_cert
                                             ? "TLS: client certificate given without its key"
                                             : "TLS: client key given without its certificate");
  }
  if (has_cert) {
    ctx->use_certificate_chain(boost::asio::buffer(config.client_cert_pem), ec);
    if (ec) return TlsConfigError("TLS: invalid client certificate", ec);
    ctx->use_private_key(boost::asio::buffer(config.client_key_pem), ssl::context::pem, ec);
    // OpenSSL also rejects a key that does not match the certificate here.
    if (ec)
      return TlsConfigError("TLS: invalid client key or it does not match the certificate", ec);
    if (SSL_CTX_check_private_key(native) != 1) {
      ERR_clear_error();
      return MakeError(ErrorCode::kConfig, "TLS: client key does not match the client certificate");
    }
  }
  return ctx;
}

}  // namespace vk::hostclient
