#include "tests/kubesim/api_server.h"

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include "tests/kubesim/api_errors.h"
#include "tests/kubesim/scheduler.h"
#include "tests/kubesim/subresources.h"
#include "tests/kubesim/workload_controllers.h"

namespace vk::kubesim {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

constexpr auto kTuple = net::as_tuple(net::use_awaitable);
constexpr std::chrono::seconds kHandshakeTimeout{10};
constexpr std::chrono::seconds kIoTimeout{60};
constexpr size_t kHeaderLimit = 1024 * 1024;
// Bodies up to this size are read in full even when over the configured limit, so that the
// client gets its 413 instead of a reset connection; larger ones end the connection.
constexpr uint64_t kDrainLimit = 64 * 1024 * 1024;

// Where a session can be reached from other threads (Stop, DropWatches). Every field is touched
// only on the session's strand.
struct SessionControl {
  explicit SessionControl(net::any_io_executor ex) : executor(std::move(ex)) {}
  net::any_io_executor executor;
  std::function<void()> close_socket;
  net::steady_timer* waiting = nullptr;  // the timer the session waits on now
  bool closing = false;
  bool watching = false;

  void Close() {
    closing = true;
    if (waiting != nullptr) waiting->cancel();
    if (close_socket) close_socket();
  }
};

// Wakes a watch stream's coroutine when its Watcher has events. Notify() runs on Storage's writer
// threads; the timer is only touched on the session's strand.
struct WatchSignal {
  explicit WatchSignal(net::any_io_executor ex) : timer(std::move(ex)) {}
  net::steady_timer timer;
  std::atomic<bool> pending{false};
  bool client_gone = false;  // strand only
  std::mutex mutex;
  bool alive = true;

  static void Notify(const std::weak_ptr<WatchSignal>& weak) {
    auto self = weak.lock();
    if (!self || self->pending.exchange(true)) return;
    std::lock_guard lock(self->mutex);
    if (!self->alive) return;
    net::post(self->timer.get_executor(), [self] { self->timer.cancel(); });
  }
};

// Learns of a client that hangs up while a watch writes nothing: the socket turns readable (EOF,
// a reset, or bytes the watch protocol does not expect). Readiness alone proves nothing: with
// several io threads, one can deliver an epoll event for bytes another already read, so the
// socket is peeked and the wait renewed when there is nothing to read. Runs on the session's
// strand; `socket` is touched only while the watch is alive, which ends before the socket goes.
void WatchForHangUp(tcp::socket& socket, std::shared_ptr<WatchSignal> signal) {
  socket.async_wait(
      tcp::socket::wait_read, [&socket, signal](const boost::system::error_code& ec) mutable {
        if (ec) return;
        {
          std::lock_guard lock(signal->mutex);
          if (!signal->alive) return;
        }
        char byte;
        const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
          WatchForHangUp(socket, std::move(signal));
          return;
        }
        signal->client_gone = true;
        signal->timer.cancel();
      });
}

std::string AuditId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const uint64_t a = rng(), b = rng();
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

std::string Asn1ToUtf8(ASN1_STRING* data) {
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) return "";
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

// The identity of a client certificate that verified against the client CA (kube's x509
// authenticator: CN is the user, each O a group). Unverified certificates give none.
Credentials PeerCredentials(SSL* ssl) {
  Credentials c;
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return c;
  if (SSL_get_verify_result(ssl) == X509_V_OK) {
    X509_NAME* subject = X509_get_subject_name(cert);
    int idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (idx >= 0) {
      std::string cn = Asn1ToUtf8(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx)));
      if (!cn.empty()) c.cert_common_name = std::move(cn);
    }
    for (idx = -1; (idx = X509_NAME_get_index_by_NID(subject, NID_organizationName, idx)) >= 0;) {
      c.cert_organizations.push_back(
          Asn1ToUtf8(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx))));
    }
  }
  X509_free(cert);
  return c;
}

