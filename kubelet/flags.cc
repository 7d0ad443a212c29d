#include "kubelet/flags.h"

#include <algorithm>
#include <optional>

namespace vk::kubelet {
namespace {

// Optimal string alignment distance: insertions, deletions, substitutions and transpositions of
// neighbours each cost one, so "--prot" is one step from "--port".
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

const FlagSpec* FindSpec(std::string_view name, std::span<const FlagSpec> specs) {
  for (const FlagSpec& spec : specs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

}  // namespace

bool ParsedArgs::Has(std::string_view name) const {
  return std::any_of(flags.begin(), flags.end(),
                     [&](const ParsedFlag& flag) { return flag.name == name; });
}

std::string ClosestFlag(std::string_view name, std::span<const FlagSpec> specs) {
  std::string best;
  size_t best_distance = name.size() / 3 + 1;
  for (const FlagSpec& spec : specs) {
    size_t distance = EditDistance(name, spec.name);
    if (distance < best_distance) {
      best_distance = distance;
      best = spec.name;
    }
  }
  return best;
}

Result<ParsedArgs> ParseFlags(std::span<const std::string> args, std::span<const FlagSpec> specs) {
  ParsedArgs parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--") {
      parsed.positional.insert(parsed.positional.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      parsed.positional.emplace_back(arg);
      continue;
    }
    std::string_view body = arg.substr(arg[1] == '-' ? 2 : 1);
    std::string_view name = body;
    std::optional<std::string_view> inline_value;
    if (size_t eq = body.find('='); eq != std::string_view::npos) {
      name = body.substr(0, eq);
      inline_value = body.substr(eq + 1);
    }
    if (name == "h" && FindSpec("help", specs) != nullptr) name = "help";
    const FlagSpec* spec = FindSpec(name, specs);
    if (spec == nullptr) {
      std::string message = "unknown flag --" + std::string(name);
      if (std::string hint = ClosestFlag(name, specs); !hint.empty()) {
        message += " (did you mean --" + hint + "?)";
      }
      return MakeError(ErrorCode::kConfig, message);
    }
    ParsedFlag flag{spec->name, {}};
    if (!spec->takes_value) {
      flag.value = inline_value ? std::string(*inline_value) : "true";
      if (flag.value != "true" && flag.value != "false") {
        return MakeError(ErrorCode::kConfig,
                         "flag --" + spec->name + " takes no value, got \"" + flag.value + "\"");
      }
    } else if (inline_value) {
      flag.value = std::string(*inline_value);
    } else if (i + 1 < args.size()) {
      flag.value = args[++i];
    } else {
      return MakeError(ErrorCode::kConfig, "flag --" + spec->name + " needs a value");
    }
    parsed.flags.push_back(std::move(flag));
  }
  return parsed;
}

}  // namespace vk::kubelet
