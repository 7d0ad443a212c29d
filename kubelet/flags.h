#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hostclient/base/error.h"

namespace vk::kubelet {

// A command-line flag a parser accepts. Names are given without the leading dashes.
struct FlagSpec {
  std::string name;         // "cluster-name"
  bool takes_value = true;  // false: a switch such as --help; "--help=true" is accepted too
};

// One flag as it appeared on the command line, in order. Repeated flags appear repeatedly; the
// caller decides whether the last one wins.
struct ParsedFlag {
  std::string name;
  std::string value;  // "true" for a switch given without a value
};

struct ParsedArgs {
  std::vector<ParsedFlag> flags;
  std::vector<std::string> positional;

  bool Has(std::string_view name) const;
};

// A small GNU-style parser: "--name=value", "--name value", "-name" as "--name", "-h" as
// "--help" when the specs know "help", "--" ends the flags. An unknown flag is a kConfig error
// that suggests the closest known flag; a missing value is an error naming the flag.
Result<ParsedArgs> ParseFlags(std::span<const std::string> args, std::span<const FlagSpec> specs);

// The known flag closest to name (edit distance at most a third of its length), or "".
std::string ClosestFlag(std::string_view name, std::span<const FlagSpec> specs);

}  // namespace vk::kubelet