std::optional<std::string> BearerToken(std::string_view header) {
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  auto space = header.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  std::string scheme(header.substr(0, space));
  for (char& ch : scheme) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (scheme != "bearer") return std::nullopt;
  std::string_view token = header.substr(space + 1);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
  if (token.empty() || token.find(' ') != std::string_view::npos) return std::nullopt;
  return std::string(token);
}

void AppendChunk(std::string_view data, std::string& out) {
  char size[20];
  std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
  out += size;
  out += data;
  out += "\r\n";
}

Result<std::unique_ptr<ssl::context>> MakeSslContext(const ApiServer::Options& o) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use,
                   ec);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  ctx->use_certificate_chain(net::buffer(o.tls_cert_pem), ec);
  if (ec) return MakeError(ErrorCode::kConfig, "kubesim: bad TLS certificate: " + ec.message());
  ctx->use_private_key(net::buffer(o.tls_key_pem), ssl::context::pem, ec);
  if (ec) return MakeError(ErrorCode::kConfig, "kubesim: bad TLS key: " + ec.message());
  if (!o.client_ca_pem.empty()) {
    ctx->add_certificate_authority(net::buffer(o.client_ca_pem), ec);
    if (ec) return MakeError(ErrorCode::kConfig, "kubesim: bad client CA: " + ec.message());
    // Name the CAs in the CertificateRequest, as Go clients pick their certificate by them.
    BIO* bio = BIO_new_mem_buf(o.client_ca_pem.data(), static_cast<int>(o.client_ca_pem.size()));
    while (X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
      SSL_CTX_add_client_CA(native, ca);
      X509_free(ca);
    }
    BIO_free(bio);
    ERR_clear_error();
    // Request a certificate without requiring one (tokens work too) and keep the handshake
    // going when it does not verify: the request is then simply not authenticated by it, as
    // kube-apiserver's x509 authenticator does.
    ctx->set_verify_mode(ssl::verify_peer, ec);
    ctx->set_verify_callback([](bool, ssl::verify_context&) { return true; }, ec);
    static const unsigned char kSessionContext[] = "kubesim";
    SSL_CTX_set_session_id_context(native, kSessionContext, sizeof(kSessionContext) - 1);
  }
  return ctx;
}

// The review resources this server answers itself are served whatever the catalog says:
// kubectl auth whoami needs selfsubjectreviews, namespaced checks localsubjectaccessreviews.
ResourceCatalog WithReviewResources(ResourceCatalog catalog) {
  auto add = [&](std::string group, std::string resource, std::string kind, std::string singular,
                 bool namespaced) {
    if (catalog.Find(group, "v1", resource) != nullptr) return;
    ResourceInfo r;
    r.group = std::move(group);
    r.version = "v1";
    r.resource = std::move(resource);
    r.kind = std::move(kind);
    r.singular = std::move(singular);
    r.namespaced = namespaced;
    r.verbs = {"create"};
    catalog.Add(std::move(r));
  };
  add("authentication.k8s.io", "tokenreviews", "TokenReview", "tokenreview", false);
  add("authentication.k8s.io", "selfsubjectreviews", "SelfSubjectReview", "selfsubjectreview",
      false);
  add("authorization.k8s.io", "selfsubjectaccessreviews", "SelfSubjectAccessReview",
      "selfsubjectaccessreview", false);
  add("authorization.k8s.io", "subjectaccessreviews", "SubjectAccessReview", "subjectaccessreview",
      false);
  add("authorization.k8s.io", "localsubjectaccessreviews", "LocalSubjectAccessReview",
      "localsubjectaccessreview", true);
  return catalog;
}

}  // namespace

