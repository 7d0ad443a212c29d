#include "hostclient/base/text.h"

namespace vk {

std::string TrimSpace(std::string_view s) {
  constexpr std::string_view kWhitespace = " \t\r\n\f\v";
  size_t begin = s.find_first_not_of(kWhitespace);
  if (begin == std::string_view::npos) return {};
  size_t end = s.find_last_not_of(kWhitespace);
  return std::string(s.substr(begin, end - begin + 1));
}

bool HasControlCharacters(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

}  // namespace vk
