#include "tests/kubesim/label_selector.h"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <optional>

#include "tests/kubesim/api_errors.h"
#include "tests/kubesim/name_validation.h"

namespace vk::kubesim {
namespace {

enum class Tok {
  kEnd,
  kIdentifier,
  kIn,
  kNotIn,
  kBang,
  kEquals,
  kDoubleEquals,
  kNotEquals,
  kGreater,
  kLess,
  kOpenParen,
  kCloseParen,
  kComma,
};

struct Token {
  Tok tok;
  std::string text;
};

bool IsSpecial(char c) {
  return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::vector<Token> Lex(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (IsSpace(c)) {
      ++i;
      continue;
    }
    auto two = s.substr(i, 2);
    if (two == "==") {
      out.push_back({Tok::kDoubleEquals, "=="});
      i += 2;
    } else if (two == "!=") {
      out.push_back({Tok::kNotEquals, "!="});
      i += 2;
    } else if (IsSpecial(c)) {
      Tok t = c == '='   ? Tok::kEquals
              : c == '!' ? Tok::kBang
              : c == '(' ? Tok::kOpenParen
              : c == ')' ? Tok::kCloseParen
              : c == ',' ? Tok::kComma
              : c == '>' ? Tok::kGreater
                         : Tok::kLess;
      out.push_back({t, std::string(1, c)});
      ++i;
    } else {
      size_t start = i;
      while (i < s.size() && !IsSpace(s[i]) && !IsSpecial(s[i])) ++i;
      std::string word(s.substr(start, i - start));
      Tok t = word == "in" ? Tok::kIn : word == "notin" ? Tok::kNotIn : Tok::kIdentifier;
      out.push_back({t, std::move(word)});
    }
  }
  out.push_back({Tok::kEnd, ""});
  return out;
}

std::string Describe(const Token& t) { return t.tok == Tok::kEnd ? "end of string" : t.text; }

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Result<std::vector<LabelSelector::Requirement>> Run() {
    std::vector<LabelSelector::Requirement> out;
    if (Peek().tok == Tok::kEnd) return out;
    while (true) {
      auto req = ParseRequirement();
      if (!req) return tl::unexpected(req.error());
      out.push_back(std::move(*req));
      const Token& next = Next();
      if (next.tok == Tok::kEnd) break;
      if (next.tok != Tok::kComma) {
        return Fail("found '" + Describe(next) + "', expected: ',' or 'end of string'");
      }
    }
    return out;
  }

 private:
  using Op = LabelSelector::Op;

  const Token& Peek() const { return tokens_[pos_]; }
  const Token& Next() {
    const Token& t = tokens_[pos_];
    if (t.tok != Tok::kEnd) ++pos_;
    return t;
  }
  // In value position the keywords are plain words ("env in (in)").
  static bool IsWord(const Token& t) {
    return t.tok == Tok::kIdentifier || t.tok == Tok::kIn || t.tok == Tok::kNotIn;
  }

  static tl::unexpected<Error> Fail(const std::string& why) {
    return tl::unexpected(BadRequestError("unable to parse requirement: " + why));
  }

