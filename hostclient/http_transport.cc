// HTTP/1.1 transport to one API server over Boost.Beast, with a pool of keep-alive connections.
//
// Threading model: the transport owns an io_context run by options.io_threads threads. Every
// connection has its own strand; all I/O on a connection and everything that touches its socket
// runs on that strand (coroutines are spawned on it, cancellations are posted to it). The public
// API is blocking: it spawns a coroutine on the connection's strand and waits on a future. The
// pool bookkeeping (idle list, open count, in-use set) is guarded by one mutex.
//
// The exception, for speed: a request on an established keep-alive connection is written and read
// by the calling thread itself with blocking I/O, which saves two thread switches per request (the
// hand-off to the io thread and back). The connection is then the caller's alone (no operation is
// pending on it); a DeadlineWatchdog enforces the request's deadline and a cancellation shuts the
// socket down instead of closing it, so that the blocked call returns and the descriptor stays
// valid until the caller lets go. Connecting, TLS handshakes and streams stay on the io thread.
//
// Ownership: TransportImpl is shared by the Transport and the ByteStreams it hands out, so that a
// stream outliving its transport still owns a valid io_context for its socket. Destroying the
// Transport stops the threads; afterwards everything left is torn down inline.

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <future>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>

#include "hostclient/base/thread_name.h"
#include "hostclient/deadline_watchdog.h"
#include "hostclient/server_url.h"
#include "hostclient/tls_context.h"
#include "hostclient/transport.h"

namespace vk::hostclient {

std::string_view FindHeader(const HttpHeaders& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (boost::beast::iequals(key, name)) return value;
  }
  return {};
}

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using TimePoint = SteadyClock::time_point;
using Strand = asio::strand<asio::io_context::executor_type>;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using RequestMessage = http::request<http::span_body<const char>>;
using StreamParser = http::response_parser<http::buffer_body>;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// A list response of tens of thousands of pods is tens of MiB; anything near this is a bug or an
// attack, not data.
constexpr uint64_t kMaxBodyBytes = uint64_t{512} << 20;
constexpr uint32_t kMaxHeaderBytes = 1u << 20;
constexpr size_t kStreamChunkBytes = 64 * 1024;
constexpr size_t kReadBufferBytes = 16 * 1024 + 512;  // a TLS record and its framing

std::string FormatDuration(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + "s";
  return std::to_string(d.count()) + "ms";
}

