#include "tests/kubesim/continue_token.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "hostclient/base/base64.h"
#include "hostclient/base/object.h"
#include "tests/kubesim/api_errors.h"

namespace vk::kubesim {
namespace {

constexpr char kVersion[] = "meta.k8s.io/v1";

tl::unexpected<Error> Invalid(const std::string& why) {
  return tl::unexpected(
      BadRequestError("invalid continue token: continue key is not valid: " + why));
}

// kube rejects start keys that path.Clean would change, so that a token cannot walk out of the
// resource's key range.
bool IsCleanKey(std::string_view key) {
  if (key.empty() || key.front() == '/') return false;
  size_t start = 0;
  while (start <= key.size()) {
    auto slash = key.find('/', start);
    auto part = key.substr(start, slash == std::string_view::npos ? key.npos : slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return true;
}

}  // namespace

std::string ContinueToken::Encode() const {
  Object o;
  o["v"] = kVersion;
  o["rv"] = resource_version;
  o["start"] = start_key;
  return Base64UrlEncode(boost::json::serialize(o));
}

Result<ContinueToken> ContinueToken::Decode(std::string_view text) {
  auto raw = Base64UrlDecode(text);
  if (!raw) return Invalid(raw.error().message());
  boost::system::error_code ec;
  auto value = boost::json::parse(*raw, ec);
  if (ec || !value.is_object()) return Invalid("not a JSON object");
  const auto& o = value.get_object();
  const auto* v = o.if_contains("v");
  if (v == nullptr || !v->is_string() || v->get_string() != kVersion) {
    std::string got = v != nullptr && v->is_string() ? std::string(v->get_string()) : "";
    return Invalid("server does not recognize this encoded version " + GoQuote(got));
  }
  ContinueToken t;
  const auto* rv = o.if_contains("rv");
  if (rv != nullptr && rv->is_int64()) t.resource_version = rv->get_int64();
  if (rv != nullptr && rv->is_uint64()) t.resource_version = static_cast<int64_t>(rv->get_uint64());
  if (t.resource_version == 0 || t.resource_version < -1) {
    return Invalid("incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
  }
  const auto* start = o.if_contains("start");
  if (start == nullptr || !start->is_string() || start->get_string().empty()) {
    return Invalid("encoded start key empty (version meta.k8s.io/v1)");
  }
  t.start_key = std::string(start->get_string());
  if (!IsCleanKey(t.start_key)) return Invalid(t.start_key);
  return t;
}

}  // namespace vk::kubesim
