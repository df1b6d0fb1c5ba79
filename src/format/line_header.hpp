#pragma once

// What population and scans need of a line (its status, id, type, ts): the same single pass as
// decode_line (detail::scan_line, which validates the whole line) keeping only the id, type and ts,
// without copying the task or data. The two agree on every line (tested, and fuzzed), so a scan can
// look at headers and decode only the lines it returns.

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
