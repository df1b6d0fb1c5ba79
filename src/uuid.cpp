#include "uuid.hpp"

#include <random>

namespace evstore {

std::string make_uuid_v4() {
  // One generator per thread: writers on different scheduler threads never contend.
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t hi = rng();
  uint64_t lo = rng();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL; // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL; // RFC 4122 variant
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(36, '-');
  size_t pos = 0;
  auto put = [&](uint64_t word, int nibbles_from, int count) {
    for (int i = 0; i < count; ++i) {
      if (pos == 8 || pos == 13 || pos == 18 || pos == 23)
        ++pos;
      out[pos++] = hex[(word >> ((nibbles_from - i) * 4)) & 0xf];
    }
  };
  put(hi, 15, 16);
  put(lo, 15, 16);
  return out;
}

std::optional<uuid_bits> parse_uuid(std::string_view s) {
  if (s.size() != 36)
    return std::nullopt;
  uuid_bits out{0, 0};
  int nibble = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-')
        return std::nullopt;
      continue;
    }
    uint64_t v;
    if (c >= '0' && c <= '9')
      v = static_cast<uint64_t>(c - '0');
    else if (c >= 'a' && c <= 'f')
      v = static_cast<uint64_t>(c - 'a' + 10);
    else
      return std::nullopt;
    auto& word = out[nibble / 16];
    word = (word << 4) | v;
    ++nibble;
  }
  return out;
}

} // namespace evstore
