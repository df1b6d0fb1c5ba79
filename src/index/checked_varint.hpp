#pragma once

// The one bounded reader of LEB128 variable-length integers that a checkpoint's bytes go through:
// its header-level decoder (index_checkpoint.cpp) and the pair-record check (type_index.cpp) both
// read untrusted bytes with it.

#include <cstdint>

namespace evstore {

/// Reads a varint from [p, end) into `v` and moves `p` past it. False if it runs past `end` or
/// past 10 bytes (the caller then treats the input as damaged); bits beyond 64 are dropped.
template <class Byte>
bool read_checked_varint(const Byte*& p, const Byte* end, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p == end)
      return false;
    const auto byte = static_cast<unsigned char>(*p++);
    v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0)
      return true;
  }
  return false;
}

} // namespace evstore
