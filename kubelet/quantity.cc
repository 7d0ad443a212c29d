#include "kubelet/quantity.h"

#include <limits>
#include <optional>

namespace vk::kubelet {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
// Exponents beyond this cannot give a representable non-zero value: 10^19 > int64 max.
constexpr int kMaxExponent = 40;

Error Invalid(std::string_view text, std::string_view why) {
  return Error(ErrorCode::kInvalid, "quantity \"" + std::string(text) + "\": " + std::string(why));
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Parses a run of decimal digits as an unsigned value; nullopt on overflow.
std::optional<uint64_t> ParseDigits(std::string_view digits) {
  uint64_t value = 0;
  for (char c : digits) {
    if (__builtin_mul_overflow(value, 10u, &value)) return std::nullopt;
    if (__builtin_add_overflow(value, static_cast<uint64_t>(c - '0'), &value)) return std::nullopt;
  }
  return value;
}

std::optional<uint64_t> Pow(uint64_t base, int exponent) {
  uint64_t value = 1;
  for (int i = 0; i < exponent; ++i) {
    if (__builtin_mul_overflow(value, base, &value)) return std::nullopt;
  }
  return value;
}

// What the suffix multiplies the number by: base^exponent.
struct Multiplier {
  uint64_t base = 10;
  int exponent = 0;
  Quantity::Format format = Quantity::Format::kDecimalSI;
};

std::optional<Multiplier> ParseSuffix(std::string_view suffix) {
  using F = Quantity::Format;
  if (suffix.empty()) return Multiplier{10, 0, F::kDecimalSI};
  if (suffix.size() == 2 && suffix[1] == 'i') {
    static constexpr std::string_view kBinary = "KMGTPE";
    auto at = kBinary.find(suffix[0]);
    if (at == std::string_view::npos) return std::nullopt;
    return Multiplier{1024, static_cast<int>(at) + 1, F::kBinarySI};
  }
  if (suffix.size() == 1) {
    switch (suffix[0]) {
      case 'n':
        return Multiplier{10, -9, F::kDecimalSI};
      case 'u':
        return Multiplier{10, -6, F::kDecimalSI};
      case 'm':
        return Multiplier{10, -3, F::kDecimalSI};
      case 'k':
        return Multiplier{10, 3, F::kDecimalSI};
      case 'M':
        return Multiplier{10, 6, F::kDecimalSI};
      case 'G':
        return Multiplier{10, 9, F::kDecimalSI};
      case 'T':
        return Multiplier{10, 12, F::kDecimalSI};
      case 'P':
        return Multiplier{10, 15, F::kDecimalSI};
      case 'E':
        return Multiplier{10, 18, F::kDecimalSI};
      default:
        return std::nullopt;
    }
  }
  if (suffix[0] != 'e' && suffix[0] != 'E') return std::nullopt;
  std::string_view rest = suffix.substr(1);
  bool negative = false;
  if (!rest.empty() && (rest[0] == '+' || rest[0] == '-')) {
    negative = rest[0] == '-';
    rest.remove_prefix(1);
  }
  if (rest.empty() || rest.size() > 4) return std::nullopt;
  for (char c : rest) {
    if (!IsDigit(c)) return std::nullopt;
  }
  int exponent = static_cast<int>(*ParseDigits(rest));
  return Multiplier{10, negative ? -exponent : exponent, F::kDecimalExponent};
}

std::string_view StripLeadingZeros(std::string_view s) {
  while (!s.empty() && s.front() == '0') s.remove_prefix(1);
  return s;
}

// Formats |value| with the largest power of `base` (up to 6) that divides it exactly.
std::string FormatWhole(uint64_t value, Quantity::Format format) {
  if (value == 0) return "0";
  const uint64_t base = format == Quantity::Format::kBinarySI ? 1024 : 1000;
  int power = 0;
  while (power < 6 && value % base == 0) {
    value /= base;
    ++power;
  }
  std::string out = std::to_string(value);
  if (power == 0) return out;
  switch (format) {
    case Quantity::Format::kBinarySI:
      out += "KMGTPE"[power - 1];
      out += 'i';
      break;
    case Quantity::Format::kDecimalSI:
      out += "kMGTPE"[power - 1];
      break;
    case Quantity::Format::kDecimalExponent:
      out += 'e';
      out += std::to_string(power * 3);
      break;
  }
  return out;
}

}  // namespace

Quantity Quantity::FromMilli(int64_t milli, Format format) { return Quantity(milli, format); }

Quantity Quantity::FromUnits(int64_t units, Format format) {
  int64_t milli = 0;
  if (__builtin_mul_overflow(units, int64_t{1000}, &milli)) milli = units < 0 ? kMin : kMax;
  return Quantity(milli, format);
}

Result<Quantity> Quantity::Parse(std::string_view text) {
  std::string_view rest = text;
  bool negative = false;
  if (!rest.empty() && (rest[0] == '+' || rest[0] == '-')) {
    negative = rest[0] == '-';
    rest.remove_prefix(1);
  }
  size_t i = 0;
  while (i < rest.size() && IsDigit(rest[i])) ++i;
  std::string_view whole = rest.substr(0, i);
  std::string_view fraction;
  if (i < rest.size() && rest[i] == '.') {
    size_t start = ++i;
    while (i < rest.size() && IsDigit(rest[i])) ++i;
    fraction = rest.substr(start, i - start);
  }
  if (whole.empty() && fraction.empty()) return tl::unexpected(Invalid(text, "no number"));
  auto multiplier = ParseSuffix(rest.substr(i));
  if (!multiplier) return tl::unexpected(Invalid(text, "unknown suffix"));

  while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
  // The number is digits * 10^-scale; trailing zeros of a whole number move into the scale, so
  // that long runs of zeros ("100000000000000000000000n") need no wide arithmetic.
  std::string digits = std::string(StripLeadingZeros(whole)) + std::string(fraction);
  int scale = static_cast<int>(fraction.size());
  if (fraction.empty()) {
    while (!digits.empty() && digits.back() == '0') {
      digits.pop_back();
      --scale;
    }
  }
  digits = std::string(StripLeadingZeros(digits));
  if (digits.empty()) return Quantity(0, multiplier->format);

  // milli = digits * base^exponent * 1000 / 10^scale, rounded up in magnitude.
  int ten_exponent = 3 - scale;
  uint64_t binary_factor = 1;
  if (multiplier->base == 10) {
    ten_exponent += multiplier->exponent;
  } else {
    auto factor = Pow(1024, multiplier->exponent);
    if (!factor) return tl::unexpected(Invalid(text, "out of range"));
    binary_factor = *factor;
  }
  if (ten_exponent > kMaxExponent) return tl::unexpected(Invalid(text, "out of range"));

  uint64_t magnitude = 0;
  if (ten_exponent >= 0 || binary_factor != 1) {
    auto value = ParseDigits(digits);
    auto up = ten_exponent > 0 ? Pow(10, ten_exponent) : std::optional<uint64_t>(1);
    if (!value || !up || __builtin_mul_overflow(*value, *up, &magnitude) ||
        __builtin_mul_overflow(magnitude, binary_factor, &magnitude)) {
      return tl::unexpected(Invalid(text, "out of range"));
    }
    if (ten_exponent < 0) {
      auto down = Pow(10, -ten_exponent);
      if (!down) return tl::unexpected(Invalid(text, "too many digits"));
      magnitude = magnitude / *down + (magnitude % *down != 0 ? 1 : 0);
    }
  } else {
    // Dividing by a power of ten drops digits: keep the leading ones, round up when any dropped
    // digit is non-zero.
    size_t drop = static_cast<size_t>(-ten_exponent);
    std::string_view kept = drop >= digits.size()
                                ? std::string_view()
                                : std::string_view(digits).substr(0, digits.size() - drop);
    auto value = kept.empty() ? std::optional<uint64_t>(0) : ParseDigits(kept);
    if (!value) return tl::unexpected(Invalid(text, "out of range"));
    magnitude = *value;
    // digits has no leading zero, so something non-zero was dropped unless all of it was kept.
    bool dropped_nonzero = kept.size() < digits.size() &&
                           std::string_view(digits).substr(kept.size()).find_first_not_of('0') !=
                               std::string_view::npos;
    if (dropped_nonzero) ++magnitude;
  }
  if (magnitude > static_cast<uint64_t>(kMax)) {
    return tl::unexpected(Invalid(text, "out of range"));
  }
  int64_t milli = static_cast<int64_t>(magnitude);
  return Quantity(negative ? -milli : milli, multiplier->format);
}

int64_t Quantity::Value() const {
  int64_t units = milli_ / 1000;
  if (milli_ % 1000 > 0) ++units;
  return units;
}

std::string Quantity::ToString() const {
  const bool negative = milli_ < 0;
  // |kMin| does not fit in int64; the unsigned negation is exact.
  const uint64_t magnitude =
      negative ? static_cast<uint64_t>(0) - static_cast<uint64_t>(milli_) : milli_;
  std::string out = negative ? "-" : "";
  if (magnitude % 1000 != 0) return out + std::to_string(magnitude) + "m";
  return out + FormatWhole(magnitude / 1000, format_);
}

Quantity& Quantity::operator+=(const Quantity& other) {
  if (__builtin_add_overflow(milli_, other.milli_, &milli_)) {
    milli_ = other.milli_ < 0 ? kMin : kMax;
  }
  return *this;
}

Quantity& Quantity::operator-=(const Quantity& other) {
  if (__builtin_sub_overflow(milli_, other.milli_, &milli_)) {
    milli_ = other.milli_ > 0 ? kMin : kMax;
  }
  return *this;
}

}  // namespace vk::kubelet
