#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hostclient/transport.h"
#include "tests/kubesim/test_pki.h"
#include "tests/support/wait_for.h"

namespace vk::hostclient {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

using vk::testing::WaitFor;

// A body that is not one repeated byte, so that misplaced or dropped segments show.
std::string BigBody(size_t n) {
  std::string block(4093, '\0');  // prime-ish length: segments never line up with buffer sizes
  for (size_t i = 0; i < block.size(); ++i) block[i] = static_cast<char>('a' + (i * 7) % 26);
  std::string body;
  body.reserve(n);
  for (size_t i = 0; body.size() < n; ++i) {
    body.append(block, 0, std::min(block.size(), n - body.size()));
    body.push_back(static_cast<char>('0' + i % 10));
  }
  body.resize(n);
  return body;
}

struct ServerOptions {
  bool tls = true;
  kubesim::CertAndKey cert;
  std::string client_ca_pem;  // non-empty: require and verify client certificates
};

// A small HTTP/1.1 server on 127.0.0.1:0 with routes that misbehave on purpose. One thread runs
// it; counters are readable from the test thread.
//   /echo            200, echoes the body; X-Method, X-Target, X-Echo-Header (of X-Test)
//   /big?bytes=N     200 with N bytes of BigBody
//   /close           200 with Connection: close, then closes
//   /close-after     200 (keep-alive), then closes the connection; counts closed_by_server
//   /drop-next       200; the next request on the same connection is read and dropped unanswered
//   /drop-now        closes without answering
//   /hang            never answers (until Stop); counts hanging
//   /stream          chunked: "event-1\n", waits for OpenGate(), "event-2\n", end
//   /stream-forever  chunked: "event-1\n", then nothing
//   /stream-batch    chunked: "a\n", "b\n", "c\n" and the end, all in one write
//   /missing         404 "not found"
//   /whoami          200, body = client certificate CN; X-SNI = server name the client sent
class TestServer {
 public:
  explicit TestServer(ServerOptions options) : options_(std::move(options)) {
    if (options_.tls) {
      tls_.emplace(ssl::context::tls_server);
      tls_->use_certificate_chain(asio::buffer(options_.cert.cert_pem));
      tls_->use_private_key(asio::buffer(options_.cert.key_pem), ssl::context::pem);
      if (!options_.client_ca_pem.empty()) {
        tls_->add_certificate_authority(asio::buffer(options_.client_ca_pem));
        tls_->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
      }
    }
    acceptor_.open(tcp::v4());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(ioc_, Accept(), asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }

  ~TestServer() {
    asio::post(ioc_, [this] {
      stopping_ = true;
      acceptor_.close();
      for (auto& timer : gate_waiters_) timer->cancel();
      for (auto& timer : forever_waiters_) timer->cancel();
      for (auto& [id, close] : sessions_) close();
    });
    thread_.join();
  }

  uint16_t port() const { return port_; }
  int accepted() const { return accepted_; }
  int max_concurrent() const { return max_concurrent_; }
  int closed_by_server() const { return closed_by_server_; }
  int hanging() const { return hanging_; }
  std::string last_sni() {
    std::lock_guard lock(mu_);
    return last_sni_;
  }

  void OpenGate() {
    asio::post(ioc_, [this] {
      gate_open_ = true;
      for (auto& timer : gate_waiters_) timer->cancel();
      gate_waiters_.clear();
    });
  }

 private:
  asio::awaitable<void> Accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kNoThrow);
      if (ec) co_return;
      asio::co_spawn(ioc_, Session(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> Session(tcp::socket socket) {
    socket.set_option(tcp::no_delay(true));
    ++accepted_;
    int now = ++concurrent_;
    max_concurrent_ = std::max(max_concurrent_.load(), now);
    const int id = next_id_++;
    bool server_closed = false;
    if (tls_) {
      beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *tls_);
      sessions_[id] = [&stream] { beast::get_lowest_layer(stream).close(); };
      auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, kNoThrow);
      if (!ec) {
        std::string cn;
        if (X509* peer = SSL_get1_peer_certificate(stream.native_handle())) {
          char buf[256] = {};
          X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, buf, sizeof(buf));
          cn = buf;
          X509_free(peer);
        }
        const char* sni = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
        {
          std::lock_guard lock(mu_);
          last_sni_ = sni ? sni : "";
        }
        server_closed = co_await Serve(stream, cn, sni ? sni : "");
      }
      beast::get_lowest_layer(stream).close();
    } else {
      beast::tcp_stream stream(std::move(socket));
      sessions_[id] = [&stream] { stream.close(); };
      server_closed = co_await Serve(stream, "", "");
      stream.close();
    }
    sessions_.erase(id);
    --concurrent_;
    if (server_closed) ++closed_by_server_;
  }

