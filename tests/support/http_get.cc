#include "tests/support/http_get.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <sstream>

namespace vk::testing {
namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Decodes a chunked body; returns false when it is malformed.
bool Dechunk(const std::string& raw, std::string& out) {
  size_t pos = 0;
  while (true) {
    size_t line_end = raw.find("\r\n", pos);
    if (line_end == std::string::npos) return false;
    size_t size = std::stoul(raw.substr(pos, line_end - pos), nullptr, 16);
    pos = line_end + 2;
    if (size == 0) return true;
    if (pos + size > raw.size()) return false;
    out.append(raw, pos, size);
    pos += size + 2;
  }
}

}  // namespace

std::string SimpleHttpResponse::Header(const std::string& lower_case_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_case_name) return value;
  }
  return "";
}

Result<SimpleHttpResponse> HttpRequest(uint16_t port, const std::string& method,
                                       const std::string& target,
                                       std::chrono::milliseconds timeout) {
  Fd fd(socket(AF_INET, SOCK_STREAM, 0));
  if (fd.get() < 0) return MakeError(ErrorCode::kNetwork, std::strerror(errno));
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return MakeError(ErrorCode::kNetwork, std::string("connect: ") + std::strerror(errno));
  }
  const std::string request =
      method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return MakeError(ErrorCode::kNetwork, std::string("send: ") + std::strerror(errno));
  }
  std::string raw;
  char buffer[4096];
  while (true) {
    ssize_t n = recv(fd.get(), buffer, sizeof(buffer), 0);
    if (n == 0) break;
    if (n < 0) return MakeError(ErrorCode::kNetwork, std::string("recv: ") + std::strerror(errno));
    raw.append(buffer, static_cast<size_t>(n));
  }
  size_t header_end = raw.find("\r\n\r\n");
  if (header_end == std::string::npos) return MakeError(ErrorCode::kDecode, "no header end");
  SimpleHttpResponse response;
  std::istringstream head(raw.substr(0, header_end));
  std::string line;
  std::getline(head, line);
  if (line.size() < 12 || !line.starts_with("HTTP/1.")) {
    return MakeError(ErrorCode::kDecode, "bad status line: " + line);
  }
  response.status = std::stoi(line.substr(9, 3));
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    response.headers.emplace_back(Lower(line.substr(0, colon)), value);
  }
  std::string body = raw.substr(header_end + 4);
  if (Lower(response.Header("transfer-encoding")) == "chunked") {
    if (!Dechunk(body, response.body)) return MakeError(ErrorCode::kDecode, "bad chunked body");
  } else {
    response.body = std::move(body);
  }
  return response;
}

}  // namespace vk::testing
