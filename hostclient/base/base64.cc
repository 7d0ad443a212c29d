#include "hostclient/base/base64.h"

#include <array>
#include <cstdint>

namespace vk {
namespace {

constexpr std::string_view kStdAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kUrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr int8_t kInvalid = -1;

constexpr std::array<int8_t, 256> MakeReverse(std::string_view alphabet) {
  std::array<int8_t, 256> table{};
  for (auto& v : table) v = kInvalid;
  for (size_t i = 0; i < alphabet.size(); ++i) {
    table[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
  }
  return table;
}

constexpr std::array<int8_t, 256> kStdReverse = MakeReverse(kStdAlphabet);
constexpr std::array<int8_t, 256> kUrlReverse = MakeReverse(kUrlAlphabet);

std::string Encode(std::string_view data, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    uint32_t n = (static_cast<uint8_t>(data[i]) << 16) | (static_cast<uint8_t>(data[i + 1]) << 8) |
                 static_cast<uint8_t>(data[i + 2]);
    out.push_back(alphabet[(n >> 18) & 63]);
    out.push_back(alphabet[(n >> 12) & 63]);
    out.push_back(alphabet[(n >> 6) & 63]);
    out.push_back(alphabet[n & 63]);
  }
  size_t rest = data.size() - i;
  if (rest == 1) {
    uint32_t n = static_cast<uint8_t>(data[i]) << 16;
    out.push_back(alphabet[(n >> 18) & 63]);
    out.push_back(alphabet[(n >> 12) & 63]);
    if (pad) out.append("==");
  } else if (rest == 2) {
    uint32_t n = (static_cast<uint8_t>(data[i]) << 16) | (static_cast<uint8_t>(data[i + 1]) << 8);
    out.push_back(alphabet[(n >> 18) & 63]);
    out.push_back(alphabet[(n >> 12) & 63]);
    out.push_back(alphabet[(n >> 6) & 63]);
    if (pad) out.push_back('=');
  }
  return out;
}

Result<std::string> Decode(std::string_view text, const std::array<int8_t, 256>& reverse) {
  std::string out;
  out.reserve(text.size() / 4 * 3 + 3);
  uint32_t acc = 0;
  int bits = 0;
  size_t symbols = 0;  // alphabet characters seen
  size_t padding = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\r' || c == '\n') continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    int8_t v = reverse[static_cast<unsigned char>(c)];
    if (v == kInvalid || padding > 0) {
      return MakeError(ErrorCode::kDecode,
                       "invalid base64: unexpected character at offset " + std::to_string(i));
    }
    ++symbols;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // A trailing group of one symbol carries fewer than 8 bits: no encoder produces that. Padding,
  // when present, must complete the last group to 4 characters.
  size_t tail = symbols % 4;
  if (tail == 1) return MakeError(ErrorCode::kDecode, "invalid base64: truncated input");
  if (padding > 0 && (tail == 0 || tail + padding != 4)) {
    return MakeError(ErrorCode::kDecode, "invalid base64: wrong padding");
  }
  return out;
}

}  // namespace

std::string Base64Encode(std::string_view data) { return Encode(data, kStdAlphabet, true); }

std::string Base64UrlEncode(std::string_view data) { return Encode(data, kUrlAlphabet, false); }

Result<std::string> Base64Decode(std::string_view text) { return Decode(text, kStdReverse); }

Result<std::string> Base64UrlDecode(std::string_view text) { return Decode(text, kUrlReverse); }

}  // namespace vk