  asio::awaitable<bool> Wait(std::vector<std::shared_ptr<asio::steady_timer>>& waiters) {
    // The destructor may have cancelled every waiter already (a client can finish before its
    // handler gets here): a waiter added after that would keep the server thread forever.
    if (stopping_) co_return false;
    auto timer = std::make_shared<asio::steady_timer>(ioc_, asio::steady_timer::time_point::max());
    waiters.push_back(timer);
    co_await timer->async_wait(kNoThrow);
    co_return !stopping_;
  }

  // Serves requests on one connection; returns true when it closed a connection the client
  // expected to stay open.
  template <typename Stream>
  asio::awaitable<bool> Serve(Stream& stream, std::string client_cn, std::string sni) {
    beast::flat_buffer buffer;
    bool drop_next = false;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(64 << 20);
      auto [ec, n] = co_await http::async_read(stream, buffer, parser, kNoThrow);
      if (ec || stopping_) co_return false;
      http::request<http::string_body> req = parser.release();
      if (drop_next) co_return false;
      const std::string target(req.target());
      const std::string path = target.substr(0, target.find('?'));

      http::response<http::string_body> res{http::status::ok, 11};
      res.keep_alive(req.keep_alive());
      if (path.ends_with("/echo")) {
        res.set("X-Method", req.method_string());
        res.set("X-Target", target);
        res.set("X-Echo-Header", req["X-Test"]);
        res.body() = std::move(req.body());
      } else if (path == "/big") {
        res.body() = BigBody(std::stoul(target.substr(target.find('=') + 1)));
      } else if (path == "/close") {
        res.keep_alive(false);
      } else if (path == "/drop-next") {
        drop_next = true;
      } else if (path == "/drop-now") {
        co_return false;
      } else if (path == "/hang") {
        ++hanging_;
        co_await Wait(forever_waiters_);
        co_return false;
      } else if (path == "/stream" || path == "/stream-forever") {
        http::response<http::empty_body> head{http::status::ok, 11};
        head.chunked(true);
        http::response_serializer<http::empty_body> sr{head};
        auto [hec, hn] = co_await http::async_write_header(stream, sr, kNoThrow);
        if (hec) co_return false;
        std::string event1 = "event-1\n";
        auto [c1, n1] =
            co_await asio::async_write(stream, http::make_chunk(asio::buffer(event1)), kNoThrow);
        if (c1) co_return false;
        if (path == "/stream-forever") {
          co_await Wait(forever_waiters_);
          co_return false;
        }
        if (!gate_open_ && !co_await Wait(gate_waiters_)) co_return false;
        std::string event2 = "event-2\n";
        auto [c2, n2] =
            co_await asio::async_write(stream, http::make_chunk(asio::buffer(event2)), kNoThrow);
        if (c2) co_return false;
        auto [c3, n3] = co_await asio::async_write(stream, http::make_chunk_last(), kNoThrow);
        if (c3) co_return false;
        continue;
      } else if (path == "/stream-batch") {
        http::response<http::empty_body> head{http::status::ok, 11};
        head.chunked(true);
        http::response_serializer<http::empty_body> sr{head};
        auto [hec, hn] = co_await http::async_write_header(stream, sr, kNoThrow);
        if (hec) co_return false;
        const std::string body = "2\r\na\n\r\n2\r\nb\n\r\n2\r\nc\n\r\n0\r\n\r\n";
        auto [bec, bn] = co_await asio::async_write(stream, asio::buffer(body), kNoThrow);
        if (bec) co_return false;
        continue;
      } else if (path == "/missing") {
        res.result(http::status::not_found);
        res.body() = "not found";
      } else if (path == "/whoami") {
        res.set("X-SNI", sni);
        res.body() = client_cn;
      } else {
        res.result(http::status::not_found);
      }
      if (req.method() == http::verb::head) {
        res.content_length(res.body().size());
        http::response_serializer<http::string_body> sr{res};
        auto [wec, wn] = co_await http::async_write_header(stream, sr, kNoThrow);
        if (wec) co_return false;
        continue;
      }
      res.prepare_payload();
      auto [wec, wn] = co_await http::async_write(stream, res, kNoThrow);
      if (wec || !res.keep_alive()) co_return false;
      if (path == "/close-after") co_return true;
    }
  }

  ServerOptions options_;
  asio::io_context ioc_;
  std::optional<ssl::context> tls_;
  tcp::acceptor acceptor_{ioc_};
  uint16_t port_ = 0;
  std::thread thread_;
  // Server thread only.
  bool stopping_ = false;
  bool gate_open_ = false;
  int next_id_ = 0;
  std::map<int, std::function<void()>> sessions_;
  std::vector<std::shared_ptr<asio::steady_timer>> gate_waiters_;
  std::vector<std::shared_ptr<asio::steady_timer>> forever_waiters_;
  // Any thread.
  std::atomic<int> accepted_{0};
  std::atomic<int> concurrent_{0};
  std::atomic<int> max_concurrent_{0};
  std::atomic<int> closed_by_server_{0};
  std::atomic<int> hanging_{0};
  std::mutex mu_;
  std::string last_sni_;
};

