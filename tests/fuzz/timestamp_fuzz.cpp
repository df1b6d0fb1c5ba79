// The timestamp parser on arbitrary text: never crashes or overflows (UBSan), and whatever it accepts
// formats to text that parses back to the same instant.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "src/format/timestamp_format.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  auto ts = evstore::parse_rfc3339(text);
  if (ts) {
    auto formatted = evstore::to_rfc3339(*ts);
    auto again = evstore::parse_rfc3339(formatted);
    if (!again || *again != *ts)
      std::abort();
  }
  return 0;
}