struct ApiServer::Impl {
  explicit Impl(Options o)
      : options(std::move(o)),
        catalog(WithReviewResources(options.catalog)),
        storage(Storage::Create(catalog, options.storage)),
        authenticator(options.allow_anonymous, options.clock),
        authorizer(options.authz_default_allow),
        faults(options.fault_injector ? options.fault_injector
                                      : std::make_shared<FaultInjector>()) {
    for (const auto& [token, user] : options.tokens) authenticator.AddToken(token, user);
    for (const auto& rule : options.authz_rules) authorizer.AddRule(rule);
    authenticator.SetBindingValidator([this](const ServiceAccountBinding& b) {
      return ServiceAccountBindingValid(*storage, catalog, b);
    });
  }

  Result<uint16_t> Start();
  void Stop();
  std::string Url() const;

  net::awaitable<void> AcceptLoop();
  net::awaitable<void> Session(tcp::socket socket);
  template <class Stream>
  net::awaitable<void> Serve(Stream& stream, SessionControl& control, const Credentials& peer);
  template <class Stream>
  net::awaitable<bool> StreamWatch(Stream& stream, SessionControl& control, unsigned version,
                                   WatchPlan plan);
  template <class Stream>
  net::awaitable<bool> WriteResponse(Stream& stream, unsigned version, bool keep_alive, bool head,
                                     HttpResponse response);
  std::shared_ptr<SessionControl> Register(net::any_io_executor ex);
  void Unregister(const std::shared_ptr<SessionControl>& control);
  void ForEachSession(std::function<void(SessionControl&)> fn);

  Options options;
  ResourceCatalog catalog;
  std::unique_ptr<Storage> storage;
  // Declared after storage, so destroyed (stopped) before it.
  std::unique_ptr<WorkloadControllers> workload_controllers;
  std::unique_ptr<Scheduler> scheduler;
  Authenticator authenticator;
  Authorizer authorizer;
  FaultInjectorPtr faults;

  std::mutex lifecycle_mutex;  // Start/Stop
  std::atomic<bool> running{false};
  std::atomic<bool> stopping{false};
  std::atomic<uint16_t> port{0};
  std::unique_ptr<net::io_context> ioc;
  std::unique_ptr<ssl::context> ssl_ctx;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<RequestHandler> handler;
  std::vector<std::thread> threads;
  FaultInjector::Subscription drop_subscription = 0;

  std::mutex sessions_mutex;
  std::condition_variable sessions_cv;
  std::unordered_map<SessionControl*, std::shared_ptr<SessionControl>> sessions;
  bool accepting = false;

  std::atomic<size_t> active_watches{0};
  std::atomic<uint64_t> requests_served{0};
};

std::string ApiServer::Impl::Url() const {
  std::string host = options.bind_address;
  if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
  if (host == "::") host = "::1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  const bool tls = !options.tls_cert_pem.empty();
  return std::string(tls ? "https://" : "http://") + host + ":" + std::to_string(port.load());
}

std::shared_ptr<SessionControl> ApiServer::Impl::Register(net::any_io_executor ex) {
  auto control = std::make_shared<SessionControl>(std::move(ex));
  std::lock_guard lock(sessions_mutex);
  sessions[control.get()] = control;
  return control;
}

void ApiServer::Impl::Unregister(const std::shared_ptr<SessionControl>& control) {
  std::lock_guard lock(sessions_mutex);
  sessions.erase(control.get());
  sessions_cv.notify_all();
}

void ApiServer::Impl::ForEachSession(std::function<void(SessionControl&)> fn) {
  std::vector<std::shared_ptr<SessionControl>> all;
  {
    std::lock_guard lock(sessions_mutex);
    for (const auto& [ptr, control] : sessions) all.push_back(control);
  }
  for (auto& control : all) {
    net::post(control->executor, [control, fn] { fn(*control); });
  }
}