HttpRequest Get(std::string target, std::chrono::milliseconds timeout = 5s) {
  HttpRequest req;
  req.target = std::move(target);
  req.timeout = timeout;
  return req;
}

HttpRequest Post(std::string target, std::string body) {
  HttpRequest req;
  req.method = "POST";
  req.target = std::move(target);
  req.body = std::move(body);
  req.timeout = 5s;
  return req;
}

// Reads from `stream` until `want` bytes arrived (a chunk may in principle come in pieces).
std::string ReadBytes(ByteStream& stream, size_t want) {
  std::string got;
  while (got.size() < want) {
    auto chunk = stream.Read();
    if (!chunk || !chunk->has_value()) break;
    got += **chunk;
  }
  return got;
}

class HttpTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pki = kubesim::MakeCa("transport-test-ca");
    ASSERT_TRUE(pki.has_value());
    pki_ = *pki;
    auto server_cert = kubesim::IssueServerCert(pki_, {"kubesim.local"});
    ASSERT_TRUE(server_cert.has_value());
    server_cert_ = *server_cert;
  }

  TestServer& StartServer(bool tls = true, std::string client_ca = "") {
    server_ = std::make_unique<TestServer>(ServerOptions{tls, server_cert_, std::move(client_ca)});
    return *server_;
  }

  ClusterConfig Config() const {
    ClusterConfig config;
    config.name = "test";
    config.server = "https://127.0.0.1:" + std::to_string(server_->port());
    config.ca_pem = pki_.ca_cert_pem;
    return config;
  }

  TransportPtr NewTransport(const ClusterConfig& config, const TransportOptions& options = {}) {
    auto transport = NewHttpTransport(config, options);
    EXPECT_TRUE(transport.has_value()) << transport.error().ToString();
    return transport ? std::move(*transport) : nullptr;
  }

  kubesim::Pki pki_;
  kubesim::CertAndKey server_cert_;
  std::unique_ptr<TestServer> server_;
};

TEST(FindHeaderTest, IsCaseInsensitive) {
  HttpHeaders headers{{"Content-Type", "application/json"}, {"X-A", "1"}, {"x-a", "2"}};
  EXPECT_EQ(FindHeader(headers, "content-type"), "application/json");
  EXPECT_EQ(FindHeader(headers, "X-A"), "1");
  EXPECT_EQ(FindHeader(headers, "Missing"), "");
}

TEST_F(HttpTransportTest, GetAndPostRoundTripOverTls) {
  StartServer();
  auto transport = NewTransport(Config());
  HttpRequest get = Get("/echo?x=1");
  get.headers.emplace_back("X-Test", "hello");
  auto res = transport->RoundTrip(get);
  ASSERT_TRUE(res.has_value()) << res.error().ToString();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "");
  EXPECT_EQ(FindHeader(res->headers, "x-method"), "GET");
  EXPECT_EQ(FindHeader(res->headers, "X-Target"), "/echo?x=1");
  EXPECT_EQ(FindHeader(res->headers, "X-Echo-Header"), "hello");

  res = transport->RoundTrip(Post("/echo", R"({"kind":"Pod"})"));
  ASSERT_TRUE(res.has_value()) << res.error().ToString();
  EXPECT_EQ(FindHeader(res->headers, "X-Method"), "POST");
  EXPECT_EQ(res->body, R"({"kind":"Pod"})");
  EXPECT_EQ(FindHeader(res->headers, "Content-Length"), "14");

  res = transport->RoundTrip(Get("/missing"));
  ASSERT_TRUE(res.has_value());
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(res->body, "not found");
}

