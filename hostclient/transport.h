#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hostclient/base/error.h"
#include "hostclient/cluster_config.h"

namespace vk::hostclient {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive header lookup; "" when absent.
std::string_view FindHeader(const HttpHeaders& headers, std::string_view name);

struct HttpRequest {
  std::string method = "GET";
  std::string target;  // path and query, already escaped: "/api/v1/pods?limit=500"
  HttpHeaders headers;
  std::string body;
  // Deadline for the whole exchange (RoundTrip) or for the response headers (Stream).
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;
  std::string body;
};

// A response body read as it arrives (watch streams, followed logs). Status and headers are known
// before the first Read. Read blocks until bytes arrive, the body ends (nullopt) or it fails.
// Cancel may be called from any thread and makes a blocked Read return kCancelled.
class ByteStream {
 public:
  virtual ~ByteStream() = default;
  virtual int status() const = 0;
  virtual const HttpHeaders& headers() const = 0;
  virtual Result<std::optional<std::string>> Read() = 0;
  virtual void Cancel() = 0;
};

using ByteStreamPtr = std::unique_ptr<ByteStream>;

struct TransportOptions {
  int max_connections = 64;  // open connections to the server at once, streams included
  int max_idle_connections = 32;
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(90)};  // idle pooled connection
  // Longest silence tolerated on a stream between two chunks; a watch is closed by the server
  // long before this (timeoutSeconds), so hitting it means the connection is dead.
  std::chrono::milliseconds stream_idle_timeout{std::chrono::minutes(15)};
  int io_threads = 1;
};

// HTTP/1.1 to one API server. Thread-safe: any number of threads may call RoundTrip and Stream
// at once; the transport bounds the connections it opens and keeps idle ones alive for reuse.
// Destruction cancels everything in flight.
class Transport {
 public:
  virtual ~Transport() = default;
  // Sends a request and reads the whole response. Connection-level failures are kNetwork, kTls or
  // kTimeout; any HTTP status is a successful round trip (the caller interprets it).
  virtual Result<HttpResponse> RoundTrip(const HttpRequest& request) = 0;
  // Sends a request and returns once the response headers have arrived.
  virtual Result<ByteStreamPtr> Stream(const HttpRequest& request) = 0;
  // Cancels all requests and streams in flight; later calls fail with kCancelled.
  virtual void Shutdown() = 0;
};

using TransportPtr = std::unique_ptr<Transport>;

// HTTPS (TLS >= 1.2, hostname verification unless insecure) or plain HTTP, chosen by the scheme
// of config.server; client certificates from config. Boost.Beast underneath.
Result<TransportPtr> NewHttpTransport(const ClusterConfig& config,
                                      const TransportOptions& options = {});

}  // namespace vk::hostclient
