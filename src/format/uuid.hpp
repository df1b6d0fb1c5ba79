#pragma once

// Event ids: uuid v4, lowercase and hyphenated, as the Rust crate writes them.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace evstore {

/// A fresh random uuid v4 ("xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx").
std::string make_uuid_v4();

/// 128 bits of a parsed uuid, for compact duplicate detection.
using uuid_bits = std::array<uint64_t, 2>;

/// Parses a lowercase hyphenated uuid (any version); nullopt otherwise.
std::optional<uuid_bits> parse_uuid(std::string_view text);

struct uuid_bits_hash {
  size_t operator()(const uuid_bits& x) const noexcept {
    return static_cast<size_t>(x[0] ^ (x[1] * 0x9e3779b97f4a7c15ULL));
  }
};

} // namespace evstore