TEST_F(HttpTransportTest, PlainHttpWorks) {
  StartServer(/*tls=*/false);
  ClusterConfig config = Config();
  config.server = "http://127.0.0.1:" + std::to_string(server_->port());
  auto transport = NewTransport(config);
  for (int i = 0; i < 3; ++i) {
    auto res = transport->RoundTrip(Post("/echo", "plain " + std::to_string(i)));
    ASSERT_TRUE(res.has_value()) << res.error().ToString();
    EXPECT_EQ(res->body, "plain " + std::to_string(i));
  }
  EXPECT_EQ(server_->accepted(), 1);
}

TEST_F(HttpTransportTest, PrependsServerPathPrefix) {
  StartServer();
  ClusterConfig config = Config();
  config.server += "/clusters/a/";
  auto transport = NewTransport(config);
  auto res = transport->RoundTrip(Get("/echo?watch=1"));
  ASSERT_TRUE(res.has_value()) << res.error().ToString();
  EXPECT_EQ(FindHeader(res->headers, "X-Target"), "/clusters/a/echo?watch=1");
}

TEST_F(HttpTransportTest, ReusesOneConnectionForSequentialRequests) {
  StartServer();
  auto transport = NewTransport(Config());
  for (int i = 0; i < 50; ++i) {
    auto res = transport->RoundTrip(Get("/echo"));
    ASSERT_TRUE(res.has_value()) << res.error().ToString();
  }
  EXPECT_EQ(server_->accepted(), 1);
}

TEST_F(HttpTransportTest, ConcurrentRequestsAreBoundedByMaxConnections) {
  StartServer();
  TransportOptions options;
  options.max_connections = 4;
  options.io_threads = 2;
  auto transport = NewTransport(Config(), options);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        std::string body = std::to_string(t) + "/" + std::to_string(i);
        auto res = transport->RoundTrip(Post("/echo", body));
        if (res && res->body == body) ++ok;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok, 16 * 50);
  EXPECT_LE(server_->max_concurrent(), 4);
  EXPECT_LE(server_->accepted(), 4);
}

TEST_F(HttpTransportTest, LargeBodiesBothWays) {
  StartServer();
  auto transport = NewTransport(Config());
  // Generous deadlines: sanitizer builds move these bytes an order of magnitude slower.
  const std::string upload = BigBody(5 << 20);
  HttpRequest post = Post("/echo", upload);
  post.timeout = 60s;
  auto res = transport->RoundTrip(post);
  ASSERT_TRUE(res.has_value()) << res.error().ToString();
  EXPECT_TRUE(res->body == upload);
  res = transport->RoundTrip(Get("/big?bytes=" + std::to_string(20 << 20), 60s));
  ASSERT_TRUE(res.has_value()) << res.error().ToString();
  EXPECT_EQ(res->body.size(), size_t{20 << 20});
  EXPECT_TRUE(res->body == BigBody(20 << 20));
}

TEST_F(HttpTransportTest, HeadResponseHasNoBodyAndKeepsTheConnection) {
  StartServer();
  auto transport = NewTransport(Config());
  HttpRequest head = Get("/big?bytes=1000");
  head.method = "HEAD";
  auto res = transport->RoundTrip(head);
  ASSERT_TRUE(res.has_value()) << res.error().ToString();
  EXPECT_EQ(FindHeader(res->headers, "Content-Length"), "1000");
  EXPECT_EQ(res->body, "");
  res = transport->RoundTrip(Get("/echo"));
  ASSERT_TRUE(res.has_value()) << res.error().ToString();
  EXPECT_EQ(server_->accepted(), 1);
}

TEST_F(HttpTransportTest, ReconnectsWhenServerClosedIdleConnection) {
  StartServer();
  auto transport = NewTransport(Config());
  ASSERT_TRUE(transport->RoundTrip(Get("/close-after")).has_value());
  ASSERT_TRUE(WaitFor([&] { return server_->closed_by_server() == 1; }));
  auto res = transport->RoundTrip(Get("/echo"));
  ASSERT_TRUE(res.has_value()) << res.error().ToString();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(server_->accepted(), 2);
}

TEST_F(HttpTransportTest, RetriesOnceWhenReusedConnectionDiesBeforeResponse) {
  StartServer();
  auto transport = NewTransport(Config());
  ASSERT_TRUE(transport->RoundTrip(Get("/drop-next")).has_value());
  // The server reads this request on the pooled connection and closes it unanswered.
  auto res = transport->RoundTrip(Post("/echo", "again"));
  ASSERT_TRUE(res.has_value()) << res.error().ToString();
  EXPECT_EQ(res->body, "again");
  EXPECT_EQ(server_->accepted(), 2);
}

