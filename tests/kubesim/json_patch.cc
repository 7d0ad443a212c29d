#include "tests/kubesim/json_patch.h"

#include <boost/json/parse.hpp>
#include <charconv>
#include <string>
#include <vector>

#include "tests/kubesim/api_errors.h"

namespace vk::kubesim {
namespace {

namespace json = boost::json;

struct Failure {
  std::string message;
};

Error NotApplicable(const std::string& detail) {
  Error e(ErrorCode::kInvalid, "the server rejected our request due to an error in our request");
  e.WithReason("Invalid").WithHttpStatus(422).WithCause({"", detail, ""});
  return e;
}

// Splits and unescapes a JSON pointer; nullopt when it is malformed.
std::optional<std::vector<std::string>> ParsePointer(std::string_view p) {
  std::vector<std::string> tokens;
  if (p.empty()) return tokens;
  if (p.front() != '/') return std::nullopt;
  size_t i = 1;
  std::string token;
  for (; i <= p.size(); ++i) {
    if (i == p.size() || p[i] == '/') {
      tokens.push_back(std::move(token));
      token.clear();
      continue;
    }
    if (p[i] == '~') {
      if (i + 1 >= p.size() || (p[i + 1] != '0' && p[i + 1] != '1')) return std::nullopt;
      token.push_back(p[i + 1] == '0' ? '~' : '/');
      ++i;
    } else {
      token.push_back(p[i]);
    }
  }
  return tokens;
}

// An array index per RFC 6901: digits without leading zeros.
std::optional<size_t> ParseIndex(const std::string& token) {
  if (token.empty() || (token.size() > 1 && token.front() == '0')) return std::nullopt;
  size_t n;
  auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), n);
  if (ec != std::errc() || p != token.data() + token.size()) return std::nullopt;
  return n;
}

// The container that holds the pointer's last token; nullptr when the path does not exist.
json::value* Resolve(json::value& doc, const std::vector<std::string>& tokens, size_t count) {
  json::value* current = &doc;
  for (size_t i = 0; i < count; ++i) {
    if (auto* o = current->if_object()) {
      current = o->if_contains(tokens[i]);
    } else if (auto* a = current->if_array()) {
      auto idx = ParseIndex(tokens[i]);
      if (!idx || *idx >= a->size()) return nullptr;
      current = &(*a)[*idx];
    } else {
      return nullptr;
    }
    if (current == nullptr) return nullptr;
  }
  return current;
}

class Patcher {
 public:
  explicit Patcher(json::value doc) : doc_(std::move(doc)) {}
  json::value& doc() { return doc_; }

  std::optional<Failure> Add(std::string_view path, json::value value) {
    auto tokens = ParsePointer(path);
    if (!tokens) return Failure{"invalid JSON pointer " + GoQuote(path)};
    if (tokens->empty()) {
      doc_ = std::move(value);
      return std::nullopt;
    }
    json::value* parent = Resolve(doc_, *tokens, tokens->size() - 1);
    if (parent == nullptr) {
      return Failure{"add operation does not apply: doc is missing path: " + GoQuote(path)};
    }
    const std::string& last = tokens->back();
    if (auto* o = parent->if_object()) {
      (*o)[last] = std::move(value);
      return std::nullopt;
    }
    if (auto* a = parent->if_array()) {
      if (last == "-") {
        a->push_back(std::move(value));
        return std::nullopt;
      }
      auto idx = ParseIndex(last);
      if (!idx || *idx > a->size()) {
        return Failure{"add operation does not apply: index out of bounds: " + GoQuote(path)};
      }
      a->insert(a->begin() + static_cast<std::ptrdiff_t>(*idx), std::move(value));
      return std::nullopt;
    }
    return Failure{"add operation does not apply: doc is missing path: " + GoQuote(path)};
  }

  // Removes the value at path and hands it to out (when given).
  std::optional<Failure> Remove(std::string_view path, const char* op, json::value* out) {
    auto tokens = ParsePointer(path);
    if (!tokens) return Failure{"invalid JSON pointer " + GoQuote(path)};
    if (tokens->empty()) return Failure{std::string(op) + " operation does not apply: root"};
    json::value* parent = Resolve(doc_, *tokens, tokens->size() - 1);
    const std::string& last = tokens->back();
    if (parent != nullptr) {
      if (auto* o = parent->if_object()) {
        auto it = o->find(last);
        if (it != o->end()) {
          if (out != nullptr) *out = std::move(it->value());
          o->erase(it);
          return std::nullopt;
        }
      } else if (auto* a = parent->if_array()) {
        auto idx = ParseIndex(last);
        if (idx && *idx < a->size()) {
          if (out != nullptr) *out = std::move((*a)[*idx]);
          a->erase(a->begin() + static_cast<std::ptrdiff_t>(*idx));
          return std::nullopt;
        }
      }
    }
    return Failure{std::string(op) +
                   " operation does not apply: doc is missing path: " + GoQuote(path)};
  }

