// The subscription pattern matcher on arbitrary (pattern, type) pairs, split at the first newline.
// Whatever matches must start with the pattern's prefix, because a catch-up subscription finds its
// history by asking the type index for that prefix: a match outside it would be a silent gap.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "src/format/pattern.hpp"
#include "src/format/validation.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};
  auto cut = input.find('\n');
  if (cut == std::string_view::npos)
    return 0;
  auto pattern = input.substr(0, cut);
  auto type = input.substr(cut + 1);
  const bool matched = evstore::pattern_matches(pattern, type);
  auto prefix = evstore::pattern_prefix(pattern);
  if (matched && type.substr(0, prefix.size()) != prefix)
    std::abort();
  if (!evstore::validate_pattern(pattern)) {
    // A valid exact pattern is a valid type and matches itself; "*" and "a:*" match any valid type
    // that starts with their prefix.
    if (pattern.back() != '*' && !evstore::pattern_matches(pattern, pattern))
      std::abort();
    if (pattern.back() == '*' && !evstore::validate_type(type)
        && type.substr(0, prefix.size()) == prefix && !matched)
      std::abort();
  }
  return 0;
}