  Result<LabelSelector::Requirement> ParseRequirement() {
    LabelSelector::Requirement req;
    bool negated = false;
    if (Peek().tok == Tok::kBang) {
      Next();
      negated = true;
    }
    const Token& key = Next();
    if (key.tok != Tok::kIdentifier) {
      return Fail("found '" + Describe(key) + "', expected: identifier");
    }
    req.key = key.text;
    if (auto errs = IsQualifiedName(req.key); !errs.empty()) {
      return Fail("key: Invalid value: " + GoQuote(req.key) + ": " + errs.front());
    }
    Tok after = Peek().tok;
    if (negated || after == Tok::kEnd || after == Tok::kComma) {
      if (negated && after != Tok::kEnd && after != Tok::kComma) {
        return Fail("found '" + Describe(Peek()) + "', expected: ',' or 'end of string'");
      }
      req.op = negated ? Op::kDoesNotExist : Op::kExists;
      return req;
    }
    const Token& op = Next();
    switch (op.tok) {
      case Tok::kEquals:
      case Tok::kDoubleEquals:
        req.op = Op::kEquals;
        break;
      case Tok::kNotEquals:
        req.op = Op::kNotEquals;
        break;
      case Tok::kIn:
        req.op = Op::kIn;
        break;
      case Tok::kNotIn:
        req.op = Op::kNotIn;
        break;
      case Tok::kGreater:
        req.op = Op::kGreaterThan;
        break;
      case Tok::kLess:
        req.op = Op::kLessThan;
        break;
      default:
        return Fail("found '" + Describe(op) + "', expected: in, notin, =, ==, !=, gt, lt");
    }
    if (req.op == Op::kIn || req.op == Op::kNotIn) {
      if (Next().tok != Tok::kOpenParen) {
        return Fail("found '" + Describe(tokens_[pos_ - 1]) + "', expected: '('");
      }
      if (Peek().tok == Tok::kCloseParen) {
        Next();
        return Fail("for 'in', 'notin' operators, values set can't be empty");
      }
      while (true) {
        if (IsWord(Peek())) {
          req.values.push_back(Next().text);
        } else {
          req.values.emplace_back();  // "(a,)" holds the empty value
        }
        const Token& t = Next();
        if (t.tok == Tok::kCloseParen) break;
        if (t.tok != Tok::kComma) {
          return Fail("found '" + Describe(t) + "', expected: ',' or ')'");
        }
      }
    } else if (Peek().tok == Tok::kEnd || Peek().tok == Tok::kComma) {
      req.values.emplace_back();  // "k=" selects the empty value
    } else if (IsWord(Peek())) {
      req.values.push_back(Next().text);
    } else {
      return Fail("found '" + Describe(Peek()) + "', expected: identifier");
    }
    for (size_t i = 0; i < req.values.size(); ++i) {
      const auto& v = req.values[i];
      if (req.op == Op::kGreaterThan || req.op == Op::kLessThan) {
        int64_t n;
        auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (ec != std::errc() || p != v.data() + v.size()) {
          return Fail("values[" + std::to_string(i) + "]: Invalid value: " + GoQuote(v) +
                      ": for 'Gt', 'Lt' operators, the value must be an integer");
        }
      } else if (auto errs = IsValidLabelValue(v); !errs.empty()) {
        return Fail("values[" + std::to_string(i) + "][" + req.key +
                    "]: Invalid value: " + GoQuote(v) + ": " + errs.front());
      }
    }
    return req;
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

std::optional<int64_t> ToInt(std::string_view s) {
  int64_t n;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return n;
}

}  // namespace

Result<LabelSelector> LabelSelector::Parse(std::string_view text) {
  auto reqs = Parser(Lex(text)).Run();
  if (!reqs) return tl::unexpected(reqs.error());
  LabelSelector s;
  s.requirements_ = std::move(*reqs);
  return s;
}

bool LabelSelector::Matches(const Object* labels) const {
  for (const auto& r : requirements_) {
    const boost::json::value* v = labels == nullptr ? nullptr : labels->if_contains(r.key);
    const boost::json::string* s = v == nullptr ? nullptr : v->if_string();
    bool has = s != nullptr;
    std::string_view value = has ? std::string_view(*s) : std::string_view();
    auto in_values = [&] {
      for (const auto& candidate : r.values) {
        if (candidate == value) return true;
      }
      return false;
    };
    bool ok = false;
    switch (r.op) {
      case Op::kEquals:
      case Op::kIn:
        ok = has && in_values();
        break;
      case Op::kNotEquals:
      case Op::kNotIn:
        ok = !has || !in_values();
        break;
      case Op::kExists:
        ok = has;
        break;
      case Op::kDoesNotExist:
        ok = !has;
        break;
      case Op::kGreaterThan:
      case Op::kLessThan: {
        auto have = has ? ToInt(value) : std::nullopt;
        auto want = ToInt(r.values.front());
        ok = have && want && (r.op == Op::kGreaterThan ? *have > *want : *have < *want);
        break;
      }
    }
    if (!ok) return false;
  }
  return true;
}

bool LabelSelector::MatchesObject(const Object& object) const {
  return requirements_.empty() || Matches(obj::ObjectAt(object, {"metadata", "labels"}));
}

Result<std::string> FormatLabelSelector(const Object& selector) {
  // (key, rendered requirement), sorted by key as labels.Selector sorts its requirements.
  std::vector<std::pair<std::string, std::string>> parts;
  if (const Object* match_labels = obj::ObjectAt(selector, {"matchLabels"})) {
    for (const auto& [key, value] : *match_labels) {
      if (!value.is_string())
        return tl::unexpected(BadRequestError("matchLabels values must be strings"));
      parts.emplace_back(key, std::string(key) + "=" + std::string(value.get_string()));
    }
  }
  if (const auto* expressions = obj::Find(selector, {"matchExpressions"});
      expressions != nullptr && expressions->is_array()) {
    for (const auto& e : expressions->get_array()) {
      if (!e.is_object())
        return tl::unexpected(BadRequestError("matchExpressions must be objects"));
      const Object& expression = e.get_object();
      std::string key(obj::String(expression, {"key"}));
      std::string_view op = obj::String(expression, {"operator"});
      std::vector<std::string> values;
      if (const auto* list = expression.if_contains("values"); list && list->is_array()) {
        for (const auto& v : list->get_array()) {
          if (v.is_string()) values.emplace_back(v.get_string());
        }
      }
      std::sort(values.begin(), values.end());
      std::string joined;
      for (const auto& v : values) joined += (joined.empty() ? "" : ",") + v;
      if (op == "In" || op == "NotIn") {
        if (values.empty()) {
          return tl::unexpected(
              BadRequestError("for '" + std::string(op) + "' operator, values set can't be empty"));
        }
        parts.emplace_back(key, key + (op == "In" ? " in (" : " notin (") + joined + ")");
      } else if (op == "Exists") {
        parts.emplace_back(key, key);
      } else if (op == "DoesNotExist") {
        parts.emplace_back(key, "!" + key);
      } else {
        return tl::unexpected(
            BadRequestError("\"" + std::string(op) + "\" is not a valid label selector operator"));
      }
    }
  }
  std::stable_sort(parts.begin(), parts.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (const auto& [key, text] : parts) out += (out.empty() ? "" : ",") + text;
  return out;
}

}  // namespace vk::kubesim