TEST_F(HttpTransportTest, FreshConnectionClosedUnansweredIsANetworkError) {
  StartServer();
  auto transport = NewTransport(Config());
  auto res = transport->RoundTrip(Get("/drop-now"));
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error().code(), ErrorCode::kNetwork) << res.error().ToString();
  EXPECT_THAT(res.error().message(), HasSubstr("127.0.0.1"));
  EXPECT_EQ(server_->accepted(), 1);  // not retried: the connection was new
}

TEST_F(HttpTransportTest, HonoursConnectionClose) {
  StartServer();
  auto transport = NewTransport(Config());
  ASSERT_TRUE(transport->RoundTrip(Get("/close")).has_value());
  ASSERT_TRUE(transport->RoundTrip(Get("/close")).has_value());
  EXPECT_EQ(server_->accepted(), 2);
}

TEST_F(HttpTransportTest, NoIdlePoolingWhenDisabledOrExpired) {
  StartServer();
  TransportOptions no_idle;
  no_idle.max_idle_connections = 0;
  auto transport = NewTransport(Config(), no_idle);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(transport->RoundTrip(Get("/echo")).has_value());
  EXPECT_EQ(server_->accepted(), 3);

  TransportOptions expire_at_once;
  expire_at_once.idle_timeout = 0ms;
  transport = NewTransport(Config(), expire_at_once);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(transport->RoundTrip(Get("/echo")).has_value());
  EXPECT_EQ(server_->accepted(), 6);
}

TEST_F(HttpTransportTest, UntrustedCaIsATlsError) {
  StartServer();
  auto other = kubesim::MakeCa("someone-else");
  ASSERT_TRUE(other.has_value());
  ClusterConfig config = Config();
  config.ca_pem = other->ca_cert_pem;
  auto transport = NewTransport(config);
  auto res = transport->RoundTrip(Get("/echo"));
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error().code(), ErrorCode::kTls);
  EXPECT_THAT(res.error().message(), HasSubstr("certificate verify failed"));
  EXPECT_THAT(res.error().message(), HasSubstr("https://127.0.0.1:"));
}

TEST_F(HttpTransportTest, SystemRootsDoNotTrustTheTestCa) {
  StartServer();
  ClusterConfig config = Config();
  config.ca_pem.clear();
  auto res = NewTransport(config)->RoundTrip(Get("/echo"));
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error().code(), ErrorCode::kTls);
}

TEST_F(HttpTransportTest, WrongServerNameIsATlsError) {
  StartServer();
  ClusterConfig config = Config();
  config.tls_server_name = "wrong.example";
  auto res = NewTransport(config)->RoundTrip(Get("/echo"));
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error().code(), ErrorCode::kTls);
  EXPECT_THAT(res.error().message(), HasSubstr("certificate verify failed"));
  EXPECT_THAT(res.error().message(), HasSubstr("mismatch"));
}

TEST_F(HttpTransportTest, TlsServerNameIsUsedForSniAndVerification) {
  StartServer();
  ClusterConfig config = Config();
  config.tls_server_name = "kubesim.local";
  auto res = NewTransport(config)->RoundTrip(Get("/whoami"));
  ASSERT_TRUE(res.has_value()) << res.error().ToString();
  EXPECT_EQ(FindHeader(res->headers, "X-SNI"), "kubesim.local");
}

TEST_F(HttpTransportTest, HostNameUrlIsVerifiedAndSentAsSni) {
  StartServer();
  ClusterConfig config = Config();
  config.server = "https://localhost:" + std::to_string(server_->port());
  auto res = NewTransport(config)->RoundTrip(Get("/whoami"));
  ASSERT_TRUE(res.has_value()) << res.error().ToString();
  EXPECT_EQ(FindHeader(res->headers, "X-SNI"), "localhost");

  // An IP address is verified against the certificate's IP SANs and never sent as SNI.
  res = NewTransport(Config())->RoundTrip(Get("/whoami"));
  ASSERT_TRUE(res.has_value()) << res.error().ToString();
  EXPECT_EQ(FindHeader(res->headers, "X-SNI"), "");
}

