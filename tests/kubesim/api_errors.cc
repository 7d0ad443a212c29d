#include "tests/kubesim/api_errors.h"

#include <boost/json/array.hpp>

#include "tests/kubesim/storage.h"

namespace vk::kubesim {
namespace {

std::string WithDetail(std::string body, std::string_view detail) {
  if (!detail.empty()) body.append(": ").append(detail);
  return body;
}

// What kube's StatusError for this error carries in details.{name,kind,group}, recovered from the
// message shapes that api_errors writes (and that kube-apiserver writes).
struct Details {
  std::string name;
  std::string kind;
  std::string group;
};

// Splits "leases.coordination.k8s.io" into kind/resource "leases" and group.
void SplitQualified(std::string_view qualified, Details& d) {
  auto dot = qualified.find('.');
  d.kind = std::string(qualified.substr(0, dot));
  if (dot != std::string_view::npos) d.group = std::string(qualified.substr(dot + 1));
}

// Parses `<qualified> "<name>"<suffix>` at the start of message.
bool ParseQualifiedName(std::string_view message, Details& d) {
  auto space = message.find(" \"");
  if (space == std::string_view::npos || space == 0) return false;
  auto qualified = message.substr(0, space);
  if (qualified.find(' ') != std::string_view::npos) return false;
  auto rest = message.substr(space + 2);
  auto close = rest.find('"');
  if (close == std::string_view::npos) return false;
  SplitQualified(qualified, d);
  d.name = std::string(rest.substr(0, close));
  return true;
}

Details DetailsFor(const Error& error) {
  Details d;
  std::string_view message = error.message();
  switch (error.code()) {
    case ErrorCode::kNotFound:
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kInvalid:
    case ErrorCode::kForbidden:
      ParseQualifiedName(message, d);
      break;
    case ErrorCode::kConflict: {
      constexpr std::string_view kPrefix = "Operation cannot be fulfilled on ";
      if (message.substr(0, kPrefix.size()) == kPrefix) {
        ParseQualifiedName(message.substr(kPrefix.size()), d);
      }
      break;
    }
    default:
      break;
  }
  return d;
}

const char* DefaultReason(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadRequest:
      return "BadRequest";
    case ErrorCode::kUnauthorized:
      return "Unauthorized";
    case ErrorCode::kForbidden:
      return "Forbidden";
    case ErrorCode::kNotFound:
      return "NotFound";
    case ErrorCode::kMethodNotAllowed:
      return "MethodNotAllowed";
    case ErrorCode::kNotAcceptable:
      return "NotAcceptable";
    case ErrorCode::kAlreadyExists:
      return "AlreadyExists";
    case ErrorCode::kConflict:
      return "Conflict";
    case ErrorCode::kGone:
      return "Expired";
    case ErrorCode::kRequestTooLarge:
      return "RequestEntityTooLarge";
    case ErrorCode::kUnsupportedMedia:
      return "UnsupportedMediaType";
    case ErrorCode::kInvalid:
      return "Invalid";
    case ErrorCode::kTooManyRequests:
      return "TooManyRequests";
    case ErrorCode::kServiceUnavailable:
      return "ServiceUnavailable";
    case ErrorCode::kServerTimeout:
      return "Timeout";
    default:
      return "InternalError";
  }
}

}  // namespace

std::string GoQuote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
  return out;
}

ErrorCause FieldRequired(std::string field, std::string_view detail) {
  return {"FieldValueRequired", WithDetail("Required value", detail), std::move(field)};
}

ErrorCause FieldInvalid(std::string field, std::string_view value_repr, std::string_view detail) {
  return {"FieldValueInvalid", WithDetail("Invalid value: " + std::string(value_repr), detail),
          std::move(field)};
}

ErrorCause FieldForbidden(std::string field, std::string_view detail) {
  return {"FieldValueForbidden", WithDetail("Forbidden", detail), std::move(field)};
}

ErrorCause FieldNotSupported(std::string field, std::string_view value_repr,
                             const std::vector<std::string>& supported) {
  std::string detail;
  if (!supported.empty()) {
    detail = "supported values: ";
    for (size_t i = 0; i < supported.size(); ++i) {
      if (i > 0) detail += ", ";
      detail += GoQuote(supported[i]);
    }
  }
  return {"FieldValueNotSupported",
          WithDetail("Unsupported value: " + std::string(value_repr), detail), std::move(field)};
}

ErrorCause FieldDuplicate(std::string field, std::string_view value_repr) {
  return {"FieldValueDuplicate", "Duplicate value: " + std::string(value_repr), std::move(field)};
}

ErrorCause FieldNotFound(std::string field, std::string_view value_repr) {
  return {"FieldValueNotFound", "Not found: " + std::string(value_repr), std::move(field)};
}

ErrorCause FieldTooLong(std::string field, std::string_view detail) {
  return {"FieldValueTooLong", WithDetail("Too long", detail), std::move(field)};
}

std::string AggregateMessage(const std::vector<ErrorCause>& causes) {
  auto one = [](const ErrorCause& c) {
    return c.field.empty() ? c.message : c.field + ": " + c.message;
  };
  if (causes.size() == 1) return one(causes.front());
  std::string out = "[";
  for (size_t i = 0; i < causes.size(); ++i) {
    if (i > 0) out += ", ";
    out += one(causes[i]);
  }
  return out + "]";
}

