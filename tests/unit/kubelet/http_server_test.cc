#include "kubelet/http_server.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kubelet/health_checks.h"
#include "kubelet/process_metrics.h"
#include "tests/support/http_get.h"

namespace vk::kubelet {
namespace {

using ::testing::HasSubstr;
using testing::HttpGet;

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    caches_synced_ = std::make_shared<Condition>("caches not synced yet");
    readiness_.Add("virtual-api-reachable", [] { return Ok(); });
    readiness_.Add("caches-synced", caches_synced_);
    requests_ = &prometheus::BuildCounter()
                     .Name("test_requests_total")
                     .Help("Requests seen by the test.")
                     .Register(registry_)
                     .Add({{"code", "200"}});
    HttpServer::Options options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.liveness = &liveness_;
    options.readiness = &readiness_;
    options.metrics = {&registry_, &process_};
    auto server = HttpServer::Start(std::move(options));
    ASSERT_TRUE(server) << server.error().ToString();
    server_ = std::move(*server);
  }

  testing::SimpleHttpResponse Get(const std::string& target) {
    auto response = HttpGet(server_->port(), target);
    EXPECT_TRUE(response) << response.error().ToString();
    return response ? *response : testing::SimpleHttpResponse{};
  }

  HealthChecks liveness_;
  HealthChecks readiness_;
  ConditionPtr caches_synced_;
  prometheus::Registry registry_;
  ProcessCollector process_;
  prometheus::Counter* requests_ = nullptr;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, BindsAnEphemeralPort) { EXPECT_NE(server_->port(), 0); }

TEST_F(HttpServerTest, LivenessEndpointsAnswerOk) {
  for (const char* path : {"/healthz", "/livez"}) {
    auto response = Get(path);
    EXPECT_EQ(response.status, 200) << path;
    EXPECT_EQ(response.body, "ok") << path;
    EXPECT_THAT(response.Header("content-type"), HasSubstr("text/plain"));
  }
  auto verbose = Get("/livez?verbose");
  EXPECT_EQ(verbose.status, 200);
  EXPECT_EQ(verbose.body, "[+]ping ok\nlivez check passed\n");
}

TEST_F(HttpServerTest, ReadinessFollowsItsChecks) {
  auto not_ready = Get("/readyz");
  EXPECT_EQ(not_ready.status, 500);
  EXPECT_EQ(not_ready.body,
            "[-]caches-synced failed: caches not synced yet\nreadyz check failed\n");

  caches_synced_->Set();
  auto ready = Get("/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "ok");

  caches_synced_->Fail("watch\nbroken");
  auto again = Get("/readyz");
  EXPECT_EQ(again.status, 500);
  EXPECT_THAT(again.body, HasSubstr("[-]caches-synced failed: watch broken\n"));
}

TEST_F(HttpServerTest, VerboseListsEveryCheck) {
  auto response = Get("/readyz?verbose");
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(response.body,
            "[+]ping ok\n"
            "[+]virtual-api-reachable ok\n"
            "[-]caches-synced failed: caches not synced yet\n"
            "readyz check failed\n");
  caches_synced_->Set();
  response = Get("/readyz?verbose=true");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body,
            "[+]ping ok\n"
            "[+]virtual-api-reachable ok\n"
            "[+]caches-synced ok\n"
            "readyz check passed\n");
}

TEST_F(HttpServerTest, ExcludedChecksDoNotFailReadiness) {
  auto response = Get("/readyz?exclude=caches-synced&verbose");
  EXPECT_EQ(response.status, 200);
  EXPECT_THAT(response.body, HasSubstr("[+]caches-synced excluded: ok\n"));
}

TEST_F(HttpServerTest, SingleCheckEndpoint) {
  EXPECT_EQ(Get("/readyz/virtual-api-reachable").status, 200);
  auto failing = Get("/readyz/caches-synced");
  EXPECT_EQ(failing.status, 500);
  EXPECT_THAT(failing.body, HasSubstr("[-]caches-synced failed"));
  EXPECT_EQ(Get("/readyz/no-such-check").status, 404);
  EXPECT_EQ(Get("/livez/ping").status, 200);
}