// RFC 9110 token characters, for method and header names.
bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char ch : s) {
    if (std::isalnum(ch)) continue;
    if (std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(ch)) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

bool IsFieldValue(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// One connection to the server and the state that must survive between requests on it. All
// fields except `lease` are touched only on `strand`, or by the one thread that holds the
// connection while no operation is pending on it (pool bookkeeping under the transport mutex).
struct Connection {
  explicit Connection(Strand s) : strand(std::move(s)) {}

  bool IsOpen() const {
    if (tls) return beast::get_lowest_layer(*tls).socket().is_open();
    if (plain) return plain->socket().is_open();
    return false;
  }

  beast::tcp_stream& Lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }

  // Fresh stream objects for a new TCP connection (TLS when ctx is given).
  void Reset(ssl::context* ctx) {
    Close();
    tls.reset();
    plain.reset();
    buffer.consume(buffer.size());
    // Beast reads at most the buffer's free capacity (at least 512 bytes) per call; without room
    // for a whole TLS record a busy watch would take several reads, and hand-offs, per event.
    buffer.reserve(kReadBufferBytes);
    if (ctx != nullptr) {
      tls.emplace(strand, *ctx);
    } else {
      plain.emplace(strand);
    }
  }

  void Close() {
    if (resolver) resolver->cancel();
    if (tls) beast::get_lowest_layer(*tls).close();
    if (plain) plain->close();
  }

  // Makes every pending and later operation on this connection fail.
  void Cancel() {
    std::lock_guard lock(blocking_mu);
    cancelled = true;
    if (blocking) {
      ShutDownSocket();
    } else {
      Close();
    }
  }

  // Blocking I/O by the connection's holder (see the file comment). Begin fails once cancelled.
  bool BeginBlocking() {
    std::lock_guard lock(blocking_mu);
    if (cancelled) return false;
    blocking = true;
    deadline_passed = false;
    return true;
  }
  // Returns whether the deadline interrupted the I/O.
  bool EndBlocking() {
    std::lock_guard lock(blocking_mu);
    blocking = false;
    return deadline_passed;
  }
  // From the watchdog: the blocked call returns with an error.
  void InterruptAtDeadline() {
    std::lock_guard lock(blocking_mu);
    if (!blocking) return;
    deadline_passed = true;
    ShutDownSocket();
  }

  // Whether an idle connection still looks usable: a readable idle socket means the server
  // closed it (EOF), sent a TLS alert or sent garbage; none of those leave it reusable.
  bool LooksAlive() {
    if (!IsOpen() || buffer.size() != 0) return false;
    pollfd pfd{};
    pfd.fd = Lowest().socket().native_handle();
    pfd.events = POLLIN;
    return ::poll(&pfd, 1, 0) == 0;
  }

  // Wakes a thread blocked on the socket without closing the descriptor under it.
  void ShutDownSocket() {
    boost::system::error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  Strand strand;
  std::optional<beast::tcp_stream> plain;
  std::optional<TlsStream> tls;
  std::optional<tcp::resolver> resolver;
  beast::flat_buffer buffer;
  std::atomic<bool> cancelled{false};
  std::mutex blocking_mu;  // orders Cancel against blocking I/O by the holder
  bool blocking = false;
  bool deadline_passed = false;
  bool reused = false;  // handed out from the idle list: the server may have closed it meanwhile
  TimePoint idle_since;
  // Bumped each time the connection goes back to the pool; a cancellation aimed at an earlier
  // holder compares it and leaves the connection alone.
  std::atomic<uint64_t> lease{0};
};

using ConnectionPtr = std::shared_ptr<Connection>;

// One request, prepared on the caller's thread and read by the coroutine while the caller waits.
struct RequestPlan {
  RequestMessage message;
  std::string what;  // "GET https://host:port/path" for error messages
  TimePoint deadline;
  std::chrono::milliseconds timeout{0};
  bool head = false;
};

struct StreamHead {
  int status = 0;
  HttpHeaders headers;
};

struct StreamChunk {
  std::optional<std::string> data;  // nullopt: the body ended
};

// State of an open stream that its coroutines work on; owned by the ByteStream.
struct StreamState {
  std::optional<StreamParser> parser;  // not movable: its body reader points into it
  std::vector<char> chunk = std::vector<char>(kStreamChunkBytes);
  std::string what;
};

HttpHeaders CopyHeaders(const http::fields& fields) {
  HttpHeaders out;
  for (const auto& field : fields) {
    out.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  return out;
}

class TransportImpl : public std::enable_shared_from_this<TransportImpl> {
 public:
  TransportImpl(std::string cluster, ServerUrl url, std::string server_name,
                std::shared_ptr<ssl::context> tls, const TransportOptions& options)
      : cluster_(std::move(cluster)),
        url_(std::move(url)),
        host_header_(url_.HostHeader()),
        origin_(url_.Origin()),
        server_name_(std::move(server_name)),
        send_sni_(!IsIpLiteral(server_name_)),
        options_(options),
        tls_(std::move(tls)),
        work_(asio::make_work_guard(ioc_)),
        watchdog_("deadline:" + cluster_) {
    options_.io_threads = std::max(1, options_.io_threads);
    options_.max_connections = std::max(1, options_.max_connections);
    options_.max_idle_connections = std::max(0, options_.max_idle_connections);
    if (url_.host_is_ip) {
      boost::system::error_code ec;
      address_ = asio::ip::make_address(url_.host, ec);
    }
  }

  void Start() {
    threads_.reserve(static_cast<size_t>(options_.io_threads));
    for (int i = 0; i < options_.io_threads; ++i) {
      threads_.emplace_back([this] {
        SetCurrentThreadName("io:" + cluster_);
        ioc_.run();
      });
    }
  }

  // Shuts down, waits for the threads, then runs what was queued after they left, so that no
  // handler (and no socket in one) outlives the io_context.
  void Stop() {
    Shutdown();
    work_.reset();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
    std::lock_guard inline_lock(inline_mu_);
    {
      std::lock_guard lock(mu_);
      stopped_ = true;
    }
    ioc_.restart();
    ioc_.poll();
  }

  void Shutdown() {
    std::vector<ConnectionPtr> idle;
    std::vector<ConnectionPtr> in_use;
    {
      std::lock_guard lock(mu_);
      if (shutdown_) return;
      shutdown_ = true;
      idle.swap(idle_);
      in_use.assign(in_use_.begin(), in_use_.end());
      open_ -= static_cast<int>(idle.size());
    }
    slot_cv_.notify_all();
    for (ConnectionPtr& c : idle) CloseOnStrand(std::move(c));
    for (ConnectionPtr& c : in_use) {
      asio::post(c->strand, [c] { c->Cancel(); });
    }
  }

  Result<HttpResponse> RoundTrip(const HttpRequest& request) {
    auto plan = Plan(request);
    if (!plan) return tl::unexpected(plan.error());
    auto conn = Acquire(*plan);
    if (!conn) return tl::unexpected(conn.error());
    if ((*conn)->IsOpen()) {
      if (auto response = RoundTripOnCallerThread(*conn, *plan)) return std::move(*response);
    }
    return RunBlocking(*conn, DoRoundTrip(*conn, *plan));
  }

  Result<ByteStreamPtr> Stream(const HttpRequest& request);

  // For HttpByteStream, which is defined after this class.
  Result<StreamChunk> ReadStream(const ConnectionPtr& conn, StreamState& state) {
    return RunBlocking(conn, DoReadChunk(conn, state));
  }

  void CancelLease(const ConnectionPtr& conn, uint64_t lease) {
    auto cancel = [conn, lease] {
      if (conn->lease.load() == lease) conn->Cancel();
    };
    std::unique_lock lock(mu_);
    if (stopped_) {
      lock.unlock();
      std::lock_guard inline_lock(inline_mu_);
      cancel();
      return;
    }
    asio::post(conn->strand, std::move(cancel));
  }

  // Gives up a connection whose response was not read to the end.
  void Abandon(ConnectionPtr conn) {
    std::unique_lock lock(mu_);
    if (stopped_) {
      lock.unlock();
      std::lock_guard inline_lock(inline_mu_);
      Release(conn, false);
      return;
    }
    asio::post(conn->strand, [self = shared_from_this(), conn] { self->Release(conn, false); });
  }

 private:
  Result<RequestPlan> Plan(const HttpRequest& request) const {
    RequestPlan plan;
    plan.timeout = request.timeout;
    plan.deadline = SteadyClock::now() + request.timeout;
    const std::string target = url_.Target(request.target);
    plan.what = request.method + " " + origin_ + target.substr(0, target.find('?'));
    if (!IsToken(request.method)) {
      return MakeError(ErrorCode::kBadRequest, plan.what + ": invalid HTTP method");
    }
    if (!IsFieldValue(target) || target.find(' ') != std::string::npos) {
      return MakeError(ErrorCode::kBadRequest, plan.what + ": invalid request target");
    }
    RequestMessage& msg = plan.message;
    msg.version(11);
    http::verb verb = http::string_to_verb(request.method);
    if (verb == http::verb::unknown) {
      msg.method_string(request.method);
    } else {
      msg.method(verb);
    }
    plan.head = verb == http::verb::head;
    msg.target(target);
    bool has_host = false;
    for (const auto& [name, value] : request.headers) {
      if (!IsToken(name) || !IsFieldValue(value)) {
        return MakeError(ErrorCode::kBadRequest, plan.what + ": invalid header \"" + name + "\"");
      }
      // Framing is ours to decide; a caller's value could desynchronise the connection.
      if (beast::iequals(name, "Content-Length") || beast::iequals(name, "Transfer-Encoding")) {
        continue;
      }
      has_host = has_host || beast::iequals(name, "Host");
      msg.insert(name, value);
    }
    if (!has_host) msg.set(http::field::host, host_header_);
    msg.body() = RequestMessage::body_type::value_type(request.body.data(), request.body.size());
    if (!request.body.empty() || verb == http::verb::post || verb == http::verb::put ||
        verb == http::verb::patch) {
      msg.content_length(request.body.size());
    }
    return plan;
  }

  // A connection for one request: the most recently used idle one, else a new one if fewer than
  // max_connections are open, else waits for one to be released until the request's deadline.
  Result<ConnectionPtr> Acquire(const RequestPlan& plan) {
    std::unique_lock lock(mu_);
    for (;;) {
      if (shutdown_) return Cancelled(plan.what);
      std::vector<ConnectionPtr> expired = TakeExpiredIdle();
      ConnectionPtr conn;
      if (!idle_.empty()) {
        conn = std::move(idle_.back());
        idle_.pop_back();
        in_use_.insert(conn);
      } else if (open_ < options_.max_connections) {
        ++open_;
        conn = std::make_shared<Connection>(asio::make_strand(ioc_));
        in_use_.insert(conn);
      }
      if (!expired.empty() || conn) {
        lock.unlock();
        for (ConnectionPtr& c : expired) Dispose(std::move(c));
        if (conn && conn->IsOpen()) {
          // No operation is pending on an idle connection, so its socket may be polled here.
          if (!conn->LooksAlive()) {
            spdlog::debug("{}: idle connection to {} was closed by the server", cluster_, origin_);
            Dispose(std::move(conn));
            conn = nullptr;
          } else {
            conn->reused = true;
          }
        }
        if (conn) return conn;
        lock.lock();
        continue;
      }
      if (slot_cv_.wait_until(lock, plan.deadline) == std::cv_status::timeout &&
          SteadyClock::now() >= plan.deadline && idle_.empty() &&
          open_ >= options_.max_connections && !shutdown_) {
        return MakeError(ErrorCode::kTimeout, plan.what + ": no free connection (" +
                                                  std::to_string(options_.max_connections) +
                                                  " open) within " + FormatDuration(plan.timeout));
      }
    }
  }

  // Called with mu_ held. idle_ is ordered by idle_since (released connections are appended), so
  // the expired ones are a prefix.
  std::vector<ConnectionPtr> TakeExpiredIdle() {
    std::vector<ConnectionPtr> expired;
    const TimePoint now = SteadyClock::now();
    auto fresh = std::find_if(idle_.begin(), idle_.end(), [&](const ConnectionPtr& c) {
      return now - c->idle_since < options_.idle_timeout;
    });
    for (auto it = idle_.begin(); it != fresh; ++it) {
      in_use_.insert(*it);  // Dispose expects a connection that is not idle.
      expired.push_back(std::move(*it));
    }
    idle_.erase(idle_.begin(), fresh);
    return expired;
  }

  // Returns a connection to the pool, or closes it. Runs on the connection's strand (or inline
  // once stopped), so that it is ordered after any cancellation posted for the previous holder.
  void Release(const ConnectionPtr& conn, bool reusable) {
    conn->lease.fetch_add(1);
    conn->reused = false;
    {
      std::lock_guard lock(mu_);
      if (reusable && !shutdown_ && !conn->cancelled && conn->IsOpen() &&
          static_cast<int>(idle_.size()) < options_.max_idle_connections) {
        in_use_.erase(conn);
        conn->idle_since = SteadyClock::now();
        idle_.push_back(conn);
        reusable = true;
      } else {
        reusable = false;
      }
    }
    if (reusable) {
      slot_cv_.notify_one();
    } else {
      Dispose(conn);
    }
  }

  // Forgets an in-use connection and closes it on its strand.
  void Dispose(ConnectionPtr conn) {
    {
      std::lock_guard lock(mu_);
      if (in_use_.erase(conn) == 0) return;  // already disposed
      --open_;
    }
    slot_cv_.notify_one();
    CloseOnStrand(std::move(conn));
  }

  void CloseOnStrand(ConnectionPtr conn) {
    std::unique_lock lock(mu_);
    if (stopped_) {
      // Reached only with inline_mu_ held (from Abandon or Stop).
      lock.unlock();
      conn->Close();
      return;
    }
    // The last reference goes with the handler, so the sockets die on their strand too.
    Strand strand = conn->strand;
    asio::post(strand, [conn = std::move(conn)] { conn->Close(); });
  }

  // Runs `op` on the connection's strand and waits for it. `op` releases the connection itself
  // whenever it fails; when it cannot be started, the connection is given up here.
  template <typename T>
  Result<T> RunBlocking(const ConnectionPtr& conn, asio::awaitable<Result<T>> op) {
    std::future<Result<T>> done;
    {
      std::unique_lock lock(mu_);
      if (shutdown_) {
        lock.unlock();
        Abandon(conn);
        return MakeError(ErrorCode::kCancelled, origin_ + ": transport shut down");
      }
      done = asio::co_spawn(conn->strand, std::move(op), asio::use_future);
    }
    try {
      return done.get();
    } catch (const std::exception& e) {
      Abandon(conn);
      return MakeError(ErrorCode::kInternal, origin_ + ": internal error: " + e.what());
    }
  }

  static tl::unexpected<Error> Cancelled(const std::string& what) {
    return MakeError(ErrorCode::kCancelled, what + ": cancelled");
  }

  // Maps an I/O error to the project's codes. `phase` says what was being done.
  static Error MapError(Connection& conn, const std::string& what, beast::error_code ec,
                        std::string_view phase, std::chrono::milliseconds limit) {
    std::string prefix = what + ": " + std::string(phase) + ": ";
    if (conn.cancelled) return Error(ErrorCode::kCancelled, prefix + "cancelled");
    if (ec == beast::error::timeout || ec == asio::error::timed_out) {
      return Error(ErrorCode::kTimeout, prefix + "timed out after " + FormatDuration(limit));
    }
    if (ec == asio::error::operation_aborted) {
      return Error(ErrorCode::kCancelled, prefix + "cancelled");
    }
    if (ec == ssl::error::stream_truncated || ec == asio::error::eof ||
        ec == http::error::end_of_stream) {
      return Error(ErrorCode::kNetwork, prefix + "connection closed by the server");
    }
    if (ec.category() == asio::error::get_ssl_category()) {
      std::string message = prefix + ec.message();
      if (conn.tls) {
        long verify = SSL_get_verify_result(conn.tls->native_handle());
        if (verify != X509_V_OK) {
          message += ": ";
          message += X509_verify_cert_error_string(verify);
        }
      }
      return Error(ErrorCode::kTls, message);
    }
    if (ec.category() == beast::error_code(http::error::end_of_stream).category() &&
        ec != http::error::partial_message) {
      return Error(ErrorCode::kDecode, prefix + ec.message());
    }
    return Error(ErrorCode::kNetwork, prefix + ec.message());
  }

  // Resolves, connects and (for https) handshakes, within connect_timeout and the request's
  // deadline, whichever comes first.
  asio::awaitable<Status> Connect(ConnectionPtr conn, const RequestPlan& plan) {
    const TimePoint connect_deadline =
        std::min(plan.deadline, SteadyClock::now() + options_.connect_timeout);
    const auto limit = plan.deadline < SteadyClock::now() + options_.connect_timeout
                           ? plan.timeout
                           : options_.connect_timeout;
    conn->Reset(tls_.get());
    if (conn->cancelled) co_return Cancelled(plan.what);

    std::vector<tcp::endpoint> endpoints;
    if (url_.host_is_ip) {
      endpoints.emplace_back(address_, url_.port);
    } else {
      conn->resolver.emplace(conn->strand);
      // The resolver has no deadline of its own: a timer cancels it.
      asio::steady_timer timer(conn->strand, connect_deadline);
      timer.async_wait([conn](boost::system::error_code ec) {
        if (!ec && conn->resolver) conn->resolver->cancel();
      });
      auto [ec, results] =
          co_await conn->resolver->async_resolve(url_.host, std::to_string(url_.port), kNoThrow);
      timer.cancel();
      if (ec) {
        if (!conn->cancelled && SteadyClock::now() >= connect_deadline) {
          ec = beast::error::timeout;
        }
        co_return tl::unexpected(MapError(*conn, plan.what, ec, "resolve " + url_.host, limit));
      }
      for (const auto& entry : results) endpoints.push_back(entry.endpoint());
    }
    if (conn->cancelled) co_return Cancelled(plan.what);

    beast::tcp_stream& lowest = conn->Lowest();
    lowest.expires_at(connect_deadline);
    auto [connect_ec, endpoint] = co_await lowest.async_connect(endpoints, kNoThrow);
    if (connect_ec) {
      co_return tl::unexpected(MapError(*conn, plan.what, connect_ec, "connect", limit));
    }
    boost::system::error_code ignored;
    lowest.socket().set_option(tcp::no_delay(true), ignored);
    lowest.socket().set_option(asio::socket_base::keep_alive(true), ignored);

    if (conn->tls) {
      if (send_sni_ &&
          SSL_set_tlsext_host_name(conn->tls->native_handle(), server_name_.c_str()) != 1) {
        co_return MakeError(ErrorCode::kTls, plan.what + ": cannot set TLS server name");
      }
      if (conn->cancelled) co_return Cancelled(plan.what);
      lowest.expires_at(connect_deadline);
      auto [handshake_ec] = co_await conn->tls->async_handshake(ssl::stream_base::client, kNoThrow);
      if (handshake_ec) {
        co_return tl::unexpected(MapError(*conn, plan.what, handshake_ec, "TLS handshake", limit));
      }
    }
    co_return Ok();
  }

  // Writes the request and reads the response, whole or up to the end of its headers.
  template <typename Stream, typename Parser>
  asio::awaitable<std::pair<beast::error_code, const char*>> Exchange(Stream& stream,
                                                                      Connection& conn,
                                                                      const RequestPlan& plan,
                                                                      Parser& parser,
                                                                      bool headers_only) {
    beast::tcp_stream& lowest = conn.Lowest();
    lowest.expires_at(plan.deadline);
    auto [write_ec, written] = co_await http::async_write(stream, plan.message, kNoThrow);
    if (write_ec) co_return std::pair(write_ec, "send request");
    if (conn.cancelled) co_return std::pair(beast::error_code(asio::error::operation_aborted), "");
    lowest.expires_at(plan.deadline);
    if (headers_only) {
      auto [read_ec, read] =
          co_await http::async_read_header(stream, conn.buffer, parser, kNoThrow);
      co_return std::pair(read_ec, "read response headers");
    }
    auto [read_ec, read] = co_await http::async_read(stream, conn.buffer, parser, kNoThrow);
    co_return std::pair(read_ec, "read response");
  }

  // Connects if needed and exchanges; a reused connection that fails before any response byte
  // arrived is retried once on a fresh connection, because the server may have closed it while
  // it sat idle. On failure the connection has been released.
  template <typename Parser>
  asio::awaitable<Status> Send(const ConnectionPtr& conn, const RequestPlan& plan,
                               std::optional<Parser>& parser, bool headers_only) {
    for (;;) {
      const bool reused = conn->reused;
      conn->reused = false;
      if (!conn->IsOpen()) {
        Status connected = co_await Connect(conn, plan);
        if (!connected) {
          Release(conn, false);
          co_return connected;
        }
      }
      parser.emplace();
      LimitParser(*parser, plan, headers_only);
      auto [ec, phase] = conn->tls
                             ? co_await Exchange(*conn->tls, *conn, plan, *parser, headers_only)
                             : co_await Exchange(*conn->plain, *conn, plan, *parser, headers_only);
      if (!ec) co_return Ok();
      Error error = MapError(*conn, plan.what, ec, phase, plan.timeout);
      if (reused && !parser->got_some() && error.code() == ErrorCode::kNetwork) {
        spdlog::debug("{}: {}; retrying on a new connection", cluster_, error.message());
        conn->Close();
        continue;
      }
      Release(conn, false);
      co_return tl::unexpected(std::move(error));
    }
  }

  // Bounds what a response may bring; a stream's body (headers_only) is read piecewise, unbounded.
  template <typename Parser>
  static void LimitParser(Parser& parser, const RequestPlan& plan, bool headers_only) {
    parser.header_limit(kMaxHeaderBytes);
    parser.body_limit(headers_only ? std::numeric_limits<uint64_t>::max() : kMaxBodyBytes);
    if (plan.head) parser.skip(true);
  }

  // The response of a complete exchange; the connection goes back to the pool (or is closed).
  HttpResponse FinishRoundTrip(const ConnectionPtr& conn,
                               http::response<http::string_body> message) {
    HttpResponse response;
    response.status = static_cast<int>(message.result_int());
    response.headers = CopyHeaders(message.base());
    response.body = std::move(message.body());
    Release(conn, message.keep_alive());
    return response;
  }

  // The exchange on an open connection, by the calling thread (see the file comment). nullopt:
  // the reused connection turned out dead before any response byte, so the caller retries through
  // DoRoundTrip, which reconnects; the connection is then still held.
  std::optional<Result<HttpResponse>> RoundTripOnCallerThread(const ConnectionPtr& conn,
                                                              const RequestPlan& plan) {
    const bool reused = conn->reused;
    conn->reused = false;
    if (!conn->BeginBlocking()) {
      Release(conn, false);
      return Cancelled(plan.what);
    }
    const auto watch =
        watchdog_.Add(plan.deadline, [raw = conn.get()] { raw->InterruptAtDeadline(); });
    http::response_parser<http::string_body> parser;
    LimitParser(parser, plan, false);
    beast::error_code ec;
    const char* phase = "send request";
    auto exchange = [&](auto& stream) {
      http::write(stream, plan.message, ec);
      if (ec) return;
      phase = "read response";
      http::read(stream, conn->buffer, parser, ec);
    };
    if (conn->tls) {
      exchange(*conn->tls);
    } else {
      exchange(*conn->plain);
    }
    watchdog_.Remove(watch);
    const bool deadline_passed = conn->EndBlocking();
    if (ec) {
      if (deadline_passed && !conn->cancelled) ec = beast::error::timeout;
      Error error = MapError(*conn, plan.what, ec, phase, plan.timeout);
      if (reused && !parser.got_some() && error.code() == ErrorCode::kNetwork && !deadline_passed) {
        spdlog::debug("{}: {}; retrying on a new connection", cluster_, error.message());
        conn->reused = true;  // DoRoundTrip's Send closes it and connects again
        return std::nullopt;
      }
      Release(conn, false);
      return tl::unexpected(std::move(error));
    }
    return FinishRoundTrip(conn, parser.release());
  }

  asio::awaitable<Result<HttpResponse>> DoRoundTrip(ConnectionPtr conn, const RequestPlan& plan) {
    std::optional<http::response_parser<http::string_body>> parser;
    Status sent = co_await Send(conn, plan, parser, false);
    if (!sent) co_return tl::unexpected(sent.error());
    co_return FinishRoundTrip(conn, parser->release());
  }

  asio::awaitable<Result<StreamHead>> DoOpenStream(ConnectionPtr conn, const RequestPlan& plan,
                                                   std::optional<StreamParser>& parser) {
    Status sent = co_await Send(conn, plan, parser, true);
    if (!sent) co_return tl::unexpected(sent.error());
    StreamHead head;
    head.status = static_cast<int>(parser->get().result_int());
    head.headers = CopyHeaders(parser->get().base());
    co_return head;
  }

  // Parses body bytes that are already buffered, chunk after chunk, without reading the socket:
  // a busy watch then costs one hand-off per batch of events instead of one per event.
  std::optional<Error> ParseBuffered(Connection& conn, StreamState& state) {
    StreamParser& parser = *state.parser;
    while (!parser.is_done() && conn.buffer.size() > 0 && parser.get().body().size > 0) {
      beast::error_code ec;
      const size_t used = parser.put(conn.buffer.data(), ec);
      conn.buffer.consume(used);
      if (ec == http::error::need_more || ec == http::error::need_buffer || used == 0) break;
      if (ec) return MapError(conn, state.what, ec, "read stream", options_.stream_idle_timeout);
    }
    return std::nullopt;
  }

  // Delivers the body bytes that arrive next, as soon as they arrive; at the end of the body the
  // connection goes back to the pool (or is closed).
  asio::awaitable<Result<StreamChunk>> DoReadChunk(ConnectionPtr conn, StreamState& state) {
    StreamParser& parser = *state.parser;
    if (conn->cancelled) {
      Release(conn, false);
      co_return Cancelled(state.what);
    }
    conn->Lowest().expires_after(options_.stream_idle_timeout);
    while (!parser.is_done()) {
      parser.get().body().data = state.chunk.data();
      parser.get().body().size = state.chunk.size();
      auto [ec, n] =
          conn->tls ? co_await http::async_read_some(*conn->tls, conn->buffer, parser, kNoThrow)
                    : co_await http::async_read_some(*conn->plain, conn->buffer, parser, kNoThrow);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) {
        Error error = MapError(*conn, state.what, ec, "read stream", options_.stream_idle_timeout);
        Release(conn, false);
        co_return tl::unexpected(std::move(error));
      }
      if (parser.get().body().size < state.chunk.size()) {
        if (auto failed = ParseBuffered(*conn, state)) {
          Release(conn, false);
          co_return tl::unexpected(std::move(*failed));
        }
        const size_t got = state.chunk.size() - parser.get().body().size;
        co_return StreamChunk{std::string(state.chunk.data(), got)};
      }
    }
    Release(conn, parser.keep_alive());
    co_return StreamChunk{std::nullopt};
  }

  const std::string cluster_;
  const ServerUrl url_;
  const std::string host_header_;
  const std::string origin_;
  const std::string server_name_;
  const bool send_sni_;
  asio::ip::address address_;
  TransportOptions options_;
  // Declared before the connections so that it outlives every TLS stream.
  const std::shared_ptr<ssl::context> tls_;
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
  DeadlineWatchdog watchdog_;

  std::mutex mu_;
  std::condition_variable slot_cv_;
  std::vector<ConnectionPtr> idle_;  // most recently used last
  std::unordered_set<ConnectionPtr> in_use_;
  int open_ = 0;  // idle + in use
  bool shutdown_ = false;
  bool stopped_ = false;  // threads joined: run everything inline from now on
  // Once stopped, serialises what would have run on the strands (Stop's final poll, late
  // cancellations and releases from streams that outlive the transport). Taken before mu_.
  std::mutex inline_mu_;
};

// A response body read as it arrives. Read is called by one thread at a time; Cancel from any.
class HttpByteStream : public ByteStream {
 public:
  HttpByteStream(std::shared_ptr<TransportImpl> impl, ConnectionPtr conn,
                 std::unique_ptr<StreamState> state, StreamHead head)
      : impl_(std::move(impl)),
        state_(std::move(state)),
        head_(std::move(head)),
        conn_(std::move(conn)),
        lease_(conn_->lease.load()) {}

  ~HttpByteStream() override {
    ConnectionPtr conn;
    {
      std::lock_guard lock(mu_);
      conn = std::move(conn_);
    }
    if (conn) impl_->Abandon(std::move(conn));
  }

  int status() const override { return head_.status; }
  const HttpHeaders& headers() const override { return head_.headers; }

  Result<std::optional<std::string>> Read() override {
    ConnectionPtr conn;
    {
      std::lock_guard lock(mu_);
      if (cancelled_) return MakeError(ErrorCode::kCancelled, state_->what + ": stream cancelled");
      if (failure_) return tl::unexpected(*failure_);
      if (!conn_) return std::optional<std::string>();
      conn = conn_;
    }
    Result<StreamChunk> chunk = impl_->ReadStream(conn, *state_);
    std::lock_guard lock(mu_);
    if (!chunk) {
      // The connection was released by the failed read.
      conn_.reset();
      failure_ = chunk.error();
      return tl::unexpected(chunk.error());
    }
    if (!chunk->data) conn_.reset();  // end of body: already back in the pool
    return std::move(chunk->data);
  }

  void Cancel() override {
    ConnectionPtr conn;
    {
      std::lock_guard lock(mu_);
      cancelled_ = true;
      conn = conn_;
    }
    if (conn) impl_->CancelLease(conn, lease_);
  }

 private:
  const std::shared_ptr<TransportImpl> impl_;
  const std::unique_ptr<StreamState> state_;
  const StreamHead head_;
  std::mutex mu_;
  ConnectionPtr conn_;  // null once the body ended or the stream failed
  const uint64_t lease_;
  bool cancelled_ = false;
  std::optional<Error> failure_;
};

Result<ByteStreamPtr> TransportImpl::Stream(const HttpRequest& request) {
  auto plan = Plan(request);
  if (!plan) return tl::unexpected(plan.error());
  auto conn = Acquire(*plan);
  if (!conn) return tl::unexpected(conn.error());
  auto state = std::make_unique<StreamState>();
  state->what = plan->what;
  Result<StreamHead> head = RunBlocking(*conn, DoOpenStream(*conn, *plan, state->parser));
  if (!head) return tl::unexpected(head.error());
  return std::make_unique<HttpByteStream>(shared_from_this(), std::move(*conn), std::move(state),
                                          std::move(*head));
}

class HttpTransport : public Transport {
 public:
  explicit HttpTransport(std::shared_ptr<TransportImpl> impl) : impl_(std::move(impl)) {
    impl_->Start();
  }
  ~HttpTransport() override { impl_->Stop(); }

  Result<HttpResponse> RoundTrip(const HttpRequest& request) override {
    return impl_->RoundTrip(request);
  }
  Result<ByteStreamPtr> Stream(const HttpRequest& request) override {
    return impl_->Stream(request);
  }
  void Shutdown() override { impl_->Shutdown(); }

 private:
  std::shared_ptr<TransportImpl> impl_;
};

}  // namespace

Result<TransportPtr> NewHttpTransport(const ClusterConfig& config,
                                      const TransportOptions& options) {
  auto url = ParseServerUrl(config.server);
  if (!url) return tl::unexpected(url.error());
  std::string server_name = TlsServerName(config, *url);
  std::shared_ptr<ssl::context> tls;
  if (url->tls) {
    auto ctx = NewTlsClientContext(config, server_name);
    if (!ctx) return tl::unexpected(ctx.error().Context(config.server + ": "));
    tls = std::move(*ctx);
  }
  auto impl = std::make_shared<TransportImpl>(config.name, std::move(*url), std::move(server_name),
                                              std::move(tls), options);
  return std::make_unique<HttpTransport>(std::move(impl));
}

}  // namespace vk::hostclient
