#include "kubelet/http_server.h"

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "hostclient/base/thread_name.h"

namespace vk::kubelet {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds kWriteTimeout{10};
constexpr size_t kMaxRequestBody = 64 * 1024;
constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

struct Reply {
  http::status status = http::status::ok;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

std::string OneLine(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

// kube-apiserver's health endpoint semantics, over our checks plus the built-in "ping".
Reply HealthReply(std::string_view endpoint, const HealthChecks* checks, std::string_view only,
                  bool verbose, const std::set<std::string, std::less<>>& excluded) {
  std::vector<HealthChecks::Outcome> outcomes;
  if (only.empty() || only == "ping") outcomes.push_back({"ping", Ok()});
  if (checks != nullptr) {
    for (auto& outcome : checks->Run(only)) outcomes.push_back(std::move(outcome));
  }
  if (!only.empty() && outcomes.empty()) {
    return {http::status::not_found, "text/plain; charset=utf-8",
            "no such check: " + std::string(only) + "\n"};
  }
  std::string listing;
  bool failed = false;
  for (const auto& outcome : outcomes) {
    if (excluded.contains(outcome.name)) {
      listing += "[+]" + outcome.name + " excluded: ok\n";
    } else if (outcome.status) {
      listing += "[+]" + outcome.name + " ok\n";
    } else {
      failed = true;
      listing +=
          "[-]" + outcome.name + " failed: " + OneLine(outcome.status.error().message()) + "\n";
    }
  }
  Reply reply;
  if (failed) {
    reply.status = http::status::internal_server_error;
    if (!verbose) {
      // Without ?verbose only the failures are listed, which is what a person debugging wants.
      std::string failures;
      std::istringstream lines(listing);
      for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("[-]")) failures += line + "\n";
      }
      listing = std::move(failures);
    }
    reply.body = listing + std::string(endpoint) + " check failed\n";
  } else if (verbose) {
    reply.body = listing + std::string(endpoint) + " check passed\n";
  } else {
    reply.body = "ok";
  }
  return reply;
}

}  // namespace

struct HttpServer::Impl {
  struct Session {
    explicit Session(tcp::socket socket) : stream(std::move(socket)) {}
    beast::tcp_stream stream;
    bool reading = false;  // waiting for a request: safe to close at shutdown
  };

  Options options;
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  uint16_t port = 0;
  std::thread thread;
  std::once_flag stop_once;
  // Owned by the I/O thread.
  bool stopping = false;
  std::set<std::shared_ptr<Session>> sessions;
  asio::steady_timer grace_timer{ioc};

  Reply Handle(const http::request<http::string_body>& request) const;
  asio::awaitable<void> AcceptLoop();
  asio::awaitable<void> Serve(std::shared_ptr<Session> session);
  void BeginStop();
};

Reply HttpServer::Impl::Handle(const http::request<http::string_body>& request) const {
  auto url = boost::urls::parse_origin_form(std::string_view(request.target()));
  if (!url) return {http::status::bad_request, "text/plain; charset=utf-8", "bad request target\n"};
  const std::string path = url->path();
  bool verbose = false;
  std::set<std::string, std::less<>> excluded;
  for (const auto& param : url->params()) {
    if (param.key == "verbose") verbose = param.value.empty() || param.value != "false";
    if (param.key == "exclude") excluded.insert(param.value);
  }

  if (path == "/metrics") {
    std::vector<prometheus::MetricFamily> families;
    for (const prometheus::Collectable* collectable : options.metrics) {
      auto collected = collectable->Collect();
      families.insert(families.end(), std::make_move_iterator(collected.begin()),
                      std::make_move_iterator(collected.end()));
    }
    return {http::status::ok, kMetricsContentType,
            prometheus::TextSerializer().Serialize(families)};
  }
  for (auto [prefix, checks] : {std::pair{std::string_view("/livez"), options.liveness},
                                std::pair{std::string_view("/healthz"), options.liveness},
                                std::pair{std::string_view("/readyz"), options.readiness}}) {
    if (path == prefix) {
      return HealthReply(prefix.substr(1), checks, {}, verbose, excluded);
    }
    if (path.starts_with(prefix) && path.size() > prefix.size() + 1 && path[prefix.size()] == '/') {
      return HealthReply(prefix.substr(1), checks, std::string_view(path).substr(prefix.size() + 1),
                         verbose, excluded);
    }
  }
  return {http::status::not_found, "text/plain; charset=utf-8", "404 page not found\n"};
}