Result<uint16_t> ApiServer::Impl::Start() {
  std::lock_guard lifecycle(lifecycle_mutex);
  if (running) return MakeError(ErrorCode::kUnavailableLocally, "kubesim: already running");
  if (options.workload_controllers && !workload_controllers) {
    auto controllers =
        std::make_unique<WorkloadControllers>(*storage, catalog, WorkloadControllers::Options{});
    if (auto s = controllers->Start(); !s) return tl::unexpected(s.error());
    workload_controllers = std::move(controllers);
  }
  if (options.scheduler && !scheduler) {
    auto started = std::make_unique<Scheduler>(*storage, catalog, Scheduler::Options{});
    if (auto s = started->Start(); !s) return tl::unexpected(s.error());
    scheduler = std::move(started);
  }
  const bool tls = !options.tls_cert_pem.empty() || !options.tls_key_pem.empty();
  if (tls) {
    auto ctx = MakeSslContext(options);
    if (!ctx) return tl::unexpected(ctx.error());
    ssl_ctx = std::move(*ctx);
  }
  boost::system::error_code ec;
  auto address = net::ip::make_address(options.bind_address, ec);
  if (ec) {
    return MakeError(ErrorCode::kConfig,
                     "kubesim: bad bind address " + options.bind_address + ": " + ec.message());
  }
  ioc = std::make_unique<net::io_context>(std::max(1, options.io_threads));
  acceptor = std::make_unique<tcp::acceptor>(net::make_strand(*ioc));
  // A restart keeps the port it had, so that clients reconnect to the same URL.
  const tcp::endpoint endpoint(address, options.port != 0 ? options.port : port.load());
  auto fail = [&](const char* what) {
    acceptor.reset();
    ioc.reset();
    ssl_ctx.reset();
    return MakeError(ErrorCode::kNetwork,
                     std::string("kubesim: cannot ") + what + " " + options.bind_address + ":" +
                         std::to_string(endpoint.port()) + ": " + ec.message());
  };
  acceptor->open(endpoint.protocol(), ec);
  if (ec) return fail("open");
  acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (ec) return fail("configure");
  acceptor->bind(endpoint, ec);
  if (ec) return fail("bind");
  acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen");
  port = acceptor->local_endpoint(ec).port();

  RequestHandler::Options handler_options;
  handler_options.server_address =
      (options.bind_address == "0.0.0.0" ? std::string("127.0.0.1") : options.bind_address) + ":" +
      std::to_string(port.load());
  handler_options.min_request_timeout = options.min_request_timeout;
  handler_options.pod_logs = options.pod_logs;
  handler_options.pod_log_streams = options.pod_log_streams;
  handler = std::make_unique<RequestHandler>(*storage, catalog, authenticator, authorizer, *faults,
                                             std::move(handler_options));
  drop_subscription = faults->SubscribeDropWatches([this] {
    ForEachSession([](SessionControl& control) {
      if (control.watching) control.Close();
    });
  });
  stopping = false;
  {
    std::lock_guard lock(sessions_mutex);
    accepting = true;
  }
  net::co_spawn(acceptor->get_executor(), AcceptLoop(), [this](std::exception_ptr e) {
    if (e) spdlog::error("kubesim: accept loop failed");
    std::lock_guard lock(sessions_mutex);
    accepting = false;
    sessions_cv.notify_all();
  });
  for (int i = 0; i < std::max(1, options.io_threads); ++i) {
    threads.emplace_back([this] { ioc->run(); });
  }
  running = true;
  spdlog::info("kubesim listening on {}", Url());
  return port.load();
}

void ApiServer::Impl::Stop() {
  std::lock_guard lifecycle(lifecycle_mutex);
  if (!running) return;
  stopping = true;
  faults->Unsubscribe(drop_subscription);
  net::post(acceptor->get_executor(), [this] {
    boost::system::error_code ec;
    acceptor->close(ec);
  });
  {
    std::unique_lock lock(sessions_mutex);
    sessions_cv.wait_for(lock, std::chrono::seconds(5), [this] { return !accepting; });
  }
  ForEachSession([](SessionControl& control) { control.Close(); });
  {
    std::unique_lock lock(sessions_mutex);
    if (!sessions_cv.wait_for(lock, std::chrono::seconds(5), [this] { return sessions.empty(); })) {
      spdlog::warn("kubesim: {} connections did not close in time", sessions.size());
    }
  }
  ioc->stop();
  for (auto& t : threads) t.join();
  threads.clear();
  acceptor.reset();
  ioc.reset();
  handler.reset();
  ssl_ctx.reset();
  running = false;
}

