#pragma once

#include <string>
#include <string_view>

namespace vk {

// Small string checks shared by the credential sources (tokens, files, plugin output). Pure
// functions, thread-safe.

// s without leading and trailing ASCII whitespace (space, \t, \r, \n, \f, \v), as strings.TrimSpace
// does for the ASCII range.
std::string TrimSpace(std::string_view s);
// Whether s holds an ASCII control character (below 0x20, or DEL): such bytes would corrupt or
// split an HTTP header.
bool HasControlCharacters(std::string_view s);

}  // namespace vk
