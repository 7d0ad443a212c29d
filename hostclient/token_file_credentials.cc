#include "hostclient/token_file_credentials.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "hostclient/base/file.h"
#include "hostclient/base/text.h"

namespace vk::hostclient {
namespace {

constexpr size_t kMaxTokenBytes = 1 << 20;

}  // namespace

TokenFileCredentials::TokenFileCredentials(std::string path, std::string fallback_token,
                                           Clock& clock)
    : path_(std::move(path)),
      fallback_header_(fallback_token.empty() ? std::string() : "Bearer " + fallback_token),
      clock_(clock) {}

Result<std::string> TokenFileCredentials::AuthorizationHeader() {
  std::lock_guard lock(mutex_);
  const Clock::TimePoint now = clock_.Now();
  if (force_read_ || !last_check_ || now - *last_check_ >= kCheckInterval) {
    last_check_ = now;
    const bool failing_before = last_error_.has_value();
    // A forced read is one attempt; after it the interval applies again, success or not.
    const bool force = std::exchange(force_read_, false);
    last_error_ = Refresh(force);
    // Logged once per failing spell, not once per check.
    if (last_error_ && !failing_before && !header_.empty()) {
      spdlog::warn("keeping the previous bearer token: {}", last_error_->message());
    }
  }
  if (!header_.empty()) return header_;
  if (!fallback_header_.empty()) return fallback_header_;
  if (last_error_) return tl::unexpected(*last_error_);
  return MakeError(ErrorCode::kUnavailableLocally, "token file " + path_ + ": no token read yet");
}

void TokenFileCredentials::Invalidate() {
  std::lock_guard lock(mutex_);
  force_read_ = true;
}

std::optional<Error> TokenFileCredentials::Refresh(bool force) {
  auto fail = [&](const std::string& why) {
    return Error(ErrorCode::kUnavailableLocally, "token file " + path_ + ": " + why);
  };
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return fail(std::strerror(errno));
  FileIdentity identity{
      st.st_dev, st.st_ino, st.st_size,
      static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
  if (!force && identity_ && *identity_ == identity) return std::nullopt;

  // The identity is taken before reading: a replacement that lands in between is seen as a change
  // at the next check and read then.
  auto contents = ReadFileContents(path_, kMaxTokenBytes);
  if (!contents)
    return Error(ErrorCode::kUnavailableLocally, "token file " + contents.error().message());
  std::string token = TrimSpace(*contents);
  if (token.empty()) return fail("empty");
  if (HasControlCharacters(token)) return fail("the token contains control characters");
  header_ = "Bearer " + token;
  identity_ = identity;
  return std::nullopt;
}

}  // namespace vk::hostclient
