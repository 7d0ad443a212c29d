#include "tests/kubesim/yaml_json.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <string>

namespace vk::kubesim {
namespace {

namespace json = boost::json;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

json::value PlainScalar(const std::string& text) {
  const std::string lower = Lower(text);
  if (text.empty() || text == "~" || lower == "null") return nullptr;
  if (lower == "true") return true;
  if (lower == "false") return false;
  {
    std::string_view digits = text;
    int base = 10;
    bool negative = false;
    if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) {
      negative = digits[0] == '-';
      digits.remove_prefix(1);
    }
    if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
      base = 16;
      digits.remove_prefix(2);
    } else if (digits.size() > 2 && digits[0] == '0' && digits[1] == 'o') {
      base = 8;
      digits.remove_prefix(2);
    }
    uint64_t value = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
    if (!digits.empty() && ec == std::errc() && ptr == digits.data() + digits.size()) {
      if (negative) {
        if (value <= static_cast<uint64_t>(INT64_MAX) + 1) {
          return static_cast<int64_t>(0 - value);
        }
      } else if (value <= static_cast<uint64_t>(INT64_MAX)) {
        return static_cast<int64_t>(value);
      } else {
        return value;
      }
    }
  }
  if (lower == ".inf" || lower == "+.inf") return HUGE_VAL;
  if (lower == "-.inf") return -HUGE_VAL;
  if (lower == ".nan") return NAN;
  // A float needs a digit and only float characters; "1e3", "1.5", "-0.5".
  if (text.find_first_of("0123456789") != std::string::npos &&
      text.find_first_not_of("0123456789+-.eE") == std::string::npos) {
    double d = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
    if (ec == std::errc() && ptr == text.data() + text.size()) return d;
  }
  return json::string(text);
}

json::value Convert(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return nullptr;
    case YAML::NodeType::Scalar:
      // yaml-cpp tags quoted (and explicitly !!str) scalars with "!" or "tag:yaml.org,2002:str".
      if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") {
        return json::string(node.Scalar());
      }
      return PlainScalar(node.Scalar());
    case YAML::NodeType::Sequence: {
      json::array out;
      for (const auto& item : node) out.push_back(Convert(item));
      return out;
    }
    case YAML::NodeType::Map: {
      json::object out;
      for (const auto& kv : node) out[kv.first.as<std::string>()] = Convert(kv.second);
      return out;
    }
  }
  return nullptr;
}

}  // namespace

Result<json::value> YamlToJson(std::string_view yaml) {
  try {
    std::vector<YAML::Node> docs = YAML::LoadAll(std::string(yaml));
    if (docs.size() > 1) {
      return MakeError(ErrorCode::kDecode,
                       "expected one YAML document, got " + std::to_string(docs.size()));
    }
    if (docs.empty()) return json::value(nullptr);
    return Convert(docs[0]);
  } catch (const YAML::Exception& e) {
    return MakeError(ErrorCode::kDecode, std::string("error converting YAML to JSON: ") + e.what());
  }
}

}  // namespace vk::kubesim
