#include "tests/kubesim/http_test_client.h"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

namespace vk::kubesim {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using boost::system::error_code;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// One connection, plain or TLS.
struct Connection {
  std::unique_ptr<ssl::stream<beast::tcp_stream>> tls;
  std::unique_ptr<beast::tcp_stream> plain;
  beast::flat_buffer buffer;

  beast::tcp_stream& Tcp() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
  template <class F>
  void Visit(F&& f) {
    if (tls) {
      f(*tls);
    } else {
      f(*plain);
    }
  }
  void Close() {
    error_code ec;
    Tcp().socket().close(ec);
  }
};

// Runs the I/O until `done` or the deadline. On a timeout the pending operation is cancelled
// (close_on_timeout: the connection closed) and kTimeout returned.
Status RunUntil(net::io_context& ioc, Connection& c, const bool& done,
                std::chrono::milliseconds timeout, bool close_on_timeout, const char* what) {
  ioc.restart();
  ioc.run_for(timeout);
  if (done) return Ok();
  if (close_on_timeout) {
    c.Close();
  } else {
    c.Tcp().cancel();
  }
  ioc.restart();
  ioc.run();
  return MakeError(ErrorCode::kTimeout, std::string("timed out ") + what);
}

Error NetworkError(const char* what, const error_code& ec) {
  return Error(ErrorCode::kNetwork, std::string(what) + ": " + ec.message());
}

void FillHeaders(const http::fields& fields, std::map<std::string, std::string>& out) {
  for (const auto& f : fields) out[Lower(f.name_string())] = std::string(f.value());
}

}  // namespace

std::string HttpTestClient::Response::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

Result<Object> HttpTestClient::Response::Json() const { return obj::Parse(body); }

struct HttpTestClient::Impl {
  explicit Impl(Options o) : options(std::move(o)) {}

  Status Init() {
    auto url = boost::urls::parse_absolute_uri(options.base_url);
    if (!url) return MakeError(ErrorCode::kConfig, "bad base URL " + options.base_url);
    tls = url->scheme() == "https";
    host = url->host_address();
    port = url->has_port() ? std::string(url->port()) : (tls ? "443" : "80");
    if (!tls) return Ok();
    ssl_ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    error_code ec;
    ssl_ctx->set_verify_mode(ssl::verify_peer, ec);
    if (!options.ca_pem.empty()) {
      ssl_ctx->add_certificate_authority(net::buffer(options.ca_pem), ec);
      if (ec) return MakeError(ErrorCode::kTls, "bad CA: " + ec.message());
    }
    if (!options.client_cert_pem.empty()) {
      ssl_ctx->use_certificate_chain(net::buffer(options.client_cert_pem), ec);
      if (ec) return MakeError(ErrorCode::kTls, "bad client certificate: " + ec.message());
      ssl_ctx->use_private_key(net::buffer(options.client_key_pem), ssl::context::pem, ec);
      if (ec) return MakeError(ErrorCode::kTls, "bad client key: " + ec.message());
    }
    ssl_ctx->set_verify_callback(ssl::host_name_verification(host), ec);
    return Ok();
  }

  Result<std::unique_ptr<Connection>> Connect() {
    auto c = std::make_unique<Connection>();
    tcp::resolver resolver(ioc);
    error_code ec;
    auto endpoints = resolver.resolve(host, port, ec);
    if (ec) return tl::unexpected(NetworkError("resolve", ec));
    if (tls) {
      c->tls = std::make_unique<ssl::stream<beast::tcp_stream>>(ioc, *ssl_ctx);
    } else {
      c->plain = std::make_unique<beast::tcp_stream>(ioc);
    }
    bool done = false;
    error_code result;
    c->Tcp().async_connect(endpoints, [&](const error_code& e, const tcp::endpoint&) {
      result = e;
      done = true;
    });
    if (auto s = RunUntil(ioc, *c, done, options.timeout, true, "connecting"); !s) {
      return tl::unexpected(s.error());
    }
    if (result) return tl::unexpected(NetworkError("connect", result));
    if (tls) {
      error_code addr_ec;
      net::ip::make_address(host, addr_ec);
      if (addr_ec) SSL_set_tlsext_host_name(c->tls->native_handle(), host.c_str());
      done = false;
      c->tls->async_handshake(ssl::stream_base::client, [&](const error_code& e) {
        result = e;
        done = true;
      });
      if (auto s = RunUntil(ioc, *c, done, options.timeout, true, "in TLS handshake"); !s) {
        return tl::unexpected(s.error());
      }
      if (result) return MakeError(ErrorCode::kTls, "TLS handshake: " + result.message());
    }
    return c;
  }

