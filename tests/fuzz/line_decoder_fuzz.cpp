// The line decoders on arbitrary bytes: never crash, peek_line agrees with decode_line, a valid event
// re-encodes to a line that decodes to the same event, and the JSON scanner under both agrees with
// Boost.JSON's parser about what is JSON.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <boost/json/parser.hpp>

#include "src/format/json_text.hpp"
#include "src/format/line_codec.hpp"
#include "src/format/line_header.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line{reinterpret_cast<const char*>(data), size};
  auto d = evstore::decode_line(line);
  evstore::line_header h;
  evstore::peek_line(line, h);
  if (h.status != d.status)
    std::abort();
  if (d.status == evstore::line_status::ok) {
    if (h.id != d.ev.id || h.type != d.ev.type || !d.ev.ts || h.ts != *d.ev.ts)
      std::abort();
    auto encoded = evstore::encode_line(d.ev);
    auto again = evstore::decode_line(std::string_view{encoded}.substr(0, encoded.size() - 1));
    if (again.status != evstore::line_status::ok || !(again.ev == d.ev))
      std::abort();
  }
  // Boost.JSON as the oracle (its depth limit raised to the reader's). It refuses exponents beyond
  // its int, which a reader that keeps the number's text has no reason to.
  boost::json::parse_options opts;
  opts.max_depth = evstore::json_text::max_read_depth;
  boost::json::parser parser{{}, opts};
  boost::json::error_code ec;
  parser.write(line.data(), line.size(), ec);
  bool ours = !evstore::json_text::check(line, evstore::json_text::rules::read);
  if (ours != !ec && ec != boost::json::error::exponent_overflow)
    std::abort();
  return 0;
}
