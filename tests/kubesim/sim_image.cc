#include "tests/kubesim/sim_image.h"

#include <charconv>
#include <string>
#include <vector>

namespace vk::kubesim {
namespace {

std::vector<std::string_view> Words(std::string_view image) {
  std::vector<std::string_view> words;
  size_t start = 0;
  for (size_t i = 0; i <= image.size(); ++i) {
    if (i == image.size() || std::string_view("/:@-_.").find(image[i]) != std::string_view::npos) {
      if (i > start) words.push_back(image.substr(start, i - start));
      start = i + 1;
    }
  }
  return words;
}

std::optional<int64_t> Number(std::string_view text) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < 0) return std::nullopt;
  return n;
}

std::optional<std::chrono::milliseconds> Duration(std::string_view word) {
  size_t digits = 0;
  while (digits < word.size() && word[digits] >= '0' && word[digits] <= '9') ++digits;
  if (digits == 0 || digits > 9) return std::nullopt;
  auto n = Number(word.substr(0, digits));
  std::string_view unit = word.substr(digits);
  if (!n) return std::nullopt;
  if (unit == "ms") return std::chrono::milliseconds(*n);
  if (unit == "s") return std::chrono::seconds(*n);
  if (unit == "m") return std::chrono::minutes(*n);
  return std::nullopt;
}

}  // namespace

ImageBehavior ParseImageBehavior(std::string_view image) {
  ImageBehavior behavior;
  auto words = Words(image);
  auto at = [&](size_t i) -> std::string_view { return i < words.size() ? words[i] : ""; };
  for (size_t i = 0; i < words.size(); ++i) {
    if (words[i] == "fail" && at(i + 1) == "pull") {
      behavior.fail_pull = true;
    } else if (words[i] == "ignore" && at(i + 1) == "sigterm") {
      behavior.ignore_sigterm = true;
    } else if (words[i] == "exit") {
      size_t next = i + 1;
      int code = 0;
      if (auto n = Number(at(next)); n && *n <= 255) {
        code = static_cast<int>(*n);
        ++next;
      }
      if (at(next) != "after") continue;
      if (auto d = Duration(at(next + 1))) {
        behavior.exit_after = *d;
        behavior.exit_code = code;
      }
    }
  }
  return behavior;
}

}  // namespace vk::kubesim