TEST_F(HttpTransportTest, InsecureSkipVerifyAcceptsAnyServer) {
  StartServer();
  ClusterConfig config = Config();
  config.ca_pem.clear();
  config.insecure_skip_tls_verify = true;
  config.tls_server_name = "wrong.example";
  auto res = NewTransport(config)->RoundTrip(Get("/echo"));
  ASSERT_TRUE(res.has_value()) << res.error().ToString();
  EXPECT_EQ(res->status, 200);
}

TEST_F(HttpTransportTest, PresentsClientCertificate) {
  StartServer(/*tls=*/true, pki_.ca_cert_pem);
  auto client = kubesim::IssueClientCert(pki_, "alice", {"devs"});
  ASSERT_TRUE(client.has_value());
  ClusterConfig config = Config();
  config.client_cert_pem = client->cert_pem;
  config.client_key_pem = client->key_pem;
  auto res = NewTransport(config)->RoundTrip(Get("/whoami"));
  ASSERT_TRUE(res.has_value()) << res.error().ToString();
  EXPECT_EQ(res->body, "alice");

  auto rejected = NewTransport(Config())->RoundTrip(Get("/whoami"));
  ASSERT_FALSE(rejected.has_value());
  EXPECT_EQ(rejected.error().code(), ErrorCode::kTls) << rejected.error().ToString();
}

TEST_F(HttpTransportTest, RequestTimeout) {
  StartServer();
  auto transport = NewTransport(Config());
  const auto start = std::chrono::steady_clock::now();
  auto res = transport->RoundTrip(Get("/hang", 200ms));
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error().code(), ErrorCode::kTimeout) << res.error().ToString();
  EXPECT_THAT(res.error().message(), HasSubstr("200ms"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

// A request on a kept-alive connection is done by the calling thread with blocking I/O; its
// deadline still holds.
TEST_F(HttpTransportTest, RequestTimeoutOnAReusedConnection) {
  StartServer();
  auto transport = NewTransport(Config());
  ASSERT_TRUE(transport->RoundTrip(Get("/echo")).has_value());
  const auto start = std::chrono::steady_clock::now();
  auto res = transport->RoundTrip(Get("/hang", 200ms));
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error().code(), ErrorCode::kTimeout) << res.error().ToString();
  EXPECT_THAT(res.error().message(), HasSubstr("200ms"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(server_->accepted(), 1);  // the hanging request did reuse the connection

  // The timed-out connection is not reused.
  ASSERT_TRUE(transport->RoundTrip(Get("/echo")).has_value());
  EXPECT_EQ(server_->accepted(), 2);
}

TEST_F(HttpTransportTest, ShutdownCancelsABlockingRequestOnAReusedConnection) {
  StartServer();
  auto transport = NewTransport(Config());
  ASSERT_TRUE(transport->RoundTrip(Get("/echo")).has_value());
  std::optional<Error> error;
  std::thread requester([&] {
    auto res = transport->RoundTrip(Get("/hang", 30s));
    if (!res) error = res.error();
  });
  ASSERT_TRUE(WaitFor([&] { return server_->hanging() == 1; }));
  const auto start = std::chrono::steady_clock::now();
  transport->Shutdown();
  requester.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(server_->accepted(), 1);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code(), ErrorCode::kCancelled) << error->ToString();
}

TEST_F(HttpTransportTest, WaitingForAConnectionSlotTimesOut) {
  StartServer();
  TransportOptions options;
  options.max_connections = 1;
  auto transport = NewTransport(Config(), options);
  auto stream = transport->Stream(Get("/stream-forever"));
  ASSERT_TRUE(stream.has_value()) << stream.error().ToString();
  auto res = transport->RoundTrip(Get("/echo", 100ms));
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error().code(), ErrorCode::kTimeout);
  EXPECT_THAT(res.error().message(), HasSubstr("no free connection"));

  // Closing the stream frees the slot.
  stream->reset();
  res = transport->RoundTrip(Get("/echo"));
  ASSERT_TRUE(res.has_value()) << res.error().ToString();
}

TEST_F(HttpTransportTest, ConnectionRefusedIsANetworkError) {
  uint16_t port;
  {
    asio::io_context ioc;
    tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = acceptor.local_endpoint().port();
  }
  ClusterConfig config;
  config.server = "https://127.0.0.1:" + std::to_string(port);
  config.ca_pem = pki_.ca_cert_pem;
  auto res = NewTransport(config)->RoundTrip(Get("/echo"));
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error().code(), ErrorCode::kNetwork);
  EXPECT_THAT(res.error().message(), HasSubstr("127.0.0.1:" + std::to_string(port)));
  EXPECT_THAT(res.error().message(), HasSubstr("refused"));
}