  std::optional<Failure> Replace(std::string_view path, json::value value) {
    auto tokens = ParsePointer(path);
    if (!tokens) return Failure{"invalid JSON pointer " + GoQuote(path)};
    json::value* target = Resolve(doc_, *tokens, tokens->size());
    if (target == nullptr) {
      return Failure{"replace operation does not apply: doc is missing key: " + GoQuote(path)};
    }
    *target = std::move(value);
    return std::nullopt;
  }

  std::optional<Failure> Get(std::string_view path, const char* op, json::value& out) {
    auto tokens = ParsePointer(path);
    if (!tokens) return Failure{"invalid JSON pointer " + GoQuote(path)};
    json::value* target = Resolve(doc_, *tokens, tokens->size());
    if (target == nullptr) {
      return Failure{std::string(op) +
                     " operation does not apply: doc is missing from path: " + GoQuote(path)};
    }
    out = *target;
    return std::nullopt;
  }

  std::optional<Failure> Test(std::string_view path, const json::value& expected) {
    auto tokens = ParsePointer(path);
    if (!tokens) return Failure{"invalid JSON pointer " + GoQuote(path)};
    json::value* target = Resolve(doc_, *tokens, tokens->size());
    bool same = target == nullptr ? expected.is_null() : *target == expected;
    if (!same) return Failure{"testing value " + std::string(path) + " failed: test failed"};
    return std::nullopt;
  }

 private:
  json::value doc_;
};

std::string StringField(const json::object& op, std::string_view key, bool& present) {
  const auto* v = op.if_contains(key);
  present = v != nullptr && v->is_string();
  return present ? std::string(v->get_string()) : std::string();
}

}  // namespace

Result<json::value> ApplyJsonPatch(const json::value& document, std::string_view patch) {
  boost::system::error_code ec;
  json::value parsed = json::parse(patch, ec);
  if (ec) return tl::unexpected(BadRequestError("invalid JSON patch: " + ec.message()));
  if (!parsed.is_array()) {
    return tl::unexpected(
        BadRequestError("json: cannot unmarshal object into Go value of type jsonpatch.Patch"));
  }
  Patcher p(document);
  for (const auto& item : parsed.get_array()) {
    if (!item.is_object()) {
      return tl::unexpected(BadRequestError("json: cannot unmarshal " +
                                            std::string(item.is_array() ? "array" : "value") +
                                            " into Go value of type jsonpatch.Operation"));
    }
    const auto& op = item.get_object();
    bool has_op = false, has_path = false, has_from = false;
    std::string name = StringField(op, "op", has_op);
    std::string path = StringField(op, "path", has_path);
    std::string from = StringField(op, "from", has_from);
    const json::value* value = op.if_contains("value");
    if (!has_path) return tl::unexpected(NotApplicable(name + " operation is missing path"));
    std::optional<Failure> failure;
    if (name == "add" || name == "replace" || name == "test") {
      if (value == nullptr) return tl::unexpected(NotApplicable(name + " operation has no value"));
      failure = name == "add"       ? p.Add(path, *value)
                : name == "replace" ? p.Replace(path, *value)
                                    : p.Test(path, *value);
    } else if (name == "remove") {
      failure = p.Remove(path, "remove", nullptr);
    } else if (name == "move" || name == "copy") {
      if (!has_from) return tl::unexpected(NotApplicable(name + " operation is missing from"));
      if (name == "move" && path.size() > from.size() && path.compare(0, from.size(), from) == 0 &&
          path[from.size()] == '/') {
        return tl::unexpected(
            NotApplicable("move operation does not apply: from is a prefix of path"));
      }
      json::value moved;
      failure = name == "move" ? p.Remove(from, "move", &moved) : p.Get(from, "copy", moved);
      if (!failure) failure = p.Add(path, std::move(moved));
    } else {
      return tl::unexpected(
          NotApplicable("Unexpected kind: " + (has_op ? name : std::string("unknown"))));
    }
    if (failure) return tl::unexpected(NotApplicable(failure->message));
  }
  return std::move(p.doc());
}

}  // namespace vk::kubesim
