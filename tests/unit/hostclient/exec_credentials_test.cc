#include "hostclient/exec_credentials.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "hostclient/base/base64.h"
#include "hostclient/base/object.h"
#include "tests/unit/hostclient/test_files.h"

namespace vk::hostclient {
namespace {

using ::testing::HasSubstr;
using testutil::TempDir;
using WallTime = std::chrono::system_clock::time_point;

constexpr char kV1[] = "client.authentication.k8s.io/v1";

// A plugin that counts its runs, records KUBERNETES_EXEC_INFO, fails while $FAIL_FILE exists,
// and otherwise prints an ExecCredential whose token is "token-<run number>".
constexpr char kPlugin[] = R"(
echo run >> "$COUNT_FILE"
n=$(wc -l < "$COUNT_FILE" | tr -d ' ')
printf '%s' "$KUBERNETES_EXEC_INFO" > "$INFO_FILE"
if [ -f "$FAIL_FILE" ]; then echo "  login expired, run: login  " >&2; exit 3; fi
printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"token-%s"%s}}\n' \
  "$API_VERSION" "$n" "$EXTRA"
)";

WallTime At(int year, unsigned month, unsigned day, int hour, int minute, int second) {
  using namespace std::chrono;
  return sys_days(std::chrono::year{year} / month / day) + hours(hour) + minutes(minute) +
         seconds(second);
}

class ExecCredentialsTest : public ::testing::Test {
 protected:
  ExecConfig Plugin(const std::string& extra_status = "", const std::string& api_version = kV1) {
    ExecConfig exec;
    exec.api_version = kV1;
    exec.command = dir_.WriteScript("plugin.sh", kPlugin);
    exec.interactive_mode = "Never";
    exec.env = {{"COUNT_FILE", dir_.Join("count")},
                {"INFO_FILE", dir_.Join("info")},
                {"FAIL_FILE", dir_.Join("fail")},
                {"API_VERSION", api_version},
                {"EXTRA", extra_status}};
    return exec;
  }

  std::unique_ptr<ExecCredentials> Make(
      const ExecConfig& exec, const ClusterConfig& cluster = ClusterConfig{},
      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    ExecCredentialsOptions options;
    options.timeout = timeout;
    options.wall_clock = [this] {
      std::lock_guard lock(wall_mutex_);
      return wall_now_;
    };
    auto credentials = ExecCredentials::Create(exec, cluster, options);
    EXPECT_TRUE(credentials) << credentials.error().ToString();
    return credentials ? std::move(*credentials) : nullptr;
  }

  void SetWall(WallTime t) {
    std::lock_guard lock(wall_mutex_);
    wall_now_ = t;
  }

  int Runs() const {
    std::string text = testutil::ReadAll(dir_.Join("count"));
    return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  }

  std::string Header(Credentials& credentials) {
    auto header = credentials.AuthorizationHeader();
    EXPECT_TRUE(header) << header.error().ToString();
    return header ? *header : "<error>";
  }

  Error Failure(Credentials& credentials) {
    auto header = credentials.AuthorizationHeader();
    EXPECT_FALSE(header) << *header;
    return header ? Error(ErrorCode::kInternal, "unexpected success") : header.error();
  }

  TempDir dir_;
  std::mutex wall_mutex_;
  WallTime wall_now_ = At(2029, 6, 1, 0, 0, 0);
};

TEST_F(ExecCredentialsTest, RunsThePluginOnceAndCachesATokenWithoutExpiry) {
  auto credentials = Make(Plugin());
  EXPECT_EQ(Header(*credentials), "Bearer token-1");
  EXPECT_EQ(Header(*credentials), "Bearer token-1");
  SetWall(At(2100, 1, 1, 0, 0, 0));  // no expiry: kept however late it gets
  EXPECT_EQ(Header(*credentials), "Bearer token-1");
  EXPECT_EQ(Runs(), 1);
}

TEST_F(ExecCredentialsTest, InvalidateRunsThePluginAgain) {
  auto credentials = Make(Plugin());
  EXPECT_EQ(Header(*credentials), "Bearer token-1");
  credentials->Invalidate();
  EXPECT_EQ(Header(*credentials), "Bearer token-2");
  EXPECT_EQ(Header(*credentials), "Bearer token-2");
  EXPECT_EQ(Runs(), 2);
}