TEST_F(HttpTransportTest, ConnectTimeoutCoversTheTlsHandshake) {
  // The kernel completes TCP connections to a listening socket that nobody accepts, so the
  // client gets as far as the TLS handshake and waits for a ServerHello that never comes.
  asio::io_context ioc;
  tcp::acceptor silent(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  ClusterConfig config;
  config.server = "https://127.0.0.1:" + std::to_string(silent.local_endpoint().port());
  config.ca_pem = pki_.ca_cert_pem;
  TransportOptions options;
  options.connect_timeout = 200ms;
  auto transport = NewTransport(config, options);
  const auto start = std::chrono::steady_clock::now();
  auto res = transport->RoundTrip(Get("/echo", 5s));
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error().code(), ErrorCode::kTimeout) << res.error().ToString();
  EXPECT_THAT(res.error().message(), HasSubstr("TLS handshake"));
  EXPECT_THAT(res.error().message(), HasSubstr("200ms"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST_F(HttpTransportTest, StreamDeliversChunksAsTheyArrive) {
  StartServer();
  auto transport = NewTransport(Config());
  auto stream = transport->Stream(Get("/stream"));
  ASSERT_TRUE(stream.has_value()) << stream.error().ToString();
  EXPECT_EQ((*stream)->status(), 200);
  EXPECT_EQ(FindHeader((*stream)->headers(), "Transfer-Encoding"), "chunked");
  // The server holds back the second chunk until the gate opens, so this can only pass if the
  // first one is delivered on its own.
  EXPECT_EQ(ReadBytes(**stream, 8), "event-1\n");
  server_->OpenGate();
  EXPECT_EQ(ReadBytes(**stream, 8), "event-2\n");
  auto end = (*stream)->Read();
  ASSERT_TRUE(end.has_value()) << end.error().ToString();
  EXPECT_FALSE(end->has_value());
  end = (*stream)->Read();
  ASSERT_TRUE(end.has_value());
  EXPECT_FALSE(end->has_value());

  // A fully read stream gives its connection back.
  ASSERT_TRUE(transport->RoundTrip(Get("/echo")).has_value());
  EXPECT_EQ(server_->accepted(), 1);
}

// Chunks that arrived together are handed over together: a busy watch costs one read (and one
// hand-off between threads) per batch of events, not one per event.
TEST_F(HttpTransportTest, StreamHandsOverEveryBufferedChunkInOneRead) {
  StartServer();
  auto transport = NewTransport(Config());
  auto stream = transport->Stream(Get("/stream-batch"));
  ASSERT_TRUE(stream.has_value()) << stream.error().ToString();
  auto first = (*stream)->Read();
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  EXPECT_EQ(first->value_or("<end>"), "a\nb\nc\n");
  auto end = (*stream)->Read();
  ASSERT_TRUE(end.has_value()) << end.error().ToString();
  EXPECT_FALSE(end->has_value());
}

TEST_F(HttpTransportTest, StreamOfAnErrorStatus) {
  StartServer();
  auto transport = NewTransport(Config());
  auto stream = transport->Stream(Get("/missing"));
  ASSERT_TRUE(stream.has_value()) << stream.error().ToString();
  EXPECT_EQ((*stream)->status(), 404);
  EXPECT_EQ(ReadBytes(**stream, 9), "not found");
  auto end = (*stream)->Read();
  ASSERT_TRUE(end.has_value());
  EXPECT_FALSE(end->has_value());
}

TEST_F(HttpTransportTest, CancelUnblocksRead) {
  StartServer();
  auto transport = NewTransport(Config());
  auto stream = transport->Stream(Get("/stream-forever"));
  ASSERT_TRUE(stream.has_value()) << stream.error().ToString();
  ASSERT_EQ(ReadBytes(**stream, 8), "event-1\n");
  std::atomic<bool> reading{false};
  std::atomic<bool> done{false};
  std::optional<Error> error;
  std::thread reader([&] {
    reading = true;
    auto chunk = (*stream)->Read();
    if (!chunk) error = chunk.error();
    done = true;
  });
  ASSERT_TRUE(WaitFor([&] { return reading.load(); }));
  (*stream)->Cancel();
  ASSERT_TRUE(WaitFor([&] { return done.load(); }, 2s));
  reader.join();
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code(), ErrorCode::kCancelled) << error->ToString();
  auto again = (*stream)->Read();
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), ErrorCode::kCancelled);

  // The cancelled stream's connection is not reused.
  stream->reset();
  ASSERT_TRUE(transport->RoundTrip(Get("/echo")).has_value());
  EXPECT_EQ(server_->accepted(), 2);
}

