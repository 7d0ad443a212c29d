#include "hostclient/server_url.h"

#include <gtest/gtest.h>

namespace vk::hostclient {
namespace {

TEST(ServerUrlTest, HttpsWithPortAndPrefix) {
  auto url = ParseServerUrl("https://api.example.com:6443/clusters/a/");
  ASSERT_TRUE(url.has_value()) << url.error().ToString();
  EXPECT_TRUE(url->tls);
  EXPECT_EQ(url->host, "api.example.com");
  EXPECT_FALSE(url->host_is_ip);
  EXPECT_EQ(url->port, 6443);
  EXPECT_EQ(url->path_prefix, "/clusters/a");
  EXPECT_EQ(url->HostHeader(), "api.example.com:6443");
  EXPECT_EQ(url->Origin(), "https://api.example.com:6443");
  EXPECT_EQ(url->Target("/api/v1/pods?limit=500"), "/clusters/a/api/v1/pods?limit=500");
  EXPECT_EQ(url->Target(""), "/clusters/a/");
}

TEST(ServerUrlTest, DefaultPorts) {
  auto https = ParseServerUrl("https://10.0.0.1");
  ASSERT_TRUE(https.has_value());
  EXPECT_EQ(https->port, 443);
  EXPECT_TRUE(https->host_is_ip);
  EXPECT_EQ(https->HostHeader(), "10.0.0.1");
  EXPECT_EQ(https->Target("/api"), "/api");

  auto http = ParseServerUrl("http://localhost");
  ASSERT_TRUE(http.has_value());
  EXPECT_FALSE(http->tls);
  EXPECT_EQ(http->port, 80);
  EXPECT_EQ(http->Origin(), "http://localhost:80");
  EXPECT_EQ(http->Target("api"), "/api");
}

TEST(ServerUrlTest, Ipv6) {
  auto url = ParseServerUrl("https://[::1]:8443");
  ASSERT_TRUE(url.has_value()) << url.error().ToString();
  EXPECT_EQ(url->host, "::1");
  EXPECT_TRUE(url->host_is_ip);
  EXPECT_EQ(url->port, 8443);
  EXPECT_EQ(url->HostHeader(), "[::1]:8443");
  EXPECT_EQ(url->Origin(), "https://[::1]:8443");

  auto default_port = ParseServerUrl("https://[fd00::5]");
  ASSERT_TRUE(default_port.has_value());
  EXPECT_EQ(default_port->HostHeader(), "[fd00::5]");
}

TEST(ServerUrlTest, BareHostPortIsHttps) {
  auto url = ParseServerUrl("127.0.0.1:6443");
  ASSERT_TRUE(url.has_value()) << url.error().ToString();
  EXPECT_TRUE(url->tls);
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, 6443);
}

TEST(ServerUrlTest, RejectsWhatCannotBeAServer) {
  for (const char* bad : {"", "ftp://host", "https://", "https://user:pw@host", "https://host/?q=1",
                          "https://host/#frag", "https://host:0", "https://host:70000",
                          "https://host:abc", "https://ho st"}) {
    auto url = ParseServerUrl(bad);
    ASSERT_FALSE(url.has_value()) << bad;
    EXPECT_EQ(url.error().code(), ErrorCode::kConfig) << bad;
  }
}

}  // namespace
}  // namespace vk::hostclient
