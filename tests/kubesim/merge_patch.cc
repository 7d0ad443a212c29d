#include "tests/kubesim/merge_patch.h"

#include <boost/json/parse.hpp>

#include "tests/kubesim/api_errors.h"

namespace vk::kubesim {

namespace json = boost::json;

json::value MergePatchValue(const json::value& target, const json::value& patch) {
  const auto* p = patch.if_object();
  if (p == nullptr) return patch;
  json::object result;
  if (const auto* t = target.if_object()) result = *t;
  for (const auto& [key, value] : *p) {
    if (value.is_null()) {
      result.erase(key);
      continue;
    }
    const json::value* existing = result.if_contains(key);
    result[key] = MergePatchValue(existing != nullptr ? *existing : json::value(), value);
  }
  return result;
}

Result<Object> ApplyMergePatch(const Object& target, std::string_view patch) {
  boost::system::error_code ec;
  json::value parsed = json::parse(patch, ec);
  if (ec || !parsed.is_object()) return tl::unexpected(BadRequestError("Invalid JSON Patch"));
  json::value merged = MergePatchValue(json::value(target), parsed);
  return std::move(merged.get_object());
}

}  // namespace vk::kubesim
