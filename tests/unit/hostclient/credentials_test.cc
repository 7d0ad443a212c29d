#include "hostclient/credentials.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "hostclient/token_file_credentials.h"
#include "tests/unit/hostclient/test_files.h"

namespace vk::hostclient {
namespace {

using ::testing::HasSubstr;
using testutil::TempDir;

ExecConfig Exec(const std::string& command, const std::string& interactive_mode) {
  ExecConfig exec;
  exec.api_version = "client.authentication.k8s.io/v1";
  exec.command = command;
  exec.interactive_mode = interactive_mode;
  return exec;
}

class CredentialsTest : public ::testing::Test {
 protected:
  CredentialsPtr Create(const ClusterConfig& config) {
    auto credentials = Credentials::Create(config, clock_);
    EXPECT_TRUE(credentials) << credentials.error().ToString();
    return credentials ? std::move(*credentials) : nullptr;
  }

  std::string Header(Credentials& credentials) {
    auto header = credentials.AuthorizationHeader();
    EXPECT_TRUE(header) << header.error().ToString();
    return header ? *header : "<error>";
  }

  ClusterConfig WithTokenFile() {
    ClusterConfig config;
    config.name = "virtual";
    config.token_file = dir_.Join("token");
    return config;
  }

  FakeClock clock_;
  TempDir dir_;
};

TEST_F(CredentialsTest, NoCredentialsGiveAnEmptyHeader) {
  auto credentials = Create(ClusterConfig{});
  EXPECT_EQ(Header(*credentials), "");
}

TEST_F(CredentialsTest, StaticToken) {
  ClusterConfig config;
  config.token = "abc.def";
  auto credentials = Create(config);
  EXPECT_EQ(Header(*credentials), "Bearer abc.def");
  credentials->Invalidate();
  EXPECT_EQ(Header(*credentials), "Bearer abc.def");
}

TEST_F(CredentialsTest, BasicAuth) {
  ClusterConfig config;
  config.username = "admin";
  config.password = "pw";
  EXPECT_EQ(Header(*Create(config)), "Basic YWRtaW46cHc=");
}

TEST_F(CredentialsTest, TokenAndBasicAuthTogetherAreRejected) {
  ClusterConfig config;
  config.name = "host";
  config.token = "t";
  config.username = "admin";
  auto credentials = Credentials::Create(config, clock_);
  ASSERT_FALSE(credentials);
  EXPECT_EQ(credentials.error().code(), ErrorCode::kConfig);
  EXPECT_THAT(credentials.error().message(), HasSubstr("cluster \"host\""));
}

TEST_F(CredentialsTest, TokenWithLineBreakIsRejected) {
  ClusterConfig config;
  config.token = "abc\r\nX-Injected: 1";
  auto credentials = Credentials::Create(config, clock_);
  ASSERT_FALSE(credentials);
  EXPECT_EQ(credentials.error().code(), ErrorCode::kConfig);
}

TEST_F(CredentialsTest, TokenFileIsReadAtFirstUseAndTrimmed) {
  auto credentials = Create(WithTokenFile());  // the file does not exist yet: no error here
  dir_.Write("token", "  first-token\n");
  EXPECT_EQ(Header(*credentials), "Bearer first-token");
}

TEST_F(CredentialsTest, MissingTokenFileFailsNamingThePath) {
  auto credentials = Create(WithTokenFile());
  auto header = credentials->AuthorizationHeader();
  ASSERT_FALSE(header);
  EXPECT_EQ(header.error().code(), ErrorCode::kUnavailableLocally);
  EXPECT_THAT(header.error().message(), HasSubstr(dir_.Join("token")));

  // The file appears; it is noticed at the next check, a second later.
  dir_.Write("token", "late");
  EXPECT_FALSE(credentials->AuthorizationHeader());
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_EQ(Header(*credentials), "Bearer late");
}

TEST_F(CredentialsTest, RotatedTokenIsPickedUpAtTheNextCheck) {
  dir_.Write("token", "one");
  auto credentials = Create(WithTokenFile());
  EXPECT_EQ(Header(*credentials), "Bearer one");

  dir_.Replace("token", "two-rotated");
  clock_.Advance(std::chrono::milliseconds(999));
  EXPECT_EQ(Header(*credentials), "Bearer one");  // checked at most once a second
  clock_.Advance(std::chrono::milliseconds(1));
  EXPECT_EQ(Header(*credentials), "Bearer two-rotated");
}

TEST_F(CredentialsTest, UnchangedFileIsNotReadAgainUntilInvalidated) {
  std::string path = dir_.Write("token", "aaaa");
  auto credentials = Create(WithTokenFile());
  EXPECT_EQ(Header(*credentials), "Bearer aaaa");

  // Same inode, same size, same mtime: the identity check must skip the read.
  struct stat before {};
  ASSERT_EQ(::stat(path.c_str(), &before), 0);
  dir_.Write("token", "bbbb");
  struct timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  clock_.Advance(std::chrono::seconds(5));
  EXPECT_EQ(Header(*credentials), "Bearer aaaa");

  credentials->Invalidate();
  EXPECT_EQ(Header(*credentials), "Bearer bbbb");
}

TEST_F(CredentialsTest, InvalidateForcesAReadWithinTheInterval) {
  dir_.Write("token", "old");
  auto credentials = Create(WithTokenFile());
  EXPECT_EQ(Header(*credentials), "Bearer old");
  dir_.Replace("token", "new");
  EXPECT_EQ(Header(*credentials), "Bearer old");
  credentials->Invalidate();
  EXPECT_EQ(Header(*credentials), "Bearer new");
}

TEST_F(CredentialsTest, EmptyOrMissingFileKeepsTheLastGoodToken) {
  dir_.Write("token", "good");
  auto credentials = Create(WithTokenFile());
  EXPECT_EQ(Header(*credentials), "Bearer good");

  dir_.Replace("token", " \n");
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_EQ(Header(*credentials), "Bearer good");

  std::filesystem::remove(dir_.Join("token"));
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_EQ(Header(*credentials), "Bearer good");

  dir_.Write("token", "recovered");
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_EQ(Header(*credentials), "Bearer recovered");
}

TEST_F(CredentialsTest, EmptyFileWithoutAnyGoodTokenIsAnError) {
  dir_.Write("token", "\n");
  auto credentials = Create(WithTokenFile());
  auto header = credentials->AuthorizationHeader();
  ASSERT_FALSE(header);
  EXPECT_EQ(header.error().code(), ErrorCode::kUnavailableLocally);
  EXPECT_THAT(header.error().message(), HasSubstr(dir_.Join("token")));
  EXPECT_THAT(header.error().message(), HasSubstr("empty"));
}

TEST_F(CredentialsTest, TokenFileWithControlCharactersIsRejected) {
  dir_.Write("token", "abc\ndef");
  auto credentials = Create(WithTokenFile());
  EXPECT_FALSE(credentials->AuthorizationHeader());
}

// client-go: the file's token, when it can be read, wins over the static token, which stays the
// fallback.
TEST_F(CredentialsTest, TokenFileWinsOverStaticTokenWhichIsTheFallback) {
  ClusterConfig config = WithTokenFile();
  config.token = "static";
  auto credentials = Create(config);
  EXPECT_EQ(Header(*credentials), "Bearer static");  // no file yet

  dir_.Write("token", "from-file");
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_EQ(Header(*credentials), "Bearer from-file");
}

TEST_F(CredentialsTest, ExecPluginIsUsedWhenNothingElseIdentifiesUs) {
  std::string plugin =
      dir_.WriteScript("plugin",
                       "echo '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":"
                       "\"ExecCredential\",\"status\":{\"token\":\"exec-token\"}}'\n");
  ClusterConfig config;
  config.exec = Exec(plugin, "Never");
  EXPECT_EQ(Header(*Create(config)), "Bearer exec-token");

  // client-go: a static token (or basic auth, or a client certificate) takes precedence.
  config.token = "static";
  EXPECT_EQ(Header(*Create(config)), "Bearer static");
  config.token.clear();
  config.client_cert_pem = "cert";
  config.client_key_pem = "key";
  EXPECT_EQ(Header(*Create(config)), "");
}

TEST_F(CredentialsTest, ExecPluginThatNeedsATerminalIsRejected) {
  ClusterConfig config;
  config.exec = Exec("plugin", "Always");
  auto credentials = Credentials::Create(config, clock_);
  ASSERT_FALSE(credentials);
  EXPECT_EQ(credentials.error().code(), ErrorCode::kConfig);
  EXPECT_THAT(credentials.error().message(), HasSubstr("interactiveMode Always"));
}

}  // namespace
}  // namespace vk::hostclient
