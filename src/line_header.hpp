#pragma once

// What population and scans need of a line (its status, id, type, ts) without building a JSON DOM:
// a SAX pass with Boost.JSON's basic_parser that validates the whole line exactly as decode_line does
// and keeps only the envelope's strings. Several times faster than decode_line; the two agree on
// every line (tested), so a scan can look at headers and decode only the lines it returns.

#include <string>
#include <string_view>

#include "line_codec.hpp"

namespace evstore {

struct line_header {
  line_status status = line_status::corrupt;
  std::string id;
  std::string type;
  timestamp ts{};
};

/// Reads `line` (without its newline) into `out`, reusing its buffers.
void peek_line(std::string_view line, line_header& out);

} // namespace evstore
