#include "tests/kubesim/field_selector.h"

#include "tests/kubesim/api_errors.h"
#include "tests/kubesim/selectable_fields.h"

namespace vk::kubesim {
namespace {

// Splits on commas that are not escaped by a backslash.
std::vector<std::string_view> SplitTerms(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  bool escaped = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (escaped) {
      escaped = false;
    } else if (s[i] == '\\') {
      escaped = true;
    } else if (s[i] == ',') {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(s.substr(start));
  return out;
}

Result<std::string> Unescape(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (c == '\\') {
      if (i + 1 >= v.size() || (v[i + 1] != '\\' && v[i + 1] != ',' && v[i + 1] != '=')) {
        return tl::unexpected(BadRequestError("invalid field selector: invalid escape sequence: " +
                                              std::string(v.substr(i, 2))));
      }
      out.push_back(v[++i]);
    } else if (c == ',' || c == '=') {
      return tl::unexpected(BadRequestError(std::string("invalid field selector: unescaped '") + c +
                                            "' in value " + std::string(v)));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

Result<FieldSelector> FieldSelector::Parse(std::string_view text, const ResourceInfo& r) {
  FieldSelector sel;
  for (auto part : SplitTerms(text)) {
    if (part.empty()) continue;
    // The field has no escapes: the first operator splits the term, as kube's splitTerm does.
    size_t at = std::string_view::npos;
    size_t op_len = 0;
    bool equals = true;
    for (size_t i = 0; i < part.size() && at == std::string_view::npos; ++i) {
      auto rest = part.substr(i);
      if (rest.substr(0, 2) == "!=") {
        at = i, op_len = 2, equals = false;
      } else if (rest.substr(0, 2) == "==") {
        at = i, op_len = 2;
      } else if (rest.front() == '=') {
        at = i, op_len = 1;
      }
    }
    if (at == std::string_view::npos) {
      return tl::unexpected(BadRequestError("invalid selector: '" + std::string(text) +
                                            "'; can't understand '" + std::string(part) + "'"));
    }
    auto value = Unescape(part.substr(at + op_len));
    if (!value) return tl::unexpected(value.error());
    std::string field(part.substr(0, at));
    if (!IsSelectableField(r, field)) {
      return tl::unexpected(BadRequestError("field label not supported: " + field));
    }
    sel.terms_.push_back({std::move(field), equals, std::move(*value)});
  }
  return sel;
}

bool FieldSelector::Matches(const ResourceInfo& r, const Object& o) const {
  for (const auto& t : terms_) {
    bool same = SelectableFieldValue(r, o, t.field) == t.value;
    if (same != t.equals) return false;
  }
  return true;
}

std::optional<std::string> FieldSelector::RequiredValue(std::string_view field) const {
  for (const auto& t : terms_) {
    if (t.equals && t.field == field) return t.value;
  }
  return std::nullopt;
}

}  // namespace vk::kubesim