TEST_F(HttpServerTest, ChecksAddedWhileServingAreSeen) {
  caches_synced_->Set();
  EXPECT_EQ(Get("/readyz").status, 200);
  readiness_.Add("late", [] { return Status(MakeError(ErrorCode::kUnavailableLocally, "late")); });
  EXPECT_EQ(Get("/readyz").status, 500);
}

TEST_F(HttpServerTest, MetricsUseThePrometheusTextFormat) {
  requests_->Increment(3);
  auto response = Get("/metrics");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.Header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_THAT(response.body, HasSubstr("# TYPE test_requests_total counter"));
  EXPECT_THAT(response.body, HasSubstr("test_requests_total{code=\"200\"} 3"));
  EXPECT_THAT(response.body, HasSubstr("process_open_fds "));
  requests_->Increment();
  EXPECT_THAT(Get("/metrics").body, HasSubstr("test_requests_total{code=\"200\"} 4"));
}

TEST_F(HttpServerTest, UnknownPathIs404AndOtherMethods405) {
  EXPECT_EQ(Get("/nope").status, 404);
  EXPECT_EQ(Get("/readyzz").status, 404);
  auto post = testing::HttpRequest(server_->port(), "POST", "/readyz");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->Header("allow"), "GET, HEAD");
}

TEST_F(HttpServerTest, HeadGetsHeadersOnly) {
  auto head = testing::HttpRequest(server_->port(), "HEAD", "/livez");
  ASSERT_TRUE(head) << head.error().ToString();
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Header("content-length"), "2");
  EXPECT_EQ(head->body, "");
}

TEST_F(HttpServerTest, StopClosesTheListenerAndIdleConnections) {
  const uint16_t port = server_->port();
  server_->Stop();
  server_->Stop();  // idempotent
  auto response = HttpGet(port, "/livez");
  EXPECT_FALSE(response);
}

TEST(HttpServerStopTest, IdleKeepAliveConnectionDoesNotDelayStop) {
  HttpServer::Options options;
  options.host = "127.0.0.1";
  options.shutdown_grace = std::chrono::seconds(20);
  options.idle_timeout = std::chrono::seconds(20);
  auto server = HttpServer::Start(options);
  ASSERT_TRUE(server);

  // One request on a keep-alive connection, so that the server is known to hold it open and
  // wait for the next request.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons((*server)->port());
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  const std::string request = "GET /livez HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  std::string received;
  char buffer[1024];
  while (received.find("\r\n\r\nok") == std::string::npos) {
    ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    ASSERT_GT(n, 0);
    received.append(buffer, static_cast<size_t>(n));
  }

  const auto start = std::chrono::steady_clock::now();
  (*server)->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(recv(fd, buffer, sizeof(buffer), 0), 0);  // the server closed it
  close(fd);
}

HttpServer::Options Loopback() {
  HttpServer::Options options;
  options.host = "127.0.0.1";
  return options;
}

TEST(HttpServerBindTest, BusyPortIsAnError) {
  auto first = HttpServer::Start(Loopback());
  ASSERT_TRUE(first);
  HttpServer::Options options;
  options.host = "127.0.0.1";
  options.port = (*first)->port();
  auto second = HttpServer::Start(options);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), ErrorCode::kUnavailableLocally);
  EXPECT_THAT(second.error().message(), HasSubstr("cannot listen on 127.0.0.1:"));
}

TEST(HttpServerBindTest, NullChecksMeanAlwaysHealthy) {
  auto server = HttpServer::Start(Loopback());
  ASSERT_TRUE(server);
  auto response = HttpGet((*server)->port(), "/readyz");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
}

}  // namespace
}  // namespace vk::kubelet