Error NotFoundError(std::string_view qualified_resource, std::string_view name) {
  Error e(ErrorCode::kNotFound,
          std::string(qualified_resource) + " " + GoQuote(name) + " not found");
  e.WithReason("NotFound").WithHttpStatus(404);
  return e;
}

Error AlreadyExistsError(std::string_view qualified_resource, std::string_view name) {
  Error e(ErrorCode::kAlreadyExists,
          std::string(qualified_resource) + " " + GoQuote(name) + " already exists");
  e.WithReason("AlreadyExists").WithHttpStatus(409);
  return e;
}

Error ConflictError(std::string_view qualified_resource, std::string_view name,
                    std::string_view detail) {
  Error e(ErrorCode::kConflict, "Operation cannot be fulfilled on " +
                                    std::string(qualified_resource) + " " + GoQuote(name) + ": " +
                                    std::string(detail));
  e.WithReason("Conflict").WithHttpStatus(409);
  return e;
}

Error InvalidError(std::string_view qualified_kind, std::string_view name,
                   std::vector<ErrorCause> causes) {
  std::string message = std::string(qualified_kind) + " " + GoQuote(name) + " is invalid";
  if (!causes.empty()) message += ": " + AggregateMessage(causes);
  Error e(ErrorCode::kInvalid, std::move(message));
  e.WithReason("Invalid").WithHttpStatus(422);
  for (auto& c : causes) e.WithCause(std::move(c));
  return e;
}

Error ForbiddenError(std::string_view qualified_resource, std::string_view name,
                     std::string_view detail) {
  std::string message = std::string(qualified_resource);
  if (!name.empty()) message += " " + GoQuote(name);
  message += " is forbidden: " + std::string(detail);
  Error e(ErrorCode::kForbidden, std::move(message));
  e.WithReason("Forbidden").WithHttpStatus(403);
  return e;
}

Error BadRequestError(std::string message) {
  Error e(ErrorCode::kBadRequest, std::move(message));
  e.WithReason("BadRequest").WithHttpStatus(400);
  return e;
}

Error ExpiredError(std::string message) {
  Error e(ErrorCode::kGone, std::move(message));
  e.WithReason("Expired").WithHttpStatus(410);
  return e;
}

Error TooLargeResourceVersionError(uint64_t requested, uint64_t current) {
  Error e(ErrorCode::kServerTimeout,
          "Timeout: Too large resource version: " + std::to_string(requested) +
              ", current: " + std::to_string(current));
  e.WithReason("Timeout")
      .WithHttpStatus(504)
      .WithRetryAfter(std::chrono::seconds(1))
      .WithCause({"ResourceVersionTooLarge", "Too large resource version", ""});
  return e;
}

Error MethodNotSupportedError(const ResourceInfo& r, std::string_view action) {
  Error e(ErrorCode::kMethodNotAllowed, std::string(action) +
                                            " is not supported on resources of kind " +
                                            GoQuote(r.QualifiedResource()));
  e.WithReason("MethodNotAllowed").WithHttpStatus(405);
  return e;
}

Error InternalError(std::string_view detail) {
  Error e(ErrorCode::kInternal, "Internal error occurred: " + std::string(detail));
  e.WithReason("InternalError").WithHttpStatus(500).WithCause({"", std::string(detail), ""});
  return e;
}

int HttpStatusFor(const Error& error) {
  if (error.http_status() != 0) return error.http_status();
  switch (error.code()) {
    case ErrorCode::kBadRequest:
      return 400;
    case ErrorCode::kUnauthorized:
      return 401;
    case ErrorCode::kForbidden:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kMethodNotAllowed:
      return 405;
    case ErrorCode::kNotAcceptable:
      return 406;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kGone:
      return 410;
    case ErrorCode::kRequestTooLarge:
      return 413;
    case ErrorCode::kUnsupportedMedia:
      return 415;
    case ErrorCode::kInvalid:
      return 422;
    case ErrorCode::kTooManyRequests:
      return 429;
    case ErrorCode::kServiceUnavailable:
      return 503;
    // kube's NewServerTimeout answers 500 with reason ServerTimeout; its NewTimeoutError 504.
    case ErrorCode::kServerTimeout:
      return error.reason() == "ServerTimeout" ? 500 : 504;
    default:
      return 500;
  }
}

Object StatusFromError(const Error& error) {
  Object status;
  status["kind"] = "Status";
  status["apiVersion"] = "v1";
  status["metadata"] = Object();
  status["status"] = "Failure";
  status["message"] = error.message();
  status["reason"] = error.reason().empty() ? DefaultReason(error.code()) : error.reason();

  Details d = DetailsFor(error);
  Object details;
  if (!d.name.empty()) details["name"] = d.name;
  if (!d.group.empty()) details["group"] = d.group;
  if (!d.kind.empty()) details["kind"] = d.kind;
  if (!error.causes().empty()) {
    boost::json::array causes;
    for (const auto& c : error.causes()) {
      Object cause;
      if (!c.reason.empty()) cause["reason"] = c.reason;
      if (!c.message.empty()) cause["message"] = c.message;
      if (!c.field.empty()) cause["field"] = c.field;
      causes.push_back(std::move(cause));
    }
    details["causes"] = std::move(causes);
  }
  if (auto delay = error.retry_after()) {
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(*delay).count();
    if (seconds > 0) details["retryAfterSeconds"] = seconds;
  }
  if (!details.empty()) status["details"] = std::move(details);
  status["code"] = HttpStatusFor(error);
  return status;
}

}  // namespace vk::kubesim
