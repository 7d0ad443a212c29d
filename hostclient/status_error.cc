#include "hostclient/status_error.h"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <string>
#include <utility>

#include "hostclient/rest_client.h"
#include "hostclient/transport.h"

namespace vk::hostclient {
namespace {

constexpr std::chrono::milliseconds kMaxRetryAfter = std::chrono::hours(24);
// How much of a non-Status body goes into the message: enough to show an HTML error page's title
// or a proxy's one-line complaint, not a whole page.
constexpr size_t kBodySnippet = 256;

ErrorCode CodeForHttpStatus(int status) {
  switch (status) {
    case 400:
      return ErrorCode::kBadRequest;
    case 401:
      return ErrorCode::kUnauthorized;
    case 403:
      return ErrorCode::kForbidden;
    case 404:
      return ErrorCode::kNotFound;
    case 405:
      return ErrorCode::kMethodNotAllowed;
    case 406:
      return ErrorCode::kNotAcceptable;
    case 409:
      return ErrorCode::kConflict;
    case 410:
      return ErrorCode::kGone;
    case 413:
      return ErrorCode::kRequestTooLarge;
    case 415:
      return ErrorCode::kUnsupportedMedia;
    case 422:
      return ErrorCode::kInvalid;
    case 429:
      return ErrorCode::kTooManyRequests;
    case 500:
      return ErrorCode::kInternal;
    case 503:
      return ErrorCode::kServiceUnavailable;
    case 504:
      return ErrorCode::kServerTimeout;
    default:
      return ErrorCode::kUnknownStatus;
  }
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Printable ASCII only: the body may be anything, and it ends up in logs.
std::string Snippet(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, kBodySnippet)) {
    out.push_back(c >= 0x20 && c < 0x7f ? c : ' ');
  }
  if (body.size() > kBodySnippet) out += "...";
  return std::string(Trim(out));
}

std::string StringField(const Object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return {};
  return std::string(v->get_string());
}

std::optional<std::chrono::system_clock::time_point> ParseHttpDate(std::string_view value) {
  // strptime needs a terminated string; the header is short.
  const std::string text(value);
  // IMF-fixdate first (what servers send), then RFC 850 and asctime, which recipients must still
  // accept. The C locale's day and month names are the English ones these formats use.
  static constexpr const char* kFormats[] = {
      "%a, %d %b %Y %H:%M:%S GMT",
      "%A, %d-%b-%y %H:%M:%S GMT",
      "%a %b %e %H:%M:%S %Y",
  };
  for (const char* format : kFormats) {
    std::tm tm{};
    const char* end = strptime(text.c_str(), format, &tm);
    if (end == nullptr || *end != '\0') continue;
    const time_t t = timegm(&tm);
    if (t == static_cast<time_t>(-1)) continue;
    return std::chrono::system_clock::from_time_t(t);
  }
  return std::nullopt;
}

}  // namespace

ErrorCode ErrorCodeFor(std::string_view reason, int http_status) {
  static constexpr std::pair<std::string_view, ErrorCode> kReasons[] = {
      {"BadRequest", ErrorCode::kBadRequest},
      {"Unauthorized", ErrorCode::kUnauthorized},
      {"Forbidden", ErrorCode::kForbidden},
      {"NotFound", ErrorCode::kNotFound},
      {"MethodNotAllowed", ErrorCode::kMethodNotAllowed},
      {"NotAcceptable", ErrorCode::kNotAcceptable},
      {"AlreadyExists", ErrorCode::kAlreadyExists},
      {"Conflict", ErrorCode::kConflict},
      {"Gone", ErrorCode::kGone},
      {"Expired", ErrorCode::kGone},
      {"RequestEntityTooLarge", ErrorCode::kRequestTooLarge},
      {"UnsupportedMediaType", ErrorCode::kUnsupportedMedia},
      {"Invalid", ErrorCode::kInvalid},
      {"TooManyRequests", ErrorCode::kTooManyRequests},
      {"InternalError", ErrorCode::kInternal},
      {"ServiceUnavailable", ErrorCode::kServiceUnavailable},
      // ServerTimeout: the server could not finish in time and suggests a retry; Timeout: the
      // request's own timeout passed on the server (504). Both are worth another try, unlike our
      // local deadline (kTimeout), which the caller chose.
      {"ServerTimeout", ErrorCode::kServerTimeout},
      {"Timeout", ErrorCode::kServerTimeout},
  };
  for (const auto& [name, code] : kReasons) {
    if (name == reason) return code;
  }
  return CodeForHttpStatus(http_status);
}