net::awaitable<void> ApiServer::Impl::AcceptLoop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(net::make_strand(*ioc), kTuple);
    if (stopping || !acceptor->is_open()) break;
    if (ec) {
      // Out of descriptors or a reset before accept: pause briefly rather than spin.
      net::steady_timer pause(co_await net::this_coro::executor, std::chrono::milliseconds(20));
      co_await pause.async_wait(kTuple);
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto executor = socket.get_executor();
    net::co_spawn(executor, Session(tcp::socket(std::move(socket))), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::error("kubesim: connection failed: {}", ex.what());
      }
    });
  }
}

net::awaitable<void> ApiServer::Impl::Session(tcp::socket socket) {
  auto control = Register(socket.get_executor());
  // Runs after the stream is gone (it is declared first): nothing may reach the stream then.
  struct Unregisterer {
    Impl* impl;
    std::shared_ptr<SessionControl> control;
    ~Unregisterer() {
      control->close_socket = nullptr;
      control->waiting = nullptr;
      impl->Unregister(control);
    }
  } unregisterer{this, control};
  if (stopping) co_return;
  if (ssl_ctx) {
    ssl::stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *ssl_ctx);
    control->close_socket = [&stream] { beast::get_lowest_layer(stream).close(); };
    beast::get_lowest_layer(stream).expires_after(kHandshakeTimeout);
    auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, kTuple);
    if (ec || control->closing) co_return;
    const Credentials peer = PeerCredentials(stream.native_handle());
    co_await Serve(stream, *control, peer);
  } else {
    beast::tcp_stream stream(std::move(socket));
    control->close_socket = [&stream] { stream.close(); };
    co_await Serve(stream, *control, Credentials{});
  }
}

template <class Stream>
net::awaitable<bool> ApiServer::Impl::WriteResponse(Stream& stream, unsigned version,
                                                    bool keep_alive, bool head,
                                                    HttpResponse response) {
  http::response<http::string_body> res{static_cast<http::status>(response.status), version};
  res.set(http::field::content_type, response.content_type);
  res.set(http::field::cache_control, "no-cache, private");
  res.set("Audit-Id", AuditId());
  for (auto& [name, value] : response.headers) res.set(name, value);
  res.keep_alive(keep_alive);
  if (head) {
    res.content_length(response.body.size());
  } else {
    res.body() = std::move(response.body);
    res.prepare_payload();
  }
  beast::get_lowest_layer(stream).expires_after(kIoTimeout);
  auto [ec, n] = co_await http::async_write(stream, res, kTuple);
  co_return !ec;
}