TEST_F(HttpTransportTest, StreamIdleTimeout) {
  StartServer();
  TransportOptions options;
  options.stream_idle_timeout = 200ms;
  auto transport = NewTransport(Config(), options);
  auto stream = transport->Stream(Get("/stream-forever"));
  ASSERT_TRUE(stream.has_value()) << stream.error().ToString();
  ASSERT_EQ(ReadBytes(**stream, 8), "event-1\n");
  auto chunk = (*stream)->Read();
  ASSERT_FALSE(chunk.has_value());
  EXPECT_EQ(chunk.error().code(), ErrorCode::kTimeout) << chunk.error().ToString();
}

TEST_F(HttpTransportTest, ShutdownCancelsInFlightAndLaterCalls) {
  StartServer();
  auto transport = NewTransport(Config());
  auto stream = transport->Stream(Get("/stream-forever"));
  ASSERT_TRUE(stream.has_value()) << stream.error().ToString();
  ASSERT_EQ(ReadBytes(**stream, 8), "event-1\n");

  std::optional<Error> round_trip_error;
  std::optional<Error> read_error;
  std::thread requester([&] {
    auto res = transport->RoundTrip(Get("/hang", 30s));
    if (!res) round_trip_error = res.error();
  });
  std::thread reader([&] {
    auto chunk = (*stream)->Read();
    if (!chunk) read_error = chunk.error();
  });
  ASSERT_TRUE(WaitFor([&] { return server_->hanging() == 1; }));
  const auto start = std::chrono::steady_clock::now();
  transport->Shutdown();
  requester.join();
  reader.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  ASSERT_TRUE(round_trip_error.has_value());
  EXPECT_EQ(round_trip_error->code(), ErrorCode::kCancelled) << round_trip_error->ToString();
  ASSERT_TRUE(read_error.has_value());
  EXPECT_EQ(read_error->code(), ErrorCode::kCancelled) << read_error->ToString();

  auto later = transport->RoundTrip(Get("/echo"));
  ASSERT_FALSE(later.has_value());
  EXPECT_EQ(later.error().code(), ErrorCode::kCancelled);
  auto later_stream = transport->Stream(Get("/stream"));
  ASSERT_FALSE(later_stream.has_value());
  EXPECT_EQ(later_stream.error().code(), ErrorCode::kCancelled);
}

TEST_F(HttpTransportTest, StreamMayOutliveItsTransport) {
  StartServer();
  auto transport = NewTransport(Config());
  auto stream = transport->Stream(Get("/stream-forever"));
  ASSERT_TRUE(stream.has_value()) << stream.error().ToString();
  ASSERT_EQ(ReadBytes(**stream, 8), "event-1\n");
  transport.reset();
  auto chunk = (*stream)->Read();
  ASSERT_FALSE(chunk.has_value());
  EXPECT_EQ(chunk.error().code(), ErrorCode::kCancelled);
  (*stream)->Cancel();
  stream->reset();
}

TEST_F(HttpTransportTest, RejectsInvalidRequests) {
  StartServer();
  auto transport = NewTransport(Config());
  HttpRequest bad_header = Get("/echo");
  bad_header.headers.emplace_back("X-Evil", "a\r\nInjected: yes");
  auto res = transport->RoundTrip(bad_header);
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error().code(), ErrorCode::kBadRequest);
  HttpRequest bad_method = Get("/echo");
  bad_method.method = "GE T";
  res = transport->RoundTrip(bad_method);
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error().code(), ErrorCode::kBadRequest);
  EXPECT_EQ(server_->accepted(), 0);
}

TEST_F(HttpTransportTest, InvalidConfigIsRejectedAtConstruction) {
  ClusterConfig config;
  config.server = "ftp://127.0.0.1";
  auto transport = NewHttpTransport(config);
  ASSERT_FALSE(transport.has_value());
  EXPECT_EQ(transport.error().code(), ErrorCode::kConfig);

  config.server = "https://127.0.0.1:6443";
  config.ca_pem = "garbage";
  transport = NewHttpTransport(config);
  ASSERT_FALSE(transport.has_value());
  EXPECT_EQ(transport.error().code(), ErrorCode::kConfig);
}

}  // namespace
}  // namespace vk::hostclient