TEST_F(ExecCredentialsTest, CachesUntilExpirationTimestamp) {
  SetWall(At(2029, 12, 31, 23, 59, 0));
  auto credentials = Make(Plugin(R"(,"expirationTimestamp":"2030-01-01T00:00:00Z")"));
  EXPECT_EQ(Header(*credentials), "Bearer token-1");
  SetWall(At(2029, 12, 31, 23, 59, 59));
  EXPECT_EQ(Header(*credentials), "Bearer token-1");
  SetWall(At(2030, 1, 1, 0, 0, 0));
  EXPECT_EQ(Header(*credentials), "Bearer token-2");
  EXPECT_EQ(Runs(), 2);
}

TEST_F(ExecCredentialsTest, ExpirationTimestampWithOffsetAndFraction) {
  // 02:00:00.5+02:00 is 00:00:00.5 UTC.
  SetWall(At(2030, 1, 1, 0, 0, 0));
  auto credentials = Make(Plugin(R"(,"expirationTimestamp":"2030-01-01T02:00:00.5+02:00")"));
  EXPECT_EQ(Header(*credentials), "Bearer token-1");
  EXPECT_EQ(Header(*credentials), "Bearer token-1");
  SetWall(At(2030, 1, 1, 0, 0, 1));
  EXPECT_EQ(Header(*credentials), "Bearer token-2");
}

TEST_F(ExecCredentialsTest, InvalidExpirationTimestampIsADecodeError) {
  auto credentials = Make(Plugin(R"(,"expirationTimestamp":"tomorrow")"));
  Error e = Failure(*credentials);
  EXPECT_EQ(e.code(), ErrorCode::kDecode);
  EXPECT_THAT(e.message(), HasSubstr("expirationTimestamp"));
}

TEST_F(ExecCredentialsTest, PassesExecInfoWithoutClusterByDefault) {
  auto credentials = Make(Plugin());
  ASSERT_EQ(Header(*credentials), "Bearer token-1");
  auto info = obj::Parse(testutil::ReadAll(dir_.Join("info")));
  ASSERT_TRUE(info) << info.error().ToString();
  EXPECT_EQ(obj::ApiVersion(*info), kV1);
  EXPECT_EQ(obj::Kind(*info), "ExecCredential");
  const auto* interactive = obj::Find(*info, {"spec", "interactive"});
  ASSERT_NE(interactive, nullptr);
  EXPECT_EQ(*interactive, boost::json::value(false));
  EXPECT_EQ(obj::Find(*info, {"spec", "cluster"}), nullptr);
}

TEST_F(ExecCredentialsTest, ProvidesClusterInfoWhenAsked) {
  ExecConfig exec = Plugin();
  exec.provide_cluster_info = true;
  ClusterConfig cluster;
  cluster.server = "https://api.example.com:6443";
  cluster.ca_pem = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";
  cluster.tls_server_name = "kubernetes";
  auto credentials = Make(exec, cluster);
  ASSERT_EQ(Header(*credentials), "Bearer token-1");
  auto info = obj::Parse(testutil::ReadAll(dir_.Join("info")));
  ASSERT_TRUE(info) << info.error().ToString();
  EXPECT_EQ(obj::String(*info, {"spec", "cluster", "server"}), cluster.server);
  EXPECT_EQ(obj::String(*info, {"spec", "cluster", "tls-server-name"}), "kubernetes");
  EXPECT_EQ(obj::String(*info, {"spec", "cluster", "certificate-authority-data"}),
            Base64Encode(cluster.ca_pem));
  EXPECT_EQ(obj::Find(*info, {"spec", "cluster", "insecure-skip-tls-verify"}), nullptr);
}

TEST_F(ExecCredentialsTest, PassesArgumentsVerbatimAndEnvironment) {
  ExecConfig exec;
  exec.api_version = kV1;
  exec.interactive_mode = "Never";
  exec.command = dir_.WriteScript(
      "echo.sh",
      "printf "
      "'{\"apiVersion\":\"%s\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"%s|%s|%s\"}}'"
      " \"$API\" \"$1\" \"$2\" \"$GREETING\"\n");
  exec.args = {"two words", "$HOME;*"};
  exec.env = {{"API", kV1}, {"GREETING", "hi"}};
  auto credentials = Make(exec);
  EXPECT_EQ(Header(*credentials), "Bearer two words|$HOME;*|hi");
}