template <class Stream>
net::awaitable<void> ApiServer::Impl::Serve(Stream& stream, SessionControl& control,
                                            const Credentials& peer) {
  beast::flat_buffer buffer;
  auto& tcp_layer = beast::get_lowest_layer(stream);
  while (!control.closing) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(std::max<uint64_t>(kDrainLimit, options.max_request_body_bytes));
    tcp_layer.expires_after(options.idle_timeout);
    auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, kTuple);
    if (!ec && parser.get()[http::field::expect] == "100-continue") {
      http::response<http::empty_body> cont{http::status::continue_, parser.get().version()};
      tcp_layer.expires_after(kIoTimeout);
      std::tie(ec, n) = co_await http::async_write(stream, cont, kTuple);
    }
    if (!ec && !parser.is_done()) {
      tcp_layer.expires_after(kIoTimeout);
      std::tie(ec, n) = co_await http::async_read(stream, buffer, parser, kTuple);
    }
    const bool too_large = ec == http::error::body_limit ||
                           (!ec && parser.get().body().size() > options.max_request_body_bytes);
    if (too_large) {
      Error e(ErrorCode::kRequestTooLarge, "Request entity too large: limit is " +
                                               std::to_string(options.max_request_body_bytes));
      e.WithReason("RequestEntityTooLarge").WithHttpStatus(413);
      const bool keep_alive = !ec && parser.get().keep_alive();
      if (!co_await WriteResponse(stream, parser.get().version(), keep_alive, false,
                                  RequestHandler::ErrorResponse(e)) ||
          !keep_alive) {
        break;
      }
      continue;
    }
    if (ec || control.closing) break;

    auto& req = parser.get();
    const unsigned version = req.version();
    const bool keep_alive = req.keep_alive();
    const bool head = req.method() == http::verb::head;
    HttpRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    request.content_type = std::string(req[http::field::content_type]);
    request.accept = std::string(req[http::field::accept]);
    request.body = std::move(req.body());
    request.credentials = peer;
    request.credentials.bearer_token = BearerToken(req[http::field::authorization]);

    PreparedRequest prepared = handler->Prepare(std::move(request));
    if (prepared.delay.count() > 0) {
      net::steady_timer delay(co_await net::this_coro::executor, prepared.delay);
      control.waiting = &delay;
      co_await delay.async_wait(kTuple);
      control.waiting = nullptr;
      if (control.closing) break;
    }
    HandlerResult result = handler->Execute(prepared);
    ++requests_served;
    spdlog::debug("kubesim: {} {} {} user={}", prepared.http.method, prepared.http.target,
                  result.response.status, prepared.user.name);
    if (result.watch) {
      if (!co_await StreamWatch(stream, control, version, std::move(*result.watch))) break;
      // Watch streams announce Connection: close; the connection ends with the stream.
      break;
    }
    if (!co_await WriteResponse(stream, version, keep_alive, head, std::move(result.response))) {
      break;
    }
    if (!keep_alive) break;
  }
}

template <class Stream>
net::awaitable<bool> ApiServer::Impl::StreamWatch(Stream& stream, SessionControl& control,
                                                  unsigned version, WatchPlan plan) {
  auto& tcp_layer = beast::get_lowest_layer(stream);
  auto signal = std::make_shared<WatchSignal>(co_await net::this_coro::executor);
  ++active_watches;
  control.watching = true;
  struct Cleanup {
    Impl* impl;
    SessionControl& control;
    std::shared_ptr<WatchSignal> signal;
    WatcherPtr watcher;
    ~Cleanup() {
      {
        std::lock_guard lock(signal->mutex);
        signal->alive = false;
      }
      if (watcher) {
        watcher->SetNotify(nullptr);
        watcher->Close();
      }
      control.watching = false;
      control.waiting = nullptr;
      --impl->active_watches;
    }
  } cleanup{this, control, signal, plan.watcher};

  http::response<http::empty_body> res{http::status::ok, version};
  res.set(http::field::content_type, plan.content_type);
  res.set(http::field::cache_control, "no-cache, private");
  res.set("Audit-Id", AuditId());
  res.chunked(true);
  res.keep_alive(false);
  http::response_serializer<http::empty_body> serializer{res};
  tcp_layer.expires_after(kIoTimeout);
  auto [ec, n] = co_await http::async_write_header(stream, serializer, kTuple);
  if (ec) co_return false;

  std::string out;
  auto flush = [&]() -> net::awaitable<bool> {
    if (out.empty()) co_return true;
    tcp_layer.expires_after(kIoTimeout);
    auto [write_ec, written] = co_await net::async_write(stream, net::buffer(out), kTuple);
    tcp_layer.expires_never();
    out.clear();
    co_return !write_ec;
  };
  auto append_lines = [&out](std::string_view lines) {
    size_t start = 0;
    while (start < lines.size()) {
      size_t end = lines.find('\n', start);
      end = end == std::string_view::npos ? lines.size() : end + 1;
      AppendChunk(lines.substr(start, end - start), out);
      start = end;
    }
  };
  append_lines(plan.initial_events);
  if (!co_await flush()) co_return false;

  const auto deadline = std::chrono::steady_clock::now() + plan.timeout;
  if (plan.watcher) {
    plan.watcher->SetNotify(
        [weak = std::weak_ptr<WatchSignal>(signal)] { WatchSignal::Notify(weak); });
    WatchForHangUp(tcp_layer.socket(), signal);
    const bool bookmarks = plan.bookmarks && options.bookmark_interval.count() > 0;
    auto next_bookmark = std::chrono::steady_clock::now() + options.bookmark_interval;
    std::vector<WatchEventRecord> events;
    std::string line;
    for (;;) {
      signal->pending = false;
      events.clear();
      const bool open = plan.watcher->Drain(events);
      for (const auto& event : events) {
        line.clear();
        plan.encode(event, line);
        if (!line.empty()) AppendChunk(line, out);
      }
      if (!co_await flush()) co_return false;
      if (control.closing || signal->client_gone) co_return false;
      if (!open) break;
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) break;
      if (bookmarks && now >= next_bookmark) {
        plan.watcher->RequestBookmark();
        next_bookmark = now + options.bookmark_interval;
        continue;
      }
      // Drain again after a batch: a Close() that came with the events found `pending` already
      // set and woke nobody, and only an empty Drain reports it.
      if (signal->pending || !events.empty()) continue;
      signal->timer.expires_at(bookmarks ? std::min(deadline, next_bookmark) : deadline);
      control.waiting = &signal->timer;
      co_await signal->timer.async_wait(kTuple);
      control.waiting = nullptr;
    }
  }
  // A clean end: the terminating chunk, as kube-apiserver ends a watch at its timeout.
  out += "0\r\n\r\n";
  co_return co_await flush();
}