asio::awaitable<void> HttpServer::Impl::AcceptLoop() {
  asio::steady_timer retry_timer(ioc);
  while (!stopping) {
    auto [ec, socket] = co_await acceptor.async_accept(kUseTuple);
    if (stopping || ec == asio::error::operation_aborted) break;
    if (ec) {
      // Out of descriptors or similar: back off briefly instead of spinning on the error.
      spdlog::warn("http server: accept failed: {}", ec.message());
      retry_timer.expires_after(std::chrono::milliseconds(100));
      co_await retry_timer.async_wait(kUseTuple);
      continue;
    }
    auto session = std::make_shared<Session>(std::move(socket));
    sessions.insert(session);
    asio::co_spawn(ioc, Serve(session), asio::detached);
  }
}

asio::awaitable<void> HttpServer::Impl::Serve(std::shared_ptr<Session> session) {
  beast::flat_buffer buffer;
  while (!stopping) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(kMaxRequestBody);
    session->stream.expires_after(options.idle_timeout);
    session->reading = true;
    auto [read_ec, read_bytes] =
        co_await http::async_read(session->stream, buffer, parser, kUseTuple);
    session->reading = false;
    if (read_ec) break;
    const http::request<http::string_body>& request = parser.get();

    Reply reply;
    const bool head = request.method() == http::verb::head;
    if (request.method() != http::verb::get && !head) {
      reply = {http::status::method_not_allowed, "text/plain; charset=utf-8",
               "method not allowed\n"};
    } else {
      try {
        reply = Handle(request);
      } catch (const std::exception& e) {
        spdlog::error("http server: {} {}: {}", std::string_view(request.method_string()),
                      std::string_view(request.target()), e.what());
        reply = {http::status::internal_server_error, "text/plain; charset=utf-8",
                 "internal error\n"};
      }
    }
    http::response<http::string_body> response(reply.status, request.version());
    response.set(http::field::server, "vkubelet");
    response.set(http::field::content_type, reply.content_type);
    response.set("X-Content-Type-Options", "nosniff");
    if (reply.status == http::status::method_not_allowed) {
      response.set(http::field::allow, "GET, HEAD");
    }
    response.keep_alive(request.keep_alive() && !stopping);
    response.body() = std::move(reply.body);
    response.prepare_payload();
    // A HEAD response carries the length of the body it leaves out.
    if (head) response.body().clear();

    session->stream.expires_after(kWriteTimeout);
    auto [write_ec, written] = co_await http::async_write(session->stream, response, kUseTuple);
    if (write_ec || !response.keep_alive()) break;
  }
  beast::error_code ignored;
  session->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  session->stream.socket().close(ignored);
  sessions.erase(session);
  if (stopping && sessions.empty()) grace_timer.cancel();
}

void HttpServer::Impl::BeginStop() {
  stopping = true;
  beast::error_code ignored;
  acceptor.close(ignored);
  for (const auto& session : sessions) {
    if (session->reading) session->stream.socket().close(ignored);
  }
  if (sessions.empty()) return;
  // Requests in progress get the grace period; then everything is abandoned.
  grace_timer.expires_after(options.shutdown_grace);
  grace_timer.async_wait([this](beast::error_code ec) {
    if (!ec) ioc.stop();
  });
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(Options options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  const std::string host = impl->options.host.empty() ? "0.0.0.0" : impl->options.host;
  const std::string where = host + ":" + std::to_string(impl->options.port);
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) {
    return MakeError(ErrorCode::kConfig, "http server: \"" + host + "\" is not an IP address");
  }
  const tcp::endpoint endpoint(address, impl->options.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return MakeError(ErrorCode::kUnavailableLocally,
                     "http server: cannot listen on " + where + ": " + ec.message());
  }
  impl->port = impl->acceptor.local_endpoint().port();
  Impl* raw = impl.get();
  asio::co_spawn(raw->ioc, raw->AcceptLoop(), asio::detached);
  raw->thread = std::thread([raw] {
    SetCurrentThreadName("http-server");
    raw->ioc.run();
  });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

uint16_t HttpServer::port() const { return impl_->port; }

void HttpServer::Stop() {
  std::call_once(impl_->stop_once, [this] {
    asio::post(impl_->ioc, [impl = impl_.get()] { impl->BeginStop(); });
    // run() returns once the acceptor and the last session are done, or when the grace timer
    // gives up on them.
    impl_->thread.join();
  });
}

}  // namespace vk::kubelet