  http::request<http::string_body> MakeRequest(std::string_view method, std::string_view target,
                                               std::string_view body, const Headers& headers) {
    http::request<http::string_body> req;
    req.method_string(method);
    req.target(target);
    req.version(11);
    req.set(http::field::host, host + ":" + port);
    req.set(http::field::user_agent, "kubesim-test-client");
    req.set(http::field::accept, "application/json");
    if (!options.bearer_token.empty()) {
      req.set(http::field::authorization, "Bearer " + options.bearer_token);
    }
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    for (const auto& [name, value] : headers) req.set(name, value);
    req.body() = std::string(body);
    req.prepare_payload();
    return req;
  }

  Status Write(Connection& c, http::request<http::string_body>& req) {
    bool done = false;
    error_code result;
    c.Visit([&](auto& stream) {
      http::async_write(stream, req, [&](const error_code& e, size_t) {
        result = e;
        done = true;
      });
    });
    if (auto s = RunUntil(ioc, c, done, options.timeout, true, "writing the request"); !s) {
      return s;
    }
    if (result) return tl::unexpected(NetworkError("write", result));
    return Ok();
  }

  Result<Response> RoundTrip(Connection& c, std::string_view method, std::string_view target,
                             std::string_view body, const Headers& headers) {
    auto req = MakeRequest(method, target, body, headers);
    if (auto s = Write(c, req); !s) return tl::unexpected(s.error());
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    parser.skip(method == "HEAD");
    bool done = false;
    error_code result;
    c.Visit([&](auto& stream) {
      http::async_read(stream, c.buffer, parser, [&](const error_code& e, size_t) {
        result = e;
        done = true;
      });
    });
    if (auto s = RunUntil(ioc, c, done, options.timeout, true, "reading the response"); !s) {
      return tl::unexpected(s.error());
    }
    if (result) return tl::unexpected(NetworkError("read", result));
    Response r;
    auto& msg = parser.get();
    r.status = static_cast<int>(msg.result_int());
    FillHeaders(msg, r.headers);
    r.body = std::move(msg.body());
    if (!msg.keep_alive()) keep_alive_closed = true;
    return r;
  }

  Options options;
  net::io_context ioc;
  std::unique_ptr<ssl::context> ssl_ctx;
  bool tls = false;
  std::string host;
  std::string port;
  std::unique_ptr<Connection> connection;
  bool keep_alive_closed = false;
  std::optional<Error> init_error;
};

namespace {

class StreamImpl : public HttpTestClient::Stream {
 public:
  StreamImpl(net::io_context& ioc, std::unique_ptr<Connection> c)
      : ioc_(ioc), connection_(std::move(c)) {
    parser_.body_limit(boost::none);
    on_chunk_ = [this](uint64_t, std::string_view data, error_code&) {
      pending_.append(data);
      return data.size();
    };
    parser_.on_chunk_body(on_chunk_);
  }

  Status ReadHeader(std::chrono::milliseconds timeout) {
    bool done = false;
    error_code result;
    connection_->Visit([&](auto& stream) {
      http::async_read_header(stream, connection_->buffer, parser_,
                              [&](const error_code& e, size_t) {
                                result = e;
                                done = true;
                              });
    });
    if (auto s = RunUntil(ioc_, *connection_, done, timeout, true, "reading headers"); !s) {
      return s;
    }
    if (result) return tl::unexpected(NetworkError("read headers", result));
    headers_.clear();
    FillHeaders(parser_.get(), headers_);
    return Ok();
  }

  int status() const override { return static_cast<int>(parser_.get().result_int()); }

  std::string Header(const std::string& name) const override {
    auto it = headers_.find(name);
    return it == headers_.end() ? std::string() : it->second;
  }