ApiServer::ApiServer(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}
ApiServer::ApiServer() : ApiServer(Options{}) {}
ApiServer::~ApiServer() { Stop(); }

Result<uint16_t> ApiServer::Start() { return impl_->Start(); }
void ApiServer::Stop() { impl_->Stop(); }
bool ApiServer::running() const { return impl_->running; }
uint16_t ApiServer::port() const { return impl_->port; }
std::string ApiServer::url() const { return impl_->Url(); }
const ApiServer::Options& ApiServer::options() const { return impl_->options; }
Storage& ApiServer::storage() { return *impl_->storage; }
const ResourceCatalog& ApiServer::catalog() const { return impl_->catalog; }
Authenticator& ApiServer::authenticator() { return impl_->authenticator; }
Authorizer& ApiServer::authorizer() { return impl_->authorizer; }
FaultInjector& ApiServer::faults() { return *impl_->faults; }
size_t ApiServer::active_watches() const { return impl_->active_watches; }
uint64_t ApiServer::requests_served() const { return impl_->requests_served; }

void ApiServer::AddToken(const std::string& token, UserInfo user) {
  impl_->authenticator.AddToken(token, std::move(user));
}

void ApiServer::AddAuthzRule(AuthzRule rule) { impl_->authorizer.AddRule(std::move(rule)); }

Result<std::string> ApiServer::IssueServiceAccountToken(const std::string& ns,
                                                        const std::string& name,
                                                        std::chrono::seconds expiration) {
  const ResourceInfo* accounts = impl_->catalog.Find("", "v1", "serviceaccounts");
  if (accounts == nullptr) {
    return MakeError(ErrorCode::kNotFound, "serviceaccounts are not served");
  }
  auto account = impl_->storage->GetShared(*accounts, ns, name);
  if (!account) return tl::unexpected(account.error());
  ServiceAccountBinding binding;
  binding.ns = ns;
  binding.name = name;
  binding.uid = std::string(obj::Uid(**account));
  return impl_->authenticator.IssueServiceAccountToken(binding, expiration, {});
}

}  // namespace vk::kubesim
