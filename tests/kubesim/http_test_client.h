#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hostclient/base/error.h"
#include "hostclient/base/object.h"

namespace vk::kubesim {

// A small blocking HTTP/1.1 client for tests that talk to kubesim (or anything that speaks like
// kube-apiserver) on the wire, without the project's REST client: plain HTTP or TLS (verifying
// the server against a CA and its IP/DNS name, optionally with a client certificate), a bearer
// token, keep-alive, and streaming responses read line by line as chunks arrive (watches).
// Every operation has a deadline. Not thread-safe: one client per thread.
class HttpTestClient {
 public:
  struct Options {
    std::string base_url;  // "https://127.0.0.1:6443"
    std::string ca_pem;    // trust anchor for TLS
    std::string client_cert_pem;
    std::string client_key_pem;
    std::string bearer_token;  // sent as "Authorization: Bearer ..." when not empty
    std::chrono::milliseconds timeout{std::chrono::seconds(5)};
  };

  struct Response {
    int status = 0;
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;

    std::string Header(const std::string& lower_case_name) const;
    // The body as a JSON object (kDecode otherwise).
    Result<Object> Json() const;
  };

  using Headers = std::vector<std::pair<std::string, std::string>>;

  // A streaming response on its own connection. Must not outlive the client that opened it.
  class Stream {
   public:
    virtual ~Stream() = default;
    virtual int status() const = 0;
    virtual std::string Header(const std::string& lower_case_name) const = 0;
    // The next line of the body without its '\n'; nullopt once the body ended cleanly (the
    // terminating chunk, or the end of a non-chunked body). kTimeout when no line arrived in
    // time, kNetwork when the connection broke before the end.
    virtual Result<std::optional<std::string>> ReadLine(std::chrono::milliseconds timeout) = 0;
  };

  explicit HttpTestClient(Options options);
  ~HttpTestClient();
  HttpTestClient(const HttpTestClient&) = delete;
  HttpTestClient& operator=(const HttpTestClient&) = delete;

  // Errors are transport failures (kTls, kNetwork, kTimeout); any HTTP status is a Response.
  Result<Response> Request(std::string_view method, std::string_view target,
                           std::string_view body = {}, const Headers& headers = {});
  Result<Response> Get(std::string_view target, const Headers& headers = {});
  Result<Response> Post(std::string_view target, const Object& body);
  Result<Response> Put(std::string_view target, const Object& body);
  Result<Response> Patch(std::string_view target, std::string_view content_type,
                         std::string_view body);
  Result<Response> Delete(std::string_view target, std::string_view body = {});

  // Sends a request and returns once the response headers arrived; the body is read with
  // Stream::ReadLine.
  Result<std::unique_ptr<Stream>> OpenStream(std::string_view method, std::string_view target,
                                             const Headers& headers = {});

  // Closes the kept-alive connection (the next request opens a new one).
  void Disconnect();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vk::kubesim
