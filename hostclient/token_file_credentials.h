#pragma once

#include <sys/types.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "hostclient/base/clock.h"
#include "hostclient/credentials.h"

namespace vk::hostclient {

// A bearer token read from a file that is replaced while we run (projected service account
// tokens, rotated about hourly). The file is read on first use and again whenever its identity
// (inode, size, modification time) changes; that check runs at most once per kCheckInterval of
// the injected clock, so the hot path is a lock and a clock read. Contents are whitespace-trimmed.
//
// An empty or unreadable file keeps the last good token (client-go does the same); when there
// never was one, the fallback token is used (a kubeconfig's `token` next to its `tokenFile`), and
// without one the call fails with kUnavailableLocally naming the path. Thread-safe.
class TokenFileCredentials : public Credentials {
 public:
  static constexpr std::chrono::seconds kCheckInterval{1};

  TokenFileCredentials(std::string path, std::string fallback_token, Clock& clock);

  Result<std::string> AuthorizationHeader() override;
  // Forces the next call to read the file, regardless of the check interval and its identity.
  void Invalidate() override;

 private:
  struct FileIdentity {
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = 0;
    int64_t mtime_ns = 0;
    bool operator==(const FileIdentity&) const = default;
  };

  // Reads the file into header_ when it changed (or always, when forced). Returns the read error,
  // if any. Needs mutex_.
  std::optional<Error> Refresh(bool force);

  const std::string path_;
  const std::string fallback_header_;
  Clock& clock_;

  std::mutex mutex_;
  std::string header_;  // "Bearer <last good token>", or "" before the first good read
  std::optional<FileIdentity> identity_;  // of the file header_ came from
  std::optional<Clock::TimePoint> last_check_;
  std::optional<Error> last_error_;  // of the latest check, reported while there is no token
  bool force_read_ = true;
};

}  // namespace vk::hostclient
