#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "hostclient/base/error.h"

namespace vk::kubelet {

// A Kubernetes resource quantity ("500m", "1.5", "64Gi", "1e3"), held exactly as a signed count
// of milli-units in 64 bits, so that sums of node capacities need no floating point.
//
// Parsing follows apimachinery's resource.Quantity grammar: an optional sign, a decimal number,
// then a suffix: binary (Ki Mi Gi Ti Pi Ei), decimal SI (n u m "" k M G T P E) or a decimal
// exponent (e3, E-2). Values finer than a milli-unit are rounded up (as kube rounds up to its
// smallest scale); values whose magnitude does not fit in int64 milli-units (about 9.2e15 units,
// 8 PiB) are kInvalid, never truncated.
//
// The text form is canonical, as kube writes quantities: the format of the parsed text is kept
// (binary, decimal SI or exponent) and the largest suffix that represents the value exactly is
// used ("1536Mi", "2k", "12e3"); a value with a fractional unit is written in milli ("1500m").
// Arithmetic saturates at the int64 limits. A value type; thread-compatible.
class Quantity {
 public:
  enum class Format { kDecimalSI, kBinarySI, kDecimalExponent };

  Quantity() = default;
  static Quantity FromMilli(int64_t milli, Format format = Format::kDecimalSI);
  // units * 1000, saturated.
  static Quantity FromUnits(int64_t units, Format format = Format::kDecimalSI);
  // kInvalid with the text in the message when it is not a quantity or out of range.
  static Result<Quantity> Parse(std::string_view text);

  int64_t milli() const { return milli_; }
  // Whole units, rounded up (kube's Quantity.Value()).
  int64_t Value() const;
  Format format() const { return format_; }
  bool IsZero() const { return milli_ == 0; }

  std::string ToString() const;

  // Keeps this quantity's format.
  Quantity& operator+=(const Quantity& other);
  Quantity& operator-=(const Quantity& other);
  friend Quantity operator+(Quantity a, const Quantity& b) { return a += b; }
  friend Quantity operator-(Quantity a, const Quantity& b) { return a -= b; }

  // Compare values only; the format does not take part.
  friend bool operator==(const Quantity& a, const Quantity& b) { return a.milli_ == b.milli_; }
  friend std::strong_ordering operator<=>(const Quantity& a, const Quantity& b) {
    return a.milli_ <=> b.milli_;
  }

 private:
  Quantity(int64_t milli, Format format) : milli_(milli), format_(format) {}

  int64_t milli_ = 0;
  Format format_ = Format::kDecimalSI;
};

}  // namespace vk::kubelet