TEST_F(ExecCredentialsTest, FailureCarriesExitCodeAndStderrAndIsNotCached) {
  dir_.Write("fail", "");
  auto credentials = Make(Plugin());
  Error e = Failure(*credentials);
  EXPECT_EQ(e.code(), ErrorCode::kUnauthorized);
  EXPECT_THAT(e.message(), HasSubstr("exit code 3: login expired, run: login"));

  std::filesystem::remove(dir_.Join("fail"));
  EXPECT_EQ(Header(*credentials), "Bearer token-2");
  EXPECT_EQ(Runs(), 2);
}

TEST_F(ExecCredentialsTest, MissingCommandShowsTheInstallHint) {
  ExecConfig exec = Plugin();
  exec.command = "vk-test-no-such-credential-plugin";
  exec.install_hint = "Install it with: brew install no-such-plugin\n";
  auto credentials = Make(exec);
  Error e = Failure(*credentials);
  EXPECT_EQ(e.code(), ErrorCode::kConfig);
  EXPECT_THAT(e.message(), HasSubstr("\"vk-test-no-such-credential-plugin\" not found"));
  EXPECT_THAT(e.message(), HasSubstr("Install it with: brew install no-such-plugin"));
}

TEST_F(ExecCredentialsTest, SlowPluginTimesOut) {
  ExecConfig exec = Plugin();
  exec.command = dir_.WriteScript("slow.sh", "sleep 30\n");
  auto credentials = Make(exec, ClusterConfig{}, std::chrono::milliseconds(200));
  auto start = std::chrono::steady_clock::now();
  Error e = Failure(*credentials);
  EXPECT_EQ(e.code(), ErrorCode::kTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(ExecCredentialsTest, ApiVersionMustMatch) {
  auto credentials = Make(Plugin("", "client.authentication.k8s.io/v1beta1"));
  Error e = Failure(*credentials);
  EXPECT_EQ(e.code(), ErrorCode::kConfig);
  EXPECT_THAT(e.message(), HasSubstr("configured to use API version " + std::string(kV1)));
  EXPECT_THAT(e.message(), HasSubstr("client.authentication.k8s.io/v1beta1"));
}

TEST_F(ExecCredentialsTest, OutputThatIsNotAnExecCredentialIsADecodeError) {
  ExecConfig exec = Plugin();
  exec.command = dir_.WriteScript("garbage.sh", "echo 'Please log in at https://example'\n");
  EXPECT_EQ(Failure(*Make(exec)).code(), ErrorCode::kDecode);

  exec.command = dir_.WriteScript("nostatus.sh", "echo '{\"apiVersion\":\"" + std::string(kV1) +
                                                     "\",\"kind\":\"ExecCredential\"}'\n");
  Error e = Failure(*Make(exec));
  EXPECT_EQ(e.code(), ErrorCode::kDecode);
  EXPECT_THAT(e.message(), HasSubstr("no status"));
}

TEST_F(ExecCredentialsTest, ClientCertificateOnlyIsNotSupported) {
  ExecConfig exec = Plugin();
  exec.command = dir_.WriteScript(
      "cert.sh", "echo '{\"apiVersion\":\"" + std::string(kV1) +
                     "\",\"kind\":\"ExecCredential\",\"status\":{\"clientCertificateData\":"
                     "\"CERT\",\"clientKeyData\":\"KEY\"}}'\n");
  Error e = Failure(*Make(exec));
  EXPECT_EQ(e.code(), ErrorCode::kConfig);
  EXPECT_THAT(e.message(), HasSubstr("client certificate, which is not supported yet"));
}

TEST_F(ExecCredentialsTest, UnsupportedApiVersionIsRejectedAtCreate) {
  ExecConfig exec = Plugin();
  exec.api_version = "client.authentication.k8s.io/v1alpha1";
  auto credentials = ExecCredentials::Create(exec, ClusterConfig{});
  ASSERT_FALSE(credentials);
  EXPECT_EQ(credentials.error().code(), ErrorCode::kConfig);
}

TEST_F(ExecCredentialsTest, ConcurrentCallersShareOneRun) {
  ExecConfig exec = Plugin();
  // Slow enough that the callers pile up behind the first run.
  exec.command = dir_.WriteScript("slow-plugin.sh", std::string("sleep 0.3\n") + kPlugin);
  auto credentials = Make(exec);
  constexpr int kCallers = 8;
  std::vector<std::string> headers(kCallers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCallers; ++i) {
    threads.emplace_back([&, i] {
      auto header = credentials->AuthorizationHeader();
      headers[i] = header ? *header : header.error().ToString();
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& h : headers) EXPECT_EQ(h, "Bearer token-1");
  EXPECT_EQ(Runs(), 1);
}

}  // namespace
}  // namespace vk::hostclient