  Result<std::optional<std::string>> ReadLine(std::chrono::milliseconds timeout) override {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      // Bytes of a non-chunked body land in the message body rather than in the callback.
      pending_ += parser_.get().body();
      parser_.get().body().clear();
      if (auto nl = pending_.find('\n'); nl != std::string::npos) {
        std::string line = pending_.substr(0, nl);
        pending_.erase(0, nl + 1);
        return std::optional<std::string>(std::move(line));
      }
      if (parser_.is_done()) {
        if (pending_.empty()) return std::optional<std::string>();
        std::string rest = std::move(pending_);
        pending_.clear();
        return std::optional<std::string>(std::move(rest));
      }
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return MakeError(ErrorCode::kTimeout, "no line before the deadline");
      bool done = false;
      error_code result;
      connection_->Visit([&](auto& stream) {
        http::async_read_some(stream, connection_->buffer, parser_,
                              [&](const error_code& e, size_t) {
                                result = e;
                                done = true;
                              });
      });
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
      if (auto s = RunUntil(ioc_, *connection_, done, left, false, "reading the stream"); !s) {
        return tl::unexpected(s.error());
      }
      if (result) {
        return tl::unexpected(NetworkError("stream closed before its end", result));
      }
    }
  }

 private:
  net::io_context& ioc_;
  std::unique_ptr<Connection> connection_;
  http::response_parser<http::string_body> parser_;
  std::function<size_t(uint64_t, std::string_view, error_code&)> on_chunk_;
  std::map<std::string, std::string> headers_;
  std::string pending_;
};

}  // namespace

HttpTestClient::HttpTestClient(Options options)
    : impl_(std::make_unique<Impl>(std::move(options))) {
  if (auto s = impl_->Init(); !s) impl_->init_error = s.error();
}

HttpTestClient::~HttpTestClient() = default;

void HttpTestClient::Disconnect() {
  if (impl_->connection) {
    impl_->connection->Close();
    impl_->connection.reset();
  }
}

Result<HttpTestClient::Response> HttpTestClient::Request(std::string_view method,
                                                         std::string_view target,
                                                         std::string_view body,
                                                         const Headers& headers) {
  if (impl_->init_error) return tl::unexpected(*impl_->init_error);
  // A kept-alive connection may have been closed by the server meanwhile: retry once on a new
  // one when a reused connection fails.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = impl_->connection != nullptr;
    if (!impl_->connection) {
      auto c = impl_->Connect();
      if (!c) return tl::unexpected(c.error());
      impl_->connection = std::move(*c);
    }
    impl_->keep_alive_closed = false;
    auto r = impl_->RoundTrip(*impl_->connection, method, target, body, headers);
    if (!r || impl_->keep_alive_closed) Disconnect();
    if (r || !reused || r.error().code() != ErrorCode::kNetwork) return r;
  }
  return MakeError(ErrorCode::kNetwork, "unreachable");
}

Result<HttpTestClient::Response> HttpTestClient::Get(std::string_view target,
                                                     const Headers& headers) {
  return Request("GET", target, {}, headers);
}

Result<HttpTestClient::Response> HttpTestClient::Post(std::string_view target, const Object& body) {
  return Request("POST", target, boost::json::serialize(body));
}

Result<HttpTestClient::Response> HttpTestClient::Put(std::string_view target, const Object& body) {
  return Request("PUT", target, boost::json::serialize(body));
}

Result<HttpTestClient::Response> HttpTestClient::Patch(std::string_view target,
                                                       std::string_view content_type,
                                                       std::string_view body) {
  return Request("PATCH", target, body, {{"Content-Type", std::string(content_type)}});
}

Result<HttpTestClient::Response> HttpTestClient::Delete(std::string_view target,
                                                        std::string_view body) {
  return Request("DELETE", target, body);
}

Result<std::unique_ptr<HttpTestClient::Stream>> HttpTestClient::OpenStream(std::string_view method,
                                                                           std::string_view target,
                                                                           const Headers& headers) {
  if (impl_->init_error) return tl::unexpected(*impl_->init_error);
  auto c = impl_->Connect();
  if (!c) return tl::unexpected(c.error());
  auto req = impl_->MakeRequest(method, target, {}, headers);
  if (auto s = impl_->Write(**c, req); !s) return tl::unexpected(s.error());
  auto stream = std::make_unique<StreamImpl>(impl_->ioc, std::move(*c));
  if (auto s = stream->ReadHeader(impl_->options.timeout); !s) return tl::unexpected(s.error());
  return std::unique_ptr<Stream>(std::move(stream));
}

}  // namespace vk::kubesim
