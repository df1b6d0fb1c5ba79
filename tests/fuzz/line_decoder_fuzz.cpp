// The line decoders on arbitrary bytes: never crash, the SAX header pass agrees with the DOM decode,
// and a valid event re-encodes to a line that decodes to the same event.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "line_codec.hpp"
#include "line_header.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line{reinterpret_cast<const char*>(data), size};
  auto d = evstore::decode_line(line);
  evstore::line_header h;
  evstore::peek_line(line, h);
  if (h.status != d.status)
    std::abort();
  if (d.status == evstore::line_status::ok) {
    if (h.id != d.ev.id || h.type != d.ev.type || h.ts != d.ev.ts)
      std::abort();
    auto encoded = evstore::encode_line(d.ev);
    auto again = evstore::decode_line(std::string_view{encoded}.substr(0, encoded.size() - 1));
    if (again.status != evstore::line_status::ok || !(again.ev == d.ev))
      std::abort();
  }
  return 0;
}