Error ErrorFromStatus(const Object& status, int http_status) {
  const int64_t code_field = obj::Int(status, {"code"}, 0);
  const int code = code_field > 0 && code_field < 1000 ? static_cast<int>(code_field) : http_status;
  std::string reason = StringField(status, "reason");
  std::string message = StringField(status, "message");
  if (message.empty()) {
    message = reason.empty() ? "the server responded with HTTP " + std::to_string(code)
                             : "the server responded with reason " + reason;
  }
  Error error(ErrorCodeFor(reason, code), std::move(message));
  error.WithHttpStatus(code);
  if (!reason.empty()) error.WithReason(std::move(reason));
  if (const Object* details = obj::ObjectAt(status, {"details"})) {
    if (const auto* causes = details->if_contains("causes"); causes && causes->is_array()) {
      for (const auto& cause : causes->get_array()) {
        const auto* c = cause.if_object();
        if (c == nullptr) continue;
        error.WithCause(
            {StringField(*c, "reason"), StringField(*c, "message"), StringField(*c, "field")});
      }
    }
    const int64_t seconds = obj::Int(*details, {"retryAfterSeconds"}, 0);
    if (seconds > 0) {
      error.WithRetryAfter(std::min<std::chrono::milliseconds>(
          std::chrono::seconds(std::min<int64_t>(seconds, 86400)), kMaxRetryAfter));
    }
  }
  return error;
}

std::optional<std::chrono::milliseconds> ParseRetryAfter(
    std::string_view value, std::chrono::system_clock::time_point now) {
  value = Trim(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    uint64_t seconds = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    // Out of range still means "a very long time".
    if (ec == std::errc::result_out_of_range || seconds > 86400) return kMaxRetryAfter;
    if (ec != std::errc() || end != value.data() + value.size()) return std::nullopt;
    return std::chrono::seconds(seconds);
  }
  auto date = ParseHttpDate(value);
  if (!date) return std::nullopt;
  if (*date <= now) return std::chrono::milliseconds(0);
  return std::min<std::chrono::milliseconds>(
      std::chrono::ceil<std::chrono::milliseconds>(*date - now), kMaxRetryAfter);
}

Error ErrorFromResponse(const HttpResponse& response) {
  std::optional<Error> error;
  // A Status body is what the API server sends for every failure; anything else (a proxy's HTML
  // page, an empty body) is described by the HTTP status alone.
  if (!response.body.empty() && response.body.front() == '{') {
    if (auto parsed = obj::Parse(response.body); parsed && obj::Kind(*parsed) == "Status") {
      error = ErrorFromStatus(*parsed, response.status);
      // The HTTP status is what happened on the wire; Status.code normally agrees.
      error->WithHttpStatus(response.status);
    }
  }
  if (!error) {
    std::string message = "the server responded with HTTP " + std::to_string(response.status);
    if (std::string snippet = Snippet(response.body); !snippet.empty()) message += ": " + snippet;
    error.emplace(CodeForHttpStatus(response.status), std::move(message));
    error->WithHttpStatus(response.status);
  }
  // The header is what client-go's retry logic obeys; it wins over details.retryAfterSeconds.
  if (auto header = FindHeader(response.headers, "Retry-After"); !header.empty()) {
    if (auto delay = ParseRetryAfter(header)) error->WithRetryAfter(*delay);
  }
  return std::move(*error);
}

}  // namespace vk::hostclient
